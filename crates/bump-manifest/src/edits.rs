//! What to write where: the `edits` lines and the app/env conventions,
//! checked and turned into manifest targets per file.
//!
//! Every line is checked before any file is read, so one bad line means
//! nothing is applied.

use std::collections::BTreeMap;
use std::str::FromStr;

use hoist_gitops::RepoPath;
use hoist_manifest::{KeyPath, Segment, Target};
use hoist_oci::reference::{self, ImageReference};

/// A bad `edits` line or convention input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct EditLineError {
    /// Which line or input (`edits line 2`, `input tag`).
    pub what: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The key path that means "every container image in the file's workloads".
pub const WORKLOAD_IMAGES: &str = "containers[].image";

/// One file and what to write into it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileEdit {
    /// The file.
    pub path: RepoPath,
    /// The targets, in the order given.
    pub targets: Vec<Target>,
}

/// One `FILE:KEY.PATH=VALUE` line, split and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct EditLine {
    /// The file.
    pub file: RepoPath,
    /// What to set there.
    pub target: Target,
}

/// Parses an `edits` line; `number` (from 1) names it in errors.
pub fn parse_line(number: usize, line: &str) -> Result<EditLine, EditLineError> {
    let fail = |reason: String| EditLineError {
        what: format!("edits line {number} (`{}`)", line.escape_debug()),
        reason,
    };
    let (file, rest) = line
        .split_once(':')
        .ok_or_else(|| fail("it has no `:` between the file and the key path".into()))?;
    let file = RepoPath::new(file.trim()).map_err(|e| fail(e.to_string()))?;
    let (path, value) = split_at_assignment(rest)
        .ok_or_else(|| fail("it has no `=` between the key path and the value".into()))?;
    let (path, value) = (path.trim(), value.trim());
    if value.is_empty() {
        return Err(fail("the value is empty".into()));
    }
    let target = if path == WORKLOAD_IMAGES {
        workload_target(value).map_err(fail)?
    } else {
        let key_path = KeyPath::from_str(path).map_err(|e| fail(e.to_string()))?;
        check_value(&key_path, value).map_err(fail)?;
        kustomize_target(&file, &key_path, value).unwrap_or(Target::Key {
            path: key_path,
            value: value.to_owned(),
        })
    };
    Ok(EditLine { file, target })
}

/// Splits at the first `=` outside `[...]`.
fn split_at_assignment(text: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '=' if depth == 0 => return Some((&text[..i], &text[i + 1..])),
            _ => {}
        }
    }
    None
}

/// Checks a value by what its key holds: tags by the OCI tag grammar,
/// digests as `sha256:<64 hex>`, repositories by the reference grammar, and
/// anything else as one line of printable text.
pub fn check_value(path: &KeyPath, value: &str) -> Result<(), String> {
    let last = path
        .segments()
        .iter()
        .rev()
        .find_map(|segment| match segment {
            Segment::Key(key) => Some(key.as_str()),
            _ => None,
        });
    match last {
        Some("tag" | "newTag") => reference::validate_tag(value)
            .map_err(|why| format!("`{}` is not a valid image tag: {why}", value.escape_debug())),
        Some("digest") => check_digest(value),
        Some("repository" | "newName") => reference::validate_image_name(value),
        _ if value.chars().any(char::is_control) || value.len() > 1024 => Err(format!(
            "`{}` holds a control character or is over 1024 bytes",
            value.escape_debug()
        )),
        _ => Ok(()),
    }
}

fn check_digest(value: &str) -> Result<(), String> {
    let hex = value.strip_prefix("sha256:").unwrap_or("");
    if hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a digest: write sha256: and 64 lower-case hex digits",
            value.escape_debug()
        ))
    }
}

/// Whether a file is a kustomization, by kustomize's own file names.
pub fn is_kustomization(file: &RepoPath) -> bool {
    matches!(
        file.file_name(),
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    )
}

/// `images[name=X].newTag` (or `newName`, `digest`) in a kustomization is a
/// kustomize image edit, with kustomize's semantics.
fn kustomize_target(file: &RepoPath, path: &KeyPath, value: &str) -> Option<Target> {
    if !is_kustomization(file) {
        return None;
    }
    let [
        Segment::Key(images),
        Segment::Select { field, value: name },
        Segment::Key(key),
    ] = path.segments()
    else {
        return None;
    };
    if images != "images" || field != "name" {
        return None;
    }
    let value = Some(value.to_owned());
    let (new_name, new_tag, digest) = match key.as_str() {
        "newName" => (value, None, None),
        "newTag" => (None, value, None),
        "digest" => (None, None, value),
        _ => return None,
    };
    Some(Target::KustomizeImage {
        name: name.clone(),
        new_name,
        new_tag,
        digest,
    })
}

