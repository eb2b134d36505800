//! ECR login through AWS: moto for the control plane (GetAuthorizationToken,
//! CreateRepository, DescribeRepositories, PutLifecyclePolicy), the Debian
//! docker-registry with htpasswd (user `AWS`, the password moto hands out)
//! for the data path, and credentials left by a real oidc-assume run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use common::binary;
use hoist_testkit::oci::{Layout, layer, sha256};
use hoist_testkit::oidc::OidcIssuer;
use hoist_testkit::peers::require;
use hoist_testkit::sts::{StsFront, TrustPolicy};
use hoist_testkit::{Moto, Registry, RegistryAuth, Response, Router, RunResult, Sandbox, StandIn};

/// The password moto's GetAuthorizationToken hands out for its default account.
const MOTO_PASSWORD: &str = "123456789012-auth-token";
const ROLE: &str = "arn:aws:iam::123456789012:role/github-actions-myshop-api-ecr-push";

struct Ecr {
    moto: Moto,
    issuer: OidcIssuer,
    sts: StsFront,
    registry: Registry,
    images: tempfile::TempDir,
}

impl Ecr {
    fn new() -> Self {
        let moto = Moto::start();
        let issuer = OidcIssuer::start();
        let sts = StsFront::start(&issuer, &moto);
        sts.trust(ROLE, TrustPolicy::main_branch("acme/shop"));
        let registry = Registry::start(RegistryAuth::Htpasswd {
            username: "AWS".into(),
            password: MOTO_PASSWORD.into(),
        });
        Self {
            moto,
            issuer,
            sts,
            registry,
            images: tempfile::tempdir().unwrap(),
        }
    }

    /// A job with `id-token: write` whose earlier step ran oidc-assume with
    /// `extra` inputs; returns that run too.
    fn job_after_oidc_assume(&self, extra: &[(&str, &str)]) -> (Sandbox, RunResult) {
        let oidc_assume = PathBuf::from(binary()).with_file_name("oidc-assume");
        assert!(
            oidc_assume.is_file(),
            "{} is missing: run the workspace's tests (`cargo test --workspace`)",
            oidc_assume.display()
        );
        let mut sandbox = Sandbox::new();
        sandbox
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", &self.issuer.request_url())
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                &self.issuer.request_token(),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("HOIST_BACKOFF_SCALE", "0")
            .input("aws-region", "eu-west-1")
            .input("role-to-assume", ROLE)
            .input("sts-endpoint", &self.sts.url());
        for (name, value) in extra {
            sandbox.input(name, value);
        }
        let assumed = sandbox.run(&oidc_assume, &[]);
        assert_eq!(assumed.code, Some(0), "oidc-assume: {}", assumed.stdout);
        for (name, value) in assumed.exported_env() {
            sandbox.env(&name, &value);
        }
        for input in [
            "AWS-REGION",
            "ROLE-TO-ASSUME",
            "STS-ENDPOINT",
            "REFRESHABLE",
        ] {
            sandbox.unset(&format!("INPUT_{input}"));
        }
        let image = self.image();
        sandbox
            .env("AWS_ENDPOINT_URL", &self.moto.url())
            .input("source", image.to_str().unwrap())
            .input("registry", &self.registry.host())
            .input("insecure-registry", "true")
            .input("repository", "myshop/myshop-api")
            .input("tags", "1.4.2");
        (sandbox, assumed)
    }

    /// The test image, an OCI layout made once.
    fn image(&self) -> PathBuf {
        let image = self.images.path().join("image");
        if !image.exists() {
            let layout = Layout::new(&image);
            let root = layout.image("linux/amd64", &[layer("app/server", b"myshop-api build")]);
            layout.finish(&root);
        }
        image
    }

