"""Chinese commercial ("GM"/"SM") cryptography in pure Python.

Written from the published standards, standard library only:

* SM3 hash, GB/T 32905-2016 (GM/T 0004-2012), and HMAC-SM3 (RFC 2104);
* SM4 block cipher, GB/T 32907-2016 (GM/T 0002-2012), in ECB mode without
  padding and in GCM mode (NIST SP 800-38D with SM4 as the block cipher, as
  profiled by RFC 8998);
* SM2 public-key encryption, GB/T 32918.4-2016 (GM/T 0003.4-2012), on the
  recommended curve sm2p256v1 of GB/T 32918.5-2017, with the DER forms of
  ciphertexts and keys that OpenSSL reads and writes.

The emulator uses it to build E-ID ``EidInfo`` (an SM2-wrapped SM4 session
key plus SM4-ECB-encrypted JSON) and to decrypt SM4-GCM field encryption.
It is interoperable with OpenSSL but makes no attempt at side-channel
resistance: CPython integer arithmetic is not constant-time.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import re
import secrets
import struct

__all__ = [
    "sm3",
    "sm3_hmac",
    "sm4_encrypt_block",
    "sm4_decrypt_block",
    "sm4_ecb_encrypt",
    "sm4_ecb_decrypt",
    "sm4_gcm_encrypt",
    "sm4_gcm_decrypt",
    "sm2_generate_private_key",
    "sm2_public_key",
    "sm2_encrypt",
    "sm2_decrypt",
    "sm2_ciphertext_to_der",
    "sm2_ciphertext_from_der",
    "sm2_public_key_to_pem",
    "sm2_public_key_from_pem",
    "sm2_private_key_to_pem",
    "sm2_private_key_from_pem",
]

_MASK32 = 0xFFFFFFFF


def _rotl(x: int, n: int) -> int:
    """Rotate the 32-bit word x left by n bits (0 <= n <= 32)."""
    return ((x << n) | (x >> (32 - n))) & _MASK32


def _bytes(data: bytes) -> bytes:
    """Copy a bytes-like object; unlike bytes(), reject ints with TypeError."""
    return bytes(memoryview(data))


def _xor(a: bytes, b: bytes) -> bytes:
    """XOR a with the first len(a) bytes of b."""
    n = len(a)
    return (int.from_bytes(a, "big") ^ int.from_bytes(b[:n], "big")).to_bytes(n, "big")


# ---------------------------------------------------------------------------
# SM3 (GB/T 32905-2016)
# ---------------------------------------------------------------------------

_SM3_IV = (
    0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600,
    0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E,
)
# The round constant T_j is 79cc4519 for rounds 0-15 and 7a879d8a for rounds
# 16-63; the compression function always uses it rotated left by j mod 32.
_SM3_T = tuple(_rotl(0x79CC4519 if j < 16 else 0x7A879D8A, j % 32) for j in range(64))


def _sm3_compress(v: tuple[int, ...], block: bytes) -> tuple[int, ...]:
    """The SM3 compression function CF(V, B) for one 64-byte block."""
    # Message expansion: W[0..67]; W'[j] = W[j] ^ W[j+4] is formed in the loop.
    w = list(struct.unpack(">16I", block))
    for j in range(16, 68):
        x = w[j - 16] ^ w[j - 9] ^ _rotl(w[j - 3], 15)
        x ^= _rotl(x, 15) ^ _rotl(x, 23)  # permutation P1
        w.append(x ^ _rotl(w[j - 13], 7) ^ w[j - 6])

    a, b, c, d, e, f, g, h = v
    for j in range(64):
        a12 = _rotl(a, 12)
        ss1 = _rotl((a12 + e + _SM3_T[j]) & _MASK32, 7)
        ss2 = ss1 ^ a12
        if j < 16:
            ff = a ^ b ^ c
            gg = e ^ f ^ g
        else:
            ff = (a & b) | (a & c) | (b & c)
            gg = (e & f) | (~e & g)  # ~e is negative, but ~e & g is not
        tt1 = (ff + d + ss2 + (w[j] ^ w[j + 4])) & _MASK32
        tt2 = (gg + h + ss1 + w[j]) & _MASK32
        d, c, b, a = c, _rotl(b, 9), a, tt1
        h, g, f = g, _rotl(f, 19), e
        e = tt2 ^ _rotl(tt2, 9) ^ _rotl(tt2, 17)  # permutation P0
    return tuple(x ^ y for x, y in zip(v, (a, b, c, d, e, f, g, h)))


def sm3(data: bytes) -> bytes:
    """Return the 32-byte SM3 digest of ``data``."""
    # Padding as in the standard: a 1 bit, zeros up to 448 mod 512 bits, then
    # the message length in bits as a 64-bit big-endian integer.
    data = _bytes(data)
    padded = data + b"\x80" + bytes((55 - len(data)) % 64) + struct.pack(">Q", 8 * len(data))
    v = _SM3_IV
    for i in range(0, len(padded), 64):
        v = _sm3_compress(v, padded[i:i + 64])
    return struct.pack(">8I", *v)


def sm3_hmac(key: bytes, data: bytes) -> bytes:
    """Return HMAC-SM3 of ``data`` under ``key`` (RFC 2104, 64-byte block)."""
    key = _bytes(key)
    if len(key) > 64:
        key = sm3(key)
    key = key.ljust(64, b"\x00")
    inner = sm3(bytes(k ^ 0x36 for k in key) + _bytes(data))
    return sm3(bytes(k ^ 0x5C for k in key) + inner)


# ---------------------------------------------------------------------------
# SM4 (GB/T 32907-2016)
# ---------------------------------------------------------------------------

_SM4_SBOX = bytes.fromhex(
    "d690e9fecce13db716b614c228fb2c05"
    "2b679a762abe04c3aa44132649860699"
    "9c4250f491ef987a33540b43edcfac62"
    "e4b31ca9c908e89580df94fa758f3fa6"
    "4707a7fcf37317ba83593c19e6854fa8"
    "686b81b27164da8bf8eb0f4b70569d35"
    "1e240e5e6358d1a225227c3b01217887"
    "d40046579fd327524c3602e7a0c4c89e"
    "eabf8ad240c738b5a3f7f2cef96115a1"
    "e0ae5da49b341a55ad933230f58cb1e3"
    "1df6e22e8266ca60c02923ab0d534e6f"
    "d5db3745defd8e2f03ff6a726d6c5b51"
    "8d1baf92bbddbc7f11d95c411f105ad8"
    "0ac13188a5cd7bbd2d74d012b8e5b4b0"
    "8969974a0c96777e65b9f109c56ec684"
    "18f07dec3adc4d2079ee5f3ed7cb3948"
)
_SM4_FK = (0xA3B1BAC6, 0x56AA3350, 0x677D9197, 0xB27022DC)
# CK_i = (ck_{i,0}, ck_{i,1}, ck_{i,2}, ck_{i,3}) with ck_{i,j} = (4i + j) * 7 mod 256.
_SM4_CK = tuple(
    int.from_bytes(bytes((4 * i + j) * 7 % 256 for j in range(4)), "big") for i in range(32)
)


def _sm4_tables(linear) -> tuple[tuple[int, ...], ...]:
    """Fold the S-box layer tau and a linear map L into four byte-indexed tables.

    T(A) = L(tau(A)) and L is linear over XOR, so T(A) is the XOR of
    L(Sbox[byte] << shift) over the four bytes of A.
    """
    return tuple(
        tuple(linear(_SM4_SBOX[x] << shift) for x in range(256)) for shift in (24, 16, 8, 0)
    )


# Round transform T uses L(B) = B ^ B<<<2 ^ B<<<10 ^ B<<<18 ^ B<<<24; the key
# schedule's T' uses L'(B) = B ^ B<<<13 ^ B<<<23.
_SM4_ROUND_T = _sm4_tables(lambda b: b ^ _rotl(b, 2) ^ _rotl(b, 10) ^ _rotl(b, 18) ^ _rotl(b, 24))
_SM4_KEY_T = _sm4_tables(lambda b: b ^ _rotl(b, 13) ^ _rotl(b, 23))


def _sm4_round_keys(key: bytes) -> tuple[int, ...]:
    """Expand a 16-byte SM4 key into the 32 encryption round keys rk_0..rk_31."""
    if len(key) != 16:
        raise ValueError(f"SM4 key must be 16 bytes, got {len(key)}")
    t0, t1, t2, t3 = _SM4_KEY_T
    k = [m ^ fk for m, fk in zip(struct.unpack(">4I", key), _SM4_FK)]
    for i in range(32):
        x = k[i + 1] ^ k[i + 2] ^ k[i + 3] ^ _SM4_CK[i]
        k.append(k[i] ^ t0[x >> 24] ^ t1[(x >> 16) & 0xFF] ^ t2[(x >> 8) & 0xFF] ^ t3[x & 0xFF])
    return tuple(k[4:])


def _sm4_crypt(round_keys: tuple[int, ...], block: bytes) -> bytes:
    """Run the 32 SM4 rounds on one 16-byte block.

    Decryption is the same function with the round keys in reverse order.
    """
    t0, t1, t2, t3 = _SM4_ROUND_T
    x0, x1, x2, x3 = struct.unpack(">4I", block)
    for rk in round_keys:
        x = x1 ^ x2 ^ x3 ^ rk
        x0, x1, x2, x3 = x1, x2, x3, (
            x0 ^ t0[x >> 24] ^ t1[(x >> 16) & 0xFF] ^ t2[(x >> 8) & 0xFF] ^ t3[x & 0xFF]
        )
    # The final reverse transform R outputs (X35, X34, X33, X32).
    return struct.pack(">4I", x3, x2, x1, x0)


def _check_block(block: bytes) -> None:
    if len(block) != 16:
        raise ValueError(f"SM4 block must be 16 bytes, got {len(block)}")


def sm4_encrypt_block(key: bytes, block: bytes) -> bytes:
    """Encrypt one 16-byte block with a 16-byte SM4 key."""
    round_keys = _sm4_round_keys(key)
    _check_block(block)
    return _sm4_crypt(round_keys, block)


def sm4_decrypt_block(key: bytes, block: bytes) -> bytes:
    """Decrypt one 16-byte block with a 16-byte SM4 key."""
    round_keys = _sm4_round_keys(key)[::-1]
    _check_block(block)
    return _sm4_crypt(round_keys, block)


def _sm4_ecb(round_keys: tuple[int, ...], data: bytes) -> bytes:
    if len(data) % 16:
        raise ValueError(f"SM4-ECB data length must be a multiple of 16, got {len(data)}")
    return b"".join(_sm4_crypt(round_keys, data[i:i + 16]) for i in range(0, len(data), 16))


def sm4_ecb_encrypt(key: bytes, data: bytes) -> bytes:
    """SM4-ECB encryption without padding (``len(data)`` must be a multiple of 16)."""
    return _sm4_ecb(_sm4_round_keys(key), data)


def sm4_ecb_decrypt(key: bytes, data: bytes) -> bytes:
    """SM4-ECB decryption without padding (``len(data)`` must be a multiple of 16)."""
    return _sm4_ecb(_sm4_round_keys(key)[::-1], data)


# ---------------------------------------------------------------------------
# SM4-GCM (NIST SP 800-38D with SM4; RFC 8998)
# ---------------------------------------------------------------------------

# GCM's field GF(2^128) uses reflected bit order: bit 0 is the leftmost
# (most significant) bit of a block, so multiplying by x is a right shift,
# reduced by R = 11100001 || 0^120 when a bit falls off the right end.
_GCM_R = 0xE1 << 120


def _ghash_tables(h: int) -> tuple[tuple[int, ...], ...]:
    """Precompute X -> X*H as 32 tables of 16 entries, one per 4-bit nibble of X.

    Tables are ordered from the rightmost (least significant) nibble of X.
    """
    powers = []  # powers[i] = H * x^i: the contribution of bit i of X
    v = h
    for _ in range(128):
        powers.append(v)
        v = (v >> 1) ^ _GCM_R if v & 1 else v >> 1
    tables = []
    for position in range(31, -1, -1):
        # In the nibble at this position, value bit 8 is block bit 4*position.
        bits = powers[4 * position:4 * position + 4]
        row = []
        for value in range(16):
            acc = 0
            for i, power in enumerate(bits):
                if value & (8 >> i):
                    acc ^= power
            row.append(acc)
        tables.append(tuple(row))
    return tuple(tables)


def _ghash(tables: tuple[tuple[int, ...], ...], data: bytes) -> int:
    """GHASH_H over ``data``, whose length must be a multiple of 16."""
    y = 0
    for i in range(0, len(data), 16):
        x = y ^ int.from_bytes(data[i:i + 16], "big")
        y = 0
        for row in tables:
            y ^= row[x & 0xF]
            x >>= 4
    return y


def _pad16(data: bytes) -> bytes:
    return _bytes(data) + bytes(-len(data) % 16)


def _inc32(block: int) -> int:
    """Increment the rightmost 32 bits of a 128-bit block modulo 2^32."""
    return (block & ~_MASK32) | ((block + 1) & _MASK32)


def _gctr(round_keys: tuple[int, ...], counter: int, data: bytes) -> bytes:
    """GCTR: XOR ``data`` with E(CB_1) || E(CB_2) || ..., CB_1 = ``counter``."""
    out = []
    for i in range(0, len(data), 16):
        out.append(_xor(data[i:i + 16], _sm4_crypt(round_keys, counter.to_bytes(16, "big"))))
        counter = _inc32(counter)
    return b"".join(out)


def _gcm_setup(key: bytes, iv: bytes) -> tuple[tuple[int, ...], tuple[tuple[int, ...], ...], int]:
    """Return (round keys, GHASH tables for H = E_K(0^128), pre-counter block J0)."""
    round_keys = _sm4_round_keys(key)
    if not iv:
        raise ValueError("SM4-GCM IV must not be empty")
    tables = _ghash_tables(int.from_bytes(_sm4_crypt(round_keys, bytes(16)), "big"))
    if len(iv) == 12:
        j0 = int.from_bytes(_bytes(iv) + b"\x00\x00\x00\x01", "big")
    else:
        # J0 = GHASH(IV || 0^(s+64) || [len(IV)]_64), s padding IV to a block.
        j0 = _ghash(tables, _pad16(iv) + (8 * len(iv)).to_bytes(16, "big"))
    return round_keys, tables, j0


def _gcm_tag(
    round_keys: tuple[int, ...],
    tables: tuple[tuple[int, ...], ...],
    j0: int,
    aad: bytes,
    ciphertext: bytes,
) -> bytes:
    """T = GCTR(J0, GHASH(A || 0^v || C || 0^u || [len(A)]_64 || [len(C)]_64))."""
    lengths = ((8 * len(aad)) << 64 | 8 * len(ciphertext)).to_bytes(16, "big")
    s = _ghash(tables, _pad16(aad) + _pad16(ciphertext) + lengths)
    return _gctr(round_keys, j0, s.to_bytes(16, "big"))


def sm4_gcm_encrypt(key: bytes, iv: bytes, plaintext: bytes, aad: bytes = b"") -> tuple[bytes, bytes]:
    """SM4-GCM authenticated encryption; returns ``(ciphertext, 16-byte tag)``.

    A 12-byte IV is the normal case; any other non-empty length is hashed
    into the pre-counter block as SP 800-38D specifies.
    """
    round_keys, tables, j0 = _gcm_setup(key, iv)
    ciphertext = _gctr(round_keys, _inc32(j0), plaintext)
    return ciphertext, _gcm_tag(round_keys, tables, j0, aad, ciphertext)


def sm4_gcm_decrypt(key: bytes, iv: bytes, ciphertext: bytes, tag: bytes, aad: bytes = b"") -> bytes:
    """SM4-GCM authenticated decryption.

    The tag is checked (in constant time) before anything is decrypted;
    raises ``ValueError("SM4-GCM tag mismatch")`` if it does not verify.
    """
    round_keys, tables, j0 = _gcm_setup(key, iv)
    if not hmac.compare_digest(_gcm_tag(round_keys, tables, j0, aad, ciphertext), tag):
        raise ValueError("SM4-GCM tag mismatch")
    return _gctr(round_keys, _inc32(j0), ciphertext)


# ---------------------------------------------------------------------------
# SM2 curve arithmetic (GB/T 32918.1 and .5, curve sm2p256v1)
# ---------------------------------------------------------------------------

_P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
_A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC  # = p - 3
_B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
_GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
_GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
# The cofactor is 1, so every affine point on the curve has order n.

# Points are kept in Jacobian coordinates (X, Y, Z) for affine (X/Z^2, Y/Z^3);
# Z == 0 is the point at infinity.
_Jacobian = tuple[int, int, int]
_INFINITY: _Jacobian = (1, 1, 0)


def _on_curve(x: int, y: int) -> bool:
    return 0 <= x < _P and 0 <= y < _P and (y * y - (x * x + _A) * x - _B) % _P == 0


def _double(pt: _Jacobian) -> _Jacobian:
    """2P, using a = -3 (formula "dbl-2001-b" of the Explicit-Formulas Database)."""
    x1, y1, z1 = pt
    if not z1 or not y1:
        return _INFINITY
    delta = z1 * z1 % _P
    gamma = y1 * y1 % _P
    beta = x1 * gamma % _P
    alpha = 3 * (x1 - delta) * (x1 + delta) % _P
    x3 = (alpha * alpha - 8 * beta) % _P
    z3 = ((y1 + z1) ** 2 - gamma - delta) % _P
    y3 = (alpha * (4 * beta - x3) - 8 * gamma * gamma) % _P
    return x3, y3, z3


def _add(p1: _Jacobian, p2: _Jacobian) -> _Jacobian:
    """P1 + P2 for any two points (formula "add-1998-cmo-2" of the Explicit-Formulas Database)."""
    x1, y1, z1 = p1
    x2, y2, z2 = p2
    if not z1:
        return p2
    if not z2:
        return p1
    z1z1 = z1 * z1 % _P
    z2z2 = z2 * z2 % _P
    u1 = x1 * z2z2 % _P
    u2 = x2 * z1z1 % _P
    s1 = y1 * z2 * z2z2 % _P
    s2 = y2 * z1 * z1z1 % _P
    h = (u2 - u1) % _P
    r = (s2 - s1) % _P
    if not h:
        return _double(p1) if not r else _INFINITY
    hh = h * h % _P
    hhh = h * hh % _P
    v = u1 * hh % _P
    x3 = (r * r - hhh - 2 * v) % _P
    y3 = (r * (v - x3) - s1 * hhh) % _P
    return x3, y3, z1 * z2 * h % _P


def _to_affine(pt: _Jacobian) -> tuple[int, int]:
    x, y, z = pt
    if not z:
        raise ValueError("point at infinity has no affine coordinates")
    z_inv = pow(z, -1, _P)
    z_inv2 = z_inv * z_inv % _P
    return x * z_inv2 % _P, y * z_inv2 * z_inv % _P


def _small_multiples(base: _Jacobian) -> list[_Jacobian]:
    """[0*B, 1*B, ..., 15*B]: the table for one 4-bit digit."""
    multiples = [_INFINITY, base]
    for _ in range(14):
        multiples.append(_add(multiples[-1], base))
    return multiples


def _multiply(k: int, point: tuple[int, int]) -> _Jacobian:
    """k*P for an affine point P, with a fixed 4-bit window (k < 2^256)."""
    window = _small_multiples((point[0], point[1], 1))
    acc = _INFINITY
    for shift in range(252, -1, -4):
        for _ in range(4):
            acc = _double(acc)
        acc = _add(acc, window[(k >> shift) & 0xF])
    return acc


@functools.lru_cache(maxsize=None)
def _base_table() -> tuple[tuple[_Jacobian, ...], ...]:
    """table[i][j] = j * 16^i * G, built once on first use."""
    table = []
    row_base = (_GX, _GY, 1)
    for _ in range(64):
        row = _small_multiples(row_base)
        table.append(tuple(row))
        row_base = _add(row[15], row_base)  # 16^(i+1) * G
    return tuple(table)


def _multiply_base(k: int) -> _Jacobian:
    """k*G with the precomputed table: one addition per 4-bit digit of k."""
    acc = _INFINITY
    for row in _base_table():
        acc = _add(acc, row[k & 0xF])
        k >>= 4
    return acc


def _check_private_key(d: int) -> None:
    # GB/T 32918.1 key pair generation: d is in [1, n-2].
    if not isinstance(d, int) or isinstance(d, bool):
        raise TypeError("SM2 private key must be an int")
    if not 1 <= d <= _N - 2:
        raise ValueError("SM2 private key out of range [1, n-2]")


def _check_public_key(public_key: tuple[int, int]) -> tuple[int, int]:
    try:
        x, y = public_key
    except (TypeError, ValueError):
        raise ValueError("SM2 public key must be an (x, y) pair") from None
    if not (isinstance(x, int) and isinstance(y, int) and _on_curve(x, y)):
        raise ValueError("SM2 public key is not a point on sm2p256v1")
    return x, y


def _encode_point(x: int, y: int) -> bytes:
    """Uncompressed SEC1 point encoding 04 || X || Y."""
    return b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")


def _decode_point(data: bytes) -> tuple[int, int]:
    """Decode an uncompressed (04) or compressed (02/03) point on sm2p256v1."""
    if len(data) == 65 and data[0] == 4:
        x = int.from_bytes(data[1:33], "big")
        y = int.from_bytes(data[33:], "big")
    elif len(data) == 33 and data[0] in (2, 3):
        x = int.from_bytes(data[1:], "big")
        if x >= _P:
            raise ValueError("SM2 point x coordinate out of range")
        # p = 3 (mod 4), so a square root of v is v^((p+1)/4) when one exists.
        y = pow((x * x + _A) * x + _B, (_P + 1) // 4, _P)
        if y & 1 != data[0] & 1:
            y = _P - y
    else:
        raise ValueError("SM2 point must be 65 bytes uncompressed (04) or 33 bytes compressed (02/03)")
    if not _on_curve(x, y):
        raise ValueError("SM2 point is not on the curve sm2p256v1")
    return x, y


def sm2_generate_private_key() -> int:
    """Return a fresh SM2 private key d, uniform in [1, n-2]."""
    return secrets.randbelow(_N - 2) + 1


def sm2_public_key(d: int) -> tuple[int, int]:
    """Return the public key d*G of private key ``d`` as affine (x, y)."""
    _check_private_key(d)
    return _to_affine(_multiply_base(d))


# ---------------------------------------------------------------------------
# SM2 public-key encryption (GB/T 32918.4-2016)
# ---------------------------------------------------------------------------

_SM2_C1_LEN = 65
_SM2_C3_LEN = 32


def _sm2_kdf(z: bytes, klen: int) -> bytes:
    """KDF(Z, klen): SM3(Z || ct) for a 32-bit big-endian counter ct = 1, 2, ..."""
    blocks = (klen + 31) // 32
    return b"".join(sm3(z + ct.to_bytes(4, "big")) for ct in range(1, blocks + 1))[:klen]


def sm2_encrypt(public_key: tuple[int, int], message: bytes, *, k: int | None = None) -> bytes:
    """Encrypt ``message`` to ``public_key``; returns C1 || C3 || C2.

    C1 = k*G as 04 || x1 || y1 (65 bytes), C3 = SM3(x2 || M || y2) (32 bytes)
    and C2 = M XOR KDF(x2 || y2, len(M)), where (x2, y2) = k*P.  ``k`` fixes
    the ephemeral scalar (in [1, n-1]) and is meant for deterministic tests
    only; by default a fresh one is drawn from ``secrets``.
    """
    pub = _check_public_key(public_key)
    message = _bytes(message)
    if k is not None and not 1 <= k <= _N - 1:
        raise ValueError("SM2 ephemeral k out of range [1, n-1]")
    while True:
        scalar = k if k is not None else secrets.randbelow(_N - 1) + 1
        c1 = _encode_point(*_to_affine(_multiply_base(scalar)))
        # With cofactor 1 and P a valid curve point, k*P is never infinity.
        x2, y2 = (c.to_bytes(32, "big") for c in _to_affine(_multiply(scalar, pub)))
        t = _sm2_kdf(x2 + y2, len(message))
        # Step A5: an all-zero key stream means a new k.  An empty message
        # has no key stream to check.
        if not message or any(t):
            break
        if k is not None:
            raise ValueError("SM2 KDF output is all zero for this k; use another k")
    return c1 + sm3(x2 + message + y2) + _xor(message, t)


def sm2_decrypt(private_key: int, ciphertext: bytes) -> bytes:
    """Decrypt a C1 || C3 || C2 SM2 ciphertext (C1 uncompressed, 04-prefixed).

    Raises ``ValueError`` if the ciphertext is malformed, C1 is not on the
    curve, or C3 does not match (wrong key or corrupted data).
    """
    _check_private_key(private_key)
    ciphertext = _bytes(ciphertext)
    if len(ciphertext) < _SM2_C1_LEN + _SM2_C3_LEN:
        raise ValueError("SM2 ciphertext too short")
    if ciphertext[0] != 4:
        raise ValueError("SM2 ciphertext C1 must be an uncompressed point (04 prefix)")
    x1 = int.from_bytes(ciphertext[1:33], "big")
    y1 = int.from_bytes(ciphertext[33:65], "big")
    if not _on_curve(x1, y1):
        raise ValueError("SM2 ciphertext C1 is not on the curve")
    c3 = ciphertext[_SM2_C1_LEN:_SM2_C1_LEN + _SM2_C3_LEN]
    c2 = ciphertext[_SM2_C1_LEN + _SM2_C3_LEN:]
    x2, y2 = (c.to_bytes(32, "big") for c in _to_affine(_multiply(private_key, (x1, y1))))
    t = _sm2_kdf(x2 + y2, len(c2))
    if c2 and not any(t):
        raise ValueError("SM2 KDF output is all zero")
    message = _xor(c2, t)
    if not hmac.compare_digest(sm3(x2 + message + y2), c3):
        raise ValueError("SM2 C3 mismatch: wrong key or corrupted ciphertext")
    return message


# ---------------------------------------------------------------------------
# DER reader/writer (just the subset the SM2 structures need)
# ---------------------------------------------------------------------------

_TAG_INTEGER = 0x02
_TAG_BIT_STRING = 0x03
_TAG_OCTET_STRING = 0x04
_TAG_OID = 0x06
_TAG_SEQUENCE = 0x30
_TAG_CONTEXT_0 = 0xA0  # [0] EXPLICIT, constructed
_TAG_CONTEXT_1 = 0xA1  # [1] EXPLICIT, constructed


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _der_uint(n: int) -> bytes:
    # Minimal two's complement: one extra 00 byte when the top bit would be set.
    return _der(_TAG_INTEGER, n.to_bytes(n.bit_length() // 8 + 1, "big"))


def _der_sequence(*items: bytes) -> bytes:
    return _der(_TAG_SEQUENCE, b"".join(items))


def _oid(dotted: str) -> bytes:
    """Content octets of an OBJECT IDENTIFIER (base-128 arcs, first two merged)."""
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


_OID_EC_PUBLIC_KEY = _oid("1.2.840.10045.2.1")
_OID_SM2P256V1 = _oid("1.2.156.10197.1.301")
_SM2_CURVE = _der(_TAG_OID, _OID_SM2P256V1)
_EC_ALGORITHM = _der_sequence(_der(_TAG_OID, _OID_EC_PUBLIC_KEY), _SM2_CURVE)


def _der_read(data: bytes, pos: int, what: str) -> tuple[int, bytes, int]:
    """Read the TLV at ``pos``; return (tag, content, position after it)."""
    if pos + 2 > len(data):
        raise ValueError(f"{what}: truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if tag & 0x1F == 0x1F:
        raise ValueError(f"{what}: unsupported DER tag")
    if length & 0x80:
        count = length & 0x7F
        # 0x80 is BER's indefinite length, which DER forbids.
        if not 1 <= count <= 4 or pos + count > len(data):
            raise ValueError(f"{what}: bad DER length")
        length = int.from_bytes(data[pos:pos + count], "big")
        if length < 0x80 or data[pos] == 0:
            raise ValueError(f"{what}: non-minimal DER length")
        pos += count
    if pos + length > len(data):
        raise ValueError(f"{what}: truncated DER")
    return tag, data[pos:pos + length], pos + length


def _der_unwrap(data: bytes, tag: int, what: str) -> bytes:
    """Content of ``data``, which must be exactly one TLV with ``tag``."""
    got, content, end = _der_read(data, 0, what)
    if got != tag or end != len(data):
        raise ValueError(f"{what}: unexpected DER structure")
    return content


def _der_items(sequence: bytes, what: str) -> list[tuple[int, bytes]]:
    """(tag, content) of each element of a DER SEQUENCE given whole."""
    content = _der_unwrap(sequence, _TAG_SEQUENCE, what)
    items, pos = [], 0
    while pos < len(content):
        tag, value, pos = _der_read(content, pos, what)
        items.append((tag, value))
    return items


def _expect(item: tuple[int, bytes], tag: int, what: str) -> bytes:
    if item[0] != tag:
        raise ValueError(f"{what}: unexpected DER element (tag 0x{item[0]:02x})")
    return item[1]


def _parse_uint(content: bytes, what: str) -> int:
    if not content or content[0] & 0x80:
        raise ValueError(f"{what}: INTEGER must be non-negative")
    if len(content) > 1 and content[0] == 0 and not content[1] & 0x80:
        raise ValueError(f"{what}: non-minimal INTEGER")
    return int.from_bytes(content, "big")


def _parse_bit_string(content: bytes, what: str) -> bytes:
    if not content or content[0] != 0:
        raise ValueError(f"{what}: BIT STRING must have no unused bits")
    return content[1:]


def _check_ec_algorithm(item: tuple[int, bytes], what: str) -> None:
    # DER is canonical, so the AlgorithmIdentifier can be compared whole.
    if _der(*item) != _EC_ALGORITHM:
        raise ValueError(f"{what}: algorithm is not id-ecPublicKey with named curve sm2p256v1")


# ---------------------------------------------------------------------------
# SM2 ciphertext DER form (GM/T 0009, as OpenSSL reads and writes it)
# ---------------------------------------------------------------------------


def sm2_ciphertext_to_der(raw_c1c3c2: bytes) -> bytes:
    """Convert raw C1 || C3 || C2 to DER ``SEQUENCE {x, y, OCTET STRING C3, OCTET STRING C2}``."""
    raw = _bytes(raw_c1c3c2)
    if len(raw) < _SM2_C1_LEN + _SM2_C3_LEN or raw[0] != 4:
        raise ValueError("SM2 ciphertext must be 04 || X || Y || C3 || C2")
    return _der_sequence(
        _der_uint(int.from_bytes(raw[1:33], "big")),
        _der_uint(int.from_bytes(raw[33:65], "big")),
        _der(_TAG_OCTET_STRING, raw[_SM2_C1_LEN:_SM2_C1_LEN + _SM2_C3_LEN]),
        _der(_TAG_OCTET_STRING, raw[_SM2_C1_LEN + _SM2_C3_LEN:]),
    )


def sm2_ciphertext_from_der(der: bytes) -> bytes:
    """Convert the DER ciphertext form back to raw C1 || C3 || C2."""
    what = "SM2 DER ciphertext"
    items = _der_items(_bytes(der), what)
    if len(items) != 4:
        raise ValueError(f"{what}: expected 4 elements, got {len(items)}")
    x = _parse_uint(_expect(items[0], _TAG_INTEGER, what), what)
    y = _parse_uint(_expect(items[1], _TAG_INTEGER, what), what)
    c3 = _expect(items[2], _TAG_OCTET_STRING, what)
    c2 = _expect(items[3], _TAG_OCTET_STRING, what)
    if x >= _P or y >= _P:
        raise ValueError(f"{what}: C1 coordinate out of range")
    if len(c3) != _SM2_C3_LEN:
        raise ValueError(f"{what}: C3 must be {_SM2_C3_LEN} bytes")
    return _encode_point(x, y) + c3 + c2


# ---------------------------------------------------------------------------
# SM2 key PEM/DER encodings
# ---------------------------------------------------------------------------

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)


def _pem_encode(label: str, der: bytes) -> str:
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def _pem_decode(pem: str | bytes, labels: tuple[str, ...]) -> tuple[str, bytes]:
    """Return (label, DER) of the first PEM block whose label is in ``labels``.

    Other blocks (such as the "EC PARAMETERS" or "SM2 PARAMETERS" block that
    ``openssl ecparam -genkey`` writes first) are skipped.
    """
    if isinstance(pem, (bytes, bytearray)):
        try:
            pem = pem.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError("PEM must be ASCII text") from None
    if not isinstance(pem, str):
        raise TypeError("PEM must be str or bytes")
    found = []
    for match in _PEM_BLOCK.finditer(pem):
        label, body = match.group(1), match.group(2)
        if label not in labels:
            found.append(label)
            continue
        if ":" in body:
            raise ValueError(f"{label} PEM has headers (encrypted PEM is not supported)")
        try:
            return label, base64.b64decode("".join(body.split()), validate=True)
        except binascii.Error:
            raise ValueError(f"{label} PEM body is not valid base64") from None
    wanted = " or ".join(labels)
    raise ValueError(f"no {wanted} PEM block found (found: {', '.join(found) or 'none'})")


def sm2_public_key_to_pem(public_key: tuple[int, int]) -> str:
    """Encode a public key as a SubjectPublicKeyInfo PEM ("PUBLIC KEY").

    The algorithm is id-ecPublicKey with the named curve sm2p256v1, as
    OpenSSL writes SM2 keys; the point is uncompressed.
    """
    x, y = _check_public_key(public_key)
    spki = _der_sequence(_EC_ALGORITHM, _der(_TAG_BIT_STRING, b"\x00" + _encode_point(x, y)))
    return _pem_encode("PUBLIC KEY", spki)


def sm2_public_key_from_pem(pem: str | bytes) -> tuple[int, int]:
    """Decode a SubjectPublicKeyInfo PEM holding an sm2p256v1 public key.

    Accepts uncompressed and compressed points and checks that the point is
    on the curve; raises ``ValueError`` on anything else.
    """
    what = "SM2 public key"
    _, der = _pem_decode(pem, ("PUBLIC KEY",))
    items = _der_items(der, what)
    if len(items) != 2:
        raise ValueError(f"{what}: SubjectPublicKeyInfo must have 2 elements")
    _check_ec_algorithm(items[0], what)
    return _decode_point(_parse_bit_string(_expect(items[1], _TAG_BIT_STRING, what), what))


def _ec_private_key_der(d: int) -> bytes:
    """SEC1 ECPrivateKey: version 1, the 32-byte key and [1] the public key.

    The [0] curve parameters are left out, as in PKCS#8, where the
    AlgorithmIdentifier already names the curve.
    """
    public = _der(_TAG_BIT_STRING, b"\x00" + _encode_point(*sm2_public_key(d)))
    return _der_sequence(
        _der_uint(1),
        _der(_TAG_OCTET_STRING, d.to_bytes(32, "big")),
        _der(_TAG_CONTEXT_1, public),
    )


def _parse_ec_private_key(der: bytes) -> int:
    """Parse a SEC1 ECPrivateKey; check its curve and public key if present."""
    what = "SM2 EC private key"
    items = _der_items(der, what)
    if len(items) < 2 or _parse_uint(_expect(items[0], _TAG_INTEGER, what), what) != 1:
        raise ValueError(f"{what}: expected ECPrivateKey version 1")
    secret = _expect(items[1], _TAG_OCTET_STRING, what)
    if not 1 <= len(secret) <= 32:
        raise ValueError(f"{what}: private key must be 1 to 32 bytes")
    d = int.from_bytes(secret, "big")
    if not 1 <= d <= _N - 2:
        raise ValueError(f"{what}: private key out of range [1, n-2]")
    public = None
    optional = items[2:]
    if optional and optional[0][0] == _TAG_CONTEXT_0:
        # [0] EXPLICIT ECParameters: only the namedCurve sm2p256v1 is supported.
        if optional.pop(0)[1] != _SM2_CURVE:
            raise ValueError(f"{what}: curve is not the named curve sm2p256v1")
    if optional and optional[0][0] == _TAG_CONTEXT_1:
        bits = _der_unwrap(optional.pop(0)[1], _TAG_BIT_STRING, what)
        public = _decode_point(_parse_bit_string(bits, what))
    if optional:
        raise ValueError(f"{what}: unexpected trailing elements")
    if public is not None and public != sm2_public_key(d):
        raise ValueError(f"{what}: embedded public key does not match the private key")
    return d


def sm2_private_key_to_pem(d: int) -> str:
    """Encode a private key as unencrypted PKCS#8 PEM ("PRIVATE KEY").

    The PrivateKeyInfo names id-ecPublicKey / sm2p256v1 and wraps a SEC1
    ECPrivateKey that includes the public key, as OpenSSL writes it.
    """
    _check_private_key(d)
    info = _der_sequence(_der_uint(0), _EC_ALGORITHM, _der(_TAG_OCTET_STRING, _ec_private_key_der(d)))
    return _pem_encode("PRIVATE KEY", info)


def sm2_private_key_from_pem(pem: str | bytes) -> int:
    """Decode an sm2p256v1 private key from PEM and return d.

    Accepts PKCS#8 "PRIVATE KEY" and SEC1 "EC PRIVATE KEY" (as written by
    ``gmssl``/older OpenSSL) or "SM2 PRIVATE KEY" (OpenSSL 3 ``openssl ec``);
    a preceding parameters block is skipped.  Encrypted keys are not
    supported.  Raises ``ValueError`` on anything malformed.
    """
    label, der = _pem_decode(pem, ("PRIVATE KEY", "EC PRIVATE KEY", "SM2 PRIVATE KEY"))
    if label != "PRIVATE KEY":
        return _parse_ec_private_key(der)
    what = "SM2 PKCS#8 private key"
    items = _der_items(der, what)
    if len(items) < 3 or _parse_uint(_expect(items[0], _TAG_INTEGER, what), what) not in (0, 1):
        raise ValueError(f"{what}: expected PrivateKeyInfo version 0 or 1")
    _check_ec_algorithm(items[1], what)
    # Anything after privateKey must be the optional [0] attributes or
    # [1] publicKey of RFC 5958; neither is needed here.
    if any(tag & 0xC0 != 0x80 for tag, _ in items[3:]):
        raise ValueError(f"{what}: unexpected trailing elements")
    return _parse_ec_private_key(_expect(items[2], _TAG_OCTET_STRING, what))
