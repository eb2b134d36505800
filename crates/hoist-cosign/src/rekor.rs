//! Rekor, Sigstore's transparency log: uploading `hashedrekord` and `dsse`
//! entries through its v1 API, and checking what it returns offline — the
//! signed entry timestamp (SET), the RFC 6962 inclusion proof and the
//! signed checkpoint.

use std::sync::Arc;

use hoist_http::{Clock, HttpClient, HttpError, RetryPolicy};
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use crate::key::PublicKey;
use crate::payload::{b64, unb64};

/// The public-good Rekor instance.
pub const PUBLIC_REKOR: &str = "https://rekor.sigstore.dev";

/// A Rekor request that failed.
#[derive(Debug, thiserror::Error)]
pub enum RekorError {
    /// The request failed or kept failing.
    #[error("the transparency log at {url} could not be reached")]
    Http {
        /// The log's URL.
        url: String,
        /// Why.
        #[source]
        source: HttpError,
    },
    /// Rekor refused the entry.
    #[error("the transparency log refused the entry: HTTP {status}: {message}")]
    Refused {
        /// The status.
        status: u16,
        /// Rekor's message.
        message: String,
    },
    /// Rekor's answer is not a log entry.
    #[error("the transparency log's answer is not a log entry: {0}")]
    Answer(String),
}

/// An inclusion proof, as Rekor v1 returns it (hashes in hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    /// The leaf's index in the tree.
    pub log_index: u64,
    /// The tree's root, hex.
    pub root_hash: String,
    /// The tree's size.
    pub tree_size: u64,
    /// The audit path, hex, leaf to root.
    pub hashes: Vec<String>,
    /// The signed note committing to the root.
    pub checkpoint: String,
}

/// One entry of the log, with the log's promise (SET) and proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The entry's body: canonical JSON, base64.
    pub body: String,
    /// When the log integrated it (Unix seconds).
    pub integrated_time: i64,
    /// The log's ID: hex SHA-256 of its key.
    pub log_id: String,
    /// The entry's index in the log.
    pub log_index: i64,
    /// The signed entry timestamp, base64.
    pub signed_entry_timestamp: String,
    /// The inclusion proof, when the log gave one.
    pub inclusion_proof: Option<InclusionProof>,
}

/// The exact bytes a SET signs: RFC 8785 canonical JSON of these four
/// fields. Declared in sorted order, with only integers and base64/hex
/// strings, serde_json's compact output is already canonical.
#[derive(Serialize)]
struct SetPayload<'a> {
    body: &'a str,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: &'a str,
    #[serde(rename = "logIndex")]
    log_index: i64,
}

/// What an offline check of an entry found wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlogError {
    /// The SET does not verify with the log key given.
    #[error("the log entry's signed entry timestamp does not verify with the Rekor public key")]
    BadSet,
    /// The entry was made by another log.
    #[error(
        "the log entry comes from log {found}, not the log of the Rekor public key ({expected})"
    )]
    OtherLog {
        /// The ID of the log whose key was given.
        expected: String,
        /// The entry's log ID.
        found: String,
    },
    /// The inclusion proof does not lead to its root.
    #[error("the log entry's inclusion proof does not prove it is in the log")]
    BadInclusionProof,
    /// The checkpoint is not signed by the log or names another root.
    #[error("the log entry's checkpoint is not signed by the log or commits to another tree")]
    BadCheckpoint,
    /// The entry's body is about another signature.
    #[error("the log entry records another signature: {0}")]
    OtherSignature(String),
}

impl LogEntry {
    /// Reads a Rekor v1 answer: `{"<uuid>": LogEntry}`.
    pub fn from_v1_answer(answer: &Value) -> Result<Self, RekorError> {
        let entry = answer
            .as_object()
            .and_then(|o| o.values().next())
            .ok_or_else(|| RekorError::Answer("no entry in it".into()))?;
        let field = |name: &str| RekorError::Answer(format!("`{name}` is missing"));
        let proof = &entry["verification"]["inclusionProof"];
        Ok(Self {
            body: entry["body"].as_str().ok_or_else(|| field("body"))?.into(),
            integrated_time: entry["integratedTime"]
                .as_i64()
                .ok_or_else(|| field("integratedTime"))?,
            log_id: entry["logID"]
                .as_str()
                .ok_or_else(|| field("logID"))?
                .into(),
            log_index: entry["logIndex"]
                .as_i64()
                .ok_or_else(|| field("logIndex"))?,
            signed_entry_timestamp: entry["verification"]["signedEntryTimestamp"]
                .as_str()
                .ok_or_else(|| field("signedEntryTimestamp"))?
                .into(),
            inclusion_proof: if proof.is_null() {
                None
            } else {
                Some(
                    serde_json::from_value(proof.clone())
                        .map_err(|e| RekorError::Answer(format!("inclusionProof: {e}")))?,
                )
            },
        })
    }

