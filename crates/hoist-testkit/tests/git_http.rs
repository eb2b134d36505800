//! Real git over smart HTTP: the token gates every request, pushes land in
//! the bare repository, protected branches refuse, many clients at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use hoist_testkit::peers::{git, git_output};
use hoist_testkit::{GitHttpServer, GitRemote, block_on};

const TOKEN: &str = "ghs_hoistTestToken123";

fn header(token: &str) -> String {
    format!("http.extraHeader={}", GitHttpServer::auth_header(token))
}

/// Clones `url` into `dir/name` presenting `token`.
fn clone(dir: &Path, url: &str, name: &str) -> PathBuf {
    git(dir, &["-c", &header(TOKEN), "clone", "--quiet", url, name]);
    dir.join(name)
}

fn commit(repo: &Path, file: &str, contents: &str, message: &str) {
    std::fs::write(repo.join(file), contents).unwrap();
    git(repo, &["add", file]);
    git(repo, &["commit", "--quiet", "-m", message]);
}

#[test]
fn clone_and_push_with_the_token() {
    let remote = GitRemote::with_files(&[("apps/pay/values.yaml", "tag: v1\n")]);
    let server = GitHttpServer::start(&remote.path(), TOKEN);
    assert!(server.url().ends_with("/remote.git"), "{}", server.url());
    let work = tempfile::tempdir().unwrap();
    let repo = clone(work.path(), &server.url(), "clone");
    assert_eq!(
        std::fs::read_to_string(repo.join("apps/pay/values.yaml")).unwrap(),
        "tag: v1\n"
    );
    commit(&repo, "apps/pay/values.yaml", "tag: v2\n", "bump v2");
    git(
        &repo,
        &["-c", &header(TOKEN), "push", "--quiet", "origin", "main"],
    );

    assert_eq!(remote.read("main", "apps/pay/values.yaml"), "tag: v2\n");
    assert_eq!(remote.log("main"), ["bump v2", "seed"]);
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.target.contains("git-receive-pack"))
    );
    for request in &requests {
        assert_eq!(request.status, 200, "{request:?}");
        assert!(!request.target.contains(TOKEN), "{request:?}");
        assert!(
            request
                .header("authorization")
                .unwrap()
                .starts_with("Basic ")
        );
    }
}

#[test]
fn a_wrong_token_is_refused_with_a_basic_challenge() {
    let remote = GitRemote::with_files(&[("a.txt", "a\n")]);
    let server = GitHttpServer::start(&remote.path(), TOKEN);
    let work = tempfile::tempdir().unwrap();
    let output = git_output(
        work.path(),
        &["-c", &header("ghs_wrong"), "clone", &server.url(), "clone"],
        &[],
        b"",
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("could not read Username") || stderr.contains("Authentication failed"),
        "{stderr}"
    );
    assert!(server.requests().iter().all(|r| r.status == 401));

    let (status, challenge) = block_on(async {
        let response = hoist_testkit::raw_client()
            .get(format!(
                "{}/info/refs?service=git-upload-pack",
                server.url()
            ))
            .send()
            .await
            .unwrap();
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        (response.status().as_u16(), challenge)
    });
    assert_eq!(
        (status, challenge.as_str()),
        (401, "Basic realm=\"hoist-test\"")
    );
}

#[test]
fn a_protected_branch_refuses_pushes_as_github_words_it() {
    let remote = GitRemote::with_files(&[("a.txt", "a\n")]);
    remote.protect_branch("main");
    let server = GitHttpServer::start(&remote.path(), TOKEN);
    let work = tempfile::tempdir().unwrap();
    let repo = clone(work.path(), &server.url(), "clone");
    commit(&repo, "a.txt", "b\n", "change");

    let output = git_output(
        &repo,
        &["-c", &header(TOKEN), "push", "origin", "main"],
        &[],
        b"",
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: GH006: Protected branch update failed for refs/heads/main."),
        "{stderr}"
    );
    assert!(stderr.contains("pre-receive hook declined"), "{stderr}");
    assert_eq!(remote.log("main"), ["seed"]);

    // Other branches still take pushes.
    git(
        &repo,
        &[
            "-c",
            &header(TOKEN),
            "push",
            "--quiet",
            "origin",
            "main:feature",
        ],
    );
    assert_eq!(remote.log("feature"), ["change", "seed"]);
}