    /// What moto says about a repository, through boto3 (installed with moto).
    fn describe(&self, repository: &str) -> serde_json::Value {
        let script = format!(
            "import boto3, json\nc = boto3.client('ecr', endpoint_url='{}', region_name='eu-west-1', aws_access_key_id='x', aws_secret_access_key='y')\n\
             r = c.describe_repositories(repositoryNames=['{repository}'])['repositories'][0]\n\
             try:\n    r['lifecycle'] = c.get_lifecycle_policy(repositoryName='{repository}')['lifecyclePolicyText']\nexcept Exception:\n    r['lifecycle'] = None\n\
             print(json.dumps(r, default=str))\n",
            self.moto.url()
        );
        let output = std::process::Command::new(require("python3", "the Debian package `python3`"))
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

#[test]
fn credentials_from_oidc_assume_log_in_create_the_repository_and_push() {
    let ecr = Ecr::new();
    let (mut job, _) = ecr.job_after_oidc_assume(&[]);
    let policy = job.workspace().join("lifecycle.json");
    std::fs::write(&policy, r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#).unwrap();
    job.input("create-repository", "true")
        .input("lifecycle-policy", "lifecycle.json");
    let run = job.run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let digest = run.outputs()["digest"].clone();
    assert_eq!(run.outputs()["registry"], ecr.registry.host());

    let repository = ecr.describe("myshop/myshop-api");
    assert_eq!(repository["imageTagMutability"], "IMMUTABLE_WITH_EXCLUSION");
    assert_eq!(
        repository["imageTagMutabilityExclusionFilters"][0]["filter"],
        "sha256-*"
    );
    assert_eq!(repository["imageScanningConfiguration"]["scanOnPush"], true);
    assert!(
        repository["lifecycle"]
            .as_str()
            .unwrap()
            .contains("sinceImagePushed")
    );

    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{MOTO_PASSWORD}"));
    run.assert_masked(&[MOTO_PASSWORD, &encoded]);
    let world_inspect = common::skopeo_as(
        &ecr.registry.host(),
        "AWS",
        MOTO_PASSWORD,
        &[
            "inspect",
            "--raw",
            &format!("docker://{}/myshop/myshop-api:1.4.2", ecr.registry.host()),
        ],
        ecr.images.path(),
    );
    assert_eq!(sha256(&world_inspect.unwrap()), digest);
}

#[test]
fn a_refreshable_profile_from_oidc_assume_is_used() {
    let ecr = Ecr::new();
    let (mut job, assumed) = ecr.job_after_oidc_assume(&[("refreshable", "true")]);
    assert_eq!(assumed.exported_env()["AWS_PROFILE"], "oidc-assume");
    job.input("create-repository", "true");
    let run = job.run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        ecr.issuer.issued().len(),
        2,
        "the profile's credential_process minted a fresh token"
    );
}

#[test]
fn docker_login_merges_into_an_existing_config() {
    let ecr = Ecr::new();
    let (mut job, _) = ecr.job_after_oidc_assume(&[]);
    let config_dir = job.path().join("docker");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("config.json"),
        r#"{"auths":{"ghcr.io":{"auth":"Z2g6dG9rZW4="}}}"#,
    )
    .unwrap();
    job.env("DOCKER_CONFIG", config_dir.to_str().unwrap())
        .input("create-repository", "true")
        .input("docker-login", "true");
    let run = job.run(binary(), &[]);
    assert_eq!(run.code, Some(0), "{}", run.stdout);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(config_dir.join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["auths"]["ghcr.io"]["auth"], "Z2g6dG9rZW4=");
    assert!(config["auths"][ecr.registry.host()]["auth"].is_string());
    let outputs = run.outputs();
    assert_eq!(outputs["docker-username"], "AWS");
    assert_eq!(outputs["docker-password"], MOTO_PASSWORD);
    run.assert_masked(&[MOTO_PASSWORD]);
}

#[test]
fn ecr_bad_inputs_fail_cleanly() {
    let ecr = Ecr::new();
    let (job, _) = ecr.job_after_oidc_assume(&[]);

    let mut missing = job_clone(&job);
    missing.input("repository", "myshop/not-created");
    let run = missing.run(binary(), &[]);
    run.assert_failed_cleanly(&[
        "the ECR repository `myshop/not-created` does not exist",
        "create-repository: true",
    ]);

    let mut insecure = job_clone(&job);
    insecure.env("AWS_ENDPOINT_URL_ECR", "http://ecr.example.com");
    insecure.assert_fails(&[
        "refusing `http://ecr.example.com/`",
        "plain HTTP is allowed to loopback hosts only",
    ]);

    let mut no_policy = job_clone(&job);
    no_policy
        .input("create-repository", "true")
        .input("lifecycle-policy", "missing.json");
    no_policy.assert_fails(&["the lifecycle policy", "missing.json", "`rules` list"]);

    let mut not_json = job_clone(&job);
    std::fs::write(not_json.workspace().join("policy.json"), "{\"rule\": []}").unwrap();
    not_json
        .input("create-repository", "true")
        .input("lifecycle-policy", "policy.json");
    not_json.assert_fails(&["it has no `rules` list"]);

    let mut no_credentials = Sandbox::new();
    no_credentials
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ENDPOINT_URL", &ecr.moto.url())
        .input("source", "image")
        .input("repository", "myshop/myshop-api");
    std::fs::create_dir_all(no_credentials.workspace().join("image")).unwrap();
    copy_layout(
        &ecr.images.path().join("image"),
        &no_credentials.workspace().join("image"),
    );
    no_credentials.assert_fails(&["no AWS credentials were found for ECR", "oidc-assume"]);

    let mut no_region = job_clone(&job);
    no_region.unset("AWS_REGION").unset("AWS_DEFAULT_REGION");
    no_region.assert_fails(&["no AWS region is set for ECR", "aws-region"]);

    let mut bad_region = job_clone(&job);
    bad_region.input("aws-region", "Europe West");
    bad_region.assert_fails(&["`Europe West` is not an AWS region"]);
    assert!(
        common::skopeo_as(
            &ecr.registry.host(),
            "AWS",
            MOTO_PASSWORD,
            &[
                "inspect",
                "--raw",
                &format!("docker://{}/myshop/myshop-api:1.4.2", ecr.registry.host())
            ],
            ecr.images.path()
        )
        .is_none(),
        "no bad input wrote a tag"
    );
}

/// An ECR API front: answers the operations in `refuse` with the given
/// error (ECR's JSON error shape), and passes the rest to moto.
fn ecr_front(
    moto: &Moto,
    refuse: &'static [(&'static str, u16, &'static str, &'static str)],
) -> StandIn {
    let target = moto.url();
    StandIn::start(Router::new().route("POST", "/", move |request| {
        let operation = request
            .header("x-amz-target")
            .unwrap_or_default()
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_owned();
        for (refused, status, kind, message) in refuse {
            if *refused == "*" || *refused == operation {
                return Response::json(
                    *status,
                    &serde_json::json!({"__type": kind, "message": message}),
                )
                .header("x-amzn-errortype", kind)
                .header("content-type", "application/x-amz-json-1.1");
            }
        }
        hoist_testkit::standin::forward(&target, request)
    }))
}