/// `containers[].image=REPO:TAG` (or `@DIGEST`): every matching workload image.
fn workload_target(value: &str) -> Result<Target, String> {
    let image = ImageReference::parse(value)?;
    if image.tag.is_none() && image.digest.is_none() {
        return Err(format!(
            "`{value}` has neither a tag nor a digest: write REPOSITORY:TAG or REPOSITORY@DIGEST"
        ));
    }
    Ok(Target::WorkloadImage {
        repository: image.name,
        tag: image.tag,
        digest: image.digest,
    })
}

/// Groups lines by file, in first-seen order, merging the kustomize edits
/// of one image entry into one target (so `newTag` and `digest` given on
/// two lines set both, as kustomize does).
pub fn group(lines: Vec<EditLine>) -> Vec<FileEdit> {
    let mut files: Vec<FileEdit> = Vec::new();
    let mut index: BTreeMap<RepoPath, usize> = BTreeMap::new();
    for EditLine { file, target } in lines {
        let at = *index.entry(file.clone()).or_insert_with(|| {
            files.push(FileEdit {
                path: file.clone(),
                targets: Vec::new(),
            });
            files.len() - 1
        });
        let targets = &mut files[at].targets;
        if let Target::KustomizeImage {
            name,
            new_name,
            new_tag,
            digest,
        } = &target
            && let Some(Target::KustomizeImage {
                new_name: n,
                new_tag: t,
                digest: d,
                ..
            }) = targets
                .iter_mut()
                .find(|t| matches!(t, Target::KustomizeImage { name: other, .. } if other == name))
        {
            *n = new_name.clone().or(n.take());
            *t = new_tag.clone().or(t.take());
            *d = digest.clone().or(d.take());
            continue;
        }
        targets.push(target);
    }
    files
}

/// The app/env conventions, as given in the inputs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Convention {
    /// The application.
    pub app: String,
    /// The environment.
    pub env: String,
    /// The new tag.
    pub tag: Option<String>,
    /// The new digest.
    pub digest: Option<String>,
    /// The image's registry/repository.
    pub image_repository: Option<String>,
    /// The kustomization images entry's name.
    pub image_name: Option<String>,
    /// The layout; `None` picks the one that exists.
    pub layout: Option<String>,
}

/// The built-in layouts of the seed documents.
pub const LAYOUTS: [(&str, &str); 3] = [
    ("helm", "charts/{app}/values-{env}.yaml"),
    ("kustomize", "apps/{app}/overlays/{env}/kustomization.yaml"),
    (
        "kustomize-services",
        "services/{app}/overlays/{env}/kustomization.yaml",
    ),
];

/// The files `app` in `env` may live in: the layout's one (a built-in name
/// or a pattern with `{app}` and `{env}`), or each built-in layout's when
/// none is set.
pub fn layout_candidates(app: &str, env: &str, layout: Option<&str>) -> Vec<RepoPath> {
    let patterns: Vec<&str> = match layout {
        Some(layout) => vec![
            LAYOUTS
                .iter()
                .find(|(name, _)| *name == layout)
                .map_or(layout, |(_, p)| p),
        ],
        None => LAYOUTS.iter().map(|(_, pattern)| *pattern).collect(),
    };
    patterns
        .into_iter()
        .filter_map(|p| RepoPath::new(&p.replace("{app}", app).replace("{env}", env)).ok())
        .collect()
}

impl Convention {
    /// Checks the convention's inputs.
    pub fn check(&self) -> Result<(), EditLineError> {
        let fail = |what: &str, reason: String| EditLineError {
            what: format!("input `{what}`"),
            reason,
        };
        for (name, value) in [("app", &self.app), ("env", &self.env)] {
            let ok = !value.is_empty()
                && value.len() <= 63
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                && !value.starts_with('.');
            if !ok {
                return Err(fail(
                    name,
                    format!(
                        "`{}` is not a name: use letters, digits, `-`, `_` and `.`",
                        value.escape_debug()
                    ),
                ));
            }
        }
        if self.tag.is_none() && self.digest.is_none() {
            return Err(fail(
                "tag",
                "app and env need a `tag` or a `digest` to write".into(),
            ));
        }
        if let Some(tag) = &self.tag {
            reference::validate_tag(tag).map_err(|why| {
                fail(
                    "tag",
                    format!("`{}` is not a valid image tag: {why}", tag.escape_debug()),
                )
            })?;
        }
        if let Some(digest) = &self.digest {
            check_digest(digest).map_err(|why| fail("digest", why))?;
        }
        if let Some(repository) = &self.image_repository {
            reference::validate_image_name(repository)
                .map_err(|why| fail("image-repository", why))?;
        }
        if let Some(name) = &self.image_name
            && (name.is_empty() || name.contains(char::is_control) || name.len() > 255)
        {
            return Err(fail(
                "image-name",
                "write the name of the images: entry".into(),
            ));
        }
        if let Some(layout) = &self.layout
            && !LAYOUTS.iter().any(|(name, _)| name == layout)
        {
            let file = layout
                .replace("{app}", &self.app)
                .replace("{env}", &self.env);
            if !layout.contains('{') && !file.ends_with(".yaml") && !file.ends_with(".yml") {
                return Err(fail(
                    "layout",
                    format!(
                        "`{layout}` is neither helm, kustomize, kustomize-services nor a pattern such as `deploy/{{app}}/{{env}}/values.yaml`"
                    ),
                ));
            }
            RepoPath::new(&file).map_err(|e| fail("layout", e.to_string()))?;
        }
        Ok(())
    }

