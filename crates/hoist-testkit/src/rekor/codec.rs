//! The encodings a Rekor entry is made of: RFC 8785 canonical JSON, PEM,
//! and just enough DER to find a P-256 key in a `PUBLIC KEY` or a
//! `CERTIFICATE`.

use base64::Engine as _;
use serde_json::Value;

/// The DER prefix of a P-256 `SubjectPublicKeyInfo` before its 65-byte
/// point: `SEQUENCE { SEQUENCE { ecPublicKey, prime256v1 }, BIT STRING }`.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// Standard base64 with padding, as Rekor writes it.
pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Standard base64, decoded.
pub(crate) fn unb64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex, decoded.
pub(crate) fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// RFC 8785 canonical JSON: no whitespace, object keys sorted, strings
/// escaped minimally. Numbers are only ever integers here.
pub fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            // RFC 8785 sorts by UTF-16 code units.
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            let members: Vec<String> = keys
                .into_iter()
                .map(|key| {
                    format!(
                        "{}:{}",
                        Value::from(key.as_str()),
                        canonical_json(&map[key])
                    )
                })
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// A PEM block's label and DER.
pub(crate) fn pem_decode(pem: &str) -> Option<(String, Vec<u8>)> {
    let (_, after) = pem.split_once("-----BEGIN ")?;
    let (label, rest) = after.split_once("-----")?;
    let (inside, _) = rest.split_once(&format!("-----END {label}-----"))?;
    let compact: String = inside.split_whitespace().collect();
    Some((label.to_owned(), unb64(&compact)?))
}

/// `der` as a PEM block with `label`, lines of 64.
pub(crate) fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = b64(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// The `SubjectPublicKeyInfo` DER of an uncompressed P-256 point.
pub(crate) fn p256_spki(point: &[u8]) -> Vec<u8> {
    [&P256_SPKI_PREFIX[..], point].concat()
}

/// One DER element: its tag, its contents, the whole element, and what
/// follows it.
type Element<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// The DER element at the start of `input`.
fn der_next(input: &[u8]) -> Option<Element<'_>> {
    let (&tag, rest) = input.split_first()?;
    let (&length, rest) = rest.split_first()?;
    let (length, rest) = if length < 0x80 {
        (usize::from(length), rest)
    } else {
        let count = usize::from(length & 0x7f);
        let bytes = rest.get(..count)?;
        let length = bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b));
        (length, &rest[count..])
    };
    let contents = rest.get(..length)?;
    let header = input.len() - rest.len();
    Some((tag, contents, &input[..header + length], &rest[length..]))
}

/// The uncompressed point of a P-256 `SubjectPublicKeyInfo`.
fn p256_point_of_spki(spki: &[u8]) -> Option<Vec<u8>> {
    let point = spki.strip_prefix(&P256_SPKI_PREFIX[..])?;
    (point.len() == 65 && point[0] == 4).then(|| point.to_vec())
}

/// The P-256 point in a PEM `PUBLIC KEY` or `CERTIFICATE` (the key of its
/// `tbsCertificate`); `None` for anything else, other curves included.
pub(crate) fn p256_point_of_pem(pem: &str) -> Option<Vec<u8>> {
    let (label, der) = pem_decode(pem)?;
    match label.as_str() {
        "PUBLIC KEY" => p256_point_of_spki(&der),
        "CERTIFICATE" => {
            let (0x30, certificate, _, _) = der_next(&der)? else {
                return None;
            };
            let (0x30, tbs, _, _) = der_next(certificate)? else {
                return None;
            };
            let mut rest = tbs;
            if rest.first() == Some(&0xa0) {
                rest = der_next(rest)?.3;
            }
            // serial, signature, issuer, validity, subject.
            for _ in 0..5 {
                rest = der_next(rest)?.3;
            }
            p256_point_of_spki(der_next(rest)?.2)
        }
        _ => None,
    }
}
