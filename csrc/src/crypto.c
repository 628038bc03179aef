/* Crypto layer: SHA-256, HMAC-SHA256/HMAC-SHA1 over OpenSSL 3 libcrypto; base64; random bytes,
 * AES-256-CBC, SM4-GCM (SM4-ECB counter mode + GHASH), RSA PKCS#1 v1.5 and SM2 encryption. */
#include "crypto.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdint.h>
#include <string.h>

/* ---- algorithm objects: fetched once, kept for the life of the process ---- */

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256;
static EVP_MAC *mac_hmac;
static int fetch_ok;

static void fetch_algorithms(void)
{
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    mac_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    fetch_ok = md_sha256 != NULL && mac_hmac != NULL;
}

int tcfp_crypto_init(void)
{
    if (pthread_once(&fetch_once, fetch_algorithms) != 0)
        return TCF_ECRYPTO;
    return fetch_ok ? 0 : TCF_ECRYPTO;
}

/* ---- per-thread contexts: creating and freeing an EVP_MD_CTX and an HMAC EVP_MAC_CTX (with its
 * digest parameter) costs about a quarter of a small TC3 signature, so the signer reuses one of
 * each per thread; they are freed when the thread exits ---- */

typedef struct thread_ctx {
    EVP_MD_CTX *md;
    EVP_MAC_CTX *mac256;
} thread_ctx;

static pthread_once_t thread_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_key;
static int thread_key_ok;

static void thread_ctx_free(void *p)
{
    thread_ctx *t = p;
    EVP_MD_CTX_free(t->md);
    EVP_MAC_CTX_free(t->mac256);
    tcfp_free(t);
}

static void thread_key_make(void)
{
    thread_key_ok = pthread_key_create(&thread_key, thread_ctx_free) == 0;
}

static thread_ctx *thread_ctx_get(void)
{
    if (pthread_once(&thread_once, thread_key_make) != 0 || !thread_key_ok)
        return NULL;
    thread_ctx *t = pthread_getspecific(thread_key);
    if (t != NULL)
        return t;
    t = tcfp_calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    if (pthread_setspecific(thread_key, t) != 0) {
        tcfp_free(t);
        return NULL;
    }
    return t;
}

/* ---- SHA-256 ---- */

int tcfp_sha256_init_shared(tcfp_sha256_ctx *c)
{
    int rc = tcfp_crypto_init();
    if (rc != 0)
        return rc;
    thread_ctx *t = thread_ctx_get();
    if (t == NULL)
        return tcfp_sha256_init(c); /* an own context */
    if (t->md == NULL && (t->md = EVP_MD_CTX_new()) == NULL)
        return TCF_ENOMEM;
    c->md = t->md;
    c->shared = 1;
    return EVP_DigestInit_ex2(c->md, md_sha256, NULL) == 1 ? 0 : TCF_ECRYPTO;
}

int tcfp_sha256_init(tcfp_sha256_ctx *c)
{
    int rc = tcfp_crypto_init();
    if (rc != 0)
        return rc;
    if (c->md == NULL && (c->md = EVP_MD_CTX_new()) == NULL)
        return TCF_ENOMEM;
    return EVP_DigestInit_ex2(c->md, md_sha256, NULL) == 1 ? 0 : TCF_ECRYPTO;
}

int tcfp_sha256_update(tcfp_sha256_ctx *c, const void *data, size_t len)
{
    if (c->md == NULL)
        return TCF_ECRYPTO;
    if (len == 0)
        return 0;
    return EVP_DigestUpdate(c->md, data, len) == 1 ? 0 : TCF_ECRYPTO;
}

int tcfp_sha256_final(tcfp_sha256_ctx *c, unsigned char out[TCFP_SHA256_LEN])
{
    unsigned int n = 0;
    if (c->md == NULL)
        return TCF_ECRYPTO;
    if (EVP_DigestFinal_ex(c->md, out, &n) != 1 || n != TCFP_SHA256_LEN)
        return TCF_ECRYPTO;
    return 0;
}

void tcfp_sha256_free(tcfp_sha256_ctx *c)
{
    if (!c->shared)
        EVP_MD_CTX_free(c->md);
    c->md = NULL;
    c->shared = 0;
}

int tcfp_sha256(unsigned char out[TCFP_SHA256_LEN], const void *data, size_t len)
{
    tcfp_sha256_ctx c = TCFP_SHA256_CTX_INIT;
    int rc = tcfp_sha256_init(&c);
    if (rc == 0)
        rc = tcfp_sha256_update(&c, data, len);
    if (rc == 0)
        rc = tcfp_sha256_final(&c, out);
    tcfp_sha256_free(&c);
    return rc;
}

