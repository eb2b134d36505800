//! A stand-in for Rekor, Sigstore's transparency log, speaking its public
//! v1 API: `POST /api/v1/log/entries` (`hashedrekord` and `dsse` 0.0.1,
//! validated as Rekor does: 400 `{"code","message"}` for a signature that
//! does not verify, 409 with the existing entry's `Location` for a
//! duplicate), `GET /api/v1/log/entries/{uuid}` and `?logIndex=`,
//! `POST /api/v1/log/entries/retrieve` (by UUID, index or proposed entry),
//! `POST /api/v1/index/retrieve` (UUIDs by `sha256:` hash), `GET
//! /api/v1/log` and `GET /api/v1/log/publicKey`.
//!
//! Entries carry a signed entry timestamp (the log key's ECDSA P-256
//! signature over the RFC 8785 canonical `{body, integratedTime, logID,
//! logIndex}`) and an RFC 6962 inclusion proof against a real Merkle tree,
//! with a signed-note checkpoint. The log key is fresh per stand-in.
//! [`verify_set`], [`verify_inclusion`] and [`verify_checkpoint`] check
//! them offline.

mod codec;
mod kinds;
pub mod merkle;
mod p256;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _,
    UnparsedPublicKey,
};
use serde_json::{Map, Value, json};

pub use codec::canonical_json;
use codec::{b64, hex, p256_point_of_pem, p256_spki, pem_encode, unb64, unhex};

use crate::standin::{Fault, Request, Response, Router, StandIn};

/// The log's tree ID, as `GET /api/v1/log` reports it; its 16 hex digits
/// prefix every entry UUID.
pub const TREE_ID: u64 = 3_904_496_407_287_907_110;

/// The name in checkpoints: the origin is `"<name> - <tree ID>"`.
pub const LOG_NAME: &str = "rekor.hoist.test";

/// One entry in the log, as a test inspects it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The entry UUID: the tree ID (16 hex digits) then the leaf hash.
    pub uuid: String,
    /// Its index in the log.
    pub log_index: u64,
    /// When the log integrated it (Unix seconds).
    pub integrated_time: u64,
    /// The canonical entry (`{"apiVersion","kind","spec"}`), decoded.
    pub body: Value,
}

struct Stored {
    entry: Entry,
    canonical: Vec<u8>,
    set: String,
    index: Vec<String>,
}

struct Log {
    key: EcdsaKeyPair,
    spki: Vec<u8>,
    leaves: Vec<merkle::Hash>,
    stored: Vec<Stored>,
    by_leaf: HashMap<String, usize>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn error(code: u16, message: &str) -> Response {
    Response::json(code, &json!({"code": code, "message": message}))
}

fn entry_path(uuid: &str) -> String {
    format!("/api/v1/log/entries/{uuid}")
}

impl Log {
    fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key
            .sign(&SystemRandom::new(), message)
            .expect("ECDSA signing")
            .as_ref()
            .to_vec()
    }

    fn log_id(&self) -> String {
        hex(ring::digest::digest(&ring::digest::SHA256, &self.spki).as_ref())
    }

    fn root(&self) -> merkle::Hash {
        merkle::root(&self.leaves)
    }

    /// A checkpoint for the current tree, signed now.
    fn checkpoint(&self) -> String {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let note = format!(
            "{LOG_NAME} - {TREE_ID}\n{}\n{}\nTimestamp: {nanos}\n",
            self.leaves.len(),
            b64(&self.root())
        );
        let hint = ring::digest::digest(&ring::digest::SHA256, &self.spki);
        let signature = [&hint.as_ref()[..4], &self.sign(note.as_bytes())].concat();
        format!("{note}\n\u{2014} {LOG_NAME} {}\n", b64(&signature))
    }

