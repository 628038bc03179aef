/* Private declarations of the crypto layer (crypto.c) and of the signing internals (sign.c).
 *
 * One backend: OpenSSL 3 libcrypto. The EVP_MD / EVP_MAC algorithm objects are fetched once per
 * process (pthread_once) and never freed; contexts are created per operation and reused within
 * it. Every function is binary-safe: lengths are explicit, digests may contain 0x00.
 * Return values: 0, TCF_ENOMEM (a context could not be allocated) or TCF_ECRYPTO (OpenSSL
 * failed, e.g. an algorithm is not available from the loaded providers). */
#ifndef TCFACEID_CRYPTO_H
#define TCFACEID_CRYPTO_H

#include "internal.h"

#include <openssl/types.h>
#include <pthread.h>
#include <stddef.h>

#define TCFP_SHA256_LEN 32
#define TCFP_SHA1_LEN 20
#define TCFP_HMAC_MAX_LEN 32

/* Fetches the algorithm objects on first use (thread-safe). 0 or TCF_ECRYPTO. Every function
 * below calls it, so calling it explicitly is only needed to fail early. */
int tcfp_crypto_init(void);

/* ---- SHA-256 ---- */

/* One shot. */
int tcfp_sha256(unsigned char out[TCFP_SHA256_LEN], const void *data, size_t len);

/* Streaming, for large bodies:
 *     tcfp_sha256_ctx c = TCFP_SHA256_CTX_INIT;
 *     tcfp_sha256_init(&c); tcfp_sha256_update(&c, p, n)...; tcfp_sha256_final(&c, out);
 *     (tcfp_sha256_init again to hash something else with the same context)
 *     tcfp_sha256_free(&c);   -- always, also after a failure */
typedef struct tcfp_sha256_ctx {
    EVP_MD_CTX *md;
    int shared; /* the calling thread's context (tcfp_sha256_init_shared): not freed */
} tcfp_sha256_ctx;
#define TCFP_SHA256_CTX_INIT                                                                       \
    {                                                                                              \
        NULL, 0                                                                                    \
    }

int tcfp_sha256_init(tcfp_sha256_ctx *c);
/* tcfp_sha256_init on the calling thread's own context, kept for the thread's lifetime (no
 * allocation per use; the signing hot path). Use it within one function call, never across. */
int tcfp_sha256_init_shared(tcfp_sha256_ctx *c);
int tcfp_sha256_update(tcfp_sha256_ctx *c, const void *data, size_t len);
int tcfp_sha256_final(tcfp_sha256_ctx *c, unsigned char out[TCFP_SHA256_LEN]);
void tcfp_sha256_free(tcfp_sha256_ctx *c);

/* ---- HMAC (SHA-256, SHA-1) ---- */

typedef enum tcfp_hmac_alg { TCFP_HMAC_SHA256, TCFP_HMAC_SHA1 } tcfp_hmac_alg;

/* Output length of an algorithm: 32 or 20. */
size_t tcfp_hmac_len(tcfp_hmac_alg alg);

/* A context that computes any number of MACs, each with its own key:
 *     tcfp_hmac_ctx h = TCFP_HMAC_CTX_INIT;
 *     tcfp_hmac_init(&h, TCFP_HMAC_SHA256);
 *     tcfp_hmac_compute(&h, out, key, key_len, msg, msg_len)...;
 *     tcfp_hmac_free(&h);   -- always, also after a failure
 * out receives tcfp_hmac_len(alg) bytes; it may be the same buffer as key. */
typedef struct tcfp_hmac_ctx {
    EVP_MAC_CTX *mac;
    tcfp_hmac_alg alg;
    int shared; /* the calling thread's HMAC-SHA256 context: not freed */
} tcfp_hmac_ctx;
#define TCFP_HMAC_CTX_INIT                                                                         \
    {                                                                                              \
        NULL, TCFP_HMAC_SHA256, 0                                                                  \
    }

int tcfp_hmac_init(tcfp_hmac_ctx *c, tcfp_hmac_alg alg);
/* tcfp_hmac_init(c, TCFP_HMAC_SHA256) on the calling thread's own context (as
 * tcfp_sha256_init_shared). Every compute re-keys it; OpenSSL cleanses it when the thread ends. */
int tcfp_hmac_init_shared(tcfp_hmac_ctx *c);
int tcfp_hmac_compute(tcfp_hmac_ctx *c, unsigned char *out, const void *key, size_t key_len,
                      const void *msg, size_t msg_len);