    /// The entry's body, decoded.
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&unb64(&self.body)?).ok()
    }

    /// cosign's `dev.sigstore.cosign/bundle` annotation (legacy format).
    pub fn to_cosign_annotation(&self) -> String {
        json!({
            "SignedEntryTimestamp": self.signed_entry_timestamp,
            "Payload": {
                "body": self.body,
                "integratedTime": self.integrated_time,
                "logIndex": self.log_index,
                "logID": self.log_id,
            },
        })
        .to_string()
    }

    /// Reads cosign's `dev.sigstore.cosign/bundle` annotation.
    pub fn from_cosign_annotation(text: &str) -> Option<Self> {
        let value: Value = serde_json::from_str(text).ok()?;
        let payload = &value["Payload"];
        Some(Self {
            body: payload["body"].as_str()?.into(),
            integrated_time: payload["integratedTime"].as_i64()?,
            log_id: payload["logID"].as_str()?.into(),
            log_index: payload["logIndex"].as_i64()?,
            signed_entry_timestamp: value["SignedEntryTimestamp"].as_str()?.into(),
            inclusion_proof: None,
        })
    }

    /// A bundle v0.3 `tlogEntries` element (protobuf JSON: 64-bit integers
    /// as strings, bytes as base64).
    pub fn to_bundle_entry(&self, kind: &str, version: &str) -> Value {
        let mut entry = json!({
            "logIndex": self.log_index.to_string(),
            "logId": { "keyId": b64(&unhex(&self.log_id).unwrap_or_default()) },
            "kindVersion": { "kind": kind, "version": version },
            "integratedTime": self.integrated_time.to_string(),
            "inclusionPromise": { "signedEntryTimestamp": self.signed_entry_timestamp },
            "canonicalizedBody": self.body,
        });
        if let Some(proof) = &self.inclusion_proof {
            let hashes: Vec<String> = proof
                .hashes
                .iter()
                .map(|h| b64(&unhex(h).unwrap_or_default()))
                .collect();
            entry["inclusionProof"] = json!({
                "logIndex": proof.log_index.to_string(),
                "rootHash": b64(&unhex(&proof.root_hash).unwrap_or_default()),
                "treeSize": proof.tree_size.to_string(),
                "hashes": hashes,
                "checkpoint": { "envelope": proof.checkpoint },
            });
        }
        entry
    }

    /// Reads a bundle's `tlogEntries` element.
    pub fn from_bundle_entry(entry: &Value) -> Option<Self> {
        let number = |v: &Value| match v {
            Value::String(s) => s.parse::<i64>().ok(),
            other => other.as_i64(),
        };
        let hex_of = |v: &Value| v.as_str().and_then(unb64).map(|b| hex(&b));
        let proof = &entry["inclusionProof"];
        let inclusion_proof = if proof.is_null() {
            None
        } else {
            Some(InclusionProof {
                log_index: u64::try_from(number(&proof["logIndex"])?).ok()?,
                root_hash: hex_of(&proof["rootHash"])?,
                tree_size: u64::try_from(number(&proof["treeSize"])?).ok()?,
                hashes: proof["hashes"]
                    .as_array()?
                    .iter()
                    .map(hex_of)
                    .collect::<Option<_>>()?,
                checkpoint: proof["checkpoint"]["envelope"].as_str()?.into(),
            })
        };
        Some(Self {
            body: entry["canonicalizedBody"].as_str()?.into(),
            integrated_time: number(&entry["integratedTime"])?,
            log_id: hex_of(&entry["logId"]["keyId"])?,
            log_index: number(&entry["logIndex"])?,
            signed_entry_timestamp: entry["inclusionPromise"]["signedEntryTimestamp"]
                .as_str()?
                .into(),
            inclusion_proof,
        })
    }

    /// Checks the entry offline against the log's key: it is from that log,
    /// its SET verifies, and its inclusion proof (when present) leads to a
    /// root the log signed in the checkpoint.
    pub fn verify(&self, log_key: &PublicKey) -> Result<(), TlogError> {
        let expected = hex(&sha256(log_key.spki_der()));
        if self.log_id != expected {
            return Err(TlogError::OtherLog {
                expected,
                found: self.log_id.clone(),
            });
        }
        let payload = SetPayload {
            body: &self.body,
            integrated_time: self.integrated_time,
            log_id: &self.log_id,
            log_index: self.log_index,
        };
        let signed = serde_json::to_vec(&payload).unwrap_or_default();
        let set = unb64(&self.signed_entry_timestamp).ok_or(TlogError::BadSet)?;
        if !log_key.verify(&signed, &set) {
            return Err(TlogError::BadSet);
        }
        if let Some(proof) = &self.inclusion_proof {
            let body = unb64(&self.body).ok_or(TlogError::BadInclusionProof)?;
            if !proof.proves(&body) {
                return Err(TlogError::BadInclusionProof);
            }
            if !proof.checkpoint_signed_by(log_key) {
                return Err(TlogError::BadCheckpoint);
            }
        }
        Ok(())
    }
}