/* ---- HMAC ---- */

size_t tcfp_hmac_len(tcfp_hmac_alg alg)
{
    return alg == TCFP_HMAC_SHA1 ? TCFP_SHA1_LEN : TCFP_SHA256_LEN;
}

int tcfp_hmac_init(tcfp_hmac_ctx *c, tcfp_hmac_alg alg)
{
    int rc = tcfp_crypto_init();
    if (rc != 0)
        return rc;
    c->alg = alg;
    if (c->mac == NULL && (c->mac = EVP_MAC_CTX_new(mac_hmac)) == NULL)
        return TCF_ENOMEM;
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 alg == TCFP_HMAC_SHA1 ? "SHA1" : "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    return EVP_MAC_CTX_set_params(c->mac, params) == 1 ? 0 : TCF_ECRYPTO;
}

int tcfp_hmac_init_shared(tcfp_hmac_ctx *c)
{
    int rc = tcfp_crypto_init();
    if (rc != 0)
        return rc;
    thread_ctx *t = thread_ctx_get();
    if (t == NULL)
        return tcfp_hmac_init(c, TCFP_HMAC_SHA256); /* an own context */
    if (t->mac256 == NULL) {
        tcfp_hmac_ctx fresh = TCFP_HMAC_CTX_INIT;
        if ((rc = tcfp_hmac_init(&fresh, TCFP_HMAC_SHA256)) != 0) {
            tcfp_hmac_free(&fresh);
            return rc;
        }
        t->mac256 = fresh.mac;
    }
    c->mac = t->mac256;
    c->alg = TCFP_HMAC_SHA256;
    c->shared = 1;
    return 0;
}

int tcfp_hmac_compute(tcfp_hmac_ctx *c, unsigned char *out, const void *key, size_t key_len,
                      const void *msg, size_t msg_len)
{
    size_t want = tcfp_hmac_len(c->alg), n = 0;
    unsigned char tmp[TCFP_HMAC_MAX_LEN];
    static const unsigned char empty = 0;
    if (c->mac == NULL)
        return TCF_ECRYPTO;
    /* OpenSSL wants a non-NULL key pointer to (re)key the context, even for an empty key */
    if (EVP_MAC_init(c->mac, key_len ? key : &empty, key_len, NULL) != 1)
        return TCF_ECRYPTO;
    if (msg_len != 0 && EVP_MAC_update(c->mac, msg, msg_len) != 1)
        return TCF_ECRYPTO;
    if (EVP_MAC_final(c->mac, tmp, &n, sizeof tmp) != 1 || n != want) {
        tcfp_wipe(tmp, sizeof tmp);
        return TCF_ECRYPTO;
    }
    memcpy(out, tmp, n);
    tcfp_wipe(tmp, sizeof tmp);
    return 0;
}

void tcfp_hmac_free(tcfp_hmac_ctx *c)
{
    if (!c->shared)
        EVP_MAC_CTX_free(c->mac);
    c->mac = NULL;
    c->shared = 0;
}

int tcfp_hmac(tcfp_hmac_alg alg, unsigned char *out, const void *key, size_t key_len,
              const void *msg, size_t msg_len)
{
    tcfp_hmac_ctx c = TCFP_HMAC_CTX_INIT;
    int rc = tcfp_hmac_init(&c, alg);
    if (rc == 0)
        rc = tcfp_hmac_compute(&c, out, key, key_len, msg, msg_len);
    tcfp_hmac_free(&c);
    return rc;
}

/* ---- base64 ---- */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t tcfp_base64_encoded_len(size_t n)
{
    size_t groups = n / 3 + (n % 3 != 0);
    if (groups > (SIZE_MAX - 1) / 4)
        return SIZE_MAX;
    return groups * 4;
}

static size_t encode_groups(char *out, const unsigned char *in, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | (uint32_t)in[i + 2];
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    return o;
}

/* The final group for 1 or 2 remaining bytes; returns 4 (or 0 when n == 0). */
static size_t encode_tail(char *out, const unsigned char *in, size_t n)
{
    if (n == 0)
        return 0;
    uint32_t v = (uint32_t)in[0] << 16 | (n > 1 ? (uint32_t)in[1] << 8 : 0);
    out[0] = b64_alphabet[v >> 18];
    out[1] = b64_alphabet[(v >> 12) & 63];
    out[2] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
    out[3] = '=';
    return 4;
}

