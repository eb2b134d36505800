//! ecr-push's inputs and outputs.

use hoist_runner::{ActionSpec, InputKind, InputSpec, OutputSpec};

/// The action's declaration; `actions/ecr-push/action.yml` mirrors it.
pub static SPEC: ActionSpec = ActionSpec {
    name: "ecr-push",
    about: "Pushes an OCI image layout, OCI archive or docker save tar to a registry, without a Docker daemon.",
    inputs: &[
        InputSpec::new(
            "source",
            "The image: an OCI layout directory, an OCI archive tar, or a docker save tar",
        )
        .required(),
        InputSpec::new(
            "registry",
            "The registry, host[:port] [default: the ECR registry of the AWS credentials' account]",
        ),
        InputSpec::new(
            "aws-region",
            "AWS region of the ECR registry [default: AWS_REGION, or the region in an ECR registry host]",
        ),
        InputSpec::new("repository", "The repository, such as myshop/myshop-api").required(),
        InputSpec::new(
            "tags",
            "Tags, one per line: literal tags or rules (type=sha, type=semver,pattern=..., type=ref,event=branch, type=raw,value=...) [default: X.Y.Z on a vX.Y.Z tag, else <branch>-<short sha>]",
        ),
        InputSpec::new(
            "platforms",
            "Push only these platforms of a multi-platform index (os/arch[/variant], comma or newline separated)",
        ),
        InputSpec::new(
            "registry-username",
            "User name for the registry (otherwise the Docker config's auths)",
        ),
        InputSpec::new("registry-password", "Password or token for the registry")
            .kind(InputKind::Secret),
        InputSpec::new(
            "insecure-registry",
            "Use plain HTTP; allowed for loopback registries only",
        )
        .kind(InputKind::Bool),
        InputSpec::new(
            "immutable-guard",
            "Fail instead of moving a tag that points at another digest",
        )
        .kind(InputKind::Bool)
        .default("true"),
        InputSpec::new("concurrency", "Blobs uploaded at once (1 to 16)").default("4"),
        InputSpec::new(
            "mount-from",
            "Repositories on the same registry to mount existing blobs from (comma or newline separated)",
        ),
        InputSpec::new(
            "retry-max-attempts",
            "Attempts per blob or request for errors that can pass (1 to 20)",
        )
        .default("5"),
        InputSpec::new("timeout", "Give up after this long: 10m, 1h").default("30m"),
        InputSpec::new(
            "create-repository",
            "Create the ECR repository when it is missing: tags immutable except sha256-*, scan on push",
        )
        .kind(InputKind::Bool),
        InputSpec::new(
            "lifecycle-policy",
            "A JSON lifecycle policy file to set on a repository this action creates",
        ),
        InputSpec::new(
            "docker-login",
            "Also write the registry's credentials into the Docker config for later docker, buildx and helm steps",
        )
        .kind(InputKind::Bool),
        InputSpec::new(
            "ca-bundle",
            "A PEM file of extra CA certificates to trust for the registry and AWS",
        ),
    ],
    outputs: &[
        OutputSpec {
            name: "digest",
            description: "The digest of the pushed manifest or index",
        },
        OutputSpec {
            name: "image",
            description: "registry/repository@digest",
        },
        OutputSpec {
            name: "tags",
            description: "The tags, one per line",
        },
        OutputSpec {
            name: "tag",
            description: "The first tag: the one to write into the GitOps repository",
        },
        OutputSpec {
            name: "registry",
            description: "The registry host",
        },
        OutputSpec {
            name: "pushed-bytes",
            description: "Bytes uploaded (0 when every blob was already there)",
        },
        OutputSpec {
            name: "reused-blobs",
            description: "Blobs that were already in the repository or were mounted",
        },
        OutputSpec {
            name: "docker-username",
            description: "The registry user name (with docker-login)",
        },
        OutputSpec {
            name: "docker-password",
            description: "The registry password, masked (with docker-login)",
        },
    ],
    switches: &[],
    dry_run: false,
};