    /// `{uuid: LogEntry}` with a proof against the current tree.
    fn answer(&self, i: usize) -> Value {
        let stored = &self.stored[i];
        let hashes: Vec<String> = merkle::audit_path(i, &self.leaves)
            .iter()
            .map(|h| hex(h))
            .collect();
        let entry = json!({
            "body": b64(&stored.canonical),
            "integratedTime": stored.entry.integrated_time,
            "logID": self.log_id(),
            "logIndex": stored.entry.log_index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": self.checkpoint(),
                    "hashes": hashes,
                    "logIndex": stored.entry.log_index,
                    "rootHash": hex(&self.root()),
                    "treeSize": self.leaves.len(),
                },
                "signedEntryTimestamp": stored.set,
            },
        });
        Value::Object(Map::from_iter([(stored.entry.uuid.clone(), entry)]))
    }

    /// The position of the entry `uuid` names: the full 80-digit form or
    /// the bare 64-digit leaf hash.
    fn find(&self, uuid: &str) -> Option<usize> {
        let uuid = uuid.to_ascii_lowercase();
        let leaf = match uuid.len() {
            80 => uuid.strip_prefix(&format!("{TREE_ID:016x}"))?,
            _ => uuid.as_str(),
        };
        self.by_leaf.get(leaf).copied()
    }

    fn create(&mut self, request: &Request) -> Response {
        let accepted = match kinds::accept(&request.json()) {
            Ok(accepted) => accepted,
            Err(message) => return error(400, &message),
        };
        let canonical = canonical_json(&accepted.body).into_bytes();
        let leaf = merkle::leaf_hash(&canonical);
        if let Some(&i) = self.by_leaf.get(&hex(&leaf)) {
            let uuid = &self.stored[i].entry.uuid;
            return error(
                409,
                &format!(
                    "an equivalent entry already exists in the transparency log with UUID {uuid}"
                ),
            )
            .header("location", &entry_path(uuid));
        }
        let log_index = self.leaves.len() as u64;
        let integrated_time = unix_now();
        let payload = json!({
            "body": b64(&canonical),
            "integratedTime": integrated_time,
            "logID": self.log_id(),
            "logIndex": log_index,
        });
        let set = b64(&self.sign(canonical_json(&payload).as_bytes()));
        let uuid = format!("{TREE_ID:016x}{}", hex(&leaf));
        self.by_leaf.insert(hex(&leaf), self.stored.len());
        self.leaves.push(leaf);
        self.stored.push(Stored {
            entry: Entry {
                uuid: uuid.clone(),
                log_index,
                integrated_time,
                body: accepted.body,
            },
            canonical,
            set,
            index: accepted.index,
        });
        Response::json(201, &self.answer(self.stored.len() - 1))
            .header("location", &entry_path(&uuid))
            .header("etag", &uuid)
    }

    /// `POST /api/v1/log/entries/retrieve`: a `SearchLogQuery`.
    fn retrieve(&self, request: &Request) -> Response {
        let query = request.json();
        let mut found = Vec::new();
        for uuid in query["entryUUIDs"].as_array().into_iter().flatten() {
            found.extend(uuid.as_str().and_then(|u| self.find(u)));
        }
        for index in query["logIndexes"].as_array().into_iter().flatten() {
            found.extend(
                index
                    .as_u64()
                    .map(|i| i as usize)
                    .filter(|i| *i < self.stored.len()),
            );
        }
        for proposed in query["entries"].as_array().into_iter().flatten() {
            if let Ok(accepted) = kinds::accept(proposed) {
                let leaf = merkle::leaf_hash(canonical_json(&accepted.body).as_bytes());
                found.extend(self.by_leaf.get(&hex(&leaf)).copied());
            }
        }
        let answers: Vec<Value> = found.into_iter().map(|i| self.answer(i)).collect();
        Response::json(200, &Value::Array(answers))
    }

    /// `POST /api/v1/index/retrieve` by `hash` (`sha256:<hex>` or bare hex).
    fn search_index(&self, request: &Request) -> Response {
        let query = request.json();
        let Some(hash) = query["hash"].as_str() else {
            return error(400, "only searches by hash are supported by this stand-in");
        };
        let hash = hash
            .strip_prefix("sha256:")
            .unwrap_or(hash)
            .to_ascii_lowercase();
        let uuids: Vec<&str> = self
            .stored
            .iter()
            .filter(|s| s.index.contains(&hash))
            .map(|s| s.entry.uuid.as_str())
            .collect();
        Response::json(200, &json!(uuids))
    }

    fn info(&self) -> Value {
        json!({
            "rootHash": hex(&self.root()),
            "treeSize": self.leaves.len(),
            "signedTreeHead": self.checkpoint(),
            "treeID": TREE_ID.to_string(),
            "inactiveShards": [],
        })
    }
}

/// A running Rekor stand-in with its own log key.
pub struct RekorStandIn {
    server: StandIn,
    log: Arc<Mutex<Log>>,
}

impl Default for RekorStandIn {
    fn default() -> Self {
        Self::start()
    }
}