size_t tcfp_base64_encode(char *out, const unsigned char *in, size_t n)
{
    size_t whole = n / 3 * 3;
    size_t o = encode_groups(out, in, whole);
    o += encode_tail(out + o, in + whole, n - whole);
    out[o] = '\0';
    return o;
}

size_t tcfp_base64_stream_update(tcfp_base64_stream *s, char *out, const unsigned char *in,
                                 size_t n)
{
    size_t o = 0;
    if (s->npending > 0) {
        while (s->npending < 3 && n > 0) {
            s->pending[s->npending++] = *in++;
            n--;
        }
        if (s->npending < 3)
            return 0;
        o = encode_groups(out, s->pending, 3);
        s->npending = 0;
    }
    size_t whole = n / 3 * 3;
    o += encode_groups(out + o, in, whole);
    for (size_t i = whole; i < n; i++)
        s->pending[s->npending++] = in[i];
    return o;
}

size_t tcfp_base64_stream_final(tcfp_base64_stream *s, char out[4])
{
    size_t o = encode_tail(out, s->pending, s->npending);
    memset(s, 0, sizeof *s);
    return o;
}

/* 0..63 for alphabet characters, 64 for '=', 255 for anything else. */
static unsigned char b64_value(char ch)
{
    unsigned char c = (unsigned char)ch;
    if (c >= 'A' && c <= 'Z')
        return (unsigned char)(c - 'A');
    if (c >= 'a' && c <= 'z')
        return (unsigned char)(c - 'a' + 26);
    if (c >= '0' && c <= '9')
        return (unsigned char)(c - '0' + 52);
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return c == '=' ? 64 : 255;
}

int tcfp_base64_decode(unsigned char *out, size_t *out_len, const char *in, size_t n)
{
    size_t o = 0;
    if (n % 4 != 0)
        return TCF_EINVAL;
    for (size_t i = 0; i < n; i += 4) {
        unsigned char v[4];
        for (int k = 0; k < 4; k++)
            v[k] = b64_value(in[i + (size_t)k]);
        int last = i + 4 == n;
        if (v[0] > 63 || v[1] > 63 || v[2] == 255 || v[3] == 255)
            return TCF_EINVAL;
        if (v[2] == 64 || v[3] == 64) {
            /* padding: only in the last group, as "xx==" or "xxx=", with unused bits zero */
            if (!last || (v[2] == 64 && v[3] != 64))
                return TCF_EINVAL;
            if (v[2] == 64) {
                if (v[1] & 15)
                    return TCF_EINVAL;
                out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
            } else {
                if (v[2] & 3)
                    return TCF_EINVAL;
                out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
                out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
            }
            break;
        }
        out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        out[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
        out[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
    }
    *out_len = o;
    return 0;
}

/* ---- random bytes ---- */

int tcfp_random_bytes(unsigned char *out, size_t n)
{
    while (n > 0) {
        int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(out, chunk) != 1) {
            ERR_clear_error();
            return TCF_ECRYPTO;
        }
        out += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

/* ---- symmetric helpers ---- */

#define CIPHER_CHUNK ((size_t)1 << 30) /* EVP takes int lengths */

/* Runs an initialised EVP cipher context over in[0..n) into out; returns the bytes written or
 * SIZE_MAX on failure. */
static size_t cipher_update(EVP_CIPHER_CTX *ctx, unsigned char *out, const unsigned char *in,
                            size_t n)
{
    size_t done = 0, written = 0;
    while (done < n) {
        size_t chunk = n - done > CIPHER_CHUNK ? CIPHER_CHUNK : n - done;
        int outl = 0;
        if (EVP_CipherUpdate(ctx, out + written, &outl, in + done, (int)chunk) != 1)
            return SIZE_MAX;
        done += chunk;
        written += (size_t)outl;
    }
    return written;
}

/* ---- AES-256-CBC ---- */

static int aes_cbc(int enc, unsigned char *out, size_t *out_len, const unsigned char *key,
                   const unsigned char *iv, const unsigned char *in, size_t n)
{
    *out_len = 0;
    if (!enc && (n == 0 || n % TCFP_AES_BLOCK_LEN != 0))
        return TCF_ECRYPTO;
    if (n > SIZE_MAX - 2 * TCFP_AES_BLOCK_LEN)
        return TCF_ECRYPTO;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL)
        return TCF_ENOMEM;
    int rc = TCF_ECRYPTO, finl = 0;
    size_t written = 0;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv, enc) == 1 &&
        EVP_CIPHER_CTX_set_padding(ctx, 1) == 1 &&
        (written = cipher_update(ctx, out, in, n)) != SIZE_MAX &&
        EVP_CipherFinal_ex(ctx, out + written, &finl) == 1) {
        *out_len = written + (size_t)finl;
        rc = 0;
    } else {
        ERR_clear_error();
        if (!enc)
            tcfp_wipe(out, n);
    }
    EVP_CIPHER_CTX_free(ctx); /* cleanses the key schedule */
    return rc;
}

