//! wait-for-sync's inputs and outputs.

use hoist_runner::{ActionSpec, InputKind, InputSpec, OutputSpec};

/// The action's declaration; `actions/wait-for-sync/action.yml` mirrors it.
pub static SPEC: ActionSpec = ActionSpec {
    name: "wait-for-sync",
    about: "Waits until Argo CD (or Flux, through commit statuses) runs exactly the GitOps commit, healthy.",
    inputs: &[
        InputSpec::new(
            "backend",
            "`argocd` (the Argo CD API) or `commit-status` (statuses Flux or Argo CD notifications post on the GitOps commit)",
        )
        .default("argocd"),
        InputSpec::new("argocd-server", "Argo CD's URL, such as https://argocd.example.com"),
        InputSpec::new("argocd-token", "An Argo CD account or project role token").kind(InputKind::Secret),
        InputSpec::new(
            "argocd-oidc",
            "Instead of argocd-token, exchange the job's GitHub OIDC token for an Argo CD token through Argo CD's Dex (needs `id-token: write`)",
        )
        .kind(InputKind::Bool),
        InputSpec::new("argocd-oidc-connector", "The Dex connector that trusts GitHub's OIDC issuer")
            .default("github-actions"),
        InputSpec::new(
            "application",
            "The Argo CD application(s) to wait for (comma or newline separated)",
        ),
        InputSpec::new("app-namespace", "The applications' namespace, for apps outside Argo CD's own"),
        InputSpec::new("project", "The applications' project (a project token then gets 404, not 403, for others)"),
        InputSpec::new(
            "revision",
            "The GitOps commit to wait for [default: HOIST_GITOPS_COMMIT from an earlier bump-manifest step]",
        ),
        InputSpec::new("timeout", "Give up after this long: 90s, 10m, 1h").default("10m"),
        InputSpec::new(
            "suspended",
            "When the app is Suspended (a paused canary): `wait`, `succeed` or `fail`",
        )
        .default("wait"),
        InputSpec::new(
            "superseded",
            "When a newer commit that contains this one is deployed instead: `succeed` or `fail`",
        )
        .default("succeed"),
        InputSpec::new(
            "sync",
            "Ask Argo CD to sync the revision when the app has no automated sync (the manual prod flow)",
        )
        .kind(InputKind::Bool),
        InputSpec::new(
            "refresh",
            "Ask Argo CD to compare against git at the start: `normal`, `hard` or `none`",
        )
        .default("normal"),
        InputSpec::new("poll-interval", "How often to poll when the event stream is not available").default("2s"),
        InputSpec::new(
            "github-token",
            "A token that can read the GitOps repository: its commit statuses and compare API on GitHub, or sent to git for any other server (optional there)",
        )
        .kind(InputKind::Secret),
        InputSpec::new(
            "repository",
            "The GitOps repository, owner/name or a git URL (https://..., file://...): for commit-status, and for telling superseded from not yet synced [default: HOIST_GITOPS_REPOSITORY from an earlier bump-manifest step]",
        ),
        InputSpec::new("branch", "The GitOps branch, for commit-status's superseded check").default("main"),
        InputSpec::new(
            "context",
            "The commit-status contexts that count (`*` matches any suffix)",
        )
        .default("kustomization/*"),
        InputSpec::new("ca-bundle", "A PEM file of extra CA certificates to trust for Argo CD"),
    ],
    outputs: &[
        OutputSpec {
            name: "status",
            description: "healthy, superseded, suspended, degraded, failed or timeout",
        },
        OutputSpec {
            name: "revision",
            description: "The revision waited for",
        },
        OutputSpec {
            name: "duration-seconds",
            description: "Seconds from the start of the wait to the verdict",
        },
        OutputSpec {
            name: "applications",
            description: "JSON, per application: sync status, health, operation phase, revision, images",
        },
    ],
    switches: &[],
    dry_run: false,
};