type Hash = [u8; 32];

fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

fn hash_parts(parts: &[&[u8]]) -> Hash {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in parts {
        context.update(part);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(context.finish().as_ref());
    out
}

impl InclusionProof {
    /// Whether the audit path leads from `body`'s leaf to the root (RFC
    /// 9162 §2.1.3.2).
    pub fn proves(&self, body: &[u8]) -> bool {
        let (Some(root), Some(path)) = (
            unhex(&self.root_hash).and_then(|r| Hash::try_from(r).ok()),
            self.hashes
                .iter()
                .map(|h| unhex(h).and_then(|h| Hash::try_from(h).ok()))
                .collect::<Option<Vec<Hash>>>(),
        ) else {
            return false;
        };
        if self.log_index >= self.tree_size {
            return false;
        }
        let (mut index, mut last) = (self.log_index, self.tree_size - 1);
        let mut hash = hash_parts(&[&[0], body]);
        for sibling in &path {
            if last == 0 {
                return false;
            }
            if index & 1 == 1 || index == last {
                hash = hash_parts(&[&[1], sibling, &hash]);
                while index & 1 == 0 && index != 0 {
                    index >>= 1;
                    last >>= 1;
                }
            } else {
                hash = hash_parts(&[&[1], &hash, sibling]);
            }
            index >>= 1;
            last >>= 1;
        }
        last == 0 && hash == root
    }

    /// Whether the checkpoint (a signed note: origin, size, base64 root)
    /// commits to this proof's tree and is signed by the log.
    pub fn checkpoint_signed_by(&self, log_key: &PublicKey) -> bool {
        let Some((note, signatures)) = self.checkpoint.split_once("\n\n") else {
            return false;
        };
        let mut lines = note.lines().skip(1);
        let commits = lines.next() == Some(self.tree_size.to_string().as_str())
            && lines.next().and_then(unb64).map(|r| hex(&r)).as_deref()
                == Some(self.root_hash.as_str());
        let signed = format!("{note}\n");
        commits
            && signatures.lines().any(|line| {
                line.strip_prefix("\u{2014} ")
                    .and_then(|rest| rest.rsplit_once(' '))
                    .and_then(|(_, signature)| unb64(signature))
                    .filter(|s| s.len() > 4)
                    .is_some_and(|s| log_key.verify(signed.as_bytes(), &s[4..]))
            })
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex, decoded.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The proposed `hashedrekord` 0.0.1 entry for a signature over content
/// whose SHA-256 is `content_sha256` (hex); `verifier_pem` is the public
/// key's or the certificate's PEM.
pub fn hashedrekord(content_sha256: &str, signature: &[u8], verifier_pem: &str) -> Value {
    json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": { "hash": { "algorithm": "sha256", "value": content_sha256 } },
            "signature": {
                "content": b64(signature),
                "publicKey": { "content": b64(verifier_pem.as_bytes()) },
            },
        },
    })
}

/// The proposed `dsse` 0.0.1 entry for an envelope (its JSON text);
/// `verifier_pem` is the public key's or the certificate's PEM.
pub fn dsse(envelope_json: &str, verifier_pem: &str) -> Value {
    json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "proposedContent": {
                "envelope": envelope_json,
                "verifiers": [b64(verifier_pem.as_bytes())],
            },
        },
    })
}

/// A Rekor v1 client.
pub struct RekorClient {
    http: HttpClient,
    base: Url,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
}

impl RekorClient {
    /// A client for the log at `base`; `policy` should allow minutes, since
    /// the public log has long outages.
    pub fn new(http: HttpClient, base: Url, policy: RetryPolicy, clock: Arc<dyn Clock>) -> Self {
        Self {
            http,
            base,
            policy,
            clock,
        }
    }

    fn error(&self, source: HttpError) -> RekorError {
        RekorError::Http {
            url: hoist_http::redact::redact_url(&self.base),
            source,
        }
    }

