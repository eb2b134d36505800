//! STS answers that are not what STS answers: a fake STS endpoint returns exactly the body a
//! test gives, and the run must fail at once (no retries), name what was wrong, and export
//! nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use hoist_testkit::oidc::OidcIssuer;
use hoist_testkit::standin::Chunk;
use hoist_testkit::{Response, Router, Sandbox, StandIn};

const ROLE: &str = "arn:aws:iam::123456789012:role/github-deploy";
const GOOD_ARN: &str = "arn:aws:sts::123456789012:assumed-role/github-deploy/s";

/// One answer's fields, each written into the XML as given.
#[derive(Clone)]
struct Answer {
    key_id: &'static str,
    secret: &'static str,
    token: &'static str,
    expiration: &'static str,
    arn: &'static str,
}

const GOOD: Answer = Answer {
    key_id: "ASIAFAKEKEYID0000001",
    secret: "fake-secret-0000000000000000000000000000",
    token: "fake-session-token",
    expiration: "2999-01-01T00:00:00Z",
    arn: GOOD_ARN,
};

fn xml(answer: &Answer) -> String {
    format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
         <AssumeRoleWithWebIdentityResult><Credentials>\
         <AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials>\
         <AssumedRoleUser><Arn>{}</Arn><AssumedRoleId>AROAFAKE:s</AssumedRoleId></AssumedRoleUser>\
         </AssumeRoleWithWebIdentityResult>\
         <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>\
         </AssumeRoleWithWebIdentityResponse>",
        answer.key_id, answer.secret, answer.token, answer.expiration, answer.arn
    )
}

/// A fake STS that answers every call with HTTP `status` and `body`, and counts the calls.
struct FakeSts {
    server: StandIn,
    calls: Arc<Mutex<usize>>,
}

impl FakeSts {
    fn start(status: u16, body: String) -> Self {
        let calls = Arc::new(Mutex::new(0));
        let counter = Arc::clone(&calls);
        let router = Router::new().route("POST", "/", move |_| {
            *counter.lock().unwrap() += 1;
            Response::new(status)
                .header("content-type", "text/xml")
                .body(body.clone())
        });
        Self {
            server: StandIn::start(router),
            calls,
        }
    }

    fn calls(&self) -> usize {
        *self.calls.lock().unwrap()
    }
}

/// Runs oidc-assume against a fake STS answering `status` and `body`; returns the run and
/// how many calls STS got.
fn run_against(status: u16, body: String) -> (hoist_testkit::RunResult, usize) {
    let issuer = OidcIssuer::start();
    let sts = FakeSts::start(status, body);
    let mut sandbox = Sandbox::new();
    sandbox
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", &issuer.request_url())
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &issuer.request_token())
        .env("HOIST_BACKOFF_SCALE", "0")
        .input("aws-region", "eu-west-1")
        .input("role-to-assume", ROLE)
        .input("sts-endpoint", &sts.server.url());
    let run = sandbox.run(env!("CARGO_BIN_EXE_oidc-assume"), &[]);
    (run, sts.calls())
}

#[test]
fn a_well_formed_answer_is_accepted() {
    let (run, calls) = run_against(200, xml(&GOOD));
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.outputs()["aws-account-id"], "123456789012");
    assert_eq!(calls, 1);
}

#[test]
fn malformed_bodies_fail_at_once_and_say_so() {
    for body in [
        String::new(),
        "<html><body>502 Bad Gateway</body></html>".to_owned(),
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>".to_owned(),
        xml(&Answer {
            expiration: "next tuesday",
            ..GOOD
        }),
    ] {
        let (run, calls) = run_against(200, body.clone());
        let message = run.assert_failed_cleanly(&[
            "STS's AssumeRoleWithWebIdentity answer is malformed",
            "sts-endpoint",
        ]);
        assert!(!message.contains("no message"), "{body:?}: {message}");
        assert_eq!(calls, 1, "{body:?}: a malformed answer is not retried");
    }
}

#[test]
fn each_bad_field_is_named() {
    for (answer, needle) in [
        (
            Answer {
                arn: "arn:aws:sts::123456789012:assumed-role/github-deploy/s\nevil: true",
                ..GOOD
            },
            "holds a control character",
        ),
        (
            Answer {
                arn: "arn:aws:iam::123456789012:role/github-deploy",
                ..GOOD
            },
            "is not of the form arn:aws:sts::<12-digit account>:assumed-role/<role>/<session>",
        ),
        (
            Answer {
                arn: "arn:aws:sts::1234:assumed-role/github-deploy/s",
                ..GOOD
            },
            "the account \"1234\" in the assumed-role ARN is not 12 digits",
        ),
        (
            Answer {
                expiration: "2001-01-01T00:00:00Z",
                ..GOOD
            },
            "Credentials.Expiration 2001-01-01T00:00:00Z is not in the future",
        ),
        (
            Answer { key_id: "", ..GOOD },
            "Credentials.AccessKeyId is empty",
        ),
        (
            Answer {
                secret: " ",
                ..GOOD
            },
            "Credentials.SecretAccessKey is empty",
        ),
        (
            Answer { token: "", ..GOOD },
            "Credentials.SessionToken is empty",
        ),
    ] {
        let (run, calls) = run_against(200, xml(&answer));
        let message = run.assert_failed_cleanly(&[
            "STS's AssumeRoleWithWebIdentity answer is malformed",
            needle,
            "Hint: check that `sts-endpoint`",
        ]);
        assert_eq!(calls, 1, "{needle}: not retried");
        assert!(!message.contains(GOOD.secret), "{message}");
    }
}

