//! The git backend runs git in a clean environment: what the runner or an
//! earlier step left in the environment or in a global config cannot turn
//! off certificate checks, answer for credentials, or redirect the fetch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use hoist_gitops::{GitStore, Repository, Store};
use hoist_testkit::peers::GitRemote;
use hoist_testkit::tls::TestCa;
use hoist_testkit::{Router, StandIn, block_on};

const TOKEN: &str = "gitops-token-never-sent";

/// A global config that turns verification off, answers for credentials
/// and sends the fetch elsewhere, written as `GIT_CONFIG_GLOBAL` and as
/// `~/.gitconfig` in `home`.
fn hostile_config(home: &Path, extra: &str) -> String {
    let config = format!(
        "[http]\n\tsslVerify = false\n[credential]\n\thelper = \"!f() {{ echo username=x; echo password=from-helper; }}; f\"\n{extra}"
    );
    std::fs::write(home.join(".gitconfig"), &config).unwrap();
    let global = home.join("global.gitconfig");
    std::fs::write(&global, &config).unwrap();
    global.display().to_string()
}

/// An environment holding every bypass the issue lists.
fn hostile_env(home: &Path, extra_config: &str) -> BTreeMap<String, String> {
    let global = hostile_config(home, extra_config);
    let mut env: BTreeMap<String, String> = [
        ("GIT_SSL_NO_VERIFY", "1"),
        ("GIT_CONFIG_PARAMETERS", "'http.sslverify'='false'"),
        ("GIT_CONFIG_GLOBAL", global.as_str()),
        ("GIT_CONFIG_NOSYSTEM", "0"),
        ("GIT_EXEC_PATH", "/nonexistent"),
        ("GIT_SSH_COMMAND", "false"),
        ("GIT_PROXY_COMMAND", "false"),
        ("GIT_ASKPASS", "false"),
        ("GIT_SSL_CAINFO", "/nonexistent"),
        ("HOME", home.to_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    if let Ok(path) = std::env::var("PATH") {
        env.insert("PATH".into(), path);
    }
    env
}

#[test]
fn an_untrusted_certificate_is_refused_whatever_the_environment_says() {
    let ca = TestCa::new();
    let server = StandIn::start_tls(Router::new(), &ca);
    let port = server.host().rsplit(':').next().unwrap().to_owned();
    let repository = Repository::parse(
        &format!("https://localhost:{port}/bank-org/gitops.git"),
        "https://github.com",
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let env = hostile_env(home.path(), "");

    let mut store =
        GitStore::open_with_env(&repository, "main", Some(TOKEN), temp.path(), &env).unwrap();
    let fetch = block_on(store.tip()).unwrap_err();
    let push = block_on(store.advance(&"1".repeat(40), &"2".repeat(40))).unwrap_err();
    for error in [&fetch, &push] {
        let text = format!("{error} {error:?}");
        assert!(
            text.contains("certificate") || text.contains("SSL"),
            "not refused for its certificate: {text}"
        );
        assert!(!text.contains(TOKEN), "{text}");
    }
    assert!(
        server.requests().is_empty(),
        "an HTTP request went over the untrusted connection: {:?}",
        server.requests()
    );
}

#[test]
fn the_ca_from_ssl_cert_file_is_trusted_and_the_token_goes_to_that_server() {
    let ca = TestCa::new();
    let server = StandIn::start_tls(Router::new(), &ca);
    let port = server.host().rsplit(':').next().unwrap().to_owned();
    let repository = Repository::parse(
        &format!("https://localhost:{port}/bank-org/gitops.git"),
        "https://github.com",
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let mut env = hostile_env(home.path(), "");
    env.insert("SSL_CERT_FILE".into(), ca.ca_file().display().to_string());

    let mut store =
        GitStore::open_with_env(&repository, "main", Some(TOKEN), temp.path(), &env).unwrap();
    // The stand-in has no git routes: the fetch fails, but only after the
    // handshake succeeded and git asked for the refs with the token.
    let _ = block_on(store.tip());
    let requests = server.requests();
    assert!(!requests.is_empty(), "git never got past TLS");
    assert!(
        requests.iter().all(|r| r
            .header("authorization")
            .is_some_and(|value| value.starts_with("Basic "))),
        "{requests:?}"
    );
}

#[test]
fn an_insteadof_in_the_global_config_does_not_redirect_the_fetch() {
    let real = GitRemote::with_files(&[("app.yaml", "image: real\n")]);
    let evil = GitRemote::with_files(&[("app.yaml", "image: evil\n")]);
    let home = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let redirect = format!("[url \"{}\"]\n\tinsteadOf = {}\n", evil.url(), real.url());
    let mut env = hostile_env(home.path(), &redirect);
    env.insert("GIT_CONFIG_COUNT".into(), "1".into());
    env.insert(
        "GIT_CONFIG_KEY_0".into(),
        format!("url.{}.insteadOf", evil.url()),
    );
    env.insert("GIT_CONFIG_VALUE_0".into(), real.url());
    let repository = Repository::parse(&real.url(), "https://github.com").unwrap();

    let mut store = GitStore::open_with_env(&repository, "main", None, temp.path(), &env).unwrap();
    let tip = block_on(store.tip()).unwrap();
    assert_eq!(tip, real.head("main"));
    assert_ne!(tip, evil.head("main"));
}

/// Set in the copy of this test binary that
/// [`open_takes_no_bypass_from_the_process_environment`] starts.
const CHILD: &str = "HOIST_GITOPS_TEST_HOSTILE_CHILD";

#[test]
fn open_takes_no_bypass_from_the_process_environment() {
    if std::env::var_os(CHILD).is_some() {
        // In the child: the bypasses are in this process's environment.
        let ca = TestCa::new();
        let server = StandIn::start_tls(Router::new(), &ca);
        let port = server.host().rsplit(':').next().unwrap().to_owned();
        let repository = Repository::parse(
            &format!("https://localhost:{port}/bank-org/gitops.git"),
            "https://github.com",
        )
        .unwrap();
        let temp = tempfile::tempdir().unwrap();
        let mut store = GitStore::open(&repository, "main", Some(TOKEN), temp.path()).unwrap();
        let error = block_on(store.tip()).unwrap_err();
        let text = format!("{error} {error:?}");
        assert!(
            text.contains("certificate") || text.contains("SSL"),
            "{text}"
        );
        assert!(server.requests().is_empty(), "{:?}", server.requests());
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let env = hostile_env(home.path(), "");
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "open_takes_no_bypass_from_the_process_environment",
            "--test-threads=1",
        ])
        .env_clear()
        .envs(&env)
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
