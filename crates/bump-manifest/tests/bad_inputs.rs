//! The table of bad inputs: each run fails with exit 1 and exactly one
//! `::error::` that says what is wrong and what to change, writes no output,
//! and leaves the GitOps branch where it was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use hoist_testkit::GitRemote;
use hoist_testkit::peers::GitHttpServer;

const KUSTOMIZE: &str = "apps/payments/overlays/dev/kustomization.yaml";

/// Files the hostile rows point at, next to the seed.
const HOSTILE: &[(&str, &str)] = &[
    ("bad/alias.yaml", "defaults: &img\n  tag: v1\nimage: *img\n"),
    (
        "bad/shared-anchor.yaml",
        "image:\n  tag: &t v1\nsidecar:\n  tag: *t\n",
    ),
    (
        "bad/bomb.yaml",
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\nimage:\n  tag: v1\n",
    ),
    ("bad/not-yaml.yaml", "image:\n  tag: [v1\n"),
    ("bad/duplicate.yaml", "image:\n  tag: old\n  tag: other\n"),
    ("bad/int-tag.yaml", "image:\n  tag: !!int 5\n"),
];

/// What a row needs besides its inputs.
#[derive(Clone, Copy, PartialEq)]
enum Setup {
    None,
    /// `link.yaml` is a symbolic link leaving the repository.
    Symlink,
    /// A hook refuses every update of main, as a protected branch does.
    Protected,
    /// The repository is served over HTTP with another token.
    WrongToken,
}

struct Row {
    setup: Setup,
    set: &'static [(&'static str, &'static str)],
    says: &'static [&'static str],
}

