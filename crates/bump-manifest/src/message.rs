//! The commit message: a template with `{name}` variables, then the
//! trailers later steps read (`Hoist-Image`, `Hoist-Run`, `Hoist-Source`),
//! then the sign-off.

/// The variables a commit-message template may use.
pub const VARIABLES: [&str; 10] = [
    "app",
    "env",
    "old",
    "new",
    "digest",
    "repository",
    "files",
    "run_url",
    "actor",
    "sha",
];

/// Values for the template, from the inputs, the run and the edit.
#[derive(Debug, Clone, Default)]
pub struct MessageContext {
    /// The application, when the conventions were used.
    pub app: Option<String>,
    /// The environment, when the conventions were used.
    pub env: Option<String>,
    /// The first value replaced.
    pub old: Option<String>,
    /// The new tag (or the first new value).
    pub new: String,
    /// The new digest.
    pub digest: Option<String>,
    /// The image's registry/repository.
    pub repository: Option<String>,
    /// The changed files, comma separated.
    pub files: String,
    /// The workflow run's URL.
    pub run_url: Option<String>,
    /// The user who started the run.
    pub actor: Option<String>,
    /// The commit the run built.
    pub sha: Option<String>,
    /// The build's source, `owner/repo@<full sha>`, for the `Hoist-Source`
    /// trailer.
    pub source: Option<String>,
}

impl MessageContext {
    fn get(&self, name: &str) -> String {
        let value = match name {
            "app" => self.app.as_deref(),
            "env" => self.env.as_deref(),
            "old" => self.old.as_deref(),
            "new" => Some(self.new.as_str()),
            "digest" => self.digest.as_deref(),
            "repository" => self.repository.as_deref(),
            "files" => Some(self.files.as_str()),
            "run_url" => self.run_url.as_deref(),
            "actor" => self.actor.as_deref(),
            "sha" => self.sha.as_deref(),
            _ => None,
        };
        value.unwrap_or_default().to_owned()
    }

    /// The image the trailer names: `repository@digest`, else
    /// `repository:tag`.
    fn image(&self) -> Option<String> {
        let repository = self.repository.as_deref()?;
        Some(match &self.digest {
            Some(digest) => format!("{repository}@{digest}"),
            None => format!("{repository}:{}", self.new),
        })
    }
}

/// Checks a template: every `{name}` must be one of [`VARIABLES`].
pub fn check_template(template: &str) -> Result<(), String> {
    for name in placeholders(template) {
        if !VARIABLES.contains(&name) {
            return Err(format!(
                "`{{{name}}}` is not a variable; use {}",
                VARIABLES.map(|v| format!("{{{v}}}")).join(", ")
            ));
        }
    }
    Ok(())
}

fn placeholders(template: &str) -> impl Iterator<Item = &str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
}

/// The whole message: the template (or the default) filled in, then the
/// trailers, then `Signed-off-by` when `signoff` names someone.
pub fn render(template: Option<&str>, context: &MessageContext, signoff: Option<&str>) -> String {
    let mut message = match template {
        Some(template) => fill(template, context),
        None => default_message(context),
    };
    let mut trailers = Vec::new();
    if let Some(image) = context.image() {
        trailers.push(format!("Hoist-Image: {image}"));
    }
    if let Some(run_url) = &context.run_url {
        trailers.push(format!("Hoist-Run: {run_url}"));
    }
    if let Some(source) = &context.source {
        trailers.push(format!("{}: {source}", crate::source::TRAILER));
    }
    if let Some(who) = signoff {
        trailers.push(format!("Signed-off-by: {who}"));
    }
    let message_trimmed = message.trim_end().len();
    message.truncate(message_trimmed);
    if !trailers.is_empty() {
        message.push_str("\n\n");
        message.push_str(&trailers.join("\n"));
    }
    message.push('\n');
    message
}

fn fill(template: &str, context: &MessageContext) -> String {
    let mut text = template.to_owned();
    for name in VARIABLES {
        text = text.replace(&format!("{{{name}}}"), &context.get(name));
    }
    text
}

/// The documents' message: `chore(<env>): update <app> to <tag>`, the run
/// and the image in the body.
fn default_message(context: &MessageContext) -> String {
    let subject = match (&context.app, &context.env) {
        (Some(app), Some(env)) => format!("chore({env}): update {app} to {}", context.new),
        _ => format!("chore: update {} to {}", context.files, context.new),
    };
    let mut body = Vec::new();
    if let Some(run_url) = &context.run_url {
        body.push(format!("Source: {run_url}"));
    }
    if let (Some(image), Some(_)) = (context.image(), &context.digest) {
        body.push(format!("Image: {image}"));
    }
    if body.is_empty() {
        subject
    } else {
        format!("{subject}\n\n{}", body.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> MessageContext {
        MessageContext {
            app: Some("order-service".into()),
            env: Some("staging".into()),
            old: Some("abc1233".into()),
            new: "abc1234".into(),
            digest: Some(format!("sha256:{}", "a".repeat(64))),
            repository: Some("123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-service".into()),
            files: "services/order-service/overlays/staging/kustomization.yaml".into(),
            run_url: Some("https://github.com/myorg/order-service/actions/runs/42".into()),
            actor: Some("octocat".into()),
            sha: Some("abc1234def".into()),
            source: Some(format!("myorg/order-service@{}", "b".repeat(40))),
        }
    }

    #[test]
    fn the_default_message_is_the_documents_one_with_trailers() {
        let digest = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            render(None, &context(), None),
            format!(
                "chore(staging): update order-service to abc1234\n\n\
                 Source: https://github.com/myorg/order-service/actions/runs/42\n\
                 Image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-service@{digest}\n\n\
                 Hoist-Image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/order-service@{digest}\n\
                 Hoist-Run: https://github.com/myorg/order-service/actions/runs/42\n\
                 Hoist-Source: myorg/order-service@{}\n",
                "b".repeat(40)
            )
        );
    }

    #[test]
    fn templates_fill_variables_and_keep_the_trailers() {
        let message = render(
            Some("deploy {app} {old} -> {new} by {actor}"),
            &context(),
            Some("Bot <bot@example.com>"),
        );
        assert!(
            message
                .starts_with("deploy order-service abc1233 -> abc1234 by octocat\n\nHoist-Image: ")
        );
        assert!(message.ends_with("\nSigned-off-by: Bot <bot@example.com>\n"));
    }

    #[test]
    fn unknown_variables_are_refused() {
        assert!(check_template("update {app} to {new}").is_ok());
        assert!(
            check_template("update {service}")
                .unwrap_err()
                .contains("{service}")
        );
    }
}
