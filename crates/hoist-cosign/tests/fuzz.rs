//! Property tests over untrusted input: PEM text, certificates (DER and PEM), Rekor entries in
//! their three spellings (v1 answer, cosign annotation, bundle `tlogEntries`), inclusion proofs
//! and trusted roots end in a value or an error — never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hoist_cosign::certificate::Certificate;
use hoist_cosign::pem;
use hoist_cosign::rekor::{InclusionProof, LogEntry, hex, unhex};
use hoist_cosign::trust::{TrustedRoot, parse_rfc3339};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

/// The trusted root shipped in the crate: a fixture for the trusted-root parser.
const TRUSTED_ROOT: &str = include_str!("../src/public_good_trusted_root.json");

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|cases| cases.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..Config::default()
    }
}

/// One edit of a byte string.
#[derive(Clone, Debug)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutations(alphabet: &'static [u8]) -> impl Strategy<Value = Vec<Mutation>> {
    let byte = prop_oneof![prop::sample::select(alphabet), any::<u8>()];
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), byte.clone()).prop_map(|(at, b)| Mutation::Set(at, b)),
            (any::<usize>(), byte).prop_map(|(at, b)| Mutation::Insert(at, b)),
            (any::<usize>(), 1usize..32).prop_map(|(at, n)| Mutation::Delete(at, n)),
            any::<usize>().prop_map(Mutation::Truncate),
        ],
        0..6,
    )
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len();
        match *mutation {
            Mutation::Set(at, b) if len > 0 => bytes[at % len] = b,
            Mutation::Insert(at, b) => bytes.insert(at % (len + 1), b),
            Mutation::Delete(at, n) if len > 0 => {
                let at = at % len;
                bytes.drain(at..(at + n).min(len));
            }
            Mutation::Truncate(at) => bytes.truncate(at % (len + 1)),
            _ => {}
        }
    }
    bytes
}

/// A self-signed certificate with SANs, made once: the DER seed.
fn certificate_der() -> Vec<u8> {
    static DER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    DER.get_or_init(|| {
        let certified = rcgen::generate_simple_self_signed(vec![
            "https://github.com/o/r/.github/workflows/ship.yml@refs/heads/main".into(),
            "signer@example.com".into(),
        ])
        .unwrap();
        certified.cert.der().to_vec()
    })
    .clone()
}

/// Every accessor of a certificate that parsed.
fn exercise(certificate: &Certificate) {
    let _ = (certificate.name(), certificate.issuer_name());
    let _ = (certificate.not_before(), certificate.not_after());
    let _ = (
        certificate.public_key_spki(),
        certificate.san_uris(),
        certificate.san_emails(),
    );
    let _ = (certificate.oidc_issuer(), certificate.fulcio_extension(8));
    let _ = (certificate.is_code_signing(), certificate.is_ca());
    let _ = certificate.verifying_key();
    let _ = certificate.is_issued_by(certificate);
    let again = Certificate::from_pem(&certificate.to_pem()).expect("its own PEM parses");
    assert_eq!(again.der(), certificate.der());
}

/// A Rekor v1 answer with an inclusion proof (the values need not verify).
fn v1_answer() -> Value {
    json!({"24296fb24b8ad77a": {
        "body": "eyJhcGlWZXJzaW9uIjoiMC4wLjEifQ==",
        "integratedTime": 1_700_000_000,
        "logID": "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d",
        "logIndex": 42,
        "verification": {
            "signedEntryTimestamp": "MEUCIQ==",
            "inclusionProof": {
                "logIndex": 41, "treeSize": 100,
                "rootHash": "00".repeat(32),
                "hashes": ["11".repeat(32), "22".repeat(32), "33".repeat(32)],
                "checkpoint": "rekor.sigstore.dev - 1\n100\nAAAA\n\n— rekor.sigstore.dev abc=\n"
            }
        }
    }})
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop_oneof![any::<i64>(), -2i64..200].prop_map(Value::from),
        prop_oneof![
            "[0-9a-f]{0,66}",
            "[A-Za-z0-9+/=]{0,24}",
            "-?[0-9]{1,20}",
            any::<String>()
        ]
        .prop_map(Value::from),
        prop::collection::vec("[0-9a-f]{64}", 0..5).prop_map(|h| json!(h)),
    ]
}

/// `base` with leaves at some of its paths replaced.
fn replaced(base: Value) -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            prop::collection::vec(any::<prop::sample::Index>(), 0..5),
            json_leaf(),
        ),
        0..4,
    )
    .prop_map(move |replacements| {
        let mut value = base.clone();
        for (path, leaf) in replacements {
            let mut pointer = String::new();
            let mut at = &value;
            for step in path {
                match at {
                    Value::Object(map) if !map.is_empty() => {
                        let key = step.get(&map.keys().collect::<Vec<_>>()).as_str();
                        pointer.push('/');
                        pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                        at = &map[key];
                    }
                    Value::Array(list) if !list.is_empty() => {
                        let i = step.index(list.len());
                        pointer.push_str(&format!("/{i}"));
                        at = &list[i];
                    }
                    _ => break,
                }
            }
            if let Some(at) = value.pointer_mut(&pointer) {
                *at = leaf;
            }
        }
        value
    })
}