    /// Adds `proposed` to the log; an entry the log already holds (409) is
    /// fetched and returned as if just made.
    pub async fn upload(&self, proposed: &Value) -> Result<LogEntry, RekorError> {
        let url = self
            .base
            .join("api/v1/log/entries")
            .map_err(|e| RekorError::Answer(e.to_string()))?;
        let response = self
            .http
            .send(&self.policy, self.clock.as_ref(), |client| {
                client
                    .post(url.clone())
                    .header(CONTENT_TYPE, "application/json")
                    .header(ACCEPT, "application/json")
                    .body(proposed.to_string())
            })
            .await
            .map_err(|e| self.error(e))?;
        let status = response.status().as_u16();
        if status == 409 {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| self.base.join(l).ok())
                .ok_or_else(|| RekorError::Answer("409 without a Location".into()))?;
            return self.fetch(location).await;
        }
        // A v1 entry holds the uploaded entry (base64) and a proof of at
        // most 64 hashes; 8 MiB leaves room for large attestations.
        let bytes =
            hoist_http::body::read_capped(response, 8 * hoist_http::body::MIB, "Rekor's answer")
                .await
                .map_err(|e| self.error(e))?;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if status != 201 {
            return Err(RekorError::Refused {
                status,
                message: body["message"].as_str().unwrap_or_default().to_owned(),
            });
        }
        LogEntry::from_v1_answer(&body)
    }

    async fn fetch(&self, url: Url) -> Result<LogEntry, RekorError> {
        let response = self
            .http
            .send(&self.policy, self.clock.as_ref(), |client| {
                client.get(url.clone()).header(ACCEPT, "application/json")
            })
            .await
            .map_err(|e| self.error(e))?;
        let status = response.status().as_u16();
        // A v1 entry holds the uploaded entry (base64) and a proof of at
        // most 64 hashes; 8 MiB leaves room for large attestations.
        let bytes =
            hoist_http::body::read_capped(response, 8 * hoist_http::body::MIB, "Rekor's answer")
                .await
                .map_err(|e| self.error(e))?;
        let body: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if status != 200 {
            return Err(RekorError::Refused {
                status,
                message: body["message"].as_str().unwrap_or_default().to_owned(),
            });
        }
        LogEntry::from_v1_answer(&body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        assert_eq!(
            unhex(&hex(&[0, 1, 254, 255])).unwrap(),
            vec![0, 1, 254, 255]
        );
        assert!(unhex("abc").is_none());
        assert!(unhex("zz").is_none());
    }

    #[test]
    fn a_one_leaf_tree_proves_its_leaf() {
        let root = hash_parts(&[&[0], b"body"]);
        let proof = InclusionProof {
            log_index: 0,
            root_hash: hex(&root),
            tree_size: 1,
            hashes: vec![],
            checkpoint: String::new(),
        };
        assert!(proof.proves(b"body"));
        assert!(!proof.proves(b"other"));
    }

    #[test]
    fn a_three_leaf_tree_proves_its_last_leaf() {
        let leaves: Vec<Hash> = [b"a", b"b", b"c"]
            .iter()
            .map(|l| hash_parts(&[&[0], *l]))
            .collect();
        let left = hash_parts(&[&[1], &leaves[0], &leaves[1]]);
        let root = hash_parts(&[&[1], &left, &leaves[2]]);
        let proof = InclusionProof {
            log_index: 2,
            root_hash: hex(&root),
            tree_size: 3,
            hashes: vec![hex(&left)],
            checkpoint: String::new(),
        };
        assert!(proof.proves(b"c"));
        let wrong_index = InclusionProof {
            log_index: 1,
            ..proof.clone()
        };
        assert!(!wrong_index.proves(b"c"));
    }

    #[test]
    fn bundle_entries_round_trip() {
        let entry = LogEntry {
            body: b64(b"{}"),
            integrated_time: 1_700_000_000,
            log_id: hex(&[7; 32]),
            log_index: 42,
            signed_entry_timestamp: b64(b"set"),
            inclusion_proof: Some(InclusionProof {
                log_index: 42,
                root_hash: hex(&[1; 32]),
                tree_size: 43,
                hashes: vec![hex(&[2; 32])],
                checkpoint: "origin\n43\nroot\n\n\u{2014} x sig\n".into(),
            }),
        };
        let value = entry.to_bundle_entry("dsse", "0.0.1");
        assert_eq!(value["logIndex"], "42");
        assert_eq!(LogEntry::from_bundle_entry(&value).unwrap(), entry);
        let annotation = entry.to_cosign_annotation();
        let back = LogEntry::from_cosign_annotation(&annotation).unwrap();
        assert_eq!(back.inclusion_proof, None);
        assert_eq!(back.log_index, 42);
    }
}
