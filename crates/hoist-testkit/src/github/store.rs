//! The bare repository behind the API, through git's plumbing.

use std::path::PathBuf;

use crate::peers::git_output;

/// One entry of a tree, as `git ls-tree -l` prints it.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    /// `100644`, `100755`, `040000`, `120000` or `160000`.
    pub(super) mode: String,
    /// `blob`, `tree` or `commit`.
    pub(super) kind: String,
    pub(super) sha: String,
    /// Blobs only.
    pub(super) size: Option<u64>,
    pub(super) path: String,
}

/// A commit object, parsed.
#[derive(Debug, Clone)]
pub(super) struct CommitObject {
    pub(super) tree: String,
    pub(super) parents: Vec<String>,
    pub(super) author: Person,
    pub(super) committer: Person,
    pub(super) message: String,
    /// The whole object, as a signature would cover it.
    pub(super) raw: String,
}

/// An author or committer line.
#[derive(Debug, Clone, Default)]
pub(super) struct Person {
    pub(super) name: String,
    pub(super) email: String,
    /// ISO 8601 in UTC, as GitHub writes dates.
    pub(super) date: String,
}

/// The bare repository.
pub(super) struct Store {
    dir: PathBuf,
}

impl Store {
    pub(super) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// Runs git in the repository: stdout, or stderr when it fails.
    pub(super) fn git(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: &[u8],
    ) -> Result<Vec<u8>, String> {
        let mut env = env.to_vec();
        env.push(("GIT_LITERAL_PATHSPECS", "1"));
        let output = git_output(&self.dir, args, &env, stdin);
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
        }
    }

    /// [`Store::git`]'s stdout as trimmed text.
    pub(super) fn text(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: &[u8],
    ) -> Result<String, String> {
        self.git(args, env, stdin)
            .map(|out| String::from_utf8_lossy(&out).trim().to_owned())
    }

    /// The type of the object `sha` names (a full hex sha only, as the API
    /// takes), if it exists.
    pub(super) fn object_type(&self, sha: &str) -> Option<String> {
        if !is_sha(sha) {
            return None;
        }
        self.text(&["cat-file", "-t", sha], &[], b"").ok()
    }

    /// What a full ref name (`refs/heads/main`) points at.
    pub(super) fn resolve(&self, reference: &str) -> Option<String> {
        self.text(&["check-ref-format", reference], &[], b"").ok()?;
        self.text(&["rev-parse", "--verify", "--quiet", reference], &[], b"")
            .ok()
            .filter(|sha| is_sha(sha))
    }

    /// A branch, tag or sha (the API's `ref` parameters) as a commit.
    pub(super) fn resolve_commit(&self, name: &str) -> Option<String> {
        let peel = |reference: &str| {
            self.text(
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("{reference}^{{commit}}"),
                ],
                &[],
                b"",
            )
            .ok()
        };
        for reference in [format!("refs/heads/{name}"), format!("refs/tags/{name}")] {
            if self.resolve(&reference).is_some() {
                return peel(&reference);
            }
        }
        let hex = (4..=40).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_hexdigit());
        hex.then(|| peel(name)).flatten()
    }

    /// The branch `HEAD` names.
    pub(super) fn default_branch(&self) -> String {
        self.text(&["symbolic-ref", "--short", "HEAD"], &[], b"")
            .unwrap_or_else(|_| "main".to_owned())
    }

    /// Writes a blob and returns its sha.
    pub(super) fn write_blob(&self, bytes: &[u8]) -> String {
        self.text(&["hash-object", "-w", "--stdin"], &[], bytes)
            .expect("git writes a blob")
    }

    /// A blob's bytes.
    pub(super) fn read_blob(&self, sha: &str) -> Option<Vec<u8>> {
        (self.object_type(sha)? == "blob")
            .then(|| self.git(&["cat-file", "blob", sha], &[], b"").ok())
            .flatten()
    }

    /// The entries of `tree` (any tree-ish), recursively with the subtrees
    /// themselves when asked. Paths are relative to `tree`.
    pub(super) fn ls_tree(&self, tree: &str, recursive: bool) -> Vec<Entry> {
        let mut args = vec!["ls-tree", "-z", "-l"];
        if recursive {
            args.extend(["-r", "-t"]);
        }
        args.push(tree);
        parse_ls_tree(&self.git(&args, &[], b"").unwrap_or_default())
    }

    /// The entry at `path` in `tree`, if there is one.
    pub(super) fn entry(&self, tree: &str, path: &str) -> Option<Entry> {
        let out = self
            .git(&["ls-tree", "-z", "-l", tree, "--", path], &[], b"")
            .ok()?;
        parse_ls_tree(&out).into_iter().find(|e| e.path == path)
    }

    /// Whether `old` is `new` or one of its ancestors.
    pub(super) fn is_ancestor(&self, old: &str, new: &str) -> bool {
        self.git(&["merge-base", "--is-ancestor", old, new], &[], b"")
            .is_ok()
    }

    /// The best common ancestor of two commits, if they share history.
    pub(super) fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        self.text(&["merge-base", a, b], &[], b"").ok()
    }

    /// The commits in `from..to`, oldest first.
    pub(super) fn commits_between(&self, from: &str, to: &str) -> Vec<String> {
        let range = format!("{from}..{to}");
        self.text(&["rev-list", "--reverse", &range], &[], b"")
            .map(|out| out.lines().map(String::from).collect())
            .unwrap_or_default()
    }

    /// Points `reference` at `new` if it still points at `old` (`""`: if it
    /// does not exist yet), atomically; `None` skips the check.
    pub(super) fn update_ref(&self, reference: &str, new: &str, old: Option<&str>) -> bool {
        let mut args = vec!["update-ref", reference, new];
        args.extend(old);
        self.git(&args, &[], b"").is_ok()
    }

    /// A commit object, parsed.
    pub(super) fn commit(&self, sha: &str) -> Option<CommitObject> {
        if self.object_type(sha)? != "commit" {
            return None;
        }
        let raw = self.git(&["cat-file", "commit", sha], &[], b"").ok()?;
        parse_commit(&String::from_utf8_lossy(&raw))
    }
}

