//! bump-manifest's inputs and outputs.

use hoist_runner::{ActionSpec, InputKind, InputSpec, OutputSpec};

/// The action's declaration; `actions/bump-manifest/action.yml` mirrors it.
pub static SPEC: ActionSpec = ActionSpec {
    name: "bump-manifest",
    about: "Writes a new image tag or digest into the GitOps repository: byte-exact edits, no lost updates under concurrency.",
    inputs: &[
        InputSpec::new(
            "repository",
            "The GitOps repository: owner/name on GitHub, or a git URL (https://..., file://...)",
        )
        .required(),
        InputSpec::new("branch", "The branch to commit to").default("main"),
        InputSpec::new("token", "A token that can push to the GitOps repository (contents: write)")
            .kind(InputKind::Secret),
        InputSpec::new(
            "backend",
            "How to write: `git` (any git server) or `github-api` (no clone; commits GitHub verifies)",
        )
        .default("git"),
        InputSpec::new(
            "edits",
            "Edits, one per line: FILE:KEY.PATH=VALUE, such as apps/pay/overlays/dev/kustomization.yaml:images[name=payments-api].newTag=abc1234",
        ),
        InputSpec::new("app", "The application, for the layout conventions (with `env`)"),
        InputSpec::new("env", "The environment, for the layout conventions (with `app`)"),
        InputSpec::new("tag", "The new image tag, for the layout conventions"),
        InputSpec::new("digest", "The new image digest (sha256:...), for the layout conventions"),
        InputSpec::new(
            "image-repository",
            "The image's registry/repository, written as Helm's image.repository or Kustomize's newName",
        ),
        InputSpec::new(
            "image-name",
            "The `name` of the kustomization's images: entry [default: app]",
        ),
        InputSpec::new(
            "layout",
            "Where app and env live: helm (charts/{app}/values-{env}.yaml), kustomize (apps/{app}/overlays/{env}/kustomization.yaml), kustomize-services (services/{app}/overlays/{env}/kustomization.yaml), or a pattern with {app} and {env} [default: the one that exists]",
        ),
        InputSpec::new(
            "policy",
            "`semver`: never replace a newer version with an older one; `always`: write whatever is given; `auto`: semver when both versions parse",
        )
        .default("auto"),
        InputSpec::new(
            "github-token",
            "A token that can read the source repository (contents: read): `policy: auto` asks its compare API whether a newer build already wrote a non-semver tag",
        )
        .kind(InputKind::Secret),
        InputSpec::new(
            "create-missing",
            "Create keys, list entries and files that do not exist yet, instead of failing",
        )
        .kind(InputKind::Bool),
        InputSpec::new(
            "max-attempts",
            "Attempts for errors that may pass, such as a network or server error (1 to 50); a race lost to another writer is retried as long as others keep landing",
        )
        .default("10"),
        InputSpec::new(
            "commit-message",
            "The commit message; {app}, {env}, {old}, {new}, {digest}, {repository}, {files}, {run_url}, {actor} and {sha} are replaced [default: chore({env}): update {app} to {new}]",
        ),
        InputSpec::new(
            "author",
            "The commit author, Name <email> [default: github-actions[bot]; with backend github-api, GitHub signs the commit]",
        ),
        InputSpec::new("signoff", "Add a Signed-off-by trailer for the author").kind(InputKind::Bool),
        InputSpec::new("dry-run", "Print the diff and push nothing").kind(InputKind::Bool),
    ],
    outputs: &[
        OutputSpec {
            name: "commit-sha",
            description: "The commit that holds the new values: the new commit, or on a no-op the branch's tip",
        },
        OutputSpec {
            name: "changed",
            description: "`true` when a commit was pushed (or, with dry-run, would be)",
        },
        OutputSpec {
            name: "files",
            description: "The files changed, one per line",
        },
        OutputSpec {
            name: "previous",
            description: "The values replaced, one per line: FILE:KEY=OLD",
        },
        OutputSpec {
            name: "superseded",
            description: "`true` when the branch already held a newer version, so nothing was written",
        },
    ],
    switches: &[],
    dry_run: true,
};
