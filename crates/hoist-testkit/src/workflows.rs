//! Callers' workflow files, as `examples/` writes them, made runnable here:
//! hoist's refs pointed at the local copies, and the rules GitHub applies to
//! a caller of a reusable workflow that neither actionlint nor act checks.

use std::collections::BTreeMap;
use std::path::Path;

use saphyr::{LoadableYamlNode, YamlOwned};

/// How a ref to hoist is rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// For actionlint: every hoist ref becomes a local path (`./actions/X`,
    /// `./`, `./.github/workflows/X`), so it checks inputs, outputs and
    /// secrets against the files in this tree.
    Lint,
    /// For act: reusable workflows become local paths (act does not fetch
    /// remote ones offline); actions become `hoist-actions/hoist…@main`,
    /// which `Act::serve_as` serves from the test repository.
    Act,
}

/// `text` with every `hoist-actions/hoist…@REF` ref rewritten for `target`.
pub fn localise(text: &str, target: Target) -> String {
    text.lines()
        .map(|line| localise_line(line, target))
        .collect::<Vec<_>>()
        .join("\n")
        + if text.ends_with('\n') { "\n" } else { "" }
}

fn localise_line(line: &str, target: Target) -> String {
    const HOIST: &str = "hoist-actions/hoist";
    let Some(at) = line.find(&format!("uses: {HOIST}")) else {
        return line.to_owned();
    };
    let (before, reference) = line.split_at(at + "uses: ".len());
    let (reference, comment) = match reference.find(" #") {
        Some(hash) => reference.split_at(hash),
        None => (reference, ""),
    };
    let path = reference
        .trim_end()
        .split_once('@')
        .map_or(reference, |(path, _)| path);
    let inside = path.strip_prefix(HOIST).unwrap_or_default();
    let local = match (inside, target) {
        (workflow, _) if workflow.starts_with("/.github/workflows/") => format!(".{workflow}"),
        ("", Target::Lint) => "./".to_owned(),
        (action, Target::Lint) => format!(".{action}"),
        (action, Target::Act) => format!("{HOIST}{action}@main"),
    };
    format!("{before}{local}{comment}")
}

/// `text` with `entries` added to the `with:` of every job or step whose
/// `uses:` ends with `uses_suffix` (a `with:` is made where there is none).
pub fn add_inputs(text: &str, uses_suffix: &str, entries: &[(&str, String)]) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        out.push(line.to_owned());
        i += 1;
        let trimmed = line.trim_start().trim_start_matches("- ");
        let is_call = trimmed.strip_prefix("uses: ").is_some_and(|r| {
            r.split(" #")
                .next()
                .unwrap_or(r)
                .trim()
                .ends_with(uses_suffix)
        });
        if !is_call {
            continue;
        }
        let indent = line.len() - line.trim_start().len()
            + if line.trim_start().starts_with("- ") {
                2
            } else {
                0
            };
        let pad = " ".repeat(indent);
        // The `with:` of this job or step: a later line at the same indent
        // before the block ends.
        let mut j = i;
        while j < lines.len() {
            let l = lines[j];
            let l_indent = l.len() - l.trim_start().len();
            if !l.trim().is_empty() && l_indent < indent {
                break;
            }
            if l_indent == indent && l.trim_start().starts_with("- ") {
                break;
            }
            if l_indent == indent && l.trim() == "with:" {
                break;
            }
            j += 1;
        }
        let rendered = entries
            .iter()
            .map(|(key, value)| format!("{pad}  {key}: '{}'", value.replace('\'', "''")));
        if j < lines.len() && lines[j].trim() == "with:" {
            out.extend(lines[i..=j].iter().map(|l| (*l).to_owned()));
            out.extend(rendered);
            i = j + 1;
        } else {
            out.push(format!("{pad}with:"));
            out.extend(rendered);
        }
    }
    out.join("\n") + "\n"
}