/// A full hex object name.
pub(super) fn is_sha(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `<mode> SP <type> SP <sha> SP+ <size> TAB <path> NUL`, repeated.
fn parse_ls_tree(out: &[u8]) -> Vec<Entry> {
    out.split(|&b| b == 0)
        .filter_map(|record| {
            let record = String::from_utf8_lossy(record);
            let (meta, path) = record.split_once('\t')?;
            let mut fields = meta.split_whitespace();
            let (mode, kind, sha, size) = (
                fields.next()?,
                fields.next()?,
                fields.next()?,
                fields.next()?,
            );
            Some(Entry {
                mode: mode.to_owned(),
                kind: kind.to_owned(),
                sha: sha.to_owned(),
                size: size.parse().ok(),
                path: path.to_owned(),
            })
        })
        .collect()
}

fn parse_commit(raw: &str) -> Option<CommitObject> {
    let (headers, message) = raw.split_once("\n\n").unwrap_or((raw, ""));
    let mut commit = CommitObject {
        tree: String::new(),
        parents: Vec::new(),
        author: Person::default(),
        committer: Person::default(),
        message: message.to_owned(),
        raw: raw.to_owned(),
    };
    for line in headers.lines() {
        match line.split_once(' ') {
            Some(("tree", sha)) => commit.tree = sha.to_owned(),
            Some(("parent", sha)) => commit.parents.push(sha.to_owned()),
            Some(("author", who)) => commit.author = parse_person(who),
            Some(("committer", who)) => commit.committer = parse_person(who),
            _ => {}
        }
    }
    Some(commit)
}

/// `Name <email> 1415397705 +0000`.
fn parse_person(line: &str) -> Person {
    let (name, rest) = line.split_once(" <").unwrap_or(("", line));
    let (email, when) = rest.rsplit_once("> ").unwrap_or(("", rest));
    let seconds = when.split_whitespace().next().and_then(|s| s.parse().ok());
    Person {
        name: name.to_owned(),
        email: email.to_owned(),
        date: iso8601(seconds.unwrap_or(0)),
    }
}

/// Seconds since the epoch as `2014-11-07T22:01:45Z`.
pub(crate) fn iso8601(seconds: i64) -> String {
    hoist_runner::values::rfc3339(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_parse() {
        let who = parse_person("Mona Lisa <mona@example.com> 1415397705 +0200");
        assert_eq!(
            (who.name.as_str(), who.email.as_str(), who.date.as_str()),
            ("Mona Lisa", "mona@example.com", "2014-11-07T22:01:45Z")
        );
    }
}