void tcfp_hmac_free(tcfp_hmac_ctx *c);

/* One shot. */
int tcfp_hmac(tcfp_hmac_alg alg, unsigned char *out, const void *key, size_t key_len,
              const void *msg, size_t msg_len);

/* ---- hex: tcfp_hex (internal.h) writes lower-case hex ---- */

/* ---- base64 (RFC 4648 §4, standard alphabet, padded) ---- */

/* Length of the encoding of n bytes (without a NUL); SIZE_MAX if it would not fit a size_t. */
size_t tcfp_base64_encoded_len(size_t n);
/* out must hold tcfp_base64_encoded_len(n) + 1 bytes; it is NUL-terminated. Returns the
 * length written (without the NUL). */
size_t tcfp_base64_encode(char *out, const unsigned char *in, size_t n);

/* Streaming encoder: the concatenated outputs of _update calls and of _final are the encoding
 * of the concatenated inputs, whatever the chunking. */
typedef struct tcfp_base64_stream {
    unsigned char pending[3];
    size_t npending; /* 0..2 between calls */
} tcfp_base64_stream;
#define TCFP_BASE64_STREAM_INIT                                                                    \
    {                                                                                              \
        {0, 0, 0}, 0                                                                               \
    }
/* An upper bound of what one _update call with n input bytes writes. */
#define TCFP_BASE64_STREAM_OUT_MAX(n) (((n) / 3 + 1) * 4)
/* Writes complete 4-character groups to out (no NUL); returns how many characters. */
size_t tcfp_base64_stream_update(tcfp_base64_stream *s, char *out, const unsigned char *in,
                                 size_t n);
/* Writes the last, padded group (0 or 4 characters, no NUL) and resets the stream. */
size_t tcfp_base64_stream_final(tcfp_base64_stream *s, char out[4]);

/* Strict decoding: length a multiple of 4, standard alphabet, '=' padding only at the end,
 * unused bits zero, no white space. out must hold n / 4 * 3 bytes. 0, or TCF_EINVAL. */
int tcfp_base64_decode(unsigned char *out, size_t *out_len, const char *in, size_t n);

/* ---- random bytes (OpenSSL's CSPRNG) ---- */

/* 0 or TCF_ECRYPTO. */
int tcfp_random_bytes(unsigned char *out, size_t n);

/* ---- AES-256-CBC with PKCS#7 padding ---- */

#define TCFP_AES256_KEY_LEN 32
#define TCFP_AES_BLOCK_LEN 16

/* out must hold n + 16 bytes; *out_len receives the ciphertext length (a multiple of 16, at
 * least 16). 0, TCF_ENOMEM or TCF_ECRYPTO. */
int tcfp_aes256cbc_encrypt(unsigned char *out, size_t *out_len,
                           const unsigned char key[TCFP_AES256_KEY_LEN],
                           const unsigned char iv[TCFP_AES_BLOCK_LEN], const unsigned char *in,
                           size_t n);
/* out must hold n bytes. TCF_ECRYPTO when n is not a non-zero multiple of 16 or the padding is
 * wrong (a wrong key, IV or ciphertext); out is wiped then. */
int tcfp_aes256cbc_decrypt(unsigned char *out, size_t *out_len,
                           const unsigned char key[TCFP_AES256_KEY_LEN],
                           const unsigned char iv[TCFP_AES_BLOCK_LEN], const unsigned char *in,
                           size_t n);

/* ---- SM4-GCM (NIST SP 800-38D with SM4, RFC 8998), 128-bit tags ----
 * OpenSSL 3.0 has no SM4-GCM: the counter mode runs on SM4-ECB and GHASH is computed here
 * (4-bit tables). Any IV length from 1 byte (12 is the normal one: J0 = IV || 0^31 || 1). */

#define TCFP_SM4_KEY_LEN 16
#define TCFP_GCM_TAG_LEN 16

/* out must hold n bytes (it may not overlap in). 0, TCF_ENOMEM, TCF_EINVAL (iv_len 0, or n or
 * aad_len beyond the GCM limits) or TCF_ECRYPTO. */
int tcfp_sm4_gcm_encrypt(unsigned char *out, unsigned char tag[TCFP_GCM_TAG_LEN],
                         const unsigned char key[TCFP_SM4_KEY_LEN], const unsigned char *iv,
                         size_t iv_len, const unsigned char *aad, size_t aad_len,
                         const unsigned char *in, size_t n);
/* The tag is checked (in constant time) before anything is decrypted: TCF_ECRYPTO when it does
 * not match, and out is left untouched. */
