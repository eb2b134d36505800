//! The local demo of hoist's pipeline, against local peers.
//!
//! `hoist-demo` runs each action that exists so far, as a job would, and
//! shows what it printed and what it left for later steps. `hoist-demo
//! peers` starts the peers and prints their settings as shell `export`
//! lines, then serves until its standard input closes (the benchmarks use
//! it).
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use hoist_testkit::oci::{Layout, layer};
use hoist_testkit::oidc::OidcIssuer;
use hoist_testkit::sts::{StsFront, TrustPolicy};
use hoist_testkit::{Moto, Registry, RegistryAuth, RunResult, Sandbox};

/// The role the demo's job assumes.
const ROLE: &str = "arn:aws:iam::123456789012:role/github-actions-myshop-api-ecr-push";

struct Peers {
    issuer: OidcIssuer,
    sts: StsFront,
    moto: Moto,
}

impl Peers {
    fn start() -> Self {
        let issuer = OidcIssuer::start();
        issuer.set_claim("sub", "repo:myshop/myshop-api:ref:refs/heads/main");
        issuer.set_claim("repository", "myshop/myshop-api");
        issuer.set_claim(
            "job_workflow_ref",
            "myshop/myshop-api/.github/workflows/ci.yaml@refs/heads/main",
        );
        let moto = Moto::start();
        let sts = StsFront::start(&issuer, &moto);
        sts.trust(ROLE, TrustPolicy::main_branch("myshop/myshop-api"));
        Self { issuer, sts, moto }
    }

    fn job(&self) -> Sandbox {
        let mut sandbox = Sandbox::new();
        sandbox
            .env("GITHUB_REPOSITORY", "myshop/myshop-api")
            .env("ACTIONS_ID_TOKEN_REQUEST_URL", &self.issuer.request_url())
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                &self.issuer.request_token(),
            )
            .input("aws-region", "eu-west-1")
            .input("role-to-assume", ROLE)
            .input("sts-endpoint", &self.sts.url());
        sandbox
    }
}

fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let path = exe.with_file_name(name);
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo build --profile ci --bins`",
        path.display()
    );
    path
}

fn show(title: &str, run: &RunResult) {
    println!("\n── {title} (exit {})", run.code.unwrap_or(-1));
    for line in run
        .stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
    {
        // Annotations are escaped onto one line; show them as the runner does.
        for part in hoist_testkit::sandbox::unescape(line).lines() {
            println!("   │ {part}");
        }
    }
    for (name, value) in run.outputs() {
        if name != "cleanup-state" {
            println!("   output  {name} = {value}");
        }
    }
    for name in run.exported_env().keys() {
        println!("   env     {name} (for later steps)");
    }
}

fn demo() -> ExitCode {
    println!("hoist demo: the CI half of a GitOps pipeline, against local peers");
    println!(
        "peers: a stand-in GitHub OIDC issuer, moto (STS, ECR) behind a trust-checking STS front, docker-registry, git\n"
    );
    let pipeline_ok = pipeline_stage();

    println!("\nEach action up close: the same actions, one at a time, with what they refuse\n");
    let peers = Peers::start();

    println!("1. oidc-assume — GitHub OIDC token → STS → short-lived credentials");
    let run = peers.job().run(binary("oidc-assume"), &[]);
    show("push to main in myshop/myshop-api", &run);
    let ok = run.code == Some(0);

    peers
        .issuer
        .set_claim("sub", "repo:myshop/myshop-api:ref:refs/heads/feature-x");
    peers.issuer.set_claim("ref", "refs/heads/feature-x");
    let denied = peers.job().run(binary("oidc-assume"), &[]);
    show(
        "the same job from a feature branch: the trust policy says no, and oidc-assume explains",
        &denied,
    );

    println!(
        "\n2. ecr-push — ECR login (moto) with the credentials oidc-assume exported, the image into the registry"
    );
    // The data path: docker-registry with the user and password moto's
    // GetAuthorizationToken hands out, standing in for ECR's registry.
    let registry = Registry::start(RegistryAuth::Htpasswd {
        username: "AWS".into(),
        password: "123456789012-auth-token".into(),
    });
    let credentials = run.exported_env();
    let images = tempfile::tempdir().expect("temp dir");
    let build = |name: &str, contents: &[u8]| {
        let layout = Layout::new(&images.path().join(name));
        let root = layout.image(
            "linux/amd64",
            &[
                layer("app/server", contents),
                layer("etc/config", b"port=8080"),
            ],
        );
        layout.finish(&root);
        layout.dir().display().to_string()
    };
    let push = |source: &str| {
        let mut job = Sandbox::new();
        for (name, value) in &credentials {
            job.env(name, value);
        }
        job.env("GITHUB_REPOSITORY", "myshop/myshop-api")
            .env("GITHUB_REF", "refs/tags/v1.4.2")
            .env("AWS_ENDPOINT_URL", &peers.moto.url())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .input("source", source)
            .input("registry", &registry.host())
            .input("repository", "myshop/myshop-api")
            .input("insecure-registry", "true")
            .input("create-repository", "true")
            .input("tags", "type=semver,pattern={{version}}\ntype=sha");
        job.run(binary("ecr-push"), &[])
    };
    let first = build("v1", b"build of v1.4.2");
    let pushed = push(&first);
    show(
        "tag v1.4.2: push the OCI layout (blobs in parallel, manifest, then tags)",
        &pushed,
    );
    let again = push(&first);
    show(
        "the same job re-run: every tag already points at the digest, nothing is written",
        &again,
    );
    let rebuilt = push(&build("v1-rebuilt", b"a different build"));
    show(
        "a different build under the same tags: the immutability guard refuses",
        &rebuilt,
    );

    println!(
        "\n2b. sign — a cosign key signature in both formats, logged in Rekor (a stand-in), then verified"
    );
    let signs_ok = sign_stage(&registry.host(), &pushed.outputs()["image"]);
    println!(
        "\n2c. sign keyless — the job's OIDC identity certified by Fulcio (a stand-in), with SLSA provenance, verified by identity"
    );
    let keyless_ok = keyless_stage(&pushed.outputs()["image"]);

    println!(
        "\n3. bump-manifest — the new image into the GitOps repository (a real bare git repository)"
    );
    let (bumps_ok, commits) = bump_stage(&pushed.outputs()["digest"]);

    println!(
        "\n4. wait-for-sync — Argo CD (a stand-in playing a stale app, an auto-sync, a canary) runs exactly that commit"
    );
    let waits_ok = wait_stage(&commits);

    let pushes_ok = pushed.code == Some(0) && again.code == Some(0) && rebuilt.code == Some(1);
    if pipeline_ok
        && ok
        && denied.code == Some(1)
        && pushes_ok
        && signs_ok
        && keyless_ok
        && bumps_ok
        && waits_ok
    {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The whole CI half through the real action.yml files under `act`: a push
/// to main of myshop-api calls hoist's `ship.yml` (assume → push → sign,
/// then bump dev → wait for Argo CD) and `promote.yml` (the staging pull
/// request). Prints each step's job summary, then where to look in each
/// peer. Hands back whether the pipeline ended as it should.
fn pipeline_stage() -> bool {
    println!(
        "0. The CI half in one workflow, under act: ship.yml (assume → push → sign → bump dev → wait) then promote.yml (staging PR)"
    );
    let pipeline = hoist_testkit::pipeline::Pipeline::start();
    let hoist_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin_dir = binary("oidc-assume").with_file_name("");
    let outcome = pipeline.run(&hoist_root, &bin_dir);
    for (job, summary) in summaries(&outcome.act.log) {
        println!("\n── job summary, {job}");
        for line in summary.lines() {
            println!("   │ {line}");
        }
    }
    if outcome.act.code != Some(0) {
        println!("\nact failed; its log:\n{}", outcome.act.log);
        return false;
    }
    let field = |name| outcome.field(name).unwrap_or("?");
    println!("\n── where to look");
    println!(
        "   registry    {} tags: {}",
        pipeline.registry.host(),
        pipeline.registry_tags().join(", ")
    );
    let commit = field("commit");
    println!(
        "   GitOps repo {} commit {commit}:",
        pipeline.gitops().url()
    );
    let diff =
        hoist_testkit::peers::git(&pipeline.gitops().path(), &["show", "--format=%s", commit]);
    for line in diff.lines() {
        println!("               {line}");
    }
    let app = pipeline.argocd.app_json(hoist_testkit::pipeline::DEV_APP);
    println!(
        "   Argo CD     {} {}: {} at {}",
        pipeline.argocd.url(),
        hoist_testkit::pipeline::DEV_APP,
        app["status"]["health"]["status"],
        app["status"]["sync"]["revision"]
    );
    for pull in pipeline.github.open_pulls() {
        println!(
            "   GitHub      pull request #{} \"{}\" ({} → {})",
            pull.number, pull.title, pull.head, pull.base
        );
    }
    outcome.field("status") == Some("healthy") && outcome.field("pr") == Some("1")
}

/// The job summaries in an `act` log, once each, with their job: act prints
/// a step's summary as `[workflow/job]   ⚙  Summary - <markdown>`, again
/// for each composite action around the step.
fn summaries(log: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in log.lines() {
        if let Some((prefix, first)) = line.split_once("⚙  Summary - ") {
            found.extend(current.take());
            let job = prefix.trim().trim_start_matches('[').trim_end_matches(']');
            current = Some((job.to_owned(), format!("{first}\n")));
        } else if line.starts_with('[') || line.starts_with("time=") {
            found.extend(current.take());
        } else if let Some((_, text)) = &mut current {
            text.push_str(line);
            text.push('\n');
        }
    }
    found.extend(current);
    let mut unique: Vec<(String, String)> = Vec::new();
    for (job, text) in found {
        if !unique.iter().any(|(_, seen)| *seen == text) {
            unique.push((job, text));
        }
    }
    unique
}

/// Signs the pushed image with a cosign-format encrypted key (both
/// formats, Rekor stand-in), verifies it with the public key, and shows a
/// stranger's key being refused. Hands back whether all went as expected.
fn sign_stage(host: &str, image: &str) -> bool {
    let rekor = hoist_testkit::rekor::RekorStandIn::start();
    let Ok(key) = hoist_cosign::SigningKey::generate() else {
        return false;
    };
    let Ok(encrypted) = key.to_encrypted_pem("demo-password") else {
        return false;
    };
    let job = |mode: &str, key_text: &str| {
        let mut job = Sandbox::new();
        job.env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", "myshop/myshop-api")
            .env("GITHUB_RUN_ID", "1001")
            .env("COSIGN_PASSWORD", "demo-password")
            .input("mode", mode)
            .input("image", image)
            .input("key", key_text)
            .input("rekor-url", &rekor.url())
            .input("rekor-public-key", &rekor.public_key_pem())
            .input("insecure-registry", "true")
            .input("registry-username", "AWS")
            .input("registry-password", "123456789012-auth-token");
        job.run(binary("sign"), &[])
    };
    let signed = job("sign", &encrypted);
    show(
        &format!(
            "sign {image} on {host}: the .sig tag and a bundle referrer (fallback index), both logged"
        ),
        &signed,
    );
    let verified = job("verify", &key.public_key().to_pem());
    show(
        "verify with cosign.pub: both formats, Rekor entries checked offline",
        &verified,
    );
    let stranger =
        hoist_cosign::SigningKey::generate().map(|k| job("verify", &k.public_key().to_pem()));
    if let Ok(stranger) = &stranger {
        show(
            "verify with someone else's key: refused, with the reason per signature",
            stranger,
        );
    }
    signed.code == Some(0) && verified.code == Some(0) && stranger.is_ok_and(|r| r.code == Some(1))
}

/// Signs the pushed image keyless (a GitHub OIDC token from the issuer
/// stand-in, a certificate from the Fulcio stand-in, both formats logged in
/// a Rekor stand-in) with SLSA provenance, then verifies it by the
/// workflow's identity, and shows another branch's identity refused.
fn keyless_stage(image: &str) -> bool {
    let issuer = hoist_testkit::oidc::OidcIssuer::start();
    let fulcio = hoist_testkit::fulcio::FulcioStandIn::start(&issuer);
    let rekor = hoist_testkit::rekor::RekorStandIn::start();
    let Ok(dir) = tempfile::tempdir() else {
        return false;
    };
    let root = dir.path().join("trusted_root.json");
    let root_json = hoist_testkit::fulcio::trusted_root(&fulcio, &rekor).to_string();
    if std::fs::write(&root, root_json).is_err() {
        return false;
    }
    let identity = "https://github.com/acme/shop/.github/workflows/ci.yaml@refs/heads/main";
    let job = |mode: &str, identity: &str| {
        let mut job = Sandbox::new();
        job.env("ACTIONS_ID_TOKEN_REQUEST_URL", &issuer.request_url())
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &issuer.request_token())
            .input("mode", mode)
            .input("image", image)
            .input("provenance", "true")
            .input("fulcio-url", &fulcio.url())
            .input("rekor-url", &rekor.url())
            .input("trusted-root", &root.display().to_string())
            .input("certificate-identity", identity)
            .input("insecure-registry", "true")
            .input("registry-username", "AWS")
            .input("registry-password", "123456789012-auth-token");
        job.run(binary("sign"), &[])
    };
    let signed = job("sign", "");
    show(
        "sign keyless: token (audience sigstore) → Fulcio certificate → Rekor → .sig/.att and bundles",
        &signed,
    );
    let verified = job("verify", identity);
    show(
        "verify by identity: chain and SCT against the trusted root, log entries, provenance",
        &verified,
    );
    let other = job("verify", &identity.replace("main", "release"));
    show(
        "verify as another branch's workflow: refused, naming both identities",
        &other,
    );
    signed.code == Some(0) && verified.code == Some(0) && other.code == Some(1)
}

/// The myshop-api Helm values of the seed documents, per environment.
const VALUES: &str = "# myshop-api in dev: CI writes image.tag\nreplicaCount: 1\n\nimage:\n  repository: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/myshop/myshop-api\n  tag: \"1.4.1\"   # set by CI\n  pullPolicy: IfNotPresent\n";

/// Bumps the dev values three times: the new version, the same again (a
/// no-op), and an older build finishing late (superseded). Hands back
/// whether all went as expected, and the GitOps commits before and after.
fn bump_stage(digest: &str) -> (bool, (String, String)) {
    let gitops = hoist_testkit::GitRemote::with_files(&[
        ("charts/myshop-api/values-dev.yaml", VALUES),
        ("charts/myshop-api/values-prod.yaml", VALUES),
    ]);
    let bump = |tag: &str| {
        let mut job = Sandbox::new();
        job.env("GITHUB_REPOSITORY", "myshop/myshop-api")
            .input("repository", &gitops.url())
            .input("app", "myshop-api")
            .input("env", "dev")
            .input("tag", tag)
            .input("digest", digest)
            .input(
                "image-repository",
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/myshop/myshop-api",
            )
            .input("create-missing", "true");
        job.run(binary("bump-manifest"), &[])
    };
    let before = gitops.head("main");
    let landed = bump("1.4.2");
    show(
        "app myshop-api, env dev, tag 1.4.2: one commit, only the changed bytes",
        &landed,
    );
    let diff = hoist_testkit::peers::git(
        &gitops.path(),
        &["show", "--format=   commit %h %s%n%n%b", "main"],
    );
    for line in diff.lines() {
        println!("   │ {line}");
    }
    let again = bump("1.4.2");
    show(
        "the same job re-run: the value is already there, no commit",
        &again,
    );
    let late = bump("1.4.1");
    show(
        "an older build finishing late: superseded, nothing written",
        &late,
    );
    let ok = landed.code == Some(0)
        && again.outputs().get("changed").map(String::as_str) == Some("false")
        && late.outputs().get("superseded").map(String::as_str) == Some("true");
    (ok, (before, gitops.head("main")))
}

/// Waits for the bumped commit on an Argo CD stand-in: an app that is
/// stale at the old commit and then auto-syncs, and one whose canary pauses
/// and is then promoted.
fn wait_stage((before, after): &(String, String)) -> bool {
    use hoist_testkit::argocd::{ArgoCdStandIn, presets};
    let argocd = ArgoCdStandIn::start("demo-argocd-token");
    argocd.add_app(
        "myshop-api-dev",
        presets::stale_then_auto_sync(before, after),
    );
    argocd.add_app("myshop-api-canary", presets::rollout_canary(before, after));
    let mut job = Sandbox::new();
    job.env("HOIST_GITOPS_COMMIT", after)
        .env("HOIST_BACKOFF_SCALE", "0.01")
        .input("argocd-server", &argocd.url())
        .input("argocd-token", "demo-argocd-token")
        .input("application", "myshop-api-dev, myshop-api-canary")
        .input("refresh", "none");
    let waited = job.run(binary("wait-for-sync"), &[]);
    show(
        "both apps: the revision bump-manifest exported, synced, reconciled, healthy",
        &waited,
    );
    waited.code == Some(0)
}

fn serve_peers() -> ExitCode {
    let peers = Peers::start();
    println!(
        "export ACTIONS_ID_TOKEN_REQUEST_URL='{}'",
        peers.issuer.request_url()
    );
    println!(
        "export ACTIONS_ID_TOKEN_REQUEST_TOKEN='{}'",
        peers.issuer.request_token()
    );
    println!("export HOIST_DEMO_ROLE='{ROLE}'");
    println!("export HOIST_DEMO_STS='{}'", peers.sts.url());
    println!("export HOIST_DEMO_READY=1");
    // Serve until whoever started us closes our stdin.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    match std::env::args().nth(1).as_deref() {
        None => demo(),
        Some("peers") => serve_peers(),
        Some(other) => {
            println!("usage: hoist-demo [peers]  (unknown argument `{other}`)");
            ExitCode::FAILURE
        }
    }
}
