//! What a promotion writes: each app's image as `from-env` has it, spliced
//! into `to-env`'s file with bump-manifest's targets and conventions.

use std::collections::BTreeMap;
use std::str::FromStr;

use bump_manifest::edits::{Convention, is_kustomization, layout_candidates};
use hoist_gitops::RepoPath;
use hoist_manifest::{Change, KeyPath, Limits, Options};
use hoist_oci::reference;

use crate::PromoteError;

/// The image an environment runs, as its file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Image {
    /// The tag.
    pub tag: Option<String>,
    /// The digest.
    pub digest: Option<String>,
    /// `[registry/]repository`, when the file names it.
    pub repository: Option<String>,
}

impl Image {
    /// `tag`, `@digest` or `tag@digest`, for tables.
    pub fn describe(&self) -> String {
        match (&self.tag, &self.digest) {
            (Some(tag), Some(digest)) => format!("{tag}@{digest}"),
            (Some(tag), None) => tag.clone(),
            (None, Some(digest)) => digest.clone(),
            (None, None) => "(none)".into(),
        }
    }
}

/// One app's promotion, planned at the base branch's tip.
#[derive(Debug, Clone)]
pub struct AppPromotion {
    /// The app.
    pub app: String,
    /// `from-env`'s file.
    pub from_file: RepoPath,
    /// `to-env`'s file.
    pub to_file: RepoPath,
    /// What `from-env` runs.
    pub from: Image,
    /// What `to-env` runs now.
    pub to: Image,
    /// `to-env`'s file with `from-env`'s image.
    pub new_text: String,
    /// What changed in it (empty when the environments are equal).
    pub changes: Vec<Change>,
}

/// The key paths an image lives at in `file`.
fn image_paths(file: &RepoPath, image_name: &str) -> [(&'static str, String); 3] {
    if is_kustomization(file) {
        [
            ("tag", format!("images[name={image_name}].newTag")),
            ("digest", format!("images[name={image_name}].digest")),
            ("repository", format!("images[name={image_name}].newName")),
        ]
    } else {
        [
            ("tag", "image.tag".into()),
            ("digest", "image.digest".into()),
            ("repository", "image.repository".into()),
        ]
    }
}

/// Reads the image `text` (the file `file`) holds for `app`.
pub fn read_image(
    app: &str,
    file: &RepoPath,
    text: &str,
    image_name: &str,
) -> Result<Image, PromoteError> {
    let mut image = Image::default();
    for (field, path) in image_paths(file, image_name) {
        let path = KeyPath::from_str(&path).map_err(|e| PromoteError::BadValue {
            app: app.into(),
            file: file.clone(),
            reason: e.to_string(),
        })?;
        let value = match hoist_manifest::read(text, &path, &Limits::default()) {
            Ok(values) => values.into_iter().next().filter(|v| !v.is_empty()),
            Err(hoist_manifest::EditError::PathNotFound { .. }) => None,
            Err(source) => {
                return Err(PromoteError::Manifest {
                    file: file.clone(),
                    source,
                });
            }
        };
        let Some(value) = value else { continue };
        let checked = match field {
            "tag" => reference::validate_tag(&value)
                .map_err(|why| format!("the tag `{value}` is not valid: {why}")),
            "digest" => hoist_oci::Digest::parse(&value)
                .map(drop)
                .map_err(|e| e.to_string()),
            _ => reference::validate_image_name(&value),
        };
        checked.map_err(|reason| PromoteError::BadValue {
            app: app.into(),
            file: file.clone(),
            reason,
        })?;
        match field {
            "tag" => image.tag = Some(value),
            "digest" => image.digest = Some(value),
            _ => image.repository = Some(value),
        }
    }
    if image.tag.is_none() && image.digest.is_none() {
        return Err(PromoteError::NoImage {
            app: app.into(),
            file: file.clone(),
        });
    }
    Ok(image)
}

/// Plans `app`'s promotion from the two files' texts.
pub fn plan(
    app: &str,
    image_name: &str,
    from: (&RepoPath, &str),
    to: (&RepoPath, &str),
    to_env: &str,
) -> Result<AppPromotion, PromoteError> {
    let from_image = read_image(app, from.0, from.1, image_name)?;
    let to_image = read_image(app, to.0, to.1, image_name)?;
    let convention = Convention {
        app: app.into(),
        env: to_env.into(),
        tag: from_image.tag.clone(),
        digest: from_image.digest.clone(),
        image_repository: from_image.repository.clone(),
        image_name: Some(image_name.into()),
        layout: None,
    };
    let edited = hoist_manifest::apply(to.1, &convention.targets(to.0), &Options::default())
        .map_err(|source| PromoteError::Manifest {
            file: to.0.clone(),
            source,
        })?;
    Ok(AppPromotion {
        app: app.into(),
        from_file: from.0.clone(),
        to_file: to.0.clone(),
        from: from_image,
        to: to_image,
        new_text: edited.text,
        changes: edited.changes,
    })
}

/// The file of `app` in `env`: the layout's, or the one built-in layout's
/// that exists in `existing`.
pub fn locate(
    app: &str,
    env: &str,
    layout: Option<&str>,
    exists: impl Fn(&RepoPath) -> bool,
) -> Result<RepoPath, PromoteError> {
    let candidates = layout_candidates(app, env, layout);
    let found: Vec<&RepoPath> = candidates.iter().filter(|p| exists(p)).collect();
    match found.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(PromoteError::MissingFile {
            app: app.into(),
            env: env.into(),
            tried: list(&candidates),
        }),
        several => Err(PromoteError::AmbiguousLayout {
            app: app.into(),
            found: list(several.iter().copied()),
        }),
    }
}