#[test]
fn thirty_clients_push_at_once() {
    let remote = GitRemote::with_files(&[("a.txt", "a\n")]);
    let server = GitHttpServer::start(&remote.path(), TOKEN);
    let work = tempfile::tempdir().unwrap();
    let url = server.url();
    std::thread::scope(|scope| {
        for i in 0..30 {
            let (work, url) = (work.path(), url.as_str());
            scope.spawn(move || {
                let repo = clone(work, url, &format!("c{i}"));
                commit(&repo, "a.txt", &format!("{i}\n"), &format!("change {i}"));
                let target = format!("main:refs/heads/b{i}");
                git(
                    &repo,
                    &["-c", &header(TOKEN), "push", "--quiet", "origin", &target],
                );
            });
        }
    });
    for i in 0..30 {
        assert_eq!(remote.read(&format!("b{i}"), "a.txt"), format!("{i}\n"));
    }
}

#[test]
fn commit_file_moves_the_branch_under_a_writer() {
    let remote = GitRemote::with_files(&[("apps/pay/values.yaml", "tag: v1\n")]);
    let server = GitHttpServer::start(&remote.path(), TOKEN);
    let work = tempfile::tempdir().unwrap();
    let repo = clone(work.path(), &server.url(), "clone");
    let before = remote.head("main");

    let sha = remote.commit_file("main", "apps/web/values.yaml", "tag: w1\n", "web w1\n\nwhy");
    assert_eq!(remote.head("main"), sha);
    assert_eq!(remote.read("main", "apps/web/values.yaml"), "tag: w1\n");
    assert_eq!(remote.read("main", "apps/pay/values.yaml"), "tag: v1\n");
    let commits = remote.commits("main");
    assert_eq!(commits[0].sha, sha);
    assert_eq!(commits[0].parents, [before]);
    assert_eq!(
        (commits[0].subject.as_str(), commits[0].body.as_str()),
        ("web w1", "why")
    );
    assert_eq!(commits[0].author, "hoist test <test@hoist.invalid>");
    assert_eq!(commits[1].subject, "seed");

    commit(&repo, "apps/pay/values.yaml", "tag: v2\n", "bump v2");
    let output = git_output(
        &repo,
        &["-c", &header(TOKEN), "push", "origin", "main"],
        &[],
        b"",
    );
    assert!(!output.status.success(), "the writer's push is stale");

    let fresh = remote.commit_file("fresh", "x", "y", "first");
    assert_eq!(remote.commits("fresh")[0].parents, Vec::<String>::new());
    assert_eq!(remote.head("fresh"), fresh);
}

#[test]
fn gzipped_negotiations_and_chunked_pushes_arrive_whole() {
    let remote = GitRemote::with_files(&[("a.txt", "a\n")]);
    let server = GitHttpServer::start(&remote.path(), TOKEN);
    let work = tempfile::tempdir().unwrap();
    let repo = clone(work.path(), &server.url(), "clone");
    // Over 1 MB: git streams the push with chunked encoding.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let big: String = (0..3_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b"0123456789abcdef"[(state % 16) as usize])
        })
        .collect();
    commit(&repo, "big.txt", &big, "big");
    git(
        &repo,
        &["-c", &header(TOKEN), "push", "--quiet", "origin", "main"],
    );
    assert_eq!(remote.read("main", "big.txt"), big);
    // Many local commits the server lacks: the fetch's "have" lines pass
    // 1 KiB and git gzips them.
    for i in 0..60 {
        commit(&repo, "a.txt", &format!("{i}\n"), &format!("local {i}"));
    }
    remote.commit_file("main", "b.txt", "b\n", "server side");
    git(&repo, &["-c", &header(TOKEN), "fetch", "--quiet", "origin"]);
    assert_eq!(git(&repo, &["show", "origin/main:b.txt"]), "b\n");
    let requests = server.requests();
    let gzipped = requests
        .iter()
        .any(|r| r.header("content-encoding") == Some("gzip"));
    let chunked = requests
        .iter()
        .any(|r| r.header("transfer-encoding") == Some("chunked"));
    assert!(gzipped && chunked, "{requests:#?}");
}