/// `text` with the value of every `key:` line replaced by `value` (its
/// comment dropped).
pub fn set_values(text: &str, key: &str, value: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            match trimmed.strip_prefix(&format!("{key}: ")) {
                Some(_) => format!("{}{key}: '{value}'", &line[..line.len() - trimmed.len()]),
                None => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// A token permission level, ordered as GitHub orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    None,
    Read,
    Write,
}

impl Level {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "none" => Some(Self::None),
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

/// Every scope `permissions:` can name.
const SCOPES: &[&str] = &[
    "actions",
    "attestations",
    "checks",
    "contents",
    "deployments",
    "discussions",
    "id-token",
    "issues",
    "models",
    "packages",
    "pages",
    "pull-requests",
    "repository-projects",
    "security-events",
    "statuses",
];

type Permissions = BTreeMap<&'static str, Level>;

/// A `permissions:` value: a map (unnamed scopes `none`), `read-all`,
/// `write-all` or `{}`; `None` when there is no such key.
fn permissions(node: Option<&YamlOwned>) -> Option<Permissions> {
    let node = node?;
    let all = |level| SCOPES.iter().map(|s| (*s, level)).collect();
    if let Some(text) = node.as_str() {
        return Some(match text {
            "read-all" => all(Level::Read),
            "write-all" => all(Level::Write),
            _ => all(Level::None),
        });
    }
    let mut granted: Permissions = all(Level::None);
    for (scope, level) in node.as_mapping().into_iter().flatten() {
        let (Some(scope), Some(level)) = (scope.as_str(), level.as_str().and_then(Level::parse))
        else {
            continue;
        };
        if let Some(known) = SCOPES.iter().find(|s| **s == scope) {
            granted.insert(known, level);
        }
    }
    Some(granted)
}

/// What a new repository's `GITHUB_TOKEN` gets where no `permissions:` say
/// otherwise (the restricted default: contents and packages read).
fn repository_default() -> Permissions {
    let mut granted: Permissions = SCOPES.iter().map(|s| (*s, Level::None)).collect();
    granted.insert("contents", Level::Read);
    granted.insert("packages", Level::Read);
    granted
}

/// GitHub's refusals for `workflow` (a caller, after [`localise`] for
/// [`Target::Lint`]) in the tree at `root`: a called workflow's job may only
/// narrow the permissions its caller's job grants, so a nested job that asks
/// for more is refused before anything runs ("The nested job 'promote' is
/// requesting 'contents: write', but is only allowed 'contents: read'").
/// Followed through nested calls.
pub fn permission_refusals(root: &Path, workflow: &Path) -> Vec<String> {
    let source = std::fs::read_to_string(workflow).expect("workflow");
    let documents = YamlOwned::load_from_str(&source).expect("workflow parses");
    let top = permissions(documents[0].as_mapping_get("permissions"));
    let mut refusals = Vec::new();
    check_jobs(
        root,
        &documents[0],
        top.unwrap_or_else(repository_default),
        &workflow.display().to_string(),
        &mut refusals,
    );
    refusals
}

/// Checks each job of `workflow` that calls a reusable workflow, given what
/// the workflow's jobs inherit.
fn check_jobs(
    root: &Path,
    workflow: &YamlOwned,
    inherited: Permissions,
    name: &str,
    refusals: &mut Vec<String>,
) {
    let jobs = workflow
        .as_mapping_get("jobs")
        .and_then(YamlOwned::as_mapping);
    for (job, definition) in jobs.into_iter().flatten() {
        let job = job.as_str().unwrap_or_default();
        let granted = permissions(definition.as_mapping_get("permissions"))
            .unwrap_or_else(|| inherited.clone());
        let Some(called) = definition
            .as_mapping_get("uses")
            .and_then(YamlOwned::as_str)
            .and_then(|uses| uses.strip_prefix("./"))
        else {
            continue;
        };
        let source = std::fs::read_to_string(root.join(called))
            .unwrap_or_else(|e| panic!("{name}: job `{job}` calls {called}: {e}"));
        let called_documents = YamlOwned::load_from_str(&source).expect("called workflow parses");
        let called_doc = &called_documents[0];
        let called_top = permissions(called_doc.as_mapping_get("permissions"));
        let nested_jobs = called_doc
            .as_mapping_get("jobs")
            .and_then(YamlOwned::as_mapping);
        for (nested, nested_definition) in nested_jobs.into_iter().flatten() {
            let nested = nested.as_str().unwrap_or_default();
            let asked = permissions(nested_definition.as_mapping_get("permissions"))
                .or_else(|| called_top.clone())
                .unwrap_or_else(|| granted.clone());
            for (scope, level) in &asked {
                let allowed = granted.get(scope).copied().unwrap_or(Level::None);
                if *level > allowed {
                    refusals.push(format!(
                        "{name}: job `{job}` calls {called}: the nested job '{nested}' is requesting '{scope}: {}', but is only allowed '{scope}: {}'",
                        level.name(),
                        allowed.name()
                    ));
                }
            }
        }
        check_jobs(root, called_doc, granted, called, refusals);
    }
}
