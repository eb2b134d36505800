//! oidc-assume: the job's GitHub OIDC token, then AWS STS, then short-lived
//! credentials — in two round trips, with retries only for errors that can
//! pass, and an explanation when the role's trust policy says no.
//!
//! Modes: the action itself; `--credential-process`, which a refreshable
//! profile runs whenever an SDK needs credentials; and `--cleanup`, the post
//! step that blanks what the action exported.

pub mod error;
pub mod profile;
pub mod settings;
pub mod spec;
pub mod sts;
pub mod token;
pub mod trust;

mod publish;

use std::sync::Mutex;
use std::time::Duration;

use aws_credential_types::Credentials;
use hoist_http::{
    Backoff, HttpClient, HttpOptions, RetryError, RetryPolicy, Stop, SystemClock, retry,
};
use hoist_runner::Runner;

pub use error::AssumeError;
pub use settings::Settings;
pub use spec::SPEC;
use sts::{Session, StsFailure};
use token::{REQUEST_TOKEN_VARIABLE, REQUEST_URL_VARIABLE, TokenSource};

/// The binary's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs oidc-assume in whichever mode the command line selects.
pub fn run(runner: &mut Runner) -> Result<(), AssumeError> {
    if runner.switch("cleanup") {
        return publish::cleanup(runner);
    }
    if let Some(bearer) = runner.env(REQUEST_TOKEN_VARIABLE).map(String::from) {
        runner.mask(&bearer);
    }
    let settings = Settings::read(runner)?;
    let source = token_source(runner, &settings);
    let env = runner.environment().clone();

    let fetched = Mutex::new(Vec::new());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AssumeError::Client(e.to_string()))?;
    let outcome = runtime.block_on(async {
        match tokio::time::timeout(
            settings.timeout,
            assume(&settings, &env, source.as_ref(), &fetched),
        )
        .await
        {
            Ok(outcome) => outcome,
            Err(_) => Err(AssumeError::Sts {
                operation: "AssumeRoleWithWebIdentity",
                code: None,
                message: format!("no answer within {:?}", settings.timeout),
                attempts: 1,
                stop: Stop::OutOfTime,
            }),
        }
    });
    // Every token and key is masked before the first line is printed.
    for token in fetched.into_inner().unwrap_or_default() {
        runner.mask(&token);
    }
    let session = outcome?;
    runner.mask(&session.access_key_id);
    runner.mask(&session.secret_access_key);
    runner.mask(&session.session_token);
    if settings.mask_account {
        runner.mask(&session.account);
        runner.mask(&session.arn);
    }
    if !settings.allowed_accounts.is_empty()
        && !settings.allowed_accounts.contains(&session.account)
    {
        return Err(AssumeError::AccountNotAllowed {
            account: session.account.clone(),
            allowed: settings.allowed_accounts.join(", "),
        });
    }
    if runner.switch("credential-process") {
        return publish::credential_process(runner, &session);
    }
    publish::publish(runner, &settings, &session)
}

/// Where the token comes from: the file, or GitHub when the job may ask.
fn token_source(runner: &Runner, settings: &Settings) -> Option<TokenSource> {
    if let Some(path) = &settings.token_file {
        return Some(TokenSource::File(path.clone()));
    }
    let url = runner.env(REQUEST_URL_VARIABLE).filter(|v| !v.is_empty())?;
    let bearer = runner
        .env(REQUEST_TOKEN_VARIABLE)
        .filter(|v| !v.is_empty())?;
    Some(TokenSource::GitHub {
        url: url.to_owned(),
        bearer: bearer.to_owned(),
        audience: settings.audience.clone(),
    })
}

/// One attempt's failure: getting the token, or STS with the token it used.
enum Attempt {
    Token(AssumeError),
    Sts(StsFailure, Option<String>),
}

