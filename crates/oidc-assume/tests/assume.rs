//! oidc-assume against the stand-in issuer and moto behind the STS front.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{ROLE, World};
use hoist_testkit::oidc::claims_of;
use hoist_testkit::sts::StsFault;

#[test]
fn the_happy_path_takes_two_round_trips_and_masks_everything() {
    let world = World::new();
    let run = world.run(&[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);

    let outputs = run.outputs();
    assert_eq!(outputs["aws-account-id"], "123456789012");
    assert!(
        outputs["authenticated-arn"]
            .starts_with("arn:aws:sts::123456789012:assumed-role/github-deploy/"),
        "{outputs:?}"
    );
    assert!(outputs["aws-expiration"].ends_with('Z'), "{outputs:?}");
    assert!(
        !outputs.contains_key("aws-secret-access-key"),
        "credentials are outputs only when asked"
    );

    let env = run.exported_env();
    assert_eq!(env["AWS_REGION"], "eu-west-1");
    assert_eq!(env["AWS_DEFAULT_REGION"], "eu-west-1");
    assert!(env["AWS_ACCESS_KEY_ID"].len() >= 16);
    assert!(!env["AWS_SECRET_ACCESS_KEY"].is_empty() && !env["AWS_SESSION_TOKEN"].is_empty());

    assert_eq!(
        world.sts.actions(),
        vec!["AssumeRoleWithWebIdentity"],
        "no GetCallerIdentity unless asked"
    );
    let issued = world.issuer.issued();
    assert_eq!(issued.len(), 1);
    assert_eq!(claims_of(&issued[0])["aud"], "sts.amazonaws.com");
    let calls = world.sts.server().requests();
    let form: std::collections::BTreeMap<_, _> = calls[0].form().into_iter().collect();
    assert_eq!(form["RoleSessionName"], "GitHubActions-4242-1");
    assert_eq!(form["DurationSeconds"], "3600");

    let secrets = world.secrets(&run);
    run.assert_masked(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run.file("GITHUB_STEP_SUMMARY").contains(ROLE));
}

#[test]
fn validate_credentials_adds_get_caller_identity() {
    let mut world = World::new();
    world.sandbox.input("validate-credentials", "true");
    let run = world.run(&[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(
        world.sts.actions(),
        vec!["AssumeRoleWithWebIdentity", "GetCallerIdentity"]
    );
}

#[test]
fn idp_communication_errors_are_retried_with_a_fresh_token_each_time() {
    let world = World::new();
    world.sts.fail_next(StsFault::IdpCommunicationError);
    world.sts.fail_next(StsFault::IdpCommunicationError);
    let run = world.run(&[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(world.sts.actions().len(), 3);
    let issued = world.issuer.issued();
    assert_eq!(issued.len(), 3, "a fresh GitHub token for every attempt");
    assert_ne!(issued[0], issued[1]);
    let secrets = world.secrets(&run);
    run.assert_masked(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn each_transient_class_is_retried() {
    for fault in [
        StsFault::VerificationKey,
        StsFault::Throttling,
        StsFault::InternalFailure,
    ] {
        let world = World::new();
        world.sts.fail_next(fault);
        let run = world.run(&[]);
        assert_eq!(run.code, Some(0), "{fault:?}: {}", run.stdout);
        assert_eq!(world.sts.actions().len(), 2, "{fault:?}");
    }
    let world = World::new();
    world.sts.server().fault(hoist_testkit::Fault::Reset);
    let run = world.run(&[]);
    assert_eq!(run.code, Some(0), "a dropped connection: {}", run.stdout);
    assert_eq!(world.sts.server().requests().len(), 2);

    let world = World::new();
    world
        .issuer
        .server()
        .fault(hoist_testkit::Fault::Status(503));
    let run = world.run(&[]);
    assert_eq!(
        run.code,
        Some(0),
        "GitHub's token endpoint 503: {}",
        run.stdout
    );
    assert_eq!(world.issuer.issued().len(), 1);
}

#[test]
fn retries_stop_at_retry_max_attempts() {
    let mut world = World::new();
    world.sandbox.input("retry-max-attempts", "2");
    for _ in 0..3 {
        world.sts.fail_next(StsFault::Throttling);
    }
    let run = world.run(&[]);
    run.assert_failed_cleanly(&["AssumeRoleWithWebIdentity failed after 2 attempt(s) (retry-max-attempts reached): Throttling: Rate exceeded", "Hint:"]);
    assert_eq!(world.sts.actions().len(), 2);
}

#[test]
fn access_denied_fails_at_once_and_explains_the_trust_policy() {
    let world = World::new();
    world
        .issuer
        .set_claim("sub", "repo:acme/shop:ref:refs/heads/feature-x");
    world.issuer.set_claim("ref", "refs/heads/feature-x");
    let run = world.run(&[]);
    let message = run.assert_failed_cleanly(&[
        "STS refused to let this job assume arn:aws:iam::123456789012:role/github-deploy (AccessDenied",
        "sub: repo:acme/shop:ref:refs/heads/feature-x",
        "aud: sts.amazonaws.com",
        "job_workflow_ref: acme/shop/.github/workflows/ci.yaml@refs/heads/main",
        "ref: refs/heads/feature-x",
        "repository: acme/shop",
        "\"token.actions.githubusercontent.com:sub\": \"repo:acme/shop:ref:refs/heads/feature-x\"",
        "\"token.actions.githubusercontent.com:sub\": \"repo:acme/shop:environment:production\"",
    ]);
    assert!(
        !message.contains("eyJ"),
        "the token itself is never printed"
    );
    assert_eq!(world.sts.actions().len(), 1, "AccessDenied is not retried");
    let secrets = world.secrets(&run);
    run.assert_masked(&secrets.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn a_wrong_audience_fails_at_once_with_a_hint() {
    let mut world = World::new();
    world.sandbox.input("audience", "api://something-else");
    let run = world.run(&[]);
    run.assert_failed_cleanly(&[
        "InvalidIdentityToken: Incorrect token audience",
        "make `audience` match",
    ]);
    assert_eq!(world.sts.actions().len(), 1);
}

#[test]
fn a_missing_id_token_permission_gets_the_yaml_to_add() {
    let mut world = World::new();
    world
        .sandbox
        .unset("ACTIONS_ID_TOKEN_REQUEST_URL")
        .unset("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    let run = world.run(&[]);
    run.assert_failed_cleanly(&[
        "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set",
        "permissions:\n  id-token: write",
    ]);
    assert!(world.sts.actions().is_empty());
}

#[test]
fn role_chaining_assumes_with_the_credentials_of_an_earlier_step() {
    let world = World::new();
    let first = world.run(&[]);
    assert_eq!(first.code, Some(0));
    let env = first.exported_env();

    let mut second = World::new();
    for key in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ] {
        second.sandbox.env(key, &env[key]);
    }
    second
        .sandbox
        .input("role-chaining", "true")
        .input("role-to-assume", "arn:aws:iam::123456789012:role/second");
    let run = second.run(&[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert_eq!(second.sts.actions(), vec!["AssumeRole"]);
    assert!(
        second.issuer.issued().is_empty(),
        "chaining needs no OIDC token"
    );
    let authorization = second.sts.server().requests()[0]
        .header("authorization")
        .unwrap_or_default()
        .to_owned();
    assert!(
        authorization.contains(&format!("Credential={}/", env["AWS_ACCESS_KEY_ID"])),
        "signed with the first step's key"
    );
    assert!(run.outputs()["authenticated-arn"].contains("assumed-role/second/"));
}

#[test]
fn a_profile_gets_the_credentials_instead_of_the_environment() {
    let mut world = World::new();
    world.sandbox.input("aws-profile", "deploy");
    let aws = world.sandbox.home().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("config"),
        "# keep me\n[profile other]\nregion = us-east-1\n",
    )
    .unwrap();
    let run = world.run(&[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let env = run.exported_env();
    assert_eq!(env["AWS_PROFILE"], "deploy");
    assert!(!env.contains_key("AWS_ACCESS_KEY_ID"));
    let credentials = std::fs::read_to_string(aws.join("credentials")).unwrap();
    assert!(
        credentials.starts_with("[deploy]\naws_access_key_id = "),
        "{credentials}"
    );
    let config = std::fs::read_to_string(aws.join("config")).unwrap();
    assert_eq!(
        config,
        "# keep me\n[profile other]\nregion = us-east-1\n[profile deploy]\nregion = eu-west-1\n"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(aws.join("credentials"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

#[test]
fn output_credentials_sets_them_as_outputs() {
    let mut world = World::new();
    world
        .sandbox
        .input("output-credentials", "true")
        .input("output-env-credentials", "false");
    let run = world.run(&[]);
    assert_eq!(run.code, Some(0));
    let outputs = run.outputs();
    assert!(outputs["aws-access-key-id"].len() >= 16 && !outputs["aws-session-token"].is_empty());
    assert!(!run.exported_env().contains_key("AWS_ACCESS_KEY_ID"));
    run.assert_masked(&[
        &outputs["aws-secret-access-key"],
        &outputs["aws-session-token"],
    ]);
}

#[test]
fn a_bad_session_name_is_sanitized_with_a_notice() {
    let mut world = World::new();
    world
        .sandbox
        .input("role-session-name", "acme/shop#12 dependabot[bot]");
    let run = world.run(&[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    assert!(run.stdout.contains("::notice title=oidc-assume::role-session-name `acme/shop#12 dependabot[bot]` became `acme-shop-12-dependabot-bot-`"), "{}", run.stdout);
    let form: std::collections::BTreeMap<_, _> = world.sts.server().requests()[0]
        .form()
        .into_iter()
        .collect();
    assert_eq!(form["RoleSessionName"], "acme-shop-12-dependabot-bot-");
}

#[test]
fn the_post_step_blanks_what_the_main_step_exported() {
    let mut world = World::new();
    world
        .sandbox
        .input("aws-profile", "deploy")
        .input("output-env-credentials", "true");
    let run = world.run(&[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let state = run.outputs()["cleanup-state"].clone();

    world.sandbox.env("STATE_cleanup", &state);
    let cleanup = world.run(&["--cleanup"]);
    assert_eq!(cleanup.code, Some(0), "{}", cleanup.stdout);
    let env = cleanup.exported_env();
    for key in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_PROFILE",
    ] {
        assert_eq!(
            env.get(key).map(String::as_str),
            Some(""),
            "{key} not blanked: {env:?}"
        );
    }
    let credentials =
        std::fs::read_to_string(world.sandbox.home().join(".aws/credentials")).unwrap();
    assert!(!credentials.contains("[deploy]"), "{credentials}");
}

#[test]
fn a_refreshable_profile_serves_an_sdk_in_a_second_process() {
    let mut world = World::new();
    world.sandbox.input("refreshable", "true");
    let run = world.run(&[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let env = run.exported_env();
    assert_eq!(env["AWS_PROFILE"], "oidc-assume");
    assert!(
        !env.contains_key("AWS_ACCESS_KEY_ID"),
        "static keys would shadow the profile"
    );
    let config = std::fs::read_to_string(world.sandbox.home().join(".aws/config")).unwrap();
    assert!(
        config.contains("[profile oidc-assume]\nregion = eu-west-1\ncredential_process = '"),
        "{config}"
    );
    assert_eq!(world.issuer.issued().len(), 1);

    // A later step: boto3 (installed with moto) reads the profile, runs the
    // credential_process, and calls STS with what it gets.
    let config_file = world
        .sandbox
        .home()
        .join(".aws/config")
        .display()
        .to_string();
    world
        .sandbox
        .env("AWS_PROFILE", "oidc-assume")
        .env("AWS_CONFIG_FILE", &config_file);
    let script = format!(
        "import boto3\nclient = boto3.Session().client('sts', endpoint_url='{}')\nprint(client.get_caller_identity()['Arn'])\n",
        world.sts.url()
    );
    let python = hoist_testkit::peers::require("python3", "the Debian package `python3`");
    let second = world.sandbox.run(python, &["-c", &script]);
    assert_eq!(second.code, Some(0), "{}\n{}", second.stdout, second.stderr);
    assert!(
        second.stdout.contains("assumed-role/github-deploy/"),
        "{}",
        second.stdout
    );
    assert_eq!(
        world.issuer.issued().len(),
        2,
        "the second process minted a fresh token"
    );
    assert_eq!(
        world.sts.actions(),
        vec![
            "AssumeRoleWithWebIdentity",
            "AssumeRoleWithWebIdentity",
            "GetCallerIdentity"
        ]
    );
}

#[test]
fn credential_process_prints_only_json() {
    let mut world = World::new();
    world
        .sandbox
        .unset("INPUT_AWS-REGION")
        .unset("INPUT_ROLE-TO-ASSUME")
        .unset("INPUT_STS-ENDPOINT");
    let endpoint = world.sts.url();
    let run = world.run(&[
        "--credential-process",
        "--aws-region",
        "eu-west-1",
        "--role-to-assume",
        ROLE,
        "--sts-endpoint",
        &endpoint,
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let answer: serde_json::Value =
        serde_json::from_str(run.stdout.trim()).expect("stdout is one JSON document");
    assert_eq!(answer["Version"], 1);
    assert!(
        answer["AccessKeyId"]
            .as_str()
            .is_some_and(|k| k.len() >= 16)
    );
    assert!(
        answer["Expiration"]
            .as_str()
            .is_some_and(|e| e.ends_with('Z'))
    );
    assert_eq!(
        run.file("GITHUB_ENV"),
        "",
        "credential_process exports nothing"
    );
}

#[test]
fn action_yml_and_readme_match_the_binary() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/oidc-assume");
    hoist_testkit::action_yml::assert_action_matches_spec(&oidc_assume::SPEC, &dir);
}
