"""AES-256-CBC and RSA PKCS#1 v1.5 in pure Python, standard library only.

Written from FIPS 197 (AES), NIST SP 800-38A (CBC), RFC 5652 §6.3 (PKCS#7
padding) and RFC 8017 (RSA, RSAES-PKCS1-v1_5, the RSAPrivateKey and PKCS#8
key syntaxes). The emulator uses them to decrypt the FaceID ``Encryption``
object (an AES key wrapped with RSA) and to encrypt responses. Like ``gm``,
this is test code: CPython integer arithmetic and table lookups are not
constant-time.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets

__all__ = [
    "aes256_cbc_encrypt",
    "aes256_cbc_decrypt",
    "RsaPrivateKey",
    "rsa_private_key_from_pem",
    "rsa_public_key_pem",
    "rsa_pkcs1_encrypt",
    "rsa_pkcs1_decrypt",
]

# ---------------------------------------------------------------------------
# AES (FIPS 197)
# ---------------------------------------------------------------------------


def _xtime(a: int) -> int:
    a <<= 1
    return (a ^ 0x11B) if a & 0x100 else a


def _gmul(a: int, b: int) -> int:
    r = 0
    while b:
        if b & 1:
            r ^= a
        a = _xtime(a)
        b >>= 1
    return r


def _make_sbox() -> tuple[bytes, bytes]:
    sbox = bytearray(256)
    inv = bytearray(256)
    # exp/log tables of the generator 3 give the multiplicative inverses in GF(2^8)
    exp, log = [0] * 255, [0] * 256
    v = 1
    for i in range(255):
        exp[i], log[v] = v, i
        v = _gmul(v, 3)
    for x in range(256):
        # the inverse (0 maps to 0), then the affine transform
        y = 0 if x == 0 else exp[(255 - log[x]) % 255]
        s = y
        for shift in range(1, 5):
            s ^= ((y << shift) | (y >> (8 - shift))) & 0xFF
        s ^= 0x63
        sbox[x] = s
        inv[s] = x
    return bytes(sbox), bytes(inv)


_SBOX, _INV_SBOX = _make_sbox()
_MUL = {k: bytes(_gmul(x, k) for x in range(256)) for k in (2, 3, 9, 11, 13, 14)}


def _expand_key(key: bytes) -> list[bytes]:
    """The 15 round keys of AES-256."""
    if len(key) != 32:
        raise ValueError("AES-256 needs a 32-byte key")
    words = [bytes(key[i : i + 4]) for i in range(0, 32, 4)]
    rcon = 1
    for i in range(8, 60):
        t = words[i - 1]
        if i % 8 == 0:
            t = bytes(_SBOX[b] for b in t[1:] + t[:1])
            t = bytes([t[0] ^ rcon]) + t[1:]
            rcon = _xtime(rcon)
        elif i % 8 == 4:
            t = bytes(_SBOX[b] for b in t)
        words.append(bytes(a ^ b for a, b in zip(words[i - 8], t)))
    return [b"".join(words[4 * r : 4 * r + 4]) for r in range(15)]


def _add(state: bytearray, rk: bytes) -> None:
    for i in range(16):
        state[i] ^= rk[i]


# State bytes are in input order: column c is state[4c : 4c + 4].
_SHIFT = [(i + 4 * (i % 4)) % 16 for i in range(16)]  # ShiftRows: new[i] = old[_SHIFT[i]]
_UNSHIFT = [0] * 16
for _i, _j in enumerate(_SHIFT):
    _UNSHIFT[_j] = _i


def _encrypt_block(rks: list[bytes], block: bytes) -> bytes:
    s = bytearray(block)
    _add(s, rks[0])
    m2, m3 = _MUL[2], _MUL[3]
    for r in range(1, 15):
        s = bytearray(_SBOX[s[_SHIFT[i]]] for i in range(16))
        if r != 14:
            t = bytearray(16)
            for c in range(0, 16, 4):
                a0, a1, a2, a3 = s[c : c + 4]
                t[c] = m2[a0] ^ m3[a1] ^ a2 ^ a3
                t[c + 1] = a0 ^ m2[a1] ^ m3[a2] ^ a3
                t[c + 2] = a0 ^ a1 ^ m2[a2] ^ m3[a3]
                t[c + 3] = m3[a0] ^ a1 ^ a2 ^ m2[a3]
            s = t
        _add(s, rks[r])
    return bytes(s)


def _decrypt_block(rks: list[bytes], block: bytes) -> bytes:
    s = bytearray(block)
    _add(s, rks[14])
    m9, m11, m13, m14 = _MUL[9], _MUL[11], _MUL[13], _MUL[14]
    for r in range(13, -1, -1):
        s = bytearray(_INV_SBOX[s[_UNSHIFT[i]]] for i in range(16))
        _add(s, rks[r])
        if r != 0:
            t = bytearray(16)
            for c in range(0, 16, 4):
                a0, a1, a2, a3 = s[c : c + 4]
                t[c] = m14[a0] ^ m11[a1] ^ m13[a2] ^ m9[a3]
                t[c + 1] = m9[a0] ^ m14[a1] ^ m11[a2] ^ m13[a3]
                t[c + 2] = m13[a0] ^ m9[a1] ^ m14[a2] ^ m11[a3]
                t[c + 3] = m11[a0] ^ m13[a1] ^ m9[a2] ^ m14[a3]
            s = t
    return bytes(s)


def aes256_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """AES-256-CBC with PKCS#7 padding."""
    if len(iv) != 16:
        raise ValueError("the IV must be 16 bytes")
    rks = _expand_key(bytes(key))
    pad = 16 - len(plaintext) % 16
    data = bytes(plaintext) + bytes([pad]) * pad
    out = bytearray()
    prev = bytes(iv)
    for i in range(0, len(data), 16):
        prev = _encrypt_block(rks, bytes(a ^ b for a, b in zip(data[i : i + 16], prev)))
        out += prev
    return bytes(out)


