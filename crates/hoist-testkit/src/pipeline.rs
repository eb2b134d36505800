//! The whole CI half under `act`, against local peers: what the demo shows
//! and the end-to-end tests check.
//!
//! A service repository (with a prebuilt OCI layout) calls hoist's reusable
//! `ship.yml` and `promote.yml`. The peers: the OIDC issuer, moto behind the
//! trust-checking STS front, the `docker-registry` with the password moto's
//! `GetAuthorizationToken` hands out, Rekor and Fulcio stand-ins, a real
//! bare GitOps repository served by the GitHub API stand-in and by git over
//! smart HTTP (as `GITHUB_SERVER_URL`, so `owner/name` inputs reach it), and
//! an Argo CD stand-in whose apps follow that repository's main branch. A
//! [`Setup`] says whose repositories and files these are: myshop's Helm
//! values ([`Setup::myshop`]) unless a test says otherwise.

use std::path::{Path, PathBuf};

use crate::act::{Act, ActResult};
use crate::argocd::{ArgoCdStandIn, Follow};
use crate::fulcio::FulcioStandIn;
use crate::github::{GitHubStandIn, TokenKind};
use crate::oci::{Layout, files_layer};
use crate::oidc::OidcIssuer;
use crate::rekor::RekorStandIn;
use crate::sts::{StsFront, TrustPolicy};
use crate::{GitHttpServer, GitRemote, Moto, Registry, RegistryAuth};

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
const CHECKOUT_SHA: &str = "de0fac2e4500dabe0009e67214ff5f5447ce83dd";
/// ship.yml's pinned `docker/setup-buildx-action`.
const SETUP_BUILDX_SHA: &str = "4d04d5d9486b7bd6fa91e7baf45bbb4f8b9deedd";
/// ship.yml's pinned `docker/build-push-action`.
const BUILD_PUSH_SHA: &str = "bcafcacb16a39f128d818304e6c9c0c18556b85f";
/// ship.yml's pinned `actions/create-github-app-token` (App auth, unused
/// here: the runs push with `GITOPS_TOKEN`).
const APP_TOKEN_SHA: &str = "bcd2ba49218906704ab6c1aa796996da409d3eb1";
/// The reusable workflow a caller's `uses: …/ship.yml@v1` runs: the
/// identity in its keyless certificates, whoever calls it.
pub const SHIP_JOB_WORKFLOW_REF: &str =
    "hoist-actions/hoist/.github/workflows/ship.yml@refs/tags/v1";

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

/// Whose pipeline it is: the service repository, the GitOps repository and
/// its files, the image repository, and the Argo CD apps that follow the
/// GitOps repository's main branch.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The service repository, `owner/name`: the OIDC token's and act's.
    pub service: String,
    /// The GitOps repository, `owner/name` (on the GitHub stand-in, and by
    /// git at `GITHUB_SERVER_URL`).
    pub gitops: String,
    /// The GitOps repository's files on main, made once the registry's
    /// address is known (the argument).
    pub gitops_files: fn(&str) -> Vec<(String, String)>,
    /// The image repository in the registry.
    pub image_repository: String,
    /// The Argo CD apps, each following main, with the path each watches
    /// (`None`: every new commit changes it, as for a Helm chart whose
    /// values files all live in one directory).
    pub apps: Vec<(String, Option<String>)>,
}

impl Setup {
    /// myshop: Helm values per environment in myshop/myshop-manifests.
    pub fn myshop() -> Self {
        Self {
            service: SERVICE.into(),
            gitops: format!("{}/{}", GITOPS.0, GITOPS.1),
            gitops_files: |_| {
                ["dev", "staging", "prod"]
                    .iter()
                    .zip([1, 2, 6])
                    .map(|(env, replicas)| {
                        (
                            format!("charts/myshop-api/values-{env}.yaml"),
                            values("1.4.1", replicas),
                        )
                    })
                    .collect()
            },
            image_repository: IMAGE_REPOSITORY.into(),
            apps: vec![(DEV_APP.into(), None), (PROD_APP.into(), None)],
        }
    }

