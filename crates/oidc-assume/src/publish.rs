//! Handing the credentials on: environment, profiles, outputs, the
//! `credential_process` answer, and the post step that takes them back.

use hoist_runner::{Outside, Runner};
use serde::{Deserialize, Serialize};

use crate::error::AssumeError;
use crate::profile::{ProfileFiles, config_header, credentials_header, set_section};
use crate::settings::Settings;
use crate::sts::Session;

/// What the post step must undo, passed to it through the composite
/// action's `cleanup-state` step output.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CleanupState {
    /// Environment variables this step exported.
    env: Vec<String>,
    /// The profile it wrote, if any.
    profile: Option<String>,
    /// The config file it wrote the profile into.
    config: Option<String>,
    /// The credentials file it wrote the profile into.
    credentials: Option<String>,
}

/// The step output that carries [`CleanupState`] to the post step.
pub(crate) const CLEANUP_STATE_OUTPUT: &str = "cleanup-state";

/// Writes profiles, exports and outputs: the files first, since they are the
/// only part that can fail half-way.
pub(crate) fn publish(
    runner: &mut Runner,
    settings: &Settings,
    session: &Session,
) -> Result<(), AssumeError> {
    let mut state = CleanupState::default();
    if let Some(profile) = &settings.profile {
        let files = ProfileFiles::locate(runner.environment());
        // Both files are checked before either is written.
        hoist_runner::private_file::refuse_symlinks(&files.config)?;
        hoist_runner::private_file::refuse_symlinks(&files.credentials)?;
        let mut config = vec![format!("region = {}", settings.region)];
        if settings.refreshable {
            config.push(format!(
                "credential_process = {}",
                credential_process_command(settings)?
            ));
            // A refreshable profile must not be shadowed by old static keys.
            set_section(&files.credentials, &credentials_header(profile), None)?;
        } else {
            set_section(
                &files.credentials,
                &credentials_header(profile),
                Some(&[
                    format!("aws_access_key_id = {}", session.access_key_id),
                    format!("aws_secret_access_key = {}", session.secret_access_key),
                    format!("aws_session_token = {}", session.session_token),
                ]),
            )?;
            state.credentials = Some(files.credentials.display().to_string());
        }
        set_section(&files.config, &config_header(profile), Some(&config))?;
        state.profile = Some(profile.clone());
        state.config = Some(files.config.display().to_string());
    }

    let mut exports = vec![
        ("AWS_REGION", settings.region.as_str()),
        ("AWS_DEFAULT_REGION", settings.region.as_str()),
    ];
    if let Some(profile) = &settings.profile {
        exports.push(("AWS_PROFILE", profile));
    }
    if settings.export_env {
        exports.push(("AWS_ACCESS_KEY_ID", &session.access_key_id));
        exports.push(("AWS_SECRET_ACCESS_KEY", &session.secret_access_key));
        exports.push(("AWS_SESSION_TOKEN", &session.session_token));
    }
    for (name, value) in &exports {
        runner.export_env(name, value)?;
        state.env.push((*name).to_owned());
    }

    runner.set_output("aws-account-id", &session.account)?;
    runner.set_output("authenticated-arn", &session.arn)?;
    runner.set_output("aws-expiration", &session.expiration)?;
    if settings.output_credentials {
        runner.set_output("aws-access-key-id", &session.access_key_id)?;
        runner.set_output("aws-secret-access-key", &session.secret_access_key)?;
        runner.set_output("aws-session-token", &session.session_token)?;
    }
    let state = serde_json::to_string(&state).unwrap_or_default();
    runner.set_output(CLEANUP_STATE_OUTPUT, &state)?;

    if let Some(given) = &settings.session_name_given {
        runner.console().annotate(
            hoist_runner::Level::Notice,
            Some("oidc-assume"),
            None,
            &format!(
                "role-session-name `{given}` became `{}` to fit STS's alphabet and length",
                settings.session_name
            ),
        );
    }
    let how = match (&settings.profile, settings.refreshable) {
        (Some(profile), true) => format!("refreshable profile `{profile}`"),
        (Some(profile), false) => format!("profile `{profile}`"),
        (None, _) => "environment".to_owned(),
    };
    // The session's ARN and expiration are STS's answer, not ours.
    runner.console().outside(Outside::new(&format!(
        "Assumed {} as {} until {} ({how})",
        settings.role.arn, session.arn, session.expiration
    )));
    runner.summary(&format!(
        "### oidc-assume\n\n| | |\n|---|---|\n| role | `{}` |\n| session | `{}` |\n| expires | {} |\n| credentials | {how} |\n",
        settings.role.arn, session.arn, session.expiration
    ))?;
    Ok(())
}

