//! Registry credentials from the Docker config's `auths`
//! (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`).

use std::path::PathBuf;

use crate::registry::Credentials;
use base64::Engine as _;
use serde_json::Value;

/// A Docker config that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DockerConfigError {
    /// The file is not JSON.
    #[error("`{0}` is not valid JSON")]
    Json(String),
    /// An `auth` entry does not decode to `user:password`.
    #[error("the auths entry for `{host}` in `{path}` is not base64 of user:password")]
    BadAuth {
        /// The registry.
        host: String,
        /// The file.
        path: String,
    },
    /// Only a credential helper knows the credentials.
    #[error("`{path}` sends `{host}` to a credential helper, which hoist does not run")]
    Helper {
        /// The registry.
        host: String,
        /// The file.
        path: String,
    },
}

/// The config file's path.
pub fn path(env: &hoist_http::Environment) -> PathBuf {
    match env.get("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("config.json"),
        None => PathBuf::from(env.get("HOME").map(String::as_str).unwrap_or("."))
            .join(".docker/config.json"),
    }
}

/// The credentials for `host`, if the config has them.
pub fn credentials(
    env: &hoist_http::Environment,
    host: &str,
) -> Result<Option<Credentials>, DockerConfigError> {
    let path = path(env);
    let shown = path.display().to_string();
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let config: Value =
        serde_json::from_str(&text).map_err(|_| DockerConfigError::Json(shown.clone()))?;
    let keys = [
        host.to_owned(),
        format!("https://{host}"),
        format!("http://{host}"),
        format!("https://{host}/v1/"),
        format!("https://{host}/v2/"),
    ];
    let Some(entry) = keys.iter().find_map(|key| config["auths"].get(key)) else {
        if config["credHelpers"].get(host).is_some() || config["credsStore"].is_string() {
            return Err(DockerConfigError::Helper {
                host: host.to_owned(),
                path: shown,
            });
        }
        return Ok(None);
    };
    let bad = || DockerConfigError::BadAuth {
        host: host.to_owned(),
        path: shown.clone(),
    };
    if let Some(auth) = entry["auth"].as_str().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .map_err(|_| bad())?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
        let (username, password) = decoded.split_once(':').ok_or_else(bad)?;
        return Ok(Some(Credentials {
            username: username.to_owned(),
            password: password.to_owned(),
        }));
    }
    match (entry["username"].as_str(), entry["password"].as_str()) {
        (Some(username), Some(password)) => Ok(Some(Credentials {
            username: username.into(),
            password: password.into(),
        })),
        _ => Ok(None),
    }
}