async fn assume(
    settings: &Settings,
    env: &hoist_http::Environment,
    source: Option<&TokenSource>,
    fetched: &Mutex<Vec<String>>,
) -> Result<Session, AssumeError> {
    let clock = SystemClock::default();
    let policy = RetryPolicy {
        max_attempts: settings.attempts,
        deadline: Some(settings.timeout),
        backoff: Backoff::default().scaled_by_env(env),
    };
    let session = if settings.chaining {
        let client = sts::client(settings, env, Some(env_credentials(env)?))?;
        retry(
            &policy,
            &clock,
            |_| sts::assume_chained(&client, settings),
            StsFailure::verdict,
        )
        .await
        .map_err(|failure| sts_error("AssumeRole", failure))?
    } else {
        let source = source.ok_or(AssumeError::MissingIdTokenPermission)?;
        let client = sts::client(settings, env, None)?;
        let mut http_options = HttpOptions::new(SPEC.name, VERSION);
        http_options.ca_bundle = settings.ca_bundle.clone();
        let http = HttpClient::new(&http_options, env)?;
        let token_policy = RetryPolicy {
            max_attempts: 3,
            ..policy
        };
        let result = retry(
            &policy,
            &clock,
            |_| async {
                let token = source
                    .fetch(&http, &token_policy, &clock)
                    .await
                    .map_err(Attempt::Token)?;
                if let Ok(mut tokens) = fetched.lock() {
                    tokens.push(token.clone());
                }
                sts::assume_with_token(&client, settings, &token)
                    .await
                    .map_err(|failure| Attempt::Sts(failure, Some(token)))
            },
            |attempt| match attempt {
                Attempt::Token(_) => hoist_http::Verdict::Fail,
                Attempt::Sts(failure, _) => failure.verdict(),
            },
        )
        .await;
        match result {
            Ok(session) => session,
            Err(RetryError {
                last: Attempt::Token(error),
                ..
            }) => return Err(error),
            Err(RetryError {
                last: Attempt::Sts(failure, token),
                attempts,
                stop,
            }) => {
                return Err(web_identity_error(
                    settings,
                    failure,
                    token.as_deref(),
                    attempts,
                    stop,
                ));
            }
        }
    };
    if settings.validate {
        validate(settings, env, &session, &policy, &clock).await?;
    }
    Ok(session)
}

/// GetCallerIdentity with the new credentials; retried, since a brand-new
/// role can take seconds to be usable everywhere.
async fn validate(
    settings: &Settings,
    env: &hoist_http::Environment,
    session: &Session,
    policy: &RetryPolicy,
    clock: &SystemClock,
) -> Result<(), AssumeError> {
    let credentials = Credentials::new(
        &session.access_key_id,
        &session.secret_access_key,
        Some(session.session_token.clone()),
        None,
        "oidc-assume",
    );
    let client = sts::client(settings, env, Some(credentials))?;
    let classify = |failure: &StsFailure| match failure.code.as_deref() {
        Some("InvalidClientTokenId") => hoist_http::Verdict::Retry {
            after: Some(Duration::from_secs(2)),
        },
        _ => failure.verdict(),
    };
    retry(policy, clock, |_| sts::caller_arn(&client), classify)
        .await
        .map(|_| ())
        .map_err(|failure| sts_error("GetCallerIdentity", failure))
}

fn env_credentials(env: &hoist_http::Environment) -> Result<Credentials, AssumeError> {
    let get = |name: &str| env.get(name).filter(|v| !v.is_empty()).cloned();
    match (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")) {
        (Some(key), Some(secret)) => Ok(Credentials::new(
            key,
            secret,
            get("AWS_SESSION_TOKEN"),
            None,
            "environment",
        )),
        _ => Err(AssumeError::ChainingWithoutCredentials),
    }
}

fn sts_error(operation: &'static str, failure: RetryError<StsFailure>) -> AssumeError {
    if failure.last.malformed {
        return AssumeError::MalformedAnswer {
            message: failure.last.message,
        };
    }
    AssumeError::Sts {
        operation,
        code: failure.last.code,
        message: failure.last.message,
        attempts: failure.attempts,
        stop: failure.stop,
    }
}

fn web_identity_error(
    settings: &Settings,
    failure: StsFailure,
    token: Option<&str>,
    attempts: u32,
    stop: Stop,
) -> AssumeError {
    if failure.malformed {
        return AssumeError::MalformedAnswer {
            message: failure.message,
        };
    }
    match failure.code.as_deref() {
        Some("AccessDenied") => AssumeError::AccessDenied {
            role: settings.role.arn.clone(),
            message: failure.message,
            explanation: trust::explain_denial(
                &settings.role.arn,
                &token.and_then(token::decode_claims).unwrap_or_default(),
            ),
        },
        Some("InvalidIdentityToken") if stop == Stop::NotRetryable => AssumeError::InvalidToken {
            message: failure.message,
        },
        _ => sts_error(
            "AssumeRoleWithWebIdentity",
            RetryError {
                last: failure,
                attempts,
                stop,
            },
        ),
    }
}