int tcfp_aes256cbc_encrypt(unsigned char *out, size_t *out_len,
                           const unsigned char key[TCFP_AES256_KEY_LEN],
                           const unsigned char iv[TCFP_AES_BLOCK_LEN], const unsigned char *in,
                           size_t n)
{
    return aes_cbc(1, out, out_len, key, iv, in, n);
}

int tcfp_aes256cbc_decrypt(unsigned char *out, size_t *out_len,
                           const unsigned char key[TCFP_AES256_KEY_LEN],
                           const unsigned char iv[TCFP_AES_BLOCK_LEN], const unsigned char *in,
                           size_t n)
{
    return aes_cbc(0, out, out_len, key, iv, in, n);
}

/* ---- SM4-GCM ----
 * Field elements of GF(2^128) are held as two big-endian 64-bit halves of the 16-byte block, so
 * the coefficient of x^0 is the top bit of hi (GCM's reflected bit order) and multiplying by x
 * is a right shift, reduced by R = 0xE1 || 0^120 when x^127's coefficient falls off. GHASH uses
 * Shoup's method with 4-bit tables: m[i] = i * H for every 4-bit polynomial i (its top bit is
 * the x^0 coefficient), red[r] = the reduction of the 4 bits a 4-bit shift drops. */

typedef struct gcm_state {
    uint64_t mh[16], ml[16]; /* m[i] = i * H */
    uint64_t red[16];        /* high half added when shifting right by 4 drops r */
    unsigned char y[16];     /* the running GHASH value */
} gcm_state;

static uint64_t load_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void store_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xFF);
        v >>= 8;
    }
}

static void gf_mul_x(uint64_t *hi, uint64_t *lo)
{
    uint64_t dropped = *lo & 1;
    *lo = (*lo >> 1) | (*hi << 63);
    *hi = (*hi >> 1) ^ (dropped ? UINT64_C(0xE100000000000000) : 0);
}

static void gcm_tables(gcm_state *g, const unsigned char h[16])
{
    memset(g, 0, sizeof *g);
    g->mh[8] = load_be64(h);
    g->ml[8] = load_be64(h + 8);
    for (int i = 4; i >= 1; i >>= 1) {
        g->mh[i] = g->mh[i * 2];
        g->ml[i] = g->ml[i * 2];
        gf_mul_x(&g->mh[i], &g->ml[i]);
    }
    for (int i = 2; i <= 8; i *= 2)
        for (int j = 1; j < i; j++) {
            g->mh[i + j] = g->mh[i] ^ g->mh[j];
            g->ml[i + j] = g->ml[i] ^ g->ml[j];
        }
    for (uint64_t r = 0; r < 16; r++) {
        uint64_t hi = 0, lo = r;
        for (int k = 0; k < 4; k++)
            gf_mul_x(&hi, &lo);
        g->red[r] = hi; /* lo is 0: the four bits left the low half */
    }
}

/* y = y * H, by Horner's rule over the 32 nibbles from the highest degree down. */
static void gcm_mul_h(gcm_state *g)
{
    uint64_t zh = 0, zl = 0;
    for (int i = 15; i >= 0; i--) {
        for (int half = 0; half < 2; half++) {
            unsigned nib = half == 0 ? (g->y[i] & 0x0Fu) : (unsigned)(g->y[i] >> 4);
            unsigned r = (unsigned)(zl & 0x0F);
            zl = (zl >> 4) | (zh << 60);
            zh = (zh >> 4) ^ g->red[r];
            zh ^= g->mh[nib];
            zl ^= g->ml[nib];
        }
    }
    store_be64(g->y, zh);
    store_be64(g->y + 8, zl);
}

