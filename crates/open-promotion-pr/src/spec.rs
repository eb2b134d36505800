//! open-promotion-pr's inputs and outputs.

use hoist_runner::{ActionSpec, InputKind, InputSpec, OutputSpec};

/// The action's declaration; `actions/open-promotion-pr/action.yml` mirrors it.
pub static SPEC: ActionSpec = ActionSpec {
    name: "open-promotion-pr",
    about: "Promotes an image from one environment to the next by pull request: idempotent, gated, informative.",
    inputs: &[
        InputSpec::new("repository", "The GitOps repository on GitHub, owner/name").required(),
        InputSpec::new("token", "A token that can push branches and open pull requests (contents: write, pull-requests: write)")
            .kind(InputKind::Secret),
        InputSpec::new("github-api-url", "GitHub's API, for GitHub Enterprise Server [default: GITHUB_API_URL]"),
        InputSpec::new("app-id", "A GitHub App's ID: open the PR with its installation token, so the PR's checks run"),
        InputSpec::new("app-private-key", "The GitHub App's private key (PEM)").kind(InputKind::Secret),
        InputSpec::new("from-env", "The environment to promote from, such as dev").required(),
        InputSpec::new("to-env", "The environment to promote to, such as staging").required(),
        InputSpec::new("apps", "The apps to promote (comma or newline separated), or `all` for every app whose environments differ")
            .required(),
        InputSpec::new("grouping", "`single`: one pull request for all apps; `per-app`: one per app").default("single"),
        InputSpec::new("base", "The branch the pull request targets").default("main"),
        InputSpec::new(
            "layout",
            "Where app and env live: helm, kustomize, kustomize-services, or a pattern with {app} and {env} [default: the one that exists]",
        ),
        InputSpec::new("image-name", "The `name` of the kustomization's images: entry [default: the app]"),
        InputSpec::new("branch", "The branch name; {group} (the app, or `apps`) and {to_env} are replaced")
            .default("promote/{group}-{to_env}"),
        InputSpec::new("title", "The title; {apps}, {from_env} and {to_env} are replaced").default("Promote {apps} to {to_env}"),
        InputSpec::new("body", "Text above the promotion table and checklist [default: none]"),
        InputSpec::new("labels", "Labels to add (comma or newline separated); never removed").default("promotion, {to_env}"),
        InputSpec::new("assignees", "Users to assign (comma or newline separated)"),
        InputSpec::new("reviewers", "Users to request reviews from (comma or newline separated)"),
        InputSpec::new("team-reviewers", "Teams to request reviews from (needs a PAT or App token with organization access)"),
        InputSpec::new("milestone", "The milestone number"),
        InputSpec::new("draft", "Open the pull request as a draft").kind(InputKind::Bool),
        InputSpec::new("auto-merge", "Enable auto-merge, so the PR merges once reviews and checks pass").kind(InputKind::Bool),
        InputSpec::new("merge-method", "The auto-merge method: merge, squash or rebase").default("squash"),
        InputSpec::new(
            "require-image",
            "Before opening anything, check that each promoted image exists in its registry (a HEAD on its manifest)",
        )
        .kind(InputKind::Bool),
        InputSpec::new(
            "require-signature",
            "Before opening anything, check that each promoted image has a cosign signature (either format) that verifies with `signature-key`, or keyless with `signature-certificate-identity`",
        )
        .kind(InputKind::Bool),
        InputSpec::new("signature-key", "The public key for require-signature: a path, env://VARIABLE, or the PEM itself"),
        InputSpec::new(
            "signature-rekor-public-key",
            "Rekor's public key for require-signature: a signature then counts only with a log entry that verifies offline",
        ),
        InputSpec::new(
            "signature-certificate-identity",
            "For keyless signatures, instead of signature-key: the signing workflow's identity, e.g. https://github.com/ORG/REPO/.github/workflows/ci.yaml@refs/heads/main",
        ),
        InputSpec::new(
            "signature-certificate-identity-regexp",
            "A regular expression the whole keyless identity must match, instead of signature-certificate-identity",
        ),
        InputSpec::new(
            "signature-certificate-oidc-issuer",
            "The OIDC issuer keyless signing certificates must name",
        )
        .default("https://token.actions.githubusercontent.com"),
        InputSpec::new(
            "signature-certificate-github-workflow-repository",
            "Keyless: the repository whose run signed, owner/name or https://github.com/owner/name (Fulcio's source repository); with a reusable workflow, the calling repository",
        ),
        InputSpec::new(
            "signature-certificate-github-workflow-ref",
            "Keyless: the ref the signing run was for, e.g. refs/heads/main (Fulcio's source repository ref)",
        ),
        InputSpec::new(
            "signature-certificate-github-workflow-trigger",
            "Keyless: the event that started the signing run, e.g. push (Fulcio's build trigger)",
        ),
        InputSpec::new(
            "signature-certificate-build-config-uri",
            "Keyless: the signing run's top-level workflow, e.g. https://github.com/ORG/REPO/.github/workflows/ci.yaml@refs/heads/main (Fulcio's build config URI); with a reusable workflow, the caller's",
        ),
        InputSpec::new(
            "signature-trusted-root",
            "A Sigstore trusted_root.json for keyless signatures from a private Sigstore [default: the public-good instance's]",
        ),
        InputSpec::new("registry-username", "User name for require-image's registry (otherwise ECR through the job's AWS credentials, or the Docker config's auths)"),
        InputSpec::new("registry-password", "Password or token for require-image's registry").kind(InputKind::Secret),
        InputSpec::new("insecure-registry", "Use plain HTTP for require-image; loopback registries only").kind(InputKind::Bool),
        InputSpec::new("close-stale", "Close the promotion PR when the environments are already equal").kind(InputKind::Bool),
        InputSpec::new("commit-message", "The commit message; {apps}, {from_env} and {to_env} are replaced")
            .default("chore({to_env}): promote {apps} from {from_env}"),
    ],
    outputs: &[
        OutputSpec { name: "pull-request-number", description: "The pull request's number (one per line with per-app grouping)" },
        OutputSpec { name: "pull-request-url", description: "The pull request's URL (one per line with per-app grouping)" },
        OutputSpec {
            name: "pull-request-operation",
            description: "created, updated, unchanged, closed or none (one per line with per-app grouping)",
        },
        OutputSpec { name: "branch", description: "The promotion branch (one per line with per-app grouping)" },
        OutputSpec { name: "head-sha", description: "The branch's head commit (one per line with per-app grouping)" },
        OutputSpec { name: "promoted", description: "JSON: app → {from, to, digest}" },
    ],
    switches: &[],
    dry_run: false,
};