/// The command a refreshable profile runs: this binary with the settings as
/// flags, each single-quoted for `sh -c` (how SDKs run credential_process).
fn credential_process_command(settings: &Settings) -> Result<String, AssumeError> {
    let exe = std::env::current_exe().map_err(AssumeError::OwnPath)?;
    let mut words = vec![exe.display().to_string(), "--credential-process".to_owned()];
    let mut flag = |name: &str, value: &str| {
        words.push(format!("--{name}"));
        words.push(value.to_owned());
    };
    flag("aws-region", &settings.region);
    flag("role-to-assume", &settings.role.arn);
    flag("audience", &settings.audience);
    flag("role-session-name", &settings.session_name);
    flag(
        "role-duration-seconds",
        &settings.duration_seconds.to_string(),
    );
    flag("retry-max-attempts", &settings.attempts.to_string());
    flag(
        "timeout",
        &format!("{}s", settings.timeout.as_secs().max(1)),
    );
    for (name, value) in [
        (
            "sts-endpoint",
            settings.sts_endpoint.as_ref().map(|u| u.to_string()),
        ),
        (
            "web-identity-token-file",
            settings
                .token_file
                .as_ref()
                .map(|p| p.display().to_string()),
        ),
        (
            "ca-bundle",
            settings.ca_bundle.as_ref().map(|p| p.display().to_string()),
        ),
        ("inline-session-policy", settings.inline_policy.clone()),
        (
            "allowed-account-ids",
            (!settings.allowed_accounts.is_empty()).then(|| settings.allowed_accounts.join(",")),
        ),
        (
            "managed-session-policies",
            (!settings.managed_policies.is_empty()).then(|| settings.managed_policies.join("\n")),
        ),
    ] {
        if let Some(value) = value {
            flag(name, &value);
        }
    }
    Ok(words
        .iter()
        .map(|word| shell_quote(word))
        .collect::<Vec<_>>()
        .join(" "))
}

/// `'word'`, with each `'` written as `'\''`.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''"))
}

/// The AWS `credential_process` answer on stdout.
pub(crate) fn credential_process(
    runner: &mut Runner,
    session: &Session,
) -> Result<(), AssumeError> {
    let answer = serde_json::json!({
        "Version": 1,
        "AccessKeyId": session.access_key_id,
        "SecretAccessKey": session.secret_access_key,
        "SessionToken": session.session_token,
        "Expiration": session.expiration,
    });
    runner.write_data(&answer.to_string());
    Ok(())
}

/// The post step: blanks every variable the main step exported and removes
/// the profile sections it wrote.
pub(crate) fn cleanup(runner: &mut Runner) -> Result<(), AssumeError> {
    let Some(text) = runner
        .state("cleanup")
        .filter(|t| !t.is_empty())
        .map(String::from)
    else {
        runner
            .console()
            .info("oidc-assume cleanup: nothing was exported");
        return Ok(());
    };
    let state: CleanupState = serde_json::from_str(&text).unwrap_or_default();
    if let (Some(profile), Some(config)) = (&state.profile, &state.config) {
        set_section(std::path::Path::new(config), &config_header(profile), None)?;
    }
    if let (Some(profile), Some(credentials)) = (&state.profile, &state.credentials) {
        set_section(
            std::path::Path::new(credentials),
            &credentials_header(profile),
            None,
        )?;
    }
    for name in &state.env {
        runner.export_env(name, "")?;
    }
    runner.console().info(&format!(
        "oidc-assume cleanup: blanked {}",
        state.env.join(", ")
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_survives_quotes_and_spaces() {
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(
            shell_quote("{\"Version\":\"2012-10-17\"}"),
            "'{\"Version\":\"2012-10-17\"}'"
        );
    }
}