fn list<'a>(paths: impl IntoIterator<Item = &'a RepoPath>) -> String {
    paths
        .into_iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `Hoist-Image` digest and `Hoist-Run` URL of a bump commit's message.
pub fn trailers(message: &str) -> BTreeMap<&'static str, String> {
    let mut found = BTreeMap::new();
    for line in message.lines() {
        if let Some(image) = line.strip_prefix("Hoist-Image: ") {
            if let Some((_, digest)) = image.trim().split_once('@') {
                found.insert("digest", digest.to_owned());
            }
        } else if let Some(run) = line.strip_prefix("Hoist-Run: ") {
            found.insert("run", run.trim().to_owned());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEV: &str = "images:\n  - name: payments-api\n    newName: 111111111111.dkr.ecr.me-south-1.amazonaws.com/payments-api\n    newTag: abc1234 # CI\n";
    const STAGING: &str = "images:\n  - name: payments-api\n    newName: 111111111111.dkr.ecr.me-south-1.amazonaws.com/payments-api\n    newTag: abc1233 # promoted\n";

    #[test]
    fn the_from_image_is_spliced_into_the_to_file() {
        let dev = RepoPath::new("apps/payments/overlays/dev/kustomization.yaml").unwrap();
        let staging = RepoPath::new("apps/payments/overlays/staging/kustomization.yaml").unwrap();
        let plan = plan(
            "payments",
            "payments-api",
            (&dev, DEV),
            (&staging, STAGING),
            "staging",
        )
        .unwrap();
        assert_eq!(plan.from.tag.as_deref(), Some("abc1234"));
        assert_eq!(plan.to.tag.as_deref(), Some("abc1233"));
        assert_eq!(plan.new_text, STAGING.replace("abc1233", "abc1234"));
        assert_eq!(plan.changes.len(), 1);
    }

    #[test]
    fn a_malformed_from_value_is_refused() {
        let dev = RepoPath::new("charts/api/values-dev.yaml").unwrap();
        let error = read_image("api", &dev, "image:\n  tag: \"v1 evil\"\n", "api").unwrap_err();
        assert!(error.to_string().contains("not valid"), "{error}");
    }

    #[test]
    fn trailers_give_the_digest_and_the_run() {
        let message = "chore(dev): update api to v1\n\nHoist-Image: r.example.com/api@sha256:abc\nHoist-Run: https://github.com/o/r/actions/runs/1\n";
        let found = trailers(message);
        assert_eq!(found["digest"], "sha256:abc");
        assert_eq!(found["run"], "https://github.com/o/r/actions/runs/1");
    }
}
