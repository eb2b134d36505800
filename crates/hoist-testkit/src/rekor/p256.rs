//! ECDSA P-256 verification over a digest the caller already has, which
//! `ring` does not offer (it hashes the message itself) and a
//! `hashedrekord` entry needs: Rekor sees only the artifact's hash.
//!
//! Plain 256-bit arithmetic in Jacobian coordinates, bit-serial modular
//! multiplication: slow but small, and only ever fed test signatures.

/// A 256-bit number, little-endian 64-bit limbs.
type U256 = [u64; 4];

const P: &str = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
const N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
const B: &str = "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b";
const GX: &str = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
const GY: &str = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";

fn from_be(bytes: &[u8]) -> Option<U256> {
    if bytes.len() > 32 {
        return None;
    }
    let mut padded = [0u8; 32];
    padded[32 - bytes.len()..].copy_from_slice(bytes);
    let mut out = [0u64; 4];
    for (i, chunk) in padded.chunks(8).enumerate() {
        out[3 - i] = u64::from_be_bytes(chunk.try_into().ok()?);
    }
    Some(out)
}

fn hex(text: &str) -> U256 {
    let bytes: Vec<u8> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap_or(0))
        .collect();
    from_be(&bytes).unwrap_or_default()
}

fn is_zero(a: &U256) -> bool {
    a.iter().all(|limb| *limb == 0)
}

fn less(a: &U256, b: &U256) -> bool {
    a.iter().rev().lt(b.iter().rev())
}

fn bit(a: &U256, i: usize) -> bool {
    (a[i / 64] >> (i % 64)) & 1 == 1
}

fn add(a: &U256, b: &U256) -> (U256, bool) {
    let mut out = [0u64; 4];
    let mut carry = false;
    for i in 0..4 {
        let (sum, c1) = a[i].overflowing_add(b[i]);
        let (sum, c2) = sum.overflowing_add(u64::from(carry));
        out[i] = sum;
        carry = c1 || c2;
    }
    (out, carry)
}

fn sub(a: &U256, b: &U256) -> (U256, bool) {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (diff, b1) = a[i].overflowing_sub(b[i]);
        let (diff, b2) = diff.overflowing_sub(u64::from(borrow));
        out[i] = diff;
        borrow = b1 || b2;
    }
    (out, borrow)
}

/// Arithmetic modulo `m`; every operand is already below `m`.
struct Field(U256);

impl Field {
    fn add(&self, a: &U256, b: &U256) -> U256 {
        let (sum, carry) = add(a, b);
        if carry || !less(&sum, &self.0) {
            sub(&sum, &self.0).0
        } else {
            sum
        }
    }

    fn sub(&self, a: &U256, b: &U256) -> U256 {
        let (diff, borrow) = sub(a, b);
        if borrow { add(&diff, &self.0).0 } else { diff }
    }

    fn mul(&self, a: &U256, b: &U256) -> U256 {
        let mut out = [0u64; 4];
        for i in (0..256).rev() {
            out = self.add(&out, &out);
            if bit(b, i) {
                out = self.add(&out, a);
            }
        }
        out
    }

    /// `a^(m-2)`: the inverse, `m` being prime.
    fn inv(&self, a: &U256) -> U256 {
        let exponent = sub(&self.0, &[2, 0, 0, 0]).0;
        let mut out = [1, 0, 0, 0];
        for i in (0..256).rev() {
            out = self.mul(&out, &out);
            if bit(&exponent, i) {
                out = self.mul(&out, a);
            }
        }
        out
    }

    fn reduce(&self, a: &U256) -> U256 {
        if less(a, &self.0) {
            *a
        } else {
            sub(a, &self.0).0
        }
    }
}

/// A point in Jacobian coordinates; `z == 0` is the point at infinity.
#[derive(Clone, Copy)]
struct Point {
    x: U256,
    y: U256,
    z: U256,
}

const INFINITY: Point = Point {
    x: [1, 0, 0, 0],
    y: [1, 0, 0, 0],
    z: [0; 4],
};

fn double(f: &Field, p: &Point) -> Point {
    if is_zero(&p.z) || is_zero(&p.y) {
        return INFINITY;
    }
    // dbl-2001-b, a = -3.
    let delta = f.mul(&p.z, &p.z);
    let gamma = f.mul(&p.y, &p.y);
    let beta = f.mul(&p.x, &gamma);
    let t = f.mul(&f.sub(&p.x, &delta), &f.add(&p.x, &delta));
    let alpha = f.add(&f.add(&t, &t), &t);
    let beta4 = f.add(&f.add(&beta, &beta), &f.add(&beta, &beta));
    let x = f.sub(&f.mul(&alpha, &alpha), &f.add(&beta4, &beta4));
    let yz = f.add(&p.y, &p.z);
    let z = f.sub(&f.sub(&f.mul(&yz, &yz), &gamma), &delta);
    let gamma2 = f.mul(&gamma, &gamma);
    let gamma8 = f.add(&f.add(&gamma2, &gamma2), &f.add(&gamma2, &gamma2));
    let gamma8 = f.add(&gamma8, &gamma8);
    let y = f.sub(&f.mul(&alpha, &f.sub(&beta4, &x)), &gamma8);
    Point { x, y, z }
}