/* Absorbs data, zero-padded to a whole number of blocks. */
static void gcm_ghash(gcm_state *g, const unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t k = n < 16 ? n : 16;
        for (size_t i = 0; i < k; i++)
            g->y[i] ^= p[i];
        gcm_mul_h(g);
        p += k;
        n -= k;
    }
}

static void gcm_ghash_lengths(gcm_state *g, uint64_t a_bytes, uint64_t c_bytes)
{
    unsigned char block[16];
    store_be64(block, a_bytes * 8);
    store_be64(block + 8, c_bytes * 8);
    gcm_ghash(g, block, 16);
}

static int sm4_ecb_blocks(EVP_CIPHER_CTX *ecb, unsigned char *out, const unsigned char *in,
                          size_t n)
{
    int outl = 0;
    if (EVP_EncryptUpdate(ecb, out, &outl, in, (int)n) != 1 || (size_t)outl != n)
        return TCF_ECRYPTO;
    return 0;
}

#define GCM_BATCH 256 /* counter blocks encrypted per SM4-ECB call */

/* GCTR with inc32 from the counter block cb: out = in XOR E(cb), E(inc32(cb)), ... */
static int gcm_ctr(EVP_CIPHER_CTX *ecb, const unsigned char cb[16], unsigned char *out,
                   const unsigned char *in, size_t n)
{
    unsigned char ctrs[GCM_BATCH * 16], ks[GCM_BATCH * 16];
    uint32_t c32 = (uint32_t)cb[12] << 24 | (uint32_t)cb[13] << 16 | (uint32_t)cb[14] << 8 | cb[15];
    int rc = 0;
    while (n > 0 && rc == 0) {
        size_t blocks = (n + 15) / 16;
        if (blocks > GCM_BATCH)
            blocks = GCM_BATCH;
        for (size_t b = 0; b < blocks; b++) {
            memcpy(ctrs + 16 * b, cb, 12);
            store_be64(ctrs + 16 * b + 8, load_be64(cb + 8) >> 32 << 32 | c32);
            c32++; /* inc32: the counter wraps in its 32 bits */
        }
        rc = sm4_ecb_blocks(ecb, ks, ctrs, blocks * 16);
        size_t k = n < blocks * 16 ? n : blocks * 16;
        for (size_t i = 0; rc == 0 && i < k; i++)
            out[i] = in[i] ^ ks[i];
        out += k;
        in += k;
        n -= k;
    }
    tcfp_wipe(ks, sizeof ks);
    return rc;
}

