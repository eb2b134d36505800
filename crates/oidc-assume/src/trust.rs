//! Explains an `AccessDenied`: what the token claimed, and the trust-policy
//! condition that would admit exactly this workflow.

use crate::token::Claims;

/// The claims beside the role, then a `Condition` block in branch form and in
/// environment form.
pub fn explain_denial(role_arn: &str, claims: &Claims) -> String {
    let none = "(none)";
    let issuer_host = claims
        .iss
        .trim_start_matches("https://")
        .trim_end_matches('/');
    let issuer_host = if issuer_host.is_empty() {
        "token.actions.githubusercontent.com"
    } else {
        issuer_host
    };
    let mut text = format!(
        "the trust policy of {role_arn} did not admit this token. Its claims:\n  \
         iss: {}\n  sub: {}\n  aud: {}\n  job_workflow_ref: {}\n  environment: {}\n  ref: {}\n  repository: {}\n",
        or(&claims.iss, none),
        or(&claims.sub, none),
        or(&claims.aud, none),
        claims.job_workflow_ref.as_deref().unwrap_or(none),
        claims.environment.as_deref().unwrap_or(none),
        claims.git_ref.as_deref().unwrap_or(none),
        claims.repository.as_deref().unwrap_or(none),
    );
    let repo = subject_repo(claims);
    let branch_sub = match (&claims.environment, &claims.git_ref) {
        (None, _) if !claims.sub.is_empty() => claims.sub.clone(),
        (_, Some(git_ref)) => format!("{repo}:ref:{git_ref}"),
        _ => format!("{repo}:ref:refs/heads/main"),
    };
    let environment = claims.environment.as_deref().unwrap_or("production");
    text.push_str(&format!(
        "A Condition that admits exactly this workflow on this ref:\n{}",
        condition(issuer_host, &claims.aud, &branch_sub)
    ));
    text.push_str(&format!(
        "or, for jobs that run in the `{environment}` environment (add `environment: {environment}` to the job):\n{}",
        condition(issuer_host, &claims.aud, &format!("{repo}:environment:{environment}"))
    ));
    text
}

fn or<'a>(value: &'a str, fallback: &'a str) -> &'a str {
    if value.is_empty() { fallback } else { value }
}

/// The `repo:ORG/REPO` part of the subject (immutable forms included), or
/// one made from the `repository` claim.
fn subject_repo(claims: &Claims) -> String {
    let mut parts = claims.sub.splitn(3, ':');
    match (parts.next(), parts.next()) {
        (Some("repo"), Some(repo)) if !repo.is_empty() => format!("repo:{repo}"),
        _ => format!(
            "repo:{}",
            claims.repository.as_deref().unwrap_or("ORG/REPO")
        ),
    }
}

fn condition(issuer_host: &str, audience: &str, subject: &str) -> String {
    let audience = if audience.is_empty() {
        "sts.amazonaws.com"
    } else {
        audience
    };
    format!(
        "  \"Condition\": {{\n    \"StringEquals\": {{\n      \"{issuer_host}:aud\": \"{audience}\",\n      \"{issuer_host}:sub\": \"{subject}\"\n    }}\n  }}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            iss: "https://token.actions.githubusercontent.com".into(),
            sub: "repo:acme/shop:ref:refs/heads/main".into(),
            aud: "sts.amazonaws.com".into(),
            job_workflow_ref: Some("acme/shop/.github/workflows/ci.yaml@refs/heads/main".into()),
            environment: None,
            git_ref: Some("refs/heads/main".into()),
            repository: Some("acme/shop".into()),
            exp: None,
        }
    }

    #[test]
    fn the_explanation_names_claims_and_both_condition_forms() {
        let text = explain_denial("arn:aws:iam::123456789012:role/deploy", &claims());
        for needle in [
            "arn:aws:iam::123456789012:role/deploy",
            "sub: repo:acme/shop:ref:refs/heads/main",
            "job_workflow_ref: acme/shop/.github/workflows/ci.yaml@refs/heads/main",
            "environment: (none)",
            "\"token.actions.githubusercontent.com:aud\": \"sts.amazonaws.com\"",
            "\"token.actions.githubusercontent.com:sub\": \"repo:acme/shop:ref:refs/heads/main\"",
            "\"token.actions.githubusercontent.com:sub\": \"repo:acme/shop:environment:production\"",
        ] {
            assert!(text.contains(needle), "{needle} missing:\n{text}");
        }
    }

    #[test]
    fn an_environment_job_gets_the_branch_form_from_its_ref() {
        let claims = Claims {
            sub: "repo:acme@1/shop@2:environment:prod".into(),
            environment: Some("prod".into()),
            ..claims()
        };
        let text = explain_denial("arn", &claims);
        assert!(
            text.contains("\"repo:acme@1/shop@2:ref:refs/heads/main\""),
            "{text}"
        );
        assert!(
            text.contains("\"repo:acme@1/shop@2:environment:prod\""),
            "{text}"
        );
    }
}
