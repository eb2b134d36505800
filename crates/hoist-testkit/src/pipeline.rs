//! The whole CI half under `act`, against local peers: what the demo shows
//! and the end-to-end test checks.
//!
//! A service repository (myshop-api, with a prebuilt OCI layout) calls
//! hoist's reusable `ship.yml` on a push to main, then `promote.yml`. The
//! peers: the OIDC issuer, moto behind the trust-checking STS front, the
//! `docker-registry` with the password moto's `GetAuthorizationToken` hands
//! out, Rekor and Fulcio stand-ins, a real bare GitOps repository (Helm
//! values per environment, as the documents' myshop) served by the GitHub
//! stand-in, and an Argo CD stand-in whose `myshop-api-dev` follows that
//! repository's main branch.

use std::path::{Path, PathBuf};

use crate::act::{Act, ActResult};
use crate::argocd::ArgoCdStandIn;
use crate::fulcio::FulcioStandIn;
use crate::github::{GitHubStandIn, TokenKind};
use crate::oci::{Layout, files_layer};
use crate::oidc::OidcIssuer;
use crate::rekor::RekorStandIn;
use crate::sts::{StsFront, TrustPolicy};
use crate::{GitRemote, Moto, Registry, RegistryAuth};

/// The role the service's workflow assumes.
pub const ROLE: &str = "arn:aws:iam::123456789012:role/github-actions-myshop-api-ecr-push";
/// The service repository.
pub const SERVICE: &str = "myshop/myshop-api";
/// The GitOps repository on the GitHub stand-in.
pub const GITOPS: (&str, &str) = ("myshop", "myshop-manifests");
/// The image repository in the registry.
pub const IMAGE_REPOSITORY: &str = "myshop/myshop-api";
/// The Argo CD application the dev deploy waits for.
pub const DEV_APP: &str = "myshop-api-dev";
/// The Argo CD application a release tag's deploy waits for.
pub const PROD_APP: &str = "myshop-api-prod";
/// The registry password moto's `GetAuthorizationToken` hands out.
const REGISTRY_PASSWORD: &str = "123456789012-auth-token";
/// The token the workflows push to the GitOps repository with.
pub const GITOPS_TOKEN: &str = "ghp_gitopsPipelineToken0123456789";
/// The Argo CD API token.
pub const ARGOCD_TOKEN: &str = "argocd-pipeline-token";
/// hoist's pinned `actions/checkout`, served by a stand-in.
const CHECKOUT_SHA: &str = "11bd71901bbe5b1630ceea73d27597364c9af683";
/// ship.yml's pinned `docker/setup-buildx-action`.
const SETUP_BUILDX_SHA: &str = "e468171a9de216ec08956ac3ada2f0791b6bd435";
/// ship.yml's pinned `docker/build-push-action`.
const BUILD_PUSH_SHA: &str = "263435318d21b8e681c14492fe198d362a7d2c83";

/// The service repository's workflow: ship on a push to main (dev), then
/// open the staging promotion, then report what came out.
const CALLER: &str = r#"name: ci
on: push
jobs:
  ship:
    uses: ./.github/workflows/ship.yml
    with:
      repository: myshop/myshop-api
      app: myshop-api
      aws-region: eu-west-1
      gitops-repository: @GITOPS_URL@
      layout: helm
      prebuilt-image: image
      registry: @REGISTRY@
      create-repository: true
      insecure-registry: true
      sts-endpoint: @STS@
      rekor-url: @REKOR@
      fulcio-url: @FULCIO@
      trusted-root: sigstore/trusted_root.json
      argocd-server: @ARGOCD@
    secrets: inherit
  promote:
    needs: ship
    if: github.ref == 'refs/heads/main'
    uses: ./.github/workflows/promote.yml
    with:
      gitops-repository: myshop/myshop-manifests
      github-api-url: @GITHUB_API@
      apps: myshop-api
      from-env: dev
      to-env: staging
      layout: helm
    secrets: inherit
  report:
    needs: [ship, promote]
    if: always()
    runs-on: ubuntu-latest
    steps:
      - shell: bash
        env:
          DIGEST: ${{ needs.ship.outputs.digest }}
          TAG: ${{ needs.ship.outputs.tag }}
          COMMIT: ${{ needs.ship.outputs.commit-sha }}
          STATUS: ${{ needs.ship.outputs.status }}
          PR: ${{ needs.promote.outputs.pull-request-number }}
          BRANCH: ${{ needs.promote.outputs.branch }}
        run: echo "pipeline-report digest=$DIGEST tag=$TAG commit=$COMMIT status=$STATUS pr=$PR branch=$BRANCH"