int tcfp_sm4_gcm_decrypt(unsigned char *out, const unsigned char key[TCFP_SM4_KEY_LEN],
                         const unsigned char *iv, size_t iv_len, const unsigned char *aad,
                         size_t aad_len, const unsigned char *in, size_t n,
                         const unsigned char tag[TCFP_GCM_TAG_LEN]);

/* ---- public-key wrapping ---- */

typedef enum tcfp_pubkey_kind { TCFP_PUBKEY_RSA, TCFP_PUBKEY_SM2 } tcfp_pubkey_kind;

/* A public key from PEM: RSA as PKCS#1 "RSA PUBLIC KEY" or SubjectPublicKeyInfo "PUBLIC KEY";
 * SM2 as SubjectPublicKeyInfo (an EC key on the sm2p256v1 curve). 0, TCF_ENOMEM, or TCF_EINVAL
 * when the text is not such a key. Free with EVP_PKEY_free. */
int tcfp_load_public_key(EVP_PKEY **out, const char *pem, tcfp_pubkey_kind kind);

/* RSA PKCS#1 v1.5 (type 2) encryption. *out (tcfp_malloc) receives the modulus-sized
 * ciphertext. 0, TCF_ENOMEM or TCF_ECRYPTO (e.g. the message is too long for the key). */
int tcfp_rsa_pkcs1_encrypt(unsigned char **out, size_t *out_len, EVP_PKEY *pub,
                           const unsigned char *in, size_t n);

/* SM2 encryption (GB/T 32918.4) to raw C1 || C3 || C2 with C1 = 04 || x || y (65 + 32 + n
 * bytes; OpenSSL writes the DER form, converted here). *out from tcfp_malloc. */
int tcfp_sm2_encrypt(unsigned char **out, size_t *out_len, EVP_PKEY *pub, const unsigned char *in,
                     size_t n);

#define TCFP_SM2_C1_LEN 65 /* 04 || x || y */
#define TCFP_SM2_C3_LEN 32 /* SM3 */

/* Raw C1 || C3 || C2 (raw[0] == 4, raw_len > 97) to the DER SEQUENCE { INTEGER x, INTEGER y,
 * OCTET STRING C3, OCTET STRING C2 } that OpenSSL reads. 0 or TCF_ENOMEM. */
int tcfp_sm2_raw_to_der(unsigned char **out, size_t *out_len, const unsigned char *raw,
                        size_t raw_len);
/* The inverse. 0, TCF_ENOMEM, or TCF_ECRYPTO for anything but that exact DER shape. */
int tcfp_sm2_der_to_raw(unsigned char **out, size_t *out_len, const unsigned char *der,
                        size_t der_len);

/* ---- signing internals (sign.c) ---- */

/* A cache of one TC3 signing key (HMAC chain of secret key, date, service), for an object that
 * signs many requests with the same credentials (the client). Thread-safe: a mutex guards it;
 * the key derivation itself runs outside the lock. Secrets longer than
 * TCFP_SIGN_CACHE_SECRET_MAX or services longer than TCFP_SIGN_CACHE_SERVICE_MAX bypass it.
 * Destroying wipes the stored secret and key. */
#define TCFP_SIGN_CACHE_SECRET_MAX 128
#define TCFP_SIGN_CACHE_SERVICE_MAX 64
typedef struct tcfp_sign_key_cache {
    pthread_mutex_t lock;
    int valid;
    size_t secret_len;
    size_t service_len;
    char secret[TCFP_SIGN_CACHE_SECRET_MAX];
    char service[TCFP_SIGN_CACHE_SERVICE_MAX];
    char date[11];
    unsigned char key[TCFP_SHA256_LEN];
    unsigned long hits, misses; /* statistics, for tests */
} tcfp_sign_key_cache;

/* 0, or TCF_ENOMEM when the mutex cannot be created. */
int tcfp_sign_key_cache_init(tcfp_sign_key_cache *cache);
void tcfp_sign_key_cache_destroy(tcfp_sign_key_cache *cache);

/* tcf_sign with two internal extras (both nullable):
 *  - payload_sha256: the SHA-256 of the body, already computed while the body was written
 *    (e.g. with tcfp_sha256_update); in->body is then not read. Ignored for unsigned payloads
 *    and for v1;
 *  - cache: reuse the TC3 signing key. */
int tcfp_sign_ex(tcf_signature **out, const tcf_sign_input *in, const unsigned char *payload_sha256,
                 tcfp_sign_key_cache *cache, tcf_error *err);

#endif