/* The set-up shared by both directions: the ECB context, H's tables and J0. */
static int gcm_begin(EVP_CIPHER_CTX **ecb_out, gcm_state *g, unsigned char j0[16],
                     const unsigned char *key, const unsigned char *iv, size_t iv_len,
                     size_t aad_len, size_t n)
{
    *ecb_out = NULL;
    /* SP 800-38D: plaintext at most 2^39 - 256 bits; we also keep lengths well inside size_t */
    if (iv_len == 0 || iv_len > ((size_t)1 << 20) || (uint64_t)aad_len > ((uint64_t)1 << 32) ||
        (uint64_t)n > ((uint64_t)1 << 36) - 32)
        return TCF_EINVAL;
    EVP_CIPHER_CTX *ecb = EVP_CIPHER_CTX_new();
    if (ecb == NULL)
        return TCF_ENOMEM;
    static const unsigned char zero[16] = {0};
    unsigned char h[16];
    if (EVP_EncryptInit_ex(ecb, EVP_sm4_ecb(), NULL, key, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(ecb, 0) != 1 || sm4_ecb_blocks(ecb, h, zero, 16) != 0) {
        ERR_clear_error();
        EVP_CIPHER_CTX_free(ecb);
        return TCF_ECRYPTO;
    }
    gcm_tables(g, h);
    tcfp_wipe(h, sizeof h);
    if (iv_len == 12) {
        memcpy(j0, iv, 12);
        j0[12] = j0[13] = j0[14] = 0;
        j0[15] = 1;
    } else {
        gcm_ghash(g, iv, iv_len);
        gcm_ghash_lengths(g, 0, (uint64_t)iv_len);
        memcpy(j0, g->y, 16);
        memset(g->y, 0, sizeof g->y);
    }
    *ecb_out = ecb;
    return 0;
}

/* The tag from the GHASH state (after AAD and ciphertext were absorbed). */
static int gcm_finish_tag(EVP_CIPHER_CTX *ecb, gcm_state *g, const unsigned char j0[16],
                          size_t aad_len, size_t n, unsigned char tag[TCFP_GCM_TAG_LEN])
{
    unsigned char ej0[16];
    gcm_ghash_lengths(g, (uint64_t)aad_len, (uint64_t)n);
    int rc = sm4_ecb_blocks(ecb, ej0, j0, 16);
    for (int i = 0; i < 16; i++)
        tag[i] = (unsigned char)(ej0[i] ^ g->y[i]);
    tcfp_wipe(ej0, sizeof ej0);
    return rc;
}

static void inc32(unsigned char cb[16])
{
    for (int i = 15; i >= 12; i--)
        if (++cb[i] != 0)
            break;
}

int tcfp_sm4_gcm_encrypt(unsigned char *out, unsigned char tag[TCFP_GCM_TAG_LEN],
                         const unsigned char key[TCFP_SM4_KEY_LEN], const unsigned char *iv,
                         size_t iv_len, const unsigned char *aad, size_t aad_len,
                         const unsigned char *in, size_t n)
{
    EVP_CIPHER_CTX *ecb = NULL;
    gcm_state g;
    unsigned char j0[16], cb[16];
    int rc = gcm_begin(&ecb, &g, j0, key, iv, iv_len, aad_len, n);
    if (rc != 0)
        return rc;
    memcpy(cb, j0, 16);
    inc32(cb);
    rc = gcm_ctr(ecb, cb, out, in, n);
    if (rc == 0) {
        gcm_ghash(&g, aad, aad_len);
        gcm_ghash(&g, out, n);
        rc = gcm_finish_tag(ecb, &g, j0, aad_len, n, tag);
    }
    if (rc != 0) {
        ERR_clear_error();
        tcfp_wipe(out, n);
    }
    tcfp_wipe(&g, sizeof g);
    EVP_CIPHER_CTX_free(ecb);
    return rc;
}

int tcfp_sm4_gcm_decrypt(unsigned char *out, const unsigned char key[TCFP_SM4_KEY_LEN],
                         const unsigned char *iv, size_t iv_len, const unsigned char *aad,
                         size_t aad_len, const unsigned char *in, size_t n,
                         const unsigned char tag[TCFP_GCM_TAG_LEN])
{
    EVP_CIPHER_CTX *ecb = NULL;
    gcm_state g;
    unsigned char j0[16], cb[16], want[TCFP_GCM_TAG_LEN];
    int rc = gcm_begin(&ecb, &g, j0, key, iv, iv_len, aad_len, n);
    if (rc != 0)
        return rc;
    gcm_ghash(&g, aad, aad_len);
    gcm_ghash(&g, in, n);
    rc = gcm_finish_tag(ecb, &g, j0, aad_len, n, want);
    if (rc == 0 && CRYPTO_memcmp(want, tag, TCFP_GCM_TAG_LEN) != 0)
        rc = TCF_ECRYPTO;
    if (rc == 0) {
        memcpy(cb, j0, 16);
        inc32(cb);
        rc = gcm_ctr(ecb, cb, out, in, n);
        if (rc != 0)
            tcfp_wipe(out, n);
    }
    if (rc != 0)
        ERR_clear_error();
    tcfp_wipe(&g, sizeof g);
    tcfp_wipe(want, sizeof want);
    EVP_CIPHER_CTX_free(ecb);
    return rc;
}

/* ---- public keys ---- */

static int pkey_is_sm2(EVP_PKEY *pkey)
{
    if (EVP_PKEY_is_a(pkey, "SM2"))
        return 1;
    if (!EVP_PKEY_is_a(pkey, "EC"))
        return 0;
    char group[64];
    size_t glen = 0;
    return EVP_PKEY_get_group_name(pkey, group, sizeof group, &glen) == 1 &&
           (strcmp(group, "SM2") == 0 || strcmp(group, "sm2p256v1") == 0);
}

int tcfp_load_public_key(EVP_PKEY **out, const char *pem, tcfp_pubkey_kind kind)
{
    *out = NULL;
    size_t n = pem ? strlen(pem) : 0;
    if (n == 0 || n > (size_t)INT_MAX)
        return TCF_EINVAL;
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, kind == TCFP_PUBKEY_RSA ? "RSA" : "EC",
                                      EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    if (dctx == NULL) {
        ERR_clear_error();
        return TCF_ENOMEM;
    }
    const unsigned char *data = (const unsigned char *)pem;
    size_t len = n;
    int ok = OSSL_DECODER_from_data(dctx, &data, &len) == 1 && pkey != NULL;
    OSSL_DECODER_CTX_free(dctx);
    if (ok && kind == TCFP_PUBKEY_SM2 && !pkey_is_sm2(pkey)) {
        /* the EC decoder chain may still hand an SM2 key over as "SM2": try that name */
        ok = 0;
    }
    if (!ok && kind == TCFP_PUBKEY_SM2) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
        dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "SM2", EVP_PKEY_PUBLIC_KEY, NULL,
                                             NULL);
        data = (const unsigned char *)pem;
        len = n;
        ok = dctx != NULL && OSSL_DECODER_from_data(dctx, &data, &len) == 1 && pkey != NULL &&
             pkey_is_sm2(pkey);
        OSSL_DECODER_CTX_free(dctx);
    }
    if (ok && kind == TCFP_PUBKEY_RSA && !EVP_PKEY_is_a(pkey, "RSA"))
        ok = 0;
    ERR_clear_error();
    if (!ok) {
        EVP_PKEY_free(pkey);
        return TCF_EINVAL;
    }
    *out = pkey;
    return 0;
}