#[test]
fn an_error_status_without_an_sts_error_names_the_status() {
    let (run, calls) = run_against(403, "<html>Forbidden by proxy</html>".to_owned());
    let message = run.assert_failed_cleanly(&["HTTP 403"]);
    assert!(!message.contains("no message"), "{message}");
    assert_eq!(calls, 1);
}

#[test]
fn an_answer_over_the_cap_ends_at_once_with_one_clear_error() {
    // One answer that never ends (chunked), one that says it is 2 GB.
    for endless in [true, false] {
        let issuer = OidcIssuer::start();
        let calls = Arc::new(Mutex::new(0));
        let counter = Arc::clone(&calls);
        let router = Router::new().route("POST", "/", move |_| {
            *counter.lock().unwrap() += 1;
            let answer = Response::new(200).header("content-type", "text/xml");
            if endless {
                answer
                    .body("<AssumeRoleWithWebIdentityResponse>")
                    .stream(|| Chunk::Data(vec![b' '; 64 * 1024]))
            } else {
                answer.body(vec![b' '; 1024 * 1024 + 1])
            }
        });
        let sts = StandIn::start(router);
        let mut sandbox = Sandbox::new();
        sandbox
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", &issuer.request_url())
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &issuer.request_token())
            .env("HOIST_BACKOFF_SCALE", "0")
            .input("aws-region", "eu-west-1")
            .input("role-to-assume", ROLE)
            .input("sts-endpoint", &sts.url());
        let started = std::time::Instant::now();
        let run = sandbox.run(env!("CARGO_BIN_EXE_oidc-assume"), &[]);
        let message = run.assert_failed_cleanly(&["answered more than 1 MiB", "sts-endpoint"]);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "endless {endless}: took {:?}",
            started.elapsed()
        );
        // hoist-aws's connector ends the call at the cap; neither the SDK
        // nor oidc-assume asks again, since the answer would be the same.
        let calls = *calls.lock().unwrap();
        assert_eq!(
            calls, 1,
            "endless {endless}: an oversized answer is not retried"
        );
        assert_eq!(
            message.matches("answered more than 1 MiB").count(),
            1,
            "endless {endless}: {message}"
        );
    }
}

/// The workflow of [`an_arn_with_commands_in_it_is_refused_under_act`].
const HOSTILE_WORKFLOW: &str = r#"
name: deploy
on: push
permissions:
  id-token: write
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
@CHECKOUT@      - id: aws
        uses: ./actions/oidc-assume
        with:
          aws-region: eu-west-1
          role-to-assume: ${{ env.ROLE }}
          sts-endpoint: ${{ env.STS_ENDPOINT }}
      - name: later step
        if: always()
        shell: bash
        env:
          FORGED: ${{ steps.aws.outputs.forged }}
          ARN: ${{ steps.aws.outputs.authenticated-arn }}
        run: echo "later forged=[$FORGED] arn=[$ARN] key=[${AWS_ACCESS_KEY_ID:-}]"
"#;

#[test]
fn an_arn_with_commands_in_it_is_refused_under_act() {
    use hoist_testkit::act::{Act, CHECKOUT_STEP};
    let issuer = OidcIssuer::start();
    let hostile = Answer {
        arn: "arn:aws:sts::123456789012:assumed-role/github-deploy/s\n::error title=forged::x\n##[set-output name=forged;]yes",
        ..GOOD
    };
    let sts = FakeSts::start(200, xml(&hostile));
    let mut act = Act::new();
    let action = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions/oidc-assume");
    act.copy_dir(&action, "actions/oidc-assume");
    act.file(
        ".github/workflows/deploy.yml",
        &HOSTILE_WORKFLOW.replace("@CHECKOUT@", CHECKOUT_STEP),
    );
    act.serve_as("hoist-actions/hoist@main");
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_oidc-assume"))
        .parent()
        .unwrap()
        .display()
        .to_string();
    let result = act.run(
        ".github/workflows/deploy.yml",
        &[
            ("HOIST_BIN_DIR", bin_dir.as_str()),
            ("HOIST_BACKOFF_SCALE", "0"),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &issuer.request_url()),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &issuer.request_token()),
            ("ROLE", ROLE),
            ("STS_ENDPOINT", &sts.server.url()),
        ],
    );
    let log = &result.log;
    assert_ne!(result.code, Some(0), "{log}");
    // One error, oidc-assume's, naming the bad ARN; nothing forged,
    // nothing exported.
    let errors = result.errors();
    assert_eq!(errors.len(), 1, "{errors:?}\n{log}");
    assert!(errors[0].starts_with(" title=oidc-assume"), "{errors:?}");
    assert!(errors[0].contains("control character"), "{errors:?}");
    assert!(!log.contains("❗  ::error title=forged"), "{log}");
    assert!(log.contains("later forged=[] arn=[] key=[]"), "{log}");
    assert_eq!(sts.calls(), 1);
}