    /// The role the service's workflows assume.
    pub fn role(&self) -> String {
        let name = self.service.rsplit('/').next().unwrap_or_default();
        format!("arn:aws:iam::123456789012:role/github-actions-{name}-ecr-push")
    }
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
    /// The GitOps repository by git over smart HTTP, at `owner/name.git`.
    pub git_http: GitHttpServer,
    /// The Argo CD stand-in, every app of the setup following main.
    pub argocd: ArgoCdStandIn,
    /// Whose pipeline this is.
    pub setup: Setup,
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
    /// Starts every peer for myshop, the GitOps repository at 1.4.1
    /// everywhere.
    pub fn start() -> Self {
        Self::start_for(Setup::myshop())
    }

    /// Starts every peer for `setup`. The role admits the service's main
    /// branch and its release tags, and nothing else (what `ship.yml`
    /// assumes the role on).
    pub fn start_for(setup: Setup) -> Self {
        let issuer = OidcIssuer::start();
        let moto = Moto::start();
        let sts = StsFront::start(&issuer, &moto);
        let mut policy = TrustPolicy::main_branch(&setup.service);
        policy
            .subjects
            .push(format!("repo:{}:ref:refs/tags/v*", setup.service));
        sts.trust(&setup.role(), policy);
        let registry = Registry::start(RegistryAuth::Htpasswd {
            username: "AWS".into(),
            password: REGISTRY_PASSWORD.into(),
        });
        let rekor = RekorStandIn::start();
        let fulcio = FulcioStandIn::start(&issuer);
        let files = (setup.gitops_files)(&registry.host());
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_str()))
            .collect();
        let remote = GitRemote::with_files(&files);
        let (owner, name) = setup.gitops.split_once('/').expect("owner/name");
        let github = GitHubStandIn::start(owner, name, remote, "ghs_unused");
        github.add_token(GITOPS_TOKEN, TokenKind::Pat);
        let git_http =
            GitHttpServer::start_as(&github.remote().path(), &setup.gitops, GITOPS_TOKEN);
        let argocd = ArgoCdStandIn::start(ARGOCD_TOKEN);
        for (app, path) in &setup.apps {
            // Argo CD notices a new commit at its next poll (counted in
            // requests here), and syncs an app only when its path changed.
            let follow = match path {
                Some(path) => Follow {
                    path: Some(path.clone()),
                    poll_every: Some(3),
                },
                None => Follow::every_request(),
            };
            argocd.follow_with(app, &github.remote().path(), "main", follow);
        }
        let pipeline = Self {
            issuer,
            moto,
            sts,
            registry,
            rekor,
            fulcio,
            github,
            git_http,
            argocd,
            setup,
        };
        pipeline.claims_for("refs/heads/main", "push");
        pipeline
    }

    /// Makes the OIDC token that of `ship.yml`'s jobs, called by the
    /// service's `ci.yaml` for `event` at `git_ref`: the certificate names
    /// hoist's reusable workflow, the source repository claims the caller.
    pub fn claims_for(&self, git_ref: &str, event: &str) {
        let service = &self.setup.service;
        self.issuer
            .call_reusable_workflow(service, SHIP_JOB_WORKFLOW_REF);
        self.issuer
            .set_claim("sub", &format!("repo:{service}:ref:{git_ref}"));
        self.issuer.set_claim("ref", git_ref);
        self.issuer.set_claim("event_name", event);
        self.issuer.set_claim(
            "workflow_ref",
            &format!("{service}/.github/workflows/ci.yaml@{git_ref}"),
        );
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
        let mut act = self.act(&self.setup.service, hoist_root, bin_dir);
        act.event("push", &serde_json::json!({ "ref": git_ref }).to_string());
        self.claims_for(git_ref, "push");
        act.file(".github/workflows/ci.yml", &self.caller());
        let result = self.run_workflow(&act, ".github/workflows/ci.yml", bin_dir);
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

    /// A repository for act holding hoist (the one-step action, the
    /// actions, the installer, the reusable workflows, served as
    /// `hoist-actions/hoist@main` too) and the service's files (its prebuilt
    /// image, the trusted root of the local Sigstore), with the service's
    /// secrets, `origin` as its `origin` (so `github.repository` is that:
    /// the service's, or the GitOps repository's for its own workflows),
    /// and stand-ins for the third-party actions `ship.yml` names.
    pub fn act(&self, origin: &str, hoist_root: &Path, bin_dir: &Path) -> Act {
        let mut act = Act::new();
        act.origin(origin);
        for path in [
            "action.yml",
            ".github/workflows/ship.yml",
            ".github/workflows/promote.yml",
            ".github/workflows/update-image.yml",
        ] {
            let text = std::fs::read_to_string(hoist_root.join(path)).expect("hoist file");
            act.file(path, &text);
        }
        act.copy_dir(&hoist_root.join("actions"), "actions");
        act.copy_dir(&hoist_root.join("dist"), "dist");
        self.service_files(&act, bin_dir);
        act.secret("AWS_ROLE_ARN", &self.setup.role())
            .secret("GITOPS_TOKEN", GITOPS_TOKEN)
            .secret("ARGOCD_TOKEN", ARGOCD_TOKEN);
        // The prebuilt-image path skips buildx; its actions must not run.
        act.serve_as("hoist-actions/hoist@main")
            .stand_in_checkout(CHECKOUT_SHA)
            .never_runs("docker/setup-buildx-action", SETUP_BUILDX_SHA)
            .never_runs("docker/build-push-action", BUILD_PUSH_SHA)
            .never_runs("actions/create-github-app-token", APP_TOKEN_SHA);
        act
    }

    /// Runs `workflow` of `act` with [`Pipeline::env`].
    pub fn run_workflow(&self, act: &Act, workflow: &str, bin_dir: &Path) -> ActResult {
        let env = self.env(bin_dir);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        act.run(workflow, &env)
    }

    /// The environment of every act run: the binaries, the peers, and
    /// `GITHUB_SERVER_URL`/`GITHUB_API_URL` at the GitOps repository's git
    /// server and the GitHub stand-in, as on GitHub Enterprise Server.
    pub fn env(&self, bin_dir: &Path) -> Vec<(String, String)> {
        [
            ("HOIST_BIN_DIR", bin_dir.display().to_string()),
            ("HOIST_BACKOFF_SCALE", "0".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("AWS_ENDPOINT_URL", self.moto.url()),
            ("ACTIONS_ID_TOKEN_REQUEST_URL", self.issuer.request_url()),
            (
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                self.issuer.request_token(),
            ),
            ("GITHUB_SERVER_URL", self.git_http.server_url()),
            ("GITHUB_API_URL", self.github.url()),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
    }

    /// The `with:` entries that point a `ship.yml` call at the local peers
    /// instead of AWS, the public Sigstore and a buildx build.
    pub fn ship_peer_inputs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("prebuilt-image", "image".into()),
            ("registry", self.registry.host()),
            ("insecure-registry", "true".into()),
            ("create-repository", "true".into()),
            ("sts-endpoint", self.sts.url()),
            ("rekor-url", self.rekor.url()),
            ("fulcio-url", self.fulcio.url()),
            ("trusted-root", "sigstore/trusted_root.json".into()),
        ]
    }

    /// The service's workflow: ship on a push (dev, or prod on a tag), then
    /// the staging promotion, then a report of what came out.
    fn caller(&self) -> String {
        CALLER
            .replace("@GITOPS_URL@", &self.gitops().url())
            .replace("@REGISTRY@", &self.registry.host())
            .replace("@STS@", &self.sts.url())
            .replace("@REKOR@", &self.rekor.url())
            .replace("@FULCIO@", &self.fulcio.url())
            .replace("@ARGOCD@", &self.argocd.url())
            .replace("@GITHUB_API@", &self.github.url())
    }

    /// The service repository's files: its prebuilt image, the trusted
    /// root of the local Sigstore.
    fn service_files(&self, act: &Act, bin_dir: &Path) {
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

    /// The tags of the setup's image repository, read from the registry's
    /// storage.
    pub fn registry_tags(&self) -> Vec<String> {
        self.tags_of(&self.setup.image_repository)
    }

    /// The tags of the image repository `repository`, read from the
    /// registry's storage.
    pub fn tags_of(&self, repository: &str) -> Vec<String> {
        let dir: PathBuf = self.registry.storage().join(format!(
            "docker/registry/v2/repositories/{repository}/_manifests/tags"
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