const ROWS: &[Row] = &[
    Row {
        setup: Setup::None,
        set: &[("edits", "charts/nope/values-dev.yaml:image.tag=v1")],
        says: &[
            "`charts/nope/values-dev.yaml` does not exist",
            "create-missing",
        ],
    },
    Row {
        setup: Setup::None,
        set: &[("edits", "../outside.yaml:image.tag=v1")],
        says: &["not a file path inside the repository", "`..`"],
    },
    Row {
        setup: Setup::None,
        set: &[("edits", "/etc/passwd:image.tag=v1")],
        says: &["absolute"],
    },
    Row {
        setup: Setup::Symlink,
        set: &[("edits", "link.yaml:image.tag=v1")],
        says: &["`link.yaml` is a symbolic link", "name the regular file"],
    },
    Row {
        setup: Setup::None,
        set: &[("edits", "bad/alias.yaml:image.tag=v2")],
        says: &["bad/alias.yaml", "alias"],
    },
    Row {
        setup: Setup::None,
        set: &[("edits", "bad/shared-anchor.yaml:image.tag=v2")],
        says: &["bad/shared-anchor.yaml", "anchor"],
    },
    Row {
        setup: Setup::None,
        set: &[("edits", "bad/bomb.yaml:image.tag=v2")],
        says: &["bad/bomb.yaml", "bomb"],
    },
    Row {
        setup: Setup::None,
        set: &[("edits", "bad/not-yaml.yaml:image.tag=v2")],
        says: &["bad/not-yaml.yaml"],
    },
    Row {
        setup: Setup::None,
        set: &[("edits", "bad/duplicate.yaml:image.tag=v2")],
        says: &[
            "bad/duplicate.yaml",
            "the key `tag` appears twice in one mapping (lines 2 and 3)",
        ],
    },
    Row {
        setup: Setup::None,
        set: &[("edits", "bad/int-tag.yaml:image.tag=v9")],
        says: &[
            "bad/int-tag.yaml",
            "carries the tag `!!int`",
            "remove the tag",
        ],
    },
    Row {
        setup: Setup::None,
        set: &[(
            "edits",
            "charts/myshop-api/values-dev.yaml:image.tag=v1 evil: true",
        )],
        says: &["not a valid image tag"],
    },
    Row {
        setup: Setup::None,
        set: &[(
            "edits",
            "charts/myshop-api/values-dev.yaml:image.digest=sha256:1234",
        )],
        says: &["is not a digest"],
    },
    Row {
        setup: Setup::None,
        set: &[(
            "edits",
            "charts/myshop-api/values-dev.yaml:image.repository=https://evil.example.com/x",
        )],
        says: &["image.repository", "https://evil.example.com/x"],
    },
    Row {
        setup: Setup::None,
        set: &[(
            "edits",
            "charts/myshop-api/values-dev.yaml:image.version=v1",
        )],
        says: &["image.version", "create-missing"],
    },
    Row {
        setup: Setup::None,
        set: &[("edits", "charts/myshop-api/values-dev.yaml image.tag v1")],
        says: &["edits line 1", "FILE:KEY.PATH=VALUE"],
    },
    Row {
        setup: Setup::None,
        set: &[(
            "edits",
            "charts/myshop-api/values-dev.yaml:image.tag=ok\ncharts/x.yaml:image.tag=bad tag",
        )],
        says: &["edits line 2", "not a valid image tag"],
    },
    Row {
        setup: Setup::None,
        set: &[("app", "myshop-api"), ("env", "dev")],
        says: &["`tag` or a `digest`"],
    },
    Row {
        setup: Setup::None,
        set: &[("app", "../../etc"), ("env", "dev"), ("tag", "v1")],
        says: &["input `app`", "not a name"],
    },
    Row {
        setup: Setup::None,
        set: &[("app", "myshop-api"), ("tag", "v1")],
        says: &["input `env` is required"],
    },
    Row {
        setup: Setup::None,
        set: &[("app", "nope"), ("env", "dev"), ("tag", "v1")],
        says: &["found none of", "layout"],
    },
    Row {
        setup: Setup::None,
        set: &[("tag", "v1")],
        says: &["it needs `app` and `env`"],
    },
    Row {
        setup: Setup::None,
        set: &[(
            "repository",
            "https://x-access-token:ghs_leak@github.com/o/r.git",
        )],
        says: &["holds a credential", "token"],
    },
    Row {
        setup: Setup::None,
        set: &[("repository", "ext::sh -c id")],
        says: &["scheme `ext:`"],
    },
    Row {
        setup: Setup::None,
        set: &[("repository", "http://gitops.example.com/o/r.git")],
        says: &["loopback hosts only"],
    },
    Row {
        setup: Setup::None,
        set: &[("branch", "does-not-exist")],
        says: &["branch `does-not-exist` does not exist"],
    },
    Row {
        setup: Setup::None,
        set: &[("branch", "main..x")],
        says: &["not a branch name"],
    },
    Row {
        setup: Setup::None,
        set: &[("backend", "svn")],
        says: &["input `backend` must be one of"],
    },
    Row {
        setup: Setup::None,
        set: &[("backend", "github-api"), ("token", "ghs_x")],
        says: &["`github-api` needs a repository on this run's GitHub"],
    },
    Row {
        setup: Setup::None,
        set: &[("policy", "newest")],
        says: &["input `policy` must be one of"],
    },
    Row {
        setup: Setup::None,
        set: &[("max-attempts", "0")],
        says: &["max-attempts", "between 1 and 50"],
    },
    Row {
        setup: Setup::None,
        set: &[("commit-message", "bump {service}")],
        says: &["`{service}` is not a variable"],
    },
    Row {
        setup: Setup::None,
        set: &[("author", "ci-bot")],
        says: &["is not `Name <email>`"],
    },
    Row {
        setup: Setup::Protected,
        set: &[],
        says: &[
            "refused to move the branch",
            "Protected branch update failed",
        ],
    },
    Row {
        setup: Setup::WrongToken,
        set: &[("token", "ghs_wrong")],
        says: &["refused the credentials"],
    },
];