fn exercise_entry(entry: &LogEntry, body: &[u8]) -> Result<(), TestCaseError> {
    let _ = entry.body_json();
    let _ = entry
        .inclusion_proof
        .as_ref()
        .map(|proof| proof.proves(body));
    let annotation = entry.to_cosign_annotation();
    let _ = LogEntry::from_cosign_annotation(&annotation);
    let bundle_entry = entry.to_bundle_entry("hashedrekord", "0.0.1");
    if let Some(again) = LogEntry::from_bundle_entry(&bundle_entry) {
        let _ = again
            .inclusion_proof
            .as_ref()
            .map(|proof| proof.proves(body));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// PEM: any text decodes or errs; what `encode` writes decodes back to the same block.
    #[test]
    fn pem_decodes_or_errs_and_round_trips(
        text in prop_oneof![
            mutations(b"-BEGIN END\n=+/AZaz09").prop_map(|m| {
                let seed = pem::encode("CERTIFICATE", &certificate_der());
                String::from_utf8_lossy(&mutate(seed.into_bytes(), &m)).into_owned()
            }),
            any::<String>(),
        ],
        label in "[A-Z][A-Z ]{0,20}[A-Z]",
        der in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let _ = pem::decode(&text);
        let blocks = pem::decode(&pem::encode(&label, &der))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(blocks.len(), 1);
        prop_assert_eq!(&blocks[0].label, &label);
        prop_assert_eq!(&blocks[0].der, &der);
    }

    /// Certificates: any DER (a real one damaged, or noise) and any PEM parse or err; one that
    /// parses answers every accessor and survives its own PEM.
    #[test]
    fn certificates_parse_or_err(
        der in prop_oneof![
            3 => mutations(&[0x30, 0x31, 0x02, 0x03, 0x04, 0x05, 0x06, 0x80, 0x81, 0x82, 0xa0, 0xa3, 0xff, 0x00])
                .prop_map(|m| mutate(certificate_der(), &m)),
            1 => prop::collection::vec(any::<u8>(), 0..512),
        ],
        text in any::<String>(),
    ) {
        if let Ok(certificate) = Certificate::from_der(der.clone()) {
            exercise(&certificate);
        }
        let pem_text = pem::encode("CERTIFICATE", &der);
        for parsed in [Certificate::from_pem(&pem_text), Certificate::from_pem(&text)].into_iter().flatten() {
            exercise(&parsed);
        }
        for chain in [Certificate::chain_from_pem(&format!("{pem_text}{pem_text}")), Certificate::chain_from_pem(&text)]
            .into_iter()
            .flatten()
        {
            chain.iter().for_each(exercise);
        }
    }

    /// Rekor entries from a v1 answer or a bundle: parse or err, and what parsed can be
    /// written in the other spellings and checked against any body.
    #[test]
    fn rekor_entries_parse_or_err(
        answer in prop_oneof![replaced(v1_answer()), json_leaf()],
        annotation in any::<String>(),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        if let Ok(entry) = LogEntry::from_v1_answer(&answer) {
            exercise_entry(&entry, &body)?;
            let bundle_entry = entry.to_bundle_entry("hashedrekord", "0.0.1");
            if let Some(bundled) = LogEntry::from_bundle_entry(&bundle_entry) {
                exercise_entry(&bundled, &body)?;
            }
        }
        if let Some(entry) = LogEntry::from_cosign_annotation(&annotation) {
            exercise_entry(&entry, &body)?;
        }
    }

    /// Inclusion proofs with any index, tree size and audit path: proven or not, no panic.
    #[test]
    fn inclusion_proofs_check_or_fail(
        log_index in prop_oneof![0u64..16, any::<u64>()],
        tree_size in prop_oneof![0u64..16, any::<u64>()],
        hashes in prop::collection::vec(prop_oneof!["[0-9a-f]{64}", "[0-9a-f]{0,70}"], 0..70),
        root_hash in prop_oneof!["[0-9a-f]{64}", any::<String>()],
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let proof = InclusionProof { log_index, root_hash, tree_size, hashes, checkpoint: String::new() };
        let _ = proof.proves(&body);
    }

    /// A bundle's `tlogEntries` element with fields replaced.
    #[test]
    fn bundle_entries_parse_or_err(
        entry in replaced(LogEntry::from_v1_answer(&v1_answer()).unwrap().to_bundle_entry("hashedrekord", "0.0.1")),
        body in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        if let Some(entry) = LogEntry::from_bundle_entry(&entry) {
            exercise_entry(&entry, &body)?;
        }
    }

    /// Hex round-trips; any text unhexes or not; any RFC 3339-ish text parses or not.
    #[test]
    fn hex_and_times(bytes in prop::collection::vec(any::<u8>(), 0..64), text in any::<String>(),
        time in prop_oneof!["[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})", any::<String>()]) {
        prop_assert_eq!(unhex(&hex(&bytes)), Some(bytes));
        let _ = unhex(&text);
        let _ = parse_rfc3339(&time);
    }

    /// The shipped trusted root, damaged: parses or errs.
    #[test]
    fn trusted_roots_parse_or_err(m in mutations(b"{}[]\":,0123456789abcdefABCDEF=+/-TZ")) {
        let bytes = mutate(TRUSTED_ROOT.as_bytes().to_vec(), &m);
        if let Ok(root) = TrustedRoot::from_json(&bytes) {
            let _ = root.authorities_at(1_700_000_000).count();
            let _ = root.tlog_key(&[0; 32], 1_700_000_000);
        }
    }
}

#[test]
fn the_seeds_parse() {
    exercise(&Certificate::from_der(certificate_der()).unwrap());
    let entry = LogEntry::from_v1_answer(&v1_answer()).unwrap();
    assert!(LogEntry::from_bundle_entry(&entry.to_bundle_entry("hashedrekord", "0.0.1")).is_some());
    TrustedRoot::from_json(TRUSTED_ROOT.as_bytes()).unwrap();
}