    /// The files the convention may name; see [`layout_candidates`].
    pub fn candidates(&self) -> Vec<RepoPath> {
        layout_candidates(&self.app, &self.env, self.layout.as_deref())
    }

    /// The targets for `file`, one of [`candidates`](Self::candidates).
    pub fn targets(&self, file: &RepoPath) -> Vec<Target> {
        if is_kustomization(file) {
            return vec![Target::KustomizeImage {
                name: self.image_name.clone().unwrap_or_else(|| self.app.clone()),
                new_name: self.image_repository.clone(),
                new_tag: self.tag.clone(),
                digest: self.digest.clone(),
            }];
        }
        let key = |path: &str, value: &Option<String>| {
            value.as_ref().and_then(|value| {
                Some(Target::Key {
                    path: KeyPath::from_str(path).ok()?,
                    value: value.clone(),
                })
            })
        };
        [
            key("image.repository", &self.image_repository),
            key("image.tag", &self.tag),
            key("image.digest", &self.digest),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kustomize_line_becomes_an_image_edit() {
        let line = parse_line(
            1,
            "apps/pay/overlays/dev/kustomization.yaml:images[name=payments-api].newTag=abc1234",
        )
        .unwrap();
        assert_eq!(
            line.file.as_str(),
            "apps/pay/overlays/dev/kustomization.yaml"
        );
        assert_eq!(
            line.target,
            Target::KustomizeImage {
                name: "payments-api".into(),
                new_name: None,
                new_tag: Some("abc1234".into()),
                digest: None
            }
        );
    }

    #[test]
    fn a_helm_line_is_a_key_edit_and_selectors_may_hold_dots() {
        let line = parse_line(1, "charts/myshop-api/values-dev.yaml:image.tag=v1.2.3").unwrap();
        assert!(matches!(line.target, Target::Key { ref value, .. } if value == "v1.2.3"));
        let line = parse_line(
            2,
            "apps/pay/.argocd-source-pay.yaml:helm.parameters[name=image.tag].value=abc",
        )
        .unwrap();
        assert!(
            matches!(line.target, Target::Key { ref path, .. } if path.to_string() == "helm.parameters[name=image.tag].value")
        );
    }

    #[test]
    fn workload_lines_split_the_reference() {
        let line = parse_line(
            1,
            "deploy.yaml:containers[].image=localhost:5000/shop/api:v2",
        )
        .unwrap();
        assert_eq!(
            line.target,
            Target::WorkloadImage {
                repository: "localhost:5000/shop/api".into(),
                tag: Some("v2".into()),
                digest: None
            }
        );
    }

    #[test]
    fn lines_for_one_image_entry_merge() {
        let lines = vec![
            parse_line(1, "k/kustomization.yaml:images[name=a].newTag=v1").unwrap(),
            parse_line(2, "k/kustomization.yaml:images[name=a].digest=sha256:0000000000000000000000000000000000000000000000000000000000000000").unwrap(),
        ];
        let files = group(lines);
        assert_eq!(files.len(), 1);
        assert!(matches!(
            &files[0].targets[..],
            [Target::KustomizeImage {
                new_tag: Some(_),
                digest: Some(_),
                ..
            }]
        ));
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        for (line, expected) in [
            ("no-colon", "no `:`"),
            ("f.yaml:image.tag", "no `=`"),
            ("../f.yaml:image.tag=v1", "`..`"),
            ("f.yaml:image.tag=v1\\nevil", "not a valid image tag"),
            ("f.yaml:image.tag=", "empty"),
            ("f.yaml:image.digest=sha256:abc", "not a digest"),
            ("f.yaml:image.repository=Not/Valid", "lower-case"),
            ("f.yaml:image..tag=v1", "image..tag"),
        ] {
            let line = line.replace("\\n", "\n");
            let error = parse_line(1, &line).unwrap_err().to_string();
            assert!(error.contains(expected), "{line:?}: {error}");
        }
    }

    #[test]
    fn conventions_expand_to_the_seed_layouts() {
        let convention = Convention {
            app: "myshop-api".into(),
            env: "dev".into(),
            tag: Some("abc1234".into()),
            ..Convention::default()
        };
        convention.check().unwrap();
        let files: Vec<String> = convention
            .candidates()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            files,
            [
                "charts/myshop-api/values-dev.yaml",
                "apps/myshop-api/overlays/dev/kustomization.yaml",
                "services/myshop-api/overlays/dev/kustomization.yaml"
            ]
        );
        let bad = Convention {
            app: "../x".into(),
            ..convention.clone()
        };
        assert!(bad.check().is_err());
        let bad = Convention {
            layout: Some("../{app}.yaml".into()),
            ..convention
        };
        assert!(bad.check().is_err());
    }
}
