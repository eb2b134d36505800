//! An independent check of cosign's encrypted key format: Python (hashlib's
//! scrypt, PyNaCl's secretbox, `cryptography`'s P-256) writes a key the way
//! go-securesystemslib does, hoist reads it and signs, and `cryptography`
//! verifies hoist's signature; then the other way round, hoist's encrypted
//! key is decrypted by Python. Needs the PyPI packages `pynacl` and
//! `cryptography` (scripts/setup installs them); without them the test
//! fails, it never skips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use hoist_cosign::key::{KeyError, PublicKey, SigningKey};

const SCRIPT: &str = r#"
import base64, hashlib, json, os, sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from nacl.secret import SecretBox

LABEL = "ENCRYPTED SIGSTORE PRIVATE KEY"


def scrypt(password, salt, n, r, p):
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=32,
                          maxmem=256 * 1024 * 1024)


def generate(out_dir, password):
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(serialization.Encoding.DER,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    salt, nonce = os.urandom(32), os.urandom(24)
    box = SecretBox(scrypt(password, salt, 32768, 8, 1))
    ciphertext = box.encrypt(der, nonce).ciphertext
    b64 = lambda b: base64.b64encode(b).decode()
    document = {
        "kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1},
                "salt": b64(salt)},
        "cipher": {"name": "nacl/secretbox", "nonce": b64(nonce)},
        "ciphertext": b64(ciphertext),
    }
    body = b64(json.dumps(document, separators=(",", ":")).encode())
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    pem = "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (LABEL, "\n".join(lines), LABEL)
    with open(os.path.join(out_dir, "cosign.key"), "w") as f:
        f.write(pem)
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    with open(os.path.join(out_dir, "cosign.pub"), "wb") as f:
        f.write(public)


def verify(public_pem, signature, message):
    with open(public_pem, "rb") as f:
        public = serialization.load_pem_public_key(f.read())
    with open(signature, "rb") as f:
        sig = f.read()
    with open(message, "rb") as f:
        msg = f.read()
    try:
        public.verify(sig, msg, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        print("invalid signature")
        sys.exit(3)
    print("verified")


def decrypt(key_pem, password):
    with open(key_pem) as f:
        lines = [l.strip() for l in f.read().strip().splitlines()]
    assert lines[0] == "-----BEGIN %s-----" % LABEL, lines[0]
    assert lines[-1] == "-----END %s-----" % LABEL, lines[-1]
    assert all(len(l) <= 64 for l in lines[1:-1])
    document = json.loads(base64.b64decode("".join(lines[1:-1])))
    assert document["kdf"]["name"] == "scrypt"
    assert document["cipher"]["name"] == "nacl/secretbox"
    params = document["kdf"]["params"]
    assert (params["N"], params["r"], params["p"]) == (32768, 8, 1), params
    salt = base64.b64decode(document["kdf"]["salt"])
    nonce = base64.b64decode(document["cipher"]["nonce"])
    assert (len(salt), len(nonce)) == (32, 24)
    box = SecretBox(scrypt(password, salt, params["N"], params["r"], params["p"]))
    der = box.decrypt(base64.b64decode(document["ciphertext"]), nonce)
    key = serialization.load_der_private_key(der, password=None)
    assert isinstance(key.curve, ec.SECP256R1)
    sys.stdout.write(key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode())


mode = sys.argv[1]
if mode == "generate":
    generate(sys.argv[2], sys.argv[3].encode())
elif mode == "verify":
    verify(sys.argv[2], sys.argv[3], sys.argv[4])
elif mode == "decrypt":
    decrypt(sys.argv[2], sys.argv[3].encode())
else:
    sys.exit("unknown mode " + mode)
"#;

fn require_python_packages() {
    let check = Command::new("python3")
        .args(["-c", "import nacl.secret, cryptography.hazmat.primitives"])
        .output();
    match check {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "this test needs the PyPI packages `pynacl` and `cryptography` \
             (run scripts/setup, or `python3 -m pip install pynacl cryptography`): {}",
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => panic!(
            "this test needs python3 with the PyPI packages `pynacl` and `cryptography` \
             (run scripts/setup): {error}"
        ),
    }
}

/// Runs the script; returns its stdout, or its failure.
fn python(dir: &Path, args: &[&str]) -> Result<String, String> {
    let script = dir.join("cosign_format.py");
    if !script.exists() {
        std::fs::write(&script, SCRIPT).unwrap();
    }
    let output = Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{}{}",
            stdout,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[test]
fn a_key_python_encrypts_signs_in_hoist_and_verifies_in_python() {
    require_python_packages();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let password = "pässword with spaces";
    python(dir.path(), &["generate", &path(""), password]).unwrap();

    let key_text = std::fs::read_to_string(dir.path().join("cosign.key")).unwrap();
    let public_text = std::fs::read_to_string(dir.path().join("cosign.pub")).unwrap();
    let key = SigningKey::from_pem(&key_text, Some(password)).unwrap();
    let public = PublicKey::from_pem(&public_text).unwrap();
    assert_eq!(key.public_key(), &public);
    assert_eq!(
        public.to_pem(),
        public_text,
        "same PEM as cryptography writes"
    );

    let message = br#"{"critical":{"type":"cosign container image signature"}}"#;
    let signature = key.sign(message).unwrap();
    assert!(public.verify(message, &signature));
    std::fs::write(dir.path().join("message"), message).unwrap();
    std::fs::write(dir.path().join("signature"), &signature).unwrap();
    let verified = python(
        dir.path(),
        &[
            "verify",
            &path("cosign.pub"),
            &path("signature"),
            &path("message"),
        ],
    )
    .unwrap();
    assert_eq!(verified.trim(), "verified");

    // The check is not vacuous: another message does not verify.
    std::fs::write(dir.path().join("other"), b"another message").unwrap();
    let refused = python(
        dir.path(),
        &[
            "verify",
            &path("cosign.pub"),
            &path("signature"),
            &path("other"),
        ],
    )
    .unwrap_err();
    assert!(refused.contains("invalid signature"), "{refused}");

    assert!(matches!(
        SigningKey::from_pem(&key_text, Some("not the password")),
        Err(KeyError::WrongPassword)
    ));
}

#[test]
fn a_key_hoist_encrypts_decrypts_in_python() {
    require_python_packages();
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate().unwrap();
    let password = "hoist's password";
    let key_path = dir.path().join("hoist.key");
    std::fs::write(&key_path, key.to_encrypted_pem(password).unwrap()).unwrap();
    let public_text = python(
        dir.path(),
        &["decrypt", key_path.to_str().unwrap(), password],
    )
    .unwrap();
    assert_eq!(
        PublicKey::from_pem(&public_text).unwrap(),
        *key.public_key()
    );
    let wrong = python(
        dir.path(),
        &["decrypt", key_path.to_str().unwrap(), "wrong"],
    )
    .unwrap_err();
    assert!(wrong.contains("CryptoError"), "{wrong}");
}