#[test]
fn ecr_refusals_are_explained() {
    let ecr = Ecr::new();
    let (job, _) = ecr.job_after_oidc_assume(&[]);

    let expired = ecr_front(
        &ecr.moto,
        &[(
            "*",
            400,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        )],
    );
    let mut run = job_clone(&job);
    run.env("AWS_ENDPOINT_URL", &expired.url());
    run.assert_fails(&["ECR refused the AWS credentials (ExpiredTokenException: The security token included in the request is expired)", "assume the role again"]);

    let denied = ecr_front(
        &ecr.moto,
        &[(
            "CreateRepository",
            400,
            "AccessDeniedException",
            "User: arn:aws:sts::123456789012:assumed-role/github-actions-myshop-api-ecr-push/s is not authorized to perform: ecr:CreateRepository",
        )],
    );
    let mut run = job_clone(&job);
    run.env("AWS_ENDPOINT_URL", &denied.url())
        .input("create-repository", "true");
    run.assert_fails(&[
        "CreateRepository was denied: User: arn:aws:sts::123456789012",
        "allow ecr:CreateRepository for the role",
    ]);
    let login_denied = ecr_front(
        &ecr.moto,
        &[(
            "GetAuthorizationToken",
            400,
            "AccessDeniedException",
            "not authorized to perform: ecr:GetAuthorizationToken",
        )],
    );
    let mut run = job_clone(&job);
    run.env("AWS_ENDPOINT_URL", &login_denied.url());
    run.assert_fails(&[
        "GetAuthorizationToken was denied",
        "allow ecr:GetAuthorizationToken",
    ]);
}