def aes256_cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """The inverse; ValueError for a bad length or bad padding (a wrong key or IV)."""
    if len(iv) != 16:
        raise ValueError("the IV must be 16 bytes")
    if not ciphertext or len(ciphertext) % 16:
        raise ValueError("the ciphertext is not a whole number of blocks")
    rks = _expand_key(bytes(key))
    out = bytearray()
    prev = bytes(iv)
    for i in range(0, len(ciphertext), 16):
        block = bytes(ciphertext[i : i + 16])
        out += bytes(a ^ b for a, b in zip(_decrypt_block(rks, block), prev))
        prev = block
    pad = out[-1]
    if not 1 <= pad <= 16 or out[-pad:] != bytes([pad]) * pad:
        raise ValueError("bad padding")
    return bytes(out[:-pad])


# ---------------------------------------------------------------------------
# RSA (RFC 8017)
# ---------------------------------------------------------------------------


def _der_read(data: bytes, pos: int) -> tuple[int, bytes, int]:
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, data[pos : pos + length], pos + length


def _der_items(data: bytes) -> list[tuple[int, bytes]]:
    items, pos = [], 0
    while pos < len(data):
        tag, content, pos = _der_read(data, pos)
        items.append((tag, content))
    return items


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _der_int(v: int) -> bytes:
    b = v.to_bytes(v.bit_length() // 8 + 1, "big")
    return b"\x02" + _der_len(len(b)) + b


class RsaPrivateKey:
    """n, e, d and the CRT values of an RSA key."""

    def __init__(self, n: int, e: int, d: int, p: int, q: int) -> None:
        self.n, self.e, self.d, self.p, self.q = n, e, d, p, q
        self.dp, self.dq, self.qinv = d % (p - 1), d % (q - 1), pow(q, -1, p)
        self.size = (n.bit_length() + 7) // 8

    def raw_decrypt(self, c: int) -> int:
        m1 = pow(c, self.dp, self.p)
        m2 = pow(c, self.dq, self.q)
        return m2 + self.q * ((self.qinv * (m1 - m2)) % self.p)


_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.DOTALL)
_OID_RSA = bytes.fromhex("2a864886f70d010101")


def rsa_private_key_from_pem(pem: str | bytes) -> RsaPrivateKey:
    """A PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY" PEM (unencrypted)."""
    text = pem.decode("ascii") if isinstance(pem, bytes) else pem
    m = _PEM.search(text)
    if m is None or m.group(1) not in ("PRIVATE KEY", "RSA PRIVATE KEY"):
        raise ValueError("not an RSA private key PEM")
    try:
        der = base64.b64decode("".join(m.group(2).split()), validate=True)
    except binascii.Error as exc:
        raise ValueError("bad base64 in the PEM") from exc
    tag, body, end = _der_read(der, 0)
    if tag != 0x30 or end != len(der):
        raise ValueError("not a DER SEQUENCE")
    items = _der_items(body)
    if m.group(1) == "PRIVATE KEY":
        if len(items) < 3 or items[1][0] != 0x30 or items[2][0] != 0x04:
            raise ValueError("not a PKCS#8 key")
        alg = _der_items(items[1][1])
        if not alg or alg[0] != (0x06, _OID_RSA):
            raise ValueError("not an RSA key")
        tag, body, _ = _der_read(items[2][1], 0)
        items = _der_items(body)
    if len(items) < 9 or any(t != 0x02 for t, _ in items[:9]):
        raise ValueError("not an RSAPrivateKey")
    _, n, e, d, p, q = (int.from_bytes(v, "big") for _, v in items[:6])
    if n != p * q or pow(pow(2, e, n), d, n) != 2:
        raise ValueError("inconsistent RSA key")
    return RsaPrivateKey(n, e, d, p, q)


def rsa_public_key_pem(key: RsaPrivateKey) -> str:
    """The public half as a PKCS#1 "RSA PUBLIC KEY" PEM (the form FaceID documents)."""
    content = _der_int(key.n) + _der_int(key.e)
    der = b"\x30" + _der_len(len(content)) + content
    b64 = base64.b64encode(der).decode()
    lines = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
    return f"-----BEGIN RSA PUBLIC KEY-----\n{lines}\n-----END RSA PUBLIC KEY-----\n"


def rsa_pkcs1_encrypt(n: int, e: int, message: bytes) -> bytes:
    """RSAES-PKCS1-v1_5 encryption (for tests: the client side is the C core)."""
    k = (n.bit_length() + 7) // 8
    if len(message) > k - 11:
        raise ValueError("message too long")
    ps = bytearray()
    while len(ps) < k - 3 - len(message):
        b = secrets.randbelow(255) + 1
        ps.append(b)
    em = b"\x00\x02" + bytes(ps) + b"\x00" + bytes(message)
    return pow(int.from_bytes(em, "big"), e, n).to_bytes(k, "big")


def rsa_pkcs1_decrypt(key: RsaPrivateKey, ciphertext: bytes) -> bytes:
    """RSAES-PKCS1-v1_5 decryption; ValueError when the block is not well formed."""
    if len(ciphertext) != key.size:
        raise ValueError("the ciphertext is not the size of the modulus")
    c = int.from_bytes(ciphertext, "big")
    if c >= key.n:
        raise ValueError("ciphertext out of range")
    em = key.raw_decrypt(c).to_bytes(key.size, "big")
    sep = em.find(b"\x00", 2)
    if em[:2] != b"\x00\x02" or sep < 10:
        raise ValueError("decryption error")
    return em[sep + 1 :]
