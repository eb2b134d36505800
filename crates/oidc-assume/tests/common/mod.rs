//! The world an oidc-assume test runs in: the stand-in GitHub OIDC issuer,
//! moto behind an STS front that checks tokens and trust policies, and a
//! runner sandbox wired to both.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use hoist_testkit::oidc::OidcIssuer;
use hoist_testkit::sts::{StsFront, TrustPolicy};
use hoist_testkit::{Moto, RunResult, Sandbox};

/// The role every test assumes.
pub(crate) const ROLE: &str = "arn:aws:iam::123456789012:role/github-deploy";

pub(crate) struct World {
    pub(crate) issuer: OidcIssuer,
    pub(crate) sts: StsFront,
    pub(crate) sandbox: Sandbox,
    _moto: Moto,
}

impl World {
    /// A job in `acme/shop` on `main` with `id-token: write`, and a role
    /// that trusts exactly that.
    pub(crate) fn new() -> Self {
        let issuer = OidcIssuer::start();
        let moto = Moto::start();
        let sts = StsFront::start(&issuer, &moto);
        sts.trust(ROLE, TrustPolicy::main_branch("acme/shop"));
        let sandbox = job_sandbox(&issuer, &sts);
        Self {
            issuer,
            sts,
            sandbox,
            _moto: moto,
        }
    }

    /// Another job's sandbox against the same peers.
    pub(crate) fn fresh_sandbox(&self) -> Sandbox {
        job_sandbox(&self.issuer, &self.sts)
    }

    /// Runs oidc-assume in the sandbox.
    pub(crate) fn run(&self, args: &[&str]) -> RunResult {
        self.sandbox.run(binary(), args)
    }

    /// Every secret a run must have masked: the request token, each token
    /// issued, and the credentials it exported.
    pub(crate) fn secrets(&self, run: &RunResult) -> Vec<String> {
        let mut secrets = vec![self.issuer.request_token()];
        secrets.extend(self.issuer.issued());
        let env = run.exported_env();
        for key in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
        ] {
            if let Some(value) = env.get(key).filter(|v| !v.is_empty()) {
                secrets.push(value.clone());
            }
        }
        secrets
    }
}

fn job_sandbox(issuer: &OidcIssuer, sts: &StsFront) -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", &issuer.request_url())
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &issuer.request_token())
        .env("HOIST_BACKOFF_SCALE", "0")
        .input("aws-region", "eu-west-1")
        .input("role-to-assume", ROLE)
        .input("sts-endpoint", &sts.url());
    sandbox
}

pub(crate) fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_oidc-assume")
}
