/* Crypto layer: SHA-256, HMAC-SHA256/HMAC-SHA1 over OpenSSL 3 libcrypto; base64. */
#include "crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
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

/* ---- SHA-256 ---- */

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
    EVP_MD_CTX_free(c->md);
    c->md = NULL;
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
    EVP_MAC_CTX_free(c->mac);
    c->mac = NULL;
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
