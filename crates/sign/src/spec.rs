//! sign's inputs and outputs.

use hoist_runner::{ActionSpec, InputKind, InputSpec, OutputSpec};

/// The action's declaration; `actions/sign/action.yml` mirrors it.
pub static SPEC: ActionSpec = ActionSpec {
    name: "sign",
    about: "Signs and attests an image the way cosign does, keyless (GitHub OIDC, Fulcio, Rekor) or with a key, as a legacy .sig/.att tag and/or Sigstore bundle referrers; or verifies such signatures.",
    inputs: &[
        InputSpec::new(
            "image",
            "The image: registry/repository@sha256:... (ecr-push's `image` output); a tag is resolved to its digest",
        )
        .required(),
        InputSpec::new("mode", "`sign`, or `verify` the image's signatures (and attestations)").default("sign"),
        InputSpec::new(
            "key",
            "The key: a file path, env://VARIABLE, or the PEM itself. Sign: a cosign private key (encrypted or PKCS#8); verify: the public key. Without it, signing is keyless (needs `permissions: id-token: write`) and verify checks `certificate-identity`",
        )
        .kind(InputKind::Secret),
        InputSpec::new(
            "key-password",
            "The password of an encrypted cosign key [default: COSIGN_PASSWORD]",
        )
        .kind(InputKind::Secret),
        InputSpec::new(
            "require-digest",
            "Refuse an image given by tag instead of digest",
        )
        .kind(InputKind::Bool),
        InputSpec::new(
            "format",
            "`legacy` (the sha256-<hex>.sig tag cosign v2, podman and older Kyverno read), `bundle` (Sigstore bundle v0.3 referrer, cosign v3's default) or `both`. Verify: the formats looked at",
        )
        .default("both"),
        InputSpec::new(
            "annotations",
            "key=value lines signed into the payload [sign default: git-sha and pipeline-url of this run]; verify: lines the signature must carry",
        ),
        InputSpec::new(
            "tlog-upload",
            "Log each signature in the Rekor transparency log (false for air-gapped use)",
        )
        .kind(InputKind::Bool)
        .default("true"),
        InputSpec::new("rekor-url", "The Rekor instance").default("https://rekor.sigstore.dev"),
        InputSpec::new("fulcio-url", "The Fulcio instance that certifies keyless signing keys")
            .default("https://fulcio.sigstore.dev"),
        InputSpec::new(
            "trusted-root",
            "A Sigstore trusted_root.json (Fulcio CAs, CT logs, Rekor keys) for a private Sigstore [default: the public-good instance's, built in]",
        ),
        InputSpec::new(
            "certificate-identity",
            "verify, keyless: the signer's identity, e.g. https://github.com/ORG/REPO/.github/workflows/ci.yaml@refs/heads/main (for a reusable workflow: the called workflow)",
        ),
        InputSpec::new(
            "certificate-identity-regexp",
            "verify, keyless: a regular expression the whole identity must match, instead of certificate-identity",
        ),
        InputSpec::new(
            "certificate-oidc-issuer",
            "verify, keyless: the OIDC issuer the certificate must name",
        )
        .default("https://token.actions.githubusercontent.com"),
        InputSpec::new(
            "certificate-github-workflow-repository",
            "verify, keyless: the repository whose run signed, owner/name or https://github.com/owner/name (Fulcio's source repository, .12 or the older .5); with a reusable workflow, the calling repository",
        ),
        InputSpec::new(
            "certificate-github-workflow-ref",
            "verify, keyless: the ref the signing run was for, e.g. refs/heads/main (Fulcio's source repository ref, .14 or the older .6)",
        ),
        InputSpec::new(
            "certificate-github-workflow-trigger",
            "verify, keyless: the event that started the signing run, e.g. push (Fulcio's build trigger, .20 or the older .2)",
        ),
        InputSpec::new(
            "certificate-build-config-uri",
            "verify, keyless: the top-level workflow of the signing run, e.g. https://github.com/ORG/REPO/.github/workflows/ci.yaml@refs/heads/main (Fulcio's build config URI, .18); with a reusable workflow, the caller's",
        ),
        InputSpec::new(
            "sbom",
            "sign: an SBOM file (SPDX JSON or CycloneDX JSON) to attest",
        ),
        InputSpec::new(
            "sbom-format",
            "`spdxjson` or `cyclonedx`. Sign: the SBOM's format [default: detected]; verify: require a verified SBOM attestation of this format",
        ),
        InputSpec::new(
            "provenance",
            "Sign: attest SLSA provenance v1 built from the GitHub run; verify: require a verified provenance attestation",
        )
        .kind(InputKind::Bool),
        InputSpec::new(
            "rekor-public-key",
            "Rekor's public key (path, env:// or PEM): log entries are then checked offline, and verify requires one",
        ),
        InputSpec::new(
            "rekor-timeout",
            "How long to keep retrying Rekor through an outage: 10m, 1h",
        )
        .default("10m"),
        InputSpec::new(
            "aws-region",
            "AWS region of an ECR registry [default: AWS_REGION, or the region in the registry host]",
        ),
        InputSpec::new(
            "registry-username",
            "User name for the registry (otherwise ECR through the AWS credentials, or the Docker config's auths)",
        ),
        InputSpec::new("registry-password", "Password or token for the registry")
            .kind(InputKind::Secret),
        InputSpec::new(
            "insecure-registry",
            "Use plain HTTP; allowed for loopback registries only",
        )
        .kind(InputKind::Bool),
        InputSpec::new(
            "ca-bundle",
            "A PEM file of extra CA certificates to trust for the registry, Rekor and AWS",
        ),
    ],
    outputs: &[
        OutputSpec {
            name: "digest",
            description: "The digest signed or verified",
        },
        OutputSpec {
            name: "signature-ref",
            description: "The legacy signature: registry/repository:sha256-<hex>.sig",
        },
        OutputSpec {
            name: "bundle-ref",
            description: "The bundle referrer: registry/repository@sha256:...",
        },
        OutputSpec {
            name: "rekor-log-index",
            description: "The log index of the (first) Rekor entry made",
        },
        OutputSpec {
            name: "certificate-identity",
            description: "Keyless: the signing certificate's identity (its SAN), for `cosign verify --certificate-identity`",
        },
        OutputSpec {
            name: "attestation-refs",
            description: "The attestations made, one per line: predicate type, then where",
        },
        OutputSpec {
            name: "verified",
            description: "verify: true when a signature verified",
        },
        OutputSpec {
            name: "verified-formats",
            description: "verify: the formats with a verified signature (legacy, bundle)",
        },
    ],
    switches: &[],
    dry_run: false,
};