fn plus(f: &Field, p: &Point, q: &Point) -> Point {
    if is_zero(&p.z) {
        return *q;
    }
    if is_zero(&q.z) {
        return *p;
    }
    // add-2007-bl.
    let z1z1 = f.mul(&p.z, &p.z);
    let z2z2 = f.mul(&q.z, &q.z);
    let u1 = f.mul(&p.x, &z2z2);
    let u2 = f.mul(&q.x, &z1z1);
    let s1 = f.mul(&f.mul(&p.y, &q.z), &z2z2);
    let s2 = f.mul(&f.mul(&q.y, &p.z), &z1z1);
    let h = f.sub(&u2, &u1);
    let r = f.sub(&s2, &s1);
    if is_zero(&h) {
        return if is_zero(&r) { double(f, p) } else { INFINITY };
    }
    let r = f.add(&r, &r);
    let h2 = f.add(&h, &h);
    let i = f.mul(&h2, &h2);
    let j = f.mul(&h, &i);
    let v = f.mul(&u1, &i);
    let x = f.sub(&f.sub(&f.mul(&r, &r), &j), &f.add(&v, &v));
    let s1j = f.mul(&s1, &j);
    let y = f.sub(&f.mul(&r, &f.sub(&v, &x)), &f.add(&s1j, &s1j));
    let zz = f.add(&p.z, &q.z);
    let z = f.mul(&f.sub(&f.sub(&f.mul(&zz, &zz), &z1z1), &z2z2), &h);
    Point { x, y, z }
}

/// `(r, s)` of an ASN.1 DER `SEQUENCE { INTEGER, INTEGER }`.
fn der_signature(der: &[u8]) -> Option<(U256, U256)> {
    let (&[0x30, length], rest) = der.split_first_chunk::<2>()? else {
        return None;
    };
    if usize::from(length) != rest.len() {
        return None;
    }
    let integer = |input: &[u8]| -> Option<(U256, usize)> {
        let (&[0x02, length], rest) = input.split_first_chunk::<2>()? else {
            return None;
        };
        let bytes = rest.get(..usize::from(length))?;
        let trimmed = &bytes[bytes.iter().take_while(|b| **b == 0).count()..];
        Some((from_be(trimmed)?, 2 + usize::from(length)))
    };
    let (r, used) = integer(rest)?;
    let (s, used_s) = integer(&rest[used..])?;
    (used + used_s == rest.len()).then_some((r, s))
}

/// Whether `signature` (ASN.1 DER) is a valid ECDSA P-256 signature of
/// `digest` (32 bytes) by `point`, an uncompressed SEC 1 point (`04‖x‖y`).
pub(crate) fn verify_prehashed(point: &[u8], digest: &[u8], signature: &[u8]) -> bool {
    let (Some((r, s)), Some(e), true) = (
        der_signature(signature),
        from_be(digest),
        point.len() == 65 && point[0] == 4,
    ) else {
        return false;
    };
    let (fp, fn_) = (Field(hex(P)), Field(hex(N)));
    let (Some(qx), Some(qy)) = (from_be(&point[1..33]), from_be(&point[33..])) else {
        return false;
    };
    // The key is on the curve: y² = x³ − 3x + b.
    let x3 = fp.mul(&fp.mul(&qx, &qx), &qx);
    let three_x = fp.add(&fp.add(&qx, &qx), &qx);
    let rhs = fp.add(&fp.sub(&x3, &three_x), &hex(B));
    if !less(&qx, &fp.0) || !less(&qy, &fp.0) || fp.mul(&qy, &qy) != rhs {
        return false;
    }
    if is_zero(&r) || is_zero(&s) || !less(&r, &fn_.0) || !less(&s, &fn_.0) {
        return false;
    }
    let w = fn_.inv(&s);
    let u1 = fn_.mul(&fn_.reduce(&e), &w);
    let u2 = fn_.mul(&r, &w);
    let one = [1, 0, 0, 0];
    let g = Point {
        x: hex(GX),
        y: hex(GY),
        z: one,
    };
    let q = Point {
        x: qx,
        y: qy,
        z: one,
    };
    let gq = plus(&fp, &g, &q);
    let mut sum = INFINITY;
    for i in (0..256).rev() {
        sum = double(&fp, &sum);
        sum = match (bit(&u1, i), bit(&u2, i)) {
            (true, true) => plus(&fp, &sum, &gq),
            (true, false) => plus(&fp, &sum, &g),
            (false, true) => plus(&fp, &sum, &q),
            (false, false) => sum,
        };
    }
    if is_zero(&sum.z) {
        return false;
    }
    let zinv = fp.inv(&sum.z);
    let x = fp.mul(&sum.x, &fp.mul(&zinv, &zinv));
    fn_.reduce(&x) == r
}