/* EVP_PKEY_encrypt into a new buffer. */
static int pkey_encrypt(unsigned char **out, size_t *out_len, EVP_PKEY *pub, int rsa_pkcs1,
                        const unsigned char *in, size_t n)
{
    *out = NULL;
    *out_len = 0;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
    if (ctx == NULL) {
        ERR_clear_error();
        return TCF_ENOMEM;
    }
    int rc = TCF_ECRYPTO;
    size_t cap = 0;
    unsigned char *buf = NULL;
    if (EVP_PKEY_encrypt_init(ctx) != 1 ||
        (rsa_pkcs1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1) ||
        EVP_PKEY_encrypt(ctx, NULL, &cap, in, n) != 1)
        goto out;
    if ((buf = tcfp_malloc(cap ? cap : 1)) == NULL) {
        rc = TCF_ENOMEM;
        goto out;
    }
    if (EVP_PKEY_encrypt(ctx, buf, &cap, in, n) != 1)
        goto out;
    *out = buf;
    *out_len = cap;
    buf = NULL;
    rc = 0;
out:
    tcfp_free(buf);
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

int tcfp_rsa_pkcs1_encrypt(unsigned char **out, size_t *out_len, EVP_PKEY *pub,
                           const unsigned char *in, size_t n)
{
    return pkey_encrypt(out, out_len, pub, 1, in, n);
}

int tcfp_sm2_encrypt(unsigned char **out, size_t *out_len, EVP_PKEY *pub, const unsigned char *in,
                     size_t n)
{
    unsigned char *der = NULL;
    size_t der_len = 0;
    *out = NULL;
    *out_len = 0;
    int rc = pkey_encrypt(&der, &der_len, pub, 0, in, n);
    if (rc == 0)
        rc = tcfp_sm2_der_to_raw(out, out_len, der, der_len);
    tcfp_free(der);
    return rc;
}

/* ---- SM2 ciphertext encodings ---- */

/* DER length octets; returns how many were written (at most 9). */
static size_t der_put_len(unsigned char *p, size_t len)
{
    if (len < 0x80) {
        p[0] = (unsigned char)len;
        return 1;
    }
    size_t nbytes = 0;
    for (size_t v = len; v != 0; v >>= 8)
        nbytes++;
    p[0] = (unsigned char)(0x80 | nbytes);
    for (size_t i = 0; i < nbytes; i++)
        p[1 + i] = (unsigned char)(len >> (8 * (nbytes - 1 - i)));
    return 1 + nbytes;
}

/* A big-endian unsigned value as a DER INTEGER; returns its size. */
static size_t der_put_uint(unsigned char *p, const unsigned char *v, size_t n)
{
    while (n > 1 && v[0] == 0) {
        v++;
        n--;
    }
    int pad = (v[0] & 0x80) != 0;
    p[0] = 0x02;
    p[1] = (unsigned char)(n + (size_t)pad);
    if (pad)
        p[2] = 0;
    memcpy(p + 2 + pad, v, n);
    return 2 + (size_t)pad + n;
}

int tcfp_sm2_raw_to_der(unsigned char **out, size_t *out_len, const unsigned char *raw,
                        size_t raw_len)
{
    const unsigned char *c3 = raw + TCFP_SM2_C1_LEN;
    const unsigned char *c2 = c3 + TCFP_SM2_C3_LEN;
    size_t c2_len = raw_len - TCFP_SM2_C1_LEN - TCFP_SM2_C3_LEN;
    unsigned char head[16];
    *out = NULL;
    *out_len = 0;
    if (c2_len > SIZE_MAX / 2)
        return TCF_ENOMEM;
    size_t cap = 10 + 2 * 35 + 2 + TCFP_SM2_C3_LEN + 10 + c2_len;
    unsigned char *der = tcfp_malloc(cap);
    if (der == NULL)
        return TCF_ENOMEM;
    /* the content first, at offset 10, then the header right before it */
    size_t pos = 10;
    pos += der_put_uint(der + pos, raw + 1, 32);
    pos += der_put_uint(der + pos, raw + 33, 32);
    der[pos++] = 0x04;
    der[pos++] = TCFP_SM2_C3_LEN;
    memcpy(der + pos, c3, TCFP_SM2_C3_LEN);
    pos += TCFP_SM2_C3_LEN;
    der[pos++] = 0x04;
    pos += der_put_len(der + pos, c2_len);
    memcpy(der + pos, c2, c2_len);
    pos += c2_len;
    size_t content = pos - 10;
    head[0] = 0x30;
    size_t hlen = 1 + der_put_len(head + 1, content);
    memcpy(der + 10 - hlen, head, hlen);
    memmove(der, der + 10 - hlen, hlen + content);
    *out = der;
    *out_len = hlen + content;
    return 0;
}

/* Reads one DER TLV at *p (definite, minimal-enough lengths); 0 or -1. */
static int der_get(const unsigned char **p, const unsigned char *end, unsigned char tag,
                   const unsigned char **val, size_t *len)
{
    const unsigned char *q = *p;
    if (end - q < 2 || q[0] != tag)
        return -1;
    q++;
    size_t l = *q++;
    if (l & 0x80) {
        size_t nbytes = l & 0x7F;
        if (nbytes == 0 || nbytes > sizeof(size_t) || (size_t)(end - q) < nbytes)
            return -1;
        l = 0;
        for (size_t i = 0; i < nbytes; i++)
            l = l << 8 | *q++;
    }
    if ((size_t)(end - q) < l)
        return -1;
    *val = q;
    *len = l;
    *p = q + l;
    return 0;
}

/* A DER INTEGER holding a non-negative value below 2^256, written as 32 big-endian bytes. */
static int der_uint32b(unsigned char out[32], const unsigned char *v, size_t n)
{
    if (n == 0 || (v[0] & 0x80))
        return -1;
    while (n > 0 && v[0] == 0) {
        v++;
        n--;
    }
    if (n > 32)
        return -1;
    memset(out, 0, 32 - n);
    memcpy(out + 32 - n, v, n);
    return 0;
}

int tcfp_sm2_der_to_raw(unsigned char **out, size_t *out_len, const unsigned char *der,
                        size_t der_len)
{
    const unsigned char *p = der, *end = der + der_len, *seq, *x, *y, *c3, *c2;
    size_t seq_len, x_len, y_len, c3_len, c2_len;
    *out = NULL;
    *out_len = 0;
    if (der_get(&p, end, 0x30, &seq, &seq_len) != 0 || p != end)
        return TCF_ECRYPTO;
    p = seq;
    end = seq + seq_len;
    if (der_get(&p, end, 0x02, &x, &x_len) != 0 || der_get(&p, end, 0x02, &y, &y_len) != 0 ||
        der_get(&p, end, 0x04, &c3, &c3_len) != 0 || der_get(&p, end, 0x04, &c2, &c2_len) != 0 ||
        p != end || c3_len != TCFP_SM2_C3_LEN || c2_len == 0)
        return TCF_ECRYPTO;
    unsigned char *raw = tcfp_malloc(TCFP_SM2_C1_LEN + TCFP_SM2_C3_LEN + c2_len);
    if (raw == NULL)
        return TCF_ENOMEM;
    raw[0] = 0x04;
    if (der_uint32b(raw + 1, x, x_len) != 0 || der_uint32b(raw + 33, y, y_len) != 0) {
        tcfp_free(raw);
        return TCF_ECRYPTO;
    }
    memcpy(raw + TCFP_SM2_C1_LEN, c3, TCFP_SM2_C3_LEN);
    memcpy(raw + TCFP_SM2_C1_LEN + TCFP_SM2_C3_LEN, c2, c2_len);
    *out = raw;
    *out_len = TCFP_SM2_C1_LEN + TCFP_SM2_C3_LEN + c2_len;
    return 0;
}