impl RekorStandIn {
    /// Starts an empty log with a fresh P-256 key.
    pub fn start() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .expect("P-256 key generation");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .expect("P-256 key");
        let spki = p256_spki(key.public_key().as_ref());
        let log = Arc::new(Mutex::new(Log {
            key,
            spki,
            leaves: Vec::new(),
            stored: Vec::new(),
            by_leaf: HashMap::new(),
        }));
        let state = |f: fn(&mut Log, &Request) -> Response| {
            let log = Arc::clone(&log);
            move |request: &Request| f(&mut log.lock().unwrap(), request)
        };
        let router = Router::new()
            .route("POST", "/api/v1/log/entries", state(Log::create))
            .route(
                "GET",
                "/api/v1/log/entries",
                state(|log, request| {
                    let index = request
                        .query_param("logIndex")
                        .and_then(|i| i.parse::<usize>().ok());
                    match index.filter(|i| *i < log.stored.len()) {
                        Some(i) => Response::json(200, &log.answer(i)),
                        None => error(404, "no entry found at that log index"),
                    }
                }),
            )
            .route(
                "GET",
                "/api/v1/log/entries/{uuid}",
                state(|log, request| match log.find(request.param("uuid")) {
                    Some(i) => Response::json(200, &log.answer(i)),
                    None => error(404, "entry not found"),
                }),
            )
            .route(
                "POST",
                "/api/v1/log/entries/retrieve",
                state(|log, request| log.retrieve(request)),
            )
            .route(
                "POST",
                "/api/v1/index/retrieve",
                state(|log, request| log.search_index(request)),
            )
            .route(
                "GET",
                "/api/v1/log",
                state(|log, _| Response::json(200, &log.info())),
            )
            .route(
                "GET",
                "/api/v1/log/publicKey",
                state(|log, _| {
                    Response::new(200)
                        .header("content-type", "application/x-pem-file")
                        .body(pem_encode("PUBLIC KEY", &log.spki))
                }),
            );
        Self {
            server: StandIn::start(router),
            log,
        }
    }

    /// The base URL (`--rekor-url`), such as `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The log's public key, PEM `PUBLIC KEY` (what `GET
    /// /api/v1/log/publicKey` serves and a trusted root would carry).
    pub fn public_key_pem(&self) -> String {
        pem_encode("PUBLIC KEY", &self.log.lock().unwrap().spki)
    }

    /// The log ID: hex SHA-256 of the log key's DER.
    pub fn log_id(&self) -> String {
        self.log.lock().unwrap().log_id()
    }

    /// Every entry in log order.
    pub fn entries(&self) -> Vec<Entry> {
        let log = self.log.lock().unwrap();
        log.stored.iter().map(|s| s.entry.clone()).collect()
    }

    /// `GET /api/v1/log`'s answer now (root hash, tree size, signed tree
    /// head, tree ID).
    pub fn log_info(&self) -> Value {
        self.log.lock().unwrap().info()
    }

    /// Injects `fault` into the next request.
    pub fn fault(&self, fault: Fault) {
        self.server.fault(fault);
    }

    /// Injects `fault` into each of the next `count` requests (an outage).
    pub fn faults(&self, count: usize, fault: Fault) {
        self.server.faults(count, fault);
    }

    /// Every request received so far, faulted ones included.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// The server, for path-scoped faults.
    pub fn server(&self) -> &StandIn {
        &self.server
    }
}

fn verify_p256(public_key_pem: &str, message: &[u8], signature: &[u8]) -> bool {
    p256_point_of_pem(public_key_pem).is_some_and(|point| {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point)
            .verify(message, signature)
            .is_ok()
    })
}

/// Whether `entry` (a `LogEntry`: the value under the UUID) carries a
/// signed entry timestamp by the log whose key is `log_public_key_pem`: an
/// ECDSA signature over the canonical `{body, integratedTime, logID,
/// logIndex}`, as cosign's `VerifySET` checks it.
pub fn verify_set(entry: &Value, log_public_key_pem: &str) -> bool {
    let payload = json!({
        "body": entry["body"],
        "integratedTime": entry["integratedTime"],
        "logID": entry["logID"],
        "logIndex": entry["logIndex"],
    });
    entry["verification"]["signedEntryTimestamp"]
        .as_str()
        .and_then(unb64)
        .is_some_and(|set| {
            verify_p256(
                log_public_key_pem,
                canonical_json(&payload).as_bytes(),
                &set,
            )
        })
}

fn hash_of(text: &str) -> Option<merkle::Hash> {
    unhex(text)?.try_into().ok()
}

/// Whether `entry`'s inclusion proof proves its body (the leaf) under the
/// proof's root hash (RFC 6962 hashing). Says nothing of who signed the
/// root: see [`verify_checkpoint`].
pub fn verify_inclusion(entry: &Value) -> bool {
    let proof = &entry["verification"]["inclusionProof"];
    let (Some(body), Some(root), Some(index), Some(size)) = (
        entry["body"].as_str().and_then(unb64),
        proof["rootHash"].as_str().and_then(hash_of),
        proof["logIndex"].as_u64(),
        proof["treeSize"].as_u64(),
    ) else {
        return false;
    };
    let Some(path) = proof["hashes"].as_array().and_then(|hashes| {
        hashes
            .iter()
            .map(|h| h.as_str().and_then(hash_of))
            .collect::<Option<Vec<_>>>()
    }) else {
        return false;
    };
    merkle::verify(&merkle::leaf_hash(&body), index, size, &path, &root)
}

/// Whether `checkpoint` (a signed note) is signed by the log whose key is
/// `log_public_key_pem` and commits to `tree_size` and `root_hash` (hex).
pub fn verify_checkpoint(
    checkpoint: &str,
    log_public_key_pem: &str,
    tree_size: u64,
    root_hash: &str,
) -> bool {
    let Some((note, signatures)) = checkpoint.split_once("\n\n") else {
        return false;
    };
    let note = format!("{note}\n");
    let mut lines = note.lines().skip(1);
    let committed = lines.next() == Some(tree_size.to_string().as_str())
        && lines.next().and_then(unb64).map(|r| hex(&r)).as_deref() == Some(root_hash);
    committed
        && signatures.lines().any(|line| {
            line.strip_prefix("\u{2014} ")
                .and_then(|rest| rest.rsplit_once(' '))
                .and_then(|(_, sig)| unb64(sig))
                .is_some_and(|sig| {
                    sig.len() > 4 && verify_p256(log_public_key_pem, note.as_bytes(), &sig[4..])
                })
        })
}