fn job_clone(job: &Sandbox) -> Sandbox {
    let mut copy = Sandbox::new();
    for (name, value) in job.environment() {
        if !name.starts_with("GITHUB_") && name != "HOME" && name != "RUNNER_TEMP" {
            copy.env(name, value);
        }
    }
    copy
}

fn copy_layout(from: &std::path::Path, to: &std::path::Path) {
    for entry in walk(from) {
        let target = to.join(entry.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&entry, target).unwrap();
    }
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}

/// Runs ecr-push and checks it failed cleanly.
trait AssertFails {
    fn assert_fails(&self, says: &[&str]);
}

impl AssertFails for Sandbox {
    fn assert_fails(&self, says: &[&str]) {
        self.run(binary(), &[]).assert_failed_cleanly(says);
    }
}

const PIPELINE: &str = r#"
name: ci
on: push
permissions:
  id-token: write
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
@CHECKOUT@      - uses: ./actions/oidc-assume
        with:
          role-to-assume: ${{ env.ROLE }}
          aws-region: eu-west-1
          sts-endpoint: ${{ env.STS_ENDPOINT }}
      - id: push
        uses: ./actions/ecr-push
        with:
          source: image
          registry: ${{ env.REGISTRY }}
          insecure-registry: true
          repository: myshop/myshop-api
          create-repository: true
          tags: type=sha
      - shell: bash
        env:
          IMAGE: ${{ steps.push.outputs.image }}
        run: |
          case "$IMAGE" in "$REGISTRY/myshop/myshop-api@sha256:"*) echo "pushed-with-oidc-credentials" ;; *) exit 1 ;; esac
"#;

#[test]
fn the_actions_chain_through_act_oidc_assume_then_ecr_push() {
    let ecr = Ecr::new();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut act = hoist_testkit::act::Act::new();
    act.copy_dir(&repo.join("actions/oidc-assume"), "actions/oidc-assume");
    act.copy_dir(&repo.join("actions/ecr-push"), "actions/ecr-push");
    act.copy_dir(&ecr.image(), "image");
    act.file(
        ".github/workflows/ci.yml",
        &PIPELINE.replace("@CHECKOUT@", hoist_testkit::act::CHECKOUT_STEP),
    );
    act.serve_as("hoist-actions/hoist@main");
    let bin_dir = PathBuf::from(binary())
        .parent()
        .unwrap()
        .display()
        .to_string();
    let result = act.run(
        ".github/workflows/ci.yml",
        &[
            ("HOIST_BIN_DIR", &bin_dir),
            ("HOIST_BACKOFF_SCALE", "0"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &ecr.issuer.request_url()),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                &ecr.issuer.request_token(),
            ),
            ("ROLE", ROLE),
            ("STS_ENDPOINT", &ecr.sts.url()),
            ("AWS_ENDPOINT_URL", &ecr.moto.url()),
            ("REGISTRY", &ecr.registry.host()),
        ],
    );
    assert_eq!(result.code, Some(0), "act failed:\n{}", result.log);
    assert!(
        result.log.contains("pushed-with-oidc-credentials"),
        "{}",
        result.log
    );
    assert!(
        !result.log.contains(MOTO_PASSWORD),
        "the registry password reached the log"
    );
    assert_eq!(
        ecr.describe("myshop/myshop-api")["imageTagMutability"],
        "IMMUTABLE_WITH_EXCLUSION"
    );
}