#[test]
fn every_bad_input_fails_cleanly_and_commits_nothing() {
    assert!(ROWS.len() >= 15);
    for row in ROWS {
        let mut files = SEED.to_vec();
        files.extend_from_slice(HOSTILE);
        let remote = GitRemote::with_files(&files);
        if row.setup == Setup::Symlink {
            commit_symlink(&remote, "link.yaml", "../../../../etc/passwd");
        }
        if row.setup == Setup::Protected {
            remote.protect_branch("main");
        }
        let server = (row.setup == Setup::WrongToken)
            .then(|| GitHttpServer::start(&remote.path(), "ghs_right"));
        let head = remote.head("main");
        let mut sandbox = sandbox_for(&remote);
        if let Some(server) = &server {
            sandbox.input("repository", &server.url());
        }
        if !row
            .set
            .iter()
            .any(|(name, _)| ["edits", "app", "tag"].contains(name))
        {
            sandbox.input(
                "edits",
                &format!("{KUSTOMIZE}:images[name=payments-api].newTag=abc1234"),
            );
        }
        for (name, value) in row.set {
            sandbox.input(name, value);
        }
        let result = bump(&sandbox);
        let message = result.assert_failed_cleanly(row.says);
        assert!(
            message.contains("Hint: "),
            "no hint for {:?}:\n{message}",
            row.set
        );
        assert_eq!(remote.head("main"), head, "{:?} moved the branch", row.set);
    }
}

#[test]
fn a_fault_in_a_file_is_annotated_at_its_line() {
    let mut files = SEED.to_vec();
    files.extend_from_slice(HOSTILE);
    let remote = GitRemote::with_files(&files);
    let mut sandbox = sandbox_for(&remote);
    sandbox.input("edits", "bad/alias.yaml:image.tag=v2");
    let result = bump(&sandbox);
    result.assert_failed_cleanly(&["alias"]);
    let error = result.errors()[0];
    assert!(error.contains("file=bad/alias.yaml,line=3::"), "{error}");
}

/// A server that answers every request with `status` and an empty body.
fn answering(status: u16) -> hoist_testkit::Router {
    hoist_testkit::Router::new()
        .route("GET", "/{rest*}", move |_| {
            hoist_testkit::Response::new(status)
        })
        .route("POST", "/{rest*}", move |_| {
            hoist_testkit::Response::new(status)
        })
}

/// Runs a bump of the seed against `repository` and returns its one error message.
fn failure_against(repository: &str) -> String {
    let mut sandbox = sandbox();
    sandbox.input("repository", repository).input(
        "edits",
        &format!("{KUSTOMIZE}:images[name=payments-api].newTag=abc1234"),
    );
    let result = bump(&sandbox);
    let message = result.assert_failed_cleanly(&["Hint: "]);
    for wrong in ["concurrency", "this is unexpected"] {
        assert!(!message.contains(wrong), "{repository}:\n{message}");
    }
    message
}

#[test]
fn a_closed_port_says_the_server_cannot_be_reached() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The listener is dropped: nothing listens on the port any more.
    let message = failure_against(&format!("http://127.0.0.1:{port}/x.git"));
    for needle in [
        "could not connect to the git server",
        "check the host and port in `repository`",
    ] {
        assert!(message.contains(needle), "{message}");
    }
}

#[test]
fn an_http_500_says_the_server_is_failing() {
    let server = hoist_testkit::StandIn::start(answering(500));
    let message = failure_against(&format!("{}/x.git", server.url()));
    for needle in [
        "the git server answered with a server error",
        "returned error: 500",
        "the git server is failing (HTTP 5xx)",
    ] {
        assert!(message.contains(needle), "{message}");
    }
}

#[test]
fn an_untrusted_certificate_names_ssl_cert_file() {
    let ca = hoist_testkit::tls::TestCa::new();
    let server = hoist_testkit::StandIn::start_tls(answering(200), &ca);
    let message = failure_against(&format!("{}/x.git", server.url()));
    for needle in [
        "TLS certificate is not trusted",
        "SSL_CERT_FILE",
        "ca-bundle",
    ] {
        assert!(message.contains(needle), "{message}");
    }
}

#[test]
fn creating_a_file_through_a_symlinked_directory_is_refused() {
    let remote = GitRemote::with_files(SEED);
    commit_symlink(&remote, "linked", "apps");
    let head = remote.head("main");
    let mut sandbox = sandbox_for(&remote);
    sandbox
        .input("edits", "linked/new/values.yaml:image.tag=v1")
        .input("create-missing", "true");
    let result = bump(&sandbox);
    let message = result.assert_failed_cleanly(&[
        "cannot write `linked/new/values.yaml`",
        "symbolic link",
        "hoist does not follow symbolic links",
    ]);
    assert!(!message.contains("this is unexpected"), "{message}");
    assert_eq!(remote.head("main"), head);
}