"#;

/// A Helm values file of the GitOps repository.
fn values(tag: &str, replicas: u32) -> String {
    format!(
        "# myshop-api\nreplicaCount: {replicas}\nimage:\n  repository: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/myshop-api\n  tag: \"{tag}\" # CI writes this\n"
    )
}

/// The peers of one pipeline run.
pub struct Pipeline {
    /// The GitHub OIDC issuer stand-in.
    pub issuer: OidcIssuer,
    /// moto (STS behind the front, ECR).
    pub moto: Moto,
    /// The STS front that checks tokens against the role's trust policy.
    pub sts: StsFront,
    /// The registry the image goes to.
    pub registry: Registry,
    /// The Rekor stand-in.
    pub rekor: RekorStandIn,
    /// The Fulcio stand-in.
    pub fulcio: FulcioStandIn,
    /// The GitHub API stand-in over the GitOps repository.
    pub github: GitHubStandIn,
    /// The Argo CD stand-in, `myshop-api-dev` following main.
    pub argocd: ArgoCdStandIn,
}

/// What a pipeline run left, read back from the peers.
#[derive(Debug)]
pub struct Outcome {
    /// What `act` printed, and its exit code.
    pub act: ActResult,
    /// The `report` job's line: `digest=… tag=… commit=… status=… pr=… branch=…`.
    pub report: Option<String>,
}

impl Outcome {
    /// One field of the report line.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.report
            .as_deref()?
            .split(' ')
            .find_map(|pair| pair.split_once('=').filter(|(key, _)| *key == name))
            .map(|(_, value)| value)
    }
}

impl Pipeline {
    /// Starts every peer, the GitOps repository at 1.4.1 everywhere.
    pub fn start() -> Self {
        let issuer = OidcIssuer::start();
        issuer.set_claim("sub", &format!("repo:{SERVICE}:ref:refs/heads/main"));
        issuer.set_claim("repository", SERVICE);
        issuer.set_claim("ref", "refs/heads/main");
        issuer.set_claim(
            "job_workflow_ref",
            &format!("{SERVICE}/.github/workflows/ci.yml@refs/heads/main"),
        );
        let moto = Moto::start();
        let sts = StsFront::start(&issuer, &moto);
        // The role admits the service's main branch and its release tags.
        let mut policy = TrustPolicy::main_branch(SERVICE);
        policy
            .subjects
            .push(format!("repo:{SERVICE}:ref:refs/tags/v*"));
        sts.trust(ROLE, policy);
        let registry = Registry::start(RegistryAuth::Htpasswd {
            username: "AWS".into(),
            password: REGISTRY_PASSWORD.into(),
        });
        let rekor = RekorStandIn::start();
        let fulcio = FulcioStandIn::start(&issuer);
        let remote = GitRemote::with_files(&[
            ("charts/myshop-api/values-dev.yaml", &values("1.4.1", 1)),
            ("charts/myshop-api/values-staging.yaml", &values("1.4.1", 2)),
            ("charts/myshop-api/values-prod.yaml", &values("1.4.1", 6)),
        ]);
        let github = GitHubStandIn::start(GITOPS.0, GITOPS.1, remote, "ghs_unused");
        github.add_token(GITOPS_TOKEN, TokenKind::Pat);
        let argocd = ArgoCdStandIn::start(ARGOCD_TOKEN);
        argocd.follow(DEV_APP, &github.remote().path(), "main");
        argocd.follow(PROD_APP, &github.remote().path(), "main");
        Self {
            issuer,
            moto,
            sts,
            registry,
            rekor,
            fulcio,
            github,
            argocd,
        }
    }

    /// The GitOps repository.
    pub fn gitops(&self) -> &GitRemote {
        self.github.remote()
    }

    /// Runs the service's workflow under `act` for a push to main: hoist's
    /// files from `hoist_root` (the one-step action, the actions, the
    /// installer, the reusable workflows), the binaries from `bin_dir`.
    pub fn run(&self, hoist_root: &Path, bin_dir: &Path) -> Outcome {
        self.run_at("refs/heads/main", hoist_root, bin_dir)
    }

