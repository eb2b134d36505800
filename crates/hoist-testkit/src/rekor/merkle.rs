//! RFC 6962 (RFC 9162 §2.1) Merkle tree hashing: the tree head, audit
//! paths, and their verification.

use ring::digest::{Context, SHA256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut context = Context::new(&SHA256);
    for part in parts {
        context.update(part);
    }
    context.finish().as_ref().try_into().unwrap_or([0; 32])
}

/// `SHA-256(0x00 ‖ entry)`: a leaf's hash.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    sha256(&[&[0], entry])
}

/// `SHA-256(0x01 ‖ left ‖ right)`: an interior node's hash.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256(&[&[1], left, right])
}

/// The largest power of two smaller than `n` (`n > 1`).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// The tree head over `leaves` (leaf hashes): `MTH(D[n])`.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => sha256(&[]),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The audit path of leaf `index` in the tree of `leaves`, leaf to root:
/// `PATH(m, D[n])`.
pub fn audit_path(index: usize, leaves: &[Hash]) -> Vec<Hash> {
    if leaves.len() <= 1 {
        return Vec::new();
    }
    let k = split(leaves.len());
    if index < k {
        let mut path = audit_path(index, &leaves[..k]);
        path.push(root(&leaves[k..]));
        path
    } else {
        let mut path = audit_path(index - k, &leaves[k..]);
        path.push(root(&leaves[..k]));
        path
    }
}

/// Whether `path` proves leaf `leaf` at `index` in a tree of `size` leaves
/// with head `root` (RFC 9162 §2.1.3.2).
pub fn verify(leaf: &Hash, index: u64, size: u64, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}