    /// [`Pipeline::run`] for a push of `git_ref` (`refs/tags/v1.4.2`): the
    /// job's OIDC token says so too.
    pub fn run_at(&self, git_ref: &str, hoist_root: &Path, bin_dir: &Path) -> Outcome {
        self.issuer
            .set_claim("sub", &format!("repo:{SERVICE}:ref:{git_ref}"));
        self.issuer.set_claim("ref", git_ref);
        self.issuer.set_claim(
            "job_workflow_ref",
            &format!("{SERVICE}/.github/workflows/ci.yml@{git_ref}"),
        );
        let mut act = Act::new();
        act.event("push", &serde_json::json!({ "ref": git_ref }).to_string());
        for path in [
            "action.yml",
            ".github/workflows/ship.yml",
            ".github/workflows/promote.yml",
        ] {
            let text = std::fs::read_to_string(hoist_root.join(path)).expect("hoist file");
            act.file(path, &text);
        }
        act.copy_dir(&hoist_root.join("actions"), "actions");
        act.copy_dir(&hoist_root.join("dist"), "dist");
        self.service_files(&act, bin_dir);
        act.secret("AWS_ROLE_ARN", ROLE)
            .secret("GITOPS_TOKEN", GITOPS_TOKEN)
            .secret("ARGOCD_TOKEN", ARGOCD_TOKEN);
        // The prebuilt-image path skips buildx; its actions must not run.
        act.serve_as("hoist-actions/hoist@main")
            .stand_in_checkout(CHECKOUT_SHA)
            .never_runs("docker/setup-buildx-action", SETUP_BUILDX_SHA)
            .never_runs("docker/build-push-action", BUILD_PUSH_SHA);
        let bin_dir = bin_dir.display().to_string();
        let result = act.run(
            ".github/workflows/ci.yml",
            &[
                ("HOIST_BIN_DIR", &bin_dir),
                ("HOIST_BACKOFF_SCALE", "0"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
                ("AWS_ENDPOINT_URL", &self.moto.url()),
                ("ACTIONS_ID_TOKEN_REQUEST_URL", &self.issuer.request_url()),
                (
                    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                    &self.issuer.request_token(),
                ),
            ],
        );
        let report = result
            .log
            .lines()
            .filter_map(|line| line.split_once("pipeline-report ").map(|(_, r)| r))
            .find(|r| !r.contains("$DIGEST"))
            .map(str::trim)
            .map(String::from);
        Outcome {
            act: result,
            report,
        }
    }

    /// The service repository's files: its workflow, its prebuilt image,
    /// the trusted root of the local Sigstore.
    fn service_files(&self, act: &Act, bin_dir: &Path) {
        let caller = CALLER
            .replace("@GITOPS_URL@", &self.gitops().url())
            .replace("@REGISTRY@", &self.registry.host())
            .replace("@STS@", &self.sts.url())
            .replace("@REKOR@", &self.rekor.url())
            .replace("@FULCIO@", &self.fulcio.url())
            .replace("@ARGOCD@", &self.argocd.url())
            .replace("@GITHUB_API@", &self.github.url());
        act.file(".github/workflows/ci.yml", &caller);
        let root = crate::fulcio::trusted_root(&self.fulcio, &self.rekor);
        act.file("sigstore/trusted_root.json", &root.to_string());
        // A small real image: one static executable (hoist's own entrypoint
        // binary stands in for the service) and its config, as buildx
        // would write it.
        let server = std::fs::read(bin_dir.join("hoist")).expect("the hoist binary is built");
        let layout = Layout::new(&act.repo().join("image"));
        let image = layout.image_with_config(
            "linux/amd64",
            &[files_layer(&[
                ("app/server".to_owned(), 0o755, server),
                (
                    "etc/myshop/config".to_owned(),
                    0o644,
                    b"port=8080\n".to_vec(),
                ),
            ])],
            serde_json::json!({"Entrypoint": ["/app/server"], "ExposedPorts": {"8080/tcp": {}}}),
        );
        layout.finish(&image);
    }

    /// The tags of the image repository, read from the registry's storage.
    pub fn registry_tags(&self) -> Vec<String> {
        let dir: PathBuf = self.registry.storage().join(format!(
            "docker/registry/v2/repositories/{IMAGE_REPOSITORY}/_manifests/tags"
        ));
        let mut tags: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        tags.sort();
        tags
    }
}
