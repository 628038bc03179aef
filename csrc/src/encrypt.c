/* Field encryption (faceid-api.md §3): the Encryption object of requests and responses.
 *
 * Request: a fresh symmetric key K and IV per request; each encryptable field present becomes
 * base64(Enc(K, IV, UTF-8 value)); K is wrapped with the service's public key (RSA PKCS#1 v1.5
 * for AES-256-CBC, SM2 C1C3C2 for SM4-GCM) into CiphertextBlob. SM4-GCM sends the ciphertext
 * without its tag and the tags, base64, in TagList (EncryptList order).
 * Response: the values named by Encryption.EncryptList (JSON paths), or the whole EncryptedBody,
 * decrypted with K and the response's own Iv.
 *
 * Pure: JSON in, JSON out; randomness from OpenSSL. Every buffer or jansson string that held a
 * key or a plaintext is wiped before it is released. Error messages name fields, never values. */
#include "crypto.h"
#include "internal.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The keys hard-coded in the official crypto SDKs (faceid-api.md §3.2). */
static const char default_rsa_pem[] =
    "-----BEGIN RSA PUBLIC KEY-----\n"
    "MIGJAoGBAMRJoaUkZN1d5Mp8F5V6itXmSLNM5Z771afayoI49SndkFtsspHS402Z\n"
    "EUUPQfqbuZk/VuSh59LtA/fBKzb4BP5bV8aqogVhG4e/q+NDkwlaq0i31HwLyBla\n"
    "EojE/EEHpXBsuEkVTbKEy5elRq9toL7IZ80i+H2mtfU5CPsar+R3AgMBAAE=\n"
    "-----END RSA PUBLIC KEY-----\n";
static const char default_sm2_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEy2QjbKC4L6LJpw51mjX90X41NYGa\n"
    "Mp+OGX7eJBfs8K98MOtKN8wPjj1iqHUlW6qyPGggNPI5RGEoAXaojOVycg==\n"
    "-----END PUBLIC KEY-----\n";

#define AES_KEY_LEN 32
#define AES_IV_LEN 16
#define SM4_KEY_LEN 16
#define GCM_IV_LEN 12
#define BODY_MARK "EncryptionBody"

struct tcf_encryption_keys {
    tcf_encryption_algorithm alg;
    size_t key_len, iv_len;
    unsigned char key[AES_KEY_LEN];
    unsigned char iv[AES_IV_LEN];
    char *blob; /* base64 CiphertextBlob */
};

/* ---- which fields each action can encrypt ---- */

enum {
    ENC_FIELDS = 0,       /* request fields with an Encryption object */
    ENC_PHONE_LEGACY = 1, /* PhoneVerification: top-level CiphertextBlob / EncryptList / Iv */
    ENC_RESPONSE = 2,     /* encrypted responses: field level or IsEncryptResponse */
    ENC_BODY = 3          /* DetectAIFakeFaces: the request body as EncryptedBody */
};

typedef struct enc_action {
    const char *name;
    int kind;
    int is_encrypt_flag; /* CheckIdCardInformation: field-level response via IsEncrypt */
    const char *fields[5];
} enc_action;

static const enc_action actions[] = {
    {"BankCard2EVerification", ENC_FIELDS, 0, {"Name", "BankCard", NULL}},
    {"BankCard4EVerification", ENC_FIELDS, 0, {"Name", "IdCard", "Phone", "BankCard", NULL}},
    {"BankCardVerification", ENC_FIELDS, 0, {"Name", "IdCard", "BankCard", NULL}},
    {"CheckBankCardInformation", ENC_FIELDS, 0, {"BankCard", NULL}},
    {"CheckIdCardInformation", ENC_RESPONSE, 1, {NULL}},
    {"CheckIdNameDate", ENC_FIELDS, 0, {"Name", "IdCard", NULL}},
    {"CheckPhoneAndName", ENC_FIELDS, 0, {"Name", "Mobile", NULL}},
    {"DetectAIFakeFaces", ENC_BODY, 0, {NULL}},
    {"DetectAuth", ENC_FIELDS, 0, {"Name", "IdCard", NULL}},
    {"GetDetectInfoEnhanced", ENC_RESPONSE, 0, {NULL}},
    {"GetEidToken", ENC_FIELDS, 0, {"Name", "IdCard", NULL}},
    {"GetFaceIdResult", ENC_RESPONSE, 0, {NULL}},
    {"GetFaceIdToken", ENC_FIELDS, 0, {"Name", "IdCard", "ImageBase64", NULL}},
    {"IdCardOCRVerification", ENC_FIELDS, 0, {"Name", "IdCard", NULL}},
    {"IdCardVerification", ENC_FIELDS, 0, {"Name", "IdCard", NULL}},
    {"ImageRecognition", ENC_FIELDS, 0, {"Name", "IdCard", NULL}},
    {"ImageRecognitionV2", ENC_FIELDS, 0, {"Name", "IdCard", NULL}},
    {"LivenessRecognition", ENC_FIELDS, 0, {"Name", "IdCard", NULL}},
    {"MinorsVerification", ENC_FIELDS, 0, {"Name", "IdCard", "Mobile", NULL}},
    {"MobileNetworkTimeVerification", ENC_FIELDS, 0, {"Mobile", NULL}},
    {"MobileStatus", ENC_FIELDS, 0, {"Mobile", NULL}},
    {"PhoneVerification", ENC_PHONE_LEGACY, 0, {"IdCard", "Name", "Phone", NULL}},
    {"PhoneVerificationCMCC", ENC_FIELDS, 0, {"Name", "IdCard", "Phone", NULL}},
    {"PhoneVerificationCTCC", ENC_FIELDS, 0, {"Name", "IdCard", "Phone", NULL}},
    {"PhoneVerificationCUCC", ENC_FIELDS, 0, {"Name", "IdCard", "Phone", NULL}},
};

static const enc_action *find_action(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(actions[i].name, name) == 0)
            return &actions[i];
    return NULL;
}

static int action_has_field(const enc_action *a, const char *field)
{
    for (size_t i = 0; a->fields[i] != NULL; i++)
        if (strcmp(a->fields[i], field) == 0)
            return 1;
    return 0;
}

const char *const *tcf_encryptable_fields(const char *action, size_t *count)
{
    const enc_action *a = find_action(action);
    if (count != NULL)
        *count = 0;
    if (a == NULL)
        return NULL;
    size_t n = 0;
    while (a->fields[n] != NULL)
        n++;
    if (count != NULL)
        *count = n;
    return a->fields;
}

const char *tcf_encryption_algorithm_name(tcf_encryption_algorithm algorithm)
{
    switch (algorithm) {
    case TCF_ENCRYPTION_AES_256_CBC:
        return "AES-256-CBC";
    case TCF_ENCRYPTION_SM4_GCM:
        return "SM4-GCM";
    }
    return NULL;
}

/* ---- small helpers ---- */

/* Overwrites every string value of a jansson tree (identity data) before it is freed. */
static void wipe_json(json_t *j)
{
    if (json_is_string(j)) {
        tcfp_wipe((char *)json_string_value(j), json_string_length(j));
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) wipe_json(v);
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) wipe_json(v);
    }
}

static void free_json(json_t *j)
{
    if (j != NULL) {
        wipe_json(j);
        json_decref(j);
    }
}

/* base64 of n bytes into a new NUL-terminated string. */
static char *b64_new(const unsigned char *p, size_t n)
{
    size_t len = tcfp_base64_encoded_len(n);
    if (len == SIZE_MAX)
        return NULL;
    char *s = tcfp_malloc(len + 1);
    if (s != NULL)
        tcfp_base64_encode(s, p, n);
    return s;
}

/* Strict base64 into a new buffer (*out NULL for empty input is fine: a 1-byte buffer). */
static int b64_decode_new(unsigned char **out, size_t *out_len, const char *s, size_t n)
{
    *out = tcfp_malloc(n / 4 * 3 + 1);
    if (*out == NULL)
        return TCF_ENOMEM;
    if (tcfp_base64_decode(*out, out_len, s, n) != 0) {
        tcfp_free(*out);
        *out = NULL;
        return TCF_ECRYPTO;
    }
    return 0;
}

/* Serialises j (compact) into a tcfp_malloc'd string. */
static int dump_json(char **out, size_t *len, json_t *j, tcf_error *err)
{
    size_t need = json_dumpb(j, NULL, 0, JSON_COMPACT);
    if (need == 0)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory writing the JSON text");
    char *buf = tcfp_malloc(need + 1);
    if (buf == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory writing the JSON text");
    if (json_dumpb(j, buf, need, JSON_COMPACT) != need) {
        tcfp_free_secret(buf);
        return tcfp_fail(err, TCF_ENOMEM, "out of memory writing the JSON text");
    }
    buf[need] = '\0';
    *out = buf;
    if (len != NULL)
        *len = need;
    return 0;
}

/* ---- key material ---- */

void tcf_encryption_keys_free(tcf_encryption_keys *k)
{
    if (k == NULL)
        return;
    tcfp_free(k->blob);
    tcfp_wipe(k, sizeof *k);
    tcfp_free(k);
}

tcf_encryption_algorithm tcf_encryption_keys_algorithm(const tcf_encryption_keys *k)
{
    return k ? k->alg : (tcf_encryption_algorithm)0;
}

const char *tcf_encryption_keys_ciphertext_blob(const tcf_encryption_keys *k)
{
    return k ? k->blob : NULL;
}

const unsigned char *tcf_encryption_keys_key(const tcf_encryption_keys *k, size_t *len)
{
    if (len != NULL)
        *len = k ? k->key_len : 0;
    return k ? k->key : NULL;
}

static int wrap_key(tcf_encryption_keys *k, const tcf_encryption_options *o, tcf_error *err)
{
    int rsa = k->alg == TCF_ENCRYPTION_AES_256_CBC;
    const char *given = rsa ? o->rsa_public_key_pem : o->sm2_public_key_pem;
    const char *pem = given ? given : rsa ? default_rsa_pem : default_sm2_pem;
    EVP_PKEY *pub = NULL;
    int rc = tcfp_load_public_key(&pub, pem, rsa ? TCFP_PUBKEY_RSA : TCFP_PUBKEY_SM2);
    if (rc == TCF_ENOMEM)
        return tcfp_fail(err, rc, "out of memory reading the public key");
    if (rc != 0)
        return tcfp_fail(err, TCF_EINVAL,
                         rsa ? "rsa_public_key_pem is not an RSA public key (PKCS#1 \"RSA PUBLIC "
                               "KEY\" or \"PUBLIC KEY\" PEM)"
                             : "sm2_public_key_pem is not an SM2 (sm2p256v1) \"PUBLIC KEY\" PEM");
    unsigned char *ct = NULL;
    size_t ct_len = 0;
    rc = rsa ? tcfp_rsa_pkcs1_encrypt(&ct, &ct_len, pub, k->key, k->key_len)
             : tcfp_sm2_encrypt(&ct, &ct_len, pub, k->key, k->key_len);
    EVP_PKEY_free(pub);
    if (rc == TCF_ENOMEM)
        return tcfp_fail(err, rc, "out of memory wrapping the key");
    if (rc != 0)
        return tcfp_fail(err, TCF_ECRYPTO, "the key could not be wrapped with the %s public key",
                         rsa ? "RSA" : "SM2");
    k->blob = b64_new(ct, ct_len);
    tcfp_free(ct);
    if (k->blob == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory wrapping the key");
    return 0;
}

int tcf_encryption_keys_new(tcf_encryption_keys **out, const tcf_encryption_options *opts,
                            tcf_error *err)
{
    static const tcf_encryption_options defaults = TCF_ENCRYPTION_OPTIONS_INIT;
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    *out = NULL;
    const tcf_encryption_options *o = opts ? opts : &defaults;
    if (o->version != TCF_ENCRYPTION_OPTIONS_VERSION)
        return tcfp_fail(err, TCF_EINVAL, "tcf_encryption_options.version is %u, expected %u",
                         o->version, TCF_ENCRYPTION_OPTIONS_VERSION);
    tcf_encryption_algorithm alg = o->algorithm ? o->algorithm : TCF_ENCRYPTION_AES_256_CBC;
    if (alg != TCF_ENCRYPTION_AES_256_CBC && alg != TCF_ENCRYPTION_SM4_GCM)
        return tcfp_fail(err, TCF_EINVAL, "unknown encryption algorithm %d", (int)alg);
    int aes = alg == TCF_ENCRYPTION_AES_256_CBC;
    size_t key_len = aes ? AES_KEY_LEN : SM4_KEY_LEN, iv_len = aes ? AES_IV_LEN : GCM_IV_LEN;
    if (o->key != NULL && o->key_len != key_len)
        return tcfp_fail(err, TCF_EINVAL, "key must be %zu bytes for %s", key_len,
                         tcf_encryption_algorithm_name(alg));
    if (o->iv != NULL && o->iv_len != iv_len)
        return tcfp_fail(err, TCF_EINVAL, "iv must be %zu bytes for %s", iv_len,
                         tcf_encryption_algorithm_name(alg));
    if (o->ciphertext_blob != NULL && (o->key == NULL || o->ciphertext_blob[0] == '\0'))
        return tcfp_fail(err, TCF_EINVAL, "ciphertext_blob needs the key it wraps (key)");

    tcf_encryption_keys *k = tcfp_calloc(1, sizeof *k);
    if (k == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory creating encryption keys");
    k->alg = alg;
    k->key_len = key_len;
    k->iv_len = iv_len;
    int rc = 0;
    if (o->key != NULL)
        memcpy(k->key, o->key, key_len);
    else if (tcfp_random_bytes(k->key, key_len) != 0)
        rc = tcfp_fail(err, TCF_ECRYPTO, "no random bytes for the key");
    if (rc == 0 && o->iv != NULL)
        memcpy(k->iv, o->iv, iv_len);
    else if (rc == 0 && tcfp_random_bytes(k->iv, iv_len) != 0)
        rc = tcfp_fail(err, TCF_ECRYPTO, "no random bytes for the IV");
    if (rc == 0 && o->ciphertext_blob != NULL) {
        if ((k->blob = tcfp_strdup(o->ciphertext_blob)) == NULL)
            rc = tcfp_fail(err, TCF_ENOMEM, "out of memory creating encryption keys");
    } else if (rc == 0) {
        rc = wrap_key(k, o, err);
    }
    if (rc != 0) {
        tcf_encryption_keys_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

/* ---- one value ---- */

/* Encrypts p[0..n) with the request's key and IV: *ct_b64 (new), tag_b64 (SM4-GCM only). */
static int seal(const tcf_encryption_keys *k, const unsigned char *p, size_t n, char **ct_b64,
                char tag_b64[25], const char *what, tcf_error *err)
{
    *ct_b64 = NULL;
    tag_b64[0] = '\0';
    if (n > SIZE_MAX - 32)
        return tcfp_fail(err, TCF_EINVAL, "%s is too long to encrypt", what);
    unsigned char *ct = tcfp_malloc(n + 16);
    if (ct == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory encrypting %s", what);
    size_t ct_len = 0;
    unsigned char tag[TCFP_GCM_TAG_LEN];
    int rc;
    if (k->alg == TCF_ENCRYPTION_AES_256_CBC) {
        rc = tcfp_aes256cbc_encrypt(ct, &ct_len, k->key, k->iv, p, n);
    } else {
        rc = tcfp_sm4_gcm_encrypt(ct, tag, k->key, k->iv, k->iv_len, NULL, 0, p, n);
        ct_len = n;
        if (rc == 0)
            tcfp_base64_encode(tag_b64, tag, sizeof tag);
    }
    if (rc != 0) {
        tcfp_free(ct);
        return tcfp_fail(err, rc == TCF_ENOMEM ? TCF_ENOMEM : TCF_ECRYPTO,
                         "%s could not be encrypted", what);
    }
    *ct_b64 = b64_new(ct, ct_len);
    tcfp_free(ct);
    if (*ct_b64 == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory encrypting %s", what);
    return 0;
}

/* Decrypts one base64 value: *plain (new, NUL-terminated, wipe it), *plain_len. */
static int unseal(tcf_encryption_algorithm alg, const tcf_encryption_keys *k,
                  const unsigned char *iv, size_t iv_len, const char *ct_b64, size_t ct_b64_len,
                  const char *tag_b64, unsigned char **plain, size_t *plain_len, const char *what,
                  tcf_error *err)
{
    unsigned char *ct = NULL;
    size_t ct_len = 0;
    *plain = NULL;
    *plain_len = 0;
    int rc = b64_decode_new(&ct, &ct_len, ct_b64, ct_b64_len);
    if (rc == TCF_ENOMEM)
        return tcfp_fail(err, rc, "out of memory decrypting %s", what);
    if (rc != 0)
        return tcfp_fail(err, TCF_ECRYPTO, "%s is not valid base64", what);
    unsigned char *pt = tcfp_malloc(ct_len + 1);
    if (pt == NULL) {
        tcfp_free(ct);
        return tcfp_fail(err, TCF_ENOMEM, "out of memory decrypting %s", what);
    }
    if (alg == TCF_ENCRYPTION_AES_256_CBC) {
        rc = tcfp_aes256cbc_decrypt(pt, plain_len, k->key, iv, ct, ct_len);
        if (rc != 0)
            rc = tcfp_fail(err, rc == TCF_ENOMEM ? TCF_ENOMEM : TCF_ECRYPTO,
                           "%s could not be decrypted with AES-256-CBC (wrong key or IV, or a "
                           "modified ciphertext)",
                           what);
    } else {
        unsigned char tag[TCFP_GCM_TAG_LEN + 2];
        size_t tag_len = 0;
        size_t tl = tag_b64 ? strlen(tag_b64) : 0;
        if (tag_b64 == NULL || tl != 24 || tcfp_base64_decode(tag, &tag_len, tag_b64, tl) != 0 ||
            tag_len != TCFP_GCM_TAG_LEN) {
            rc = tcfp_fail(err, TCF_ECRYPTO, "the SM4-GCM tag of %s is missing or malformed", what);
        } else {
            rc = tcfp_sm4_gcm_decrypt(pt, k->key, iv, iv_len, NULL, 0, ct, ct_len, tag);
            *plain_len = ct_len;
            if (rc != 0)
                rc = tcfp_fail(err, rc == TCF_ENOMEM ? TCF_ENOMEM : TCF_ECRYPTO,
                               "%s failed SM4-GCM authentication (wrong key, IV or tag, or a "
                               "modified ciphertext)",
                               what);
        }
    }
    tcfp_free(ct);
    if (rc != 0) {
        tcfp_wipe(pt, ct_len + 1);
        tcfp_free(pt);
        *plain_len = 0;
        return rc;
    }
    pt[*plain_len] = '\0';
    *plain = pt;
    return 0;
}

/* ---- requests ---- */

static int set_new(json_t *obj, const char *key, json_t *v)
{
    return v != NULL && json_object_set_new(obj, key, v) == 0 ? 0 : TCF_ENOMEM;
}

/* The Encryption object. list: EncryptList (stolen), tags: TagList (stolen). */
static json_t *encryption_object(const tcf_encryption_keys *k, json_t *list, json_t *tags)
{
    json_t *enc = json_object();
    char iv_b64[32];
    tcfp_base64_encode(iv_b64, k->iv, k->iv_len);
    if (enc == NULL || list == NULL || tags == NULL) {
        json_decref(enc);
        json_decref(list);
        json_decref(tags);
        return NULL;
    }
    if (set_new(enc, "EncryptList", list) != 0 ||
        set_new(enc, "CiphertextBlob", json_string(k->blob)) != 0 ||
        set_new(enc, "Iv", json_string(iv_b64)) != 0 ||
        set_new(enc, "Algorithm", json_string(tcf_encryption_algorithm_name(k->alg))) != 0 ||
        set_new(enc, "TagList", tags) != 0) {
        json_decref(enc);
        return NULL;
    }
    return enc;
}

static int wanted(const tcf_encryption_options *o, const char *field)
{
    if (o->fields == NULL || o->field_count == 0)
        return 1;
    for (size_t i = 0; i < o->field_count; i++)
        if (o->fields[i] != NULL && strcmp(o->fields[i], field) == 0)
            return 1;
    return 0;
}

/* Encrypts the fields in place; list/tags receive the names and tags. */
static int encrypt_fields(json_t *root, const enc_action *a, const tcf_encryption_options *o,
                          const tcf_encryption_keys *k, json_t *list, json_t *tags, tcf_error *err)
{
    for (size_t i = 0; a->fields[i] != NULL; i++) {
        const char *f = a->fields[i];
        json_t *v = json_object_get(root, f);
        if (!wanted(o, f) || v == NULL || json_is_null(v))
            continue;
        if (!json_is_string(v))
            return tcfp_fail(err, TCF_EINVAL, "%s must be a string to be encrypted", f);
        size_t n = json_string_length(v);
        if (n == 0)
            continue;
        char *ct = NULL, tag[25];
        int rc = seal(k, (const unsigned char *)json_string_value(v), n, &ct, tag, f, err);
        if (rc != 0)
            return rc;
        tcfp_wipe((char *)json_string_value(v), n);
        rc = set_new(root, f, json_string(ct));
        tcfp_free(ct);
        if (rc == 0 && json_array_append_new(list, json_string(f)) != 0)
            rc = TCF_ENOMEM;
        if (rc == 0 && k->alg == TCF_ENCRYPTION_SM4_GCM &&
            json_array_append_new(tags, json_string(tag)) != 0)
            rc = TCF_ENOMEM;
        if (rc != 0)
            return tcfp_fail(err, rc, "out of memory encrypting %s", f);
    }
    return 0;
}

static int check_options(const enc_action *a, const char *action, const tcf_encryption_options *o,
                         tcf_error *err)
{
    if (o->version != TCF_ENCRYPTION_OPTIONS_VERSION)
        return tcfp_fail(err, TCF_EINVAL, "tcf_encryption_options.version is %u, expected %u",
                         o->version, TCF_ENCRYPTION_OPTIONS_VERSION);
    if (o->fields == NULL && o->field_count != 0)
        return tcfp_fail(err, TCF_EINVAL, "fields is NULL but field_count is %zu", o->field_count);
    for (size_t i = 0; o->fields != NULL && i < o->field_count; i++) {
        if (o->fields[i] == NULL)
            return tcfp_fail(err, TCF_EINVAL, "fields[%zu] is NULL", i);
        if (!action_has_field(a, o->fields[i]))
            return tcfp_fail(err, TCF_EINVAL, "%.64s is not an encryptable field of %s",
                             o->fields[i], action);
    }
    if (o->whole_body && a->kind != ENC_RESPONSE && a->kind != ENC_BODY)
        return tcfp_fail(err, TCF_EINVAL,
                         "whole-body encryption is not available for %s (only "
                         "GetDetectInfoEnhanced, GetFaceIdResult, CheckIdCardInformation, "
                         "DetectAIFakeFaces)",
                         action);
    if (a->kind == ENC_PHONE_LEGACY && o->algorithm == TCF_ENCRYPTION_SM4_GCM)
        return tcfp_fail(err, TCF_EINVAL,
                         "PhoneVerification encrypts with AES-256-CBC only (top-level "
                         "CiphertextBlob/EncryptList/Iv)");
    return 0;
}

static int build_request(json_t **out, json_t *root, const char *params, size_t n,
                         const enc_action *a, const tcf_encryption_options *o,
                         const tcf_encryption_keys *k, tcf_error *err)
{
    static const char *const legacy[] = {"CiphertextBlob", "EncryptList", "Iv"};
    json_t *list = json_array(), *tags = json_array();
    int rc = list && tags ? 0 : tcfp_fail(err, TCF_ENOMEM, "out of memory");
    *out = NULL;
    if (rc == 0 && a->kind == ENC_BODY) {
        char *ct = NULL, tag[25];
        rc = seal(k, (const unsigned char *)params, n, &ct, tag, "the request body", err);
        json_t *body = rc == 0 ? json_object() : NULL;
        if (rc == 0 && (json_array_append_new(list, json_string(BODY_MARK)) != 0 ||
                        (k->alg == TCF_ENCRYPTION_SM4_GCM &&
                         json_array_append_new(tags, json_string(tag)) != 0) ||
                        body == NULL))
            rc = TCF_ENOMEM;
        if (rc == 0) {
            json_t *enc = encryption_object(k, list, tags);
            list = tags = NULL;
            if (set_new(body, "Encryption", enc) != 0 ||
                set_new(body, "EncryptedBody", json_string(ct)) != 0)
                rc = TCF_ENOMEM;
        }
        tcfp_free(ct);
        if (rc == TCF_ENOMEM)
            tcfp_fail(err, rc, "out of memory encrypting the request body");
        if (rc == 0)
            *out = body;
        else
            json_decref(body);
    } else if (rc == 0 && a->kind == ENC_RESPONSE) {
        json_t *flag = json_object_get(root, "IsEncryptResponse");
        int whole = o->whole_body || json_is_true(flag);
        if (whole && json_array_append_new(list, json_string(BODY_MARK)) != 0)
            rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
        if (rc == 0) {
            json_t *enc = encryption_object(k, list, tags);
            list = tags = NULL;
            if (set_new(root, "Encryption", enc) != 0 ||
                (whole && set_new(root, "IsEncryptResponse", json_true()) != 0) ||
                (!whole && a->is_encrypt_flag && set_new(root, "IsEncrypt", json_true()) != 0))
                rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
        }
    } else if (rc == 0) {
        rc = encrypt_fields(root, a, o, k, list, tags, err);
        if (rc == 0 && json_array_size(list) > 0) {
            if (a->kind == ENC_PHONE_LEGACY) {
                char iv_b64[32];
                tcfp_base64_encode(iv_b64, k->iv, k->iv_len);
                if (set_new(root, legacy[0], json_string(k->blob)) != 0 ||
                    set_new(root, legacy[1], json_incref(list)) != 0 ||
                    set_new(root, legacy[2], json_string(iv_b64)) != 0)
                    rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
            } else {
                json_t *enc = encryption_object(k, list, tags);
                list = tags = NULL;
                if (set_new(root, "Encryption", enc) != 0)
                    rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
            }
        }
    }
    json_decref(list);
    json_decref(tags);
    if (rc == 0 && *out == NULL)
        *out = json_incref(root);
    return rc;
}

int tcf_encrypt_request(char **json_out, size_t *len, const char *action, const char *params_json,
                        size_t n, const tcf_encryption_options *opts,
                        tcf_encryption_keys **keys_out, tcf_error *err)
{
    static const tcf_encryption_options defaults = TCF_ENCRYPTION_OPTIONS_INIT;
    if (json_out != NULL)
        *json_out = NULL;
    if (len != NULL)
        *len = 0;
    if (keys_out != NULL)
        *keys_out = NULL;
    if (json_out == NULL || action == NULL)
        return tcfp_fail(err, TCF_EINVAL, "%s is NULL", json_out == NULL ? "json_out" : "action");
    const enc_action *a = find_action(action);
    if (a == NULL)
        return tcfp_fail(err, TCF_EINVAL, "%.64s is not a FaceID action with field encryption",
                         action);
    const tcf_encryption_options *o = opts ? opts : &defaults;
    int rc = check_options(a, action, o, err);
    if (rc != 0)
        return rc;
    if (params_json == NULL || n == 0) {
        params_json = "{}";
        n = 2;
    }
    json_error_t e;
    json_t *root = json_loadb(params_json, n, JSON_REJECT_DUPLICATES, &e);
    if (root == NULL || !json_is_object(root)) {
        int line = e.line, column = e.column;
        tcfp_wipe(&e, sizeof e); /* its text may quote identity data */
        free_json(root);
        return root ? tcfp_fail(err, TCF_EJSON, "params_json is not a JSON object")
                    : tcfp_fail(err, TCF_EJSON,
                                "params_json is not valid JSON (line %d, column %d)", line, column);
    }
    static const char *const taken[] = {"Encryption", "EncryptedBody", "CiphertextBlob",
                                        "EncryptList", "Iv"};
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
        int legacy_name = i >= 2;
        if (legacy_name && a->kind != ENC_PHONE_LEGACY)
            continue;
        if (json_object_get(root, taken[i]) != NULL) {
            free_json(root);
            return tcfp_fail(err, TCF_EINVAL, "the parameters already have %s", taken[i]);
        }
    }
    tcf_encryption_keys *k = NULL;
    json_t *result = NULL;
    rc = tcf_encryption_keys_new(&k, o, err);
    if (rc == 0)
        rc = build_request(&result, root, params_json, n, a, o, k, err);
    if (rc == 0)
        rc = dump_json(json_out, len, result, err);
    free_json(result);
    free_json(root);
    if (rc != 0 || keys_out == NULL)
        tcf_encryption_keys_free(k);
    else
        *keys_out = k;
    return rc;
}

/* ---- responses ---- */

/* The IV of a response: Encryption.Iv, or the request's when absent or empty. */
static int response_iv(unsigned char iv[16], size_t *iv_len, json_t *enc,
                       tcf_encryption_algorithm alg, const tcf_encryption_keys *k, tcf_error *err)
{
    json_t *v = json_object_get(enc, "Iv");
    if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) {
        memcpy(iv, k->iv, k->iv_len);
        *iv_len = k->iv_len;
        return 0;
    }
    if (!json_is_string(v))
        return tcfp_fail(err, TCF_EJSON, "Encryption.Iv is not a string");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    unsigned char buf[48];
    size_t got = 0;
    int ok = n <= 64 && n % 4 == 0 && tcfp_base64_decode(buf, &got, s, n) == 0;
    if (alg == TCF_ENCRYPTION_AES_256_CBC) {
        if (ok && got == AES_IV_LEN) {
            memcpy(iv, buf, AES_IV_LEN);
        } else if (n == AES_IV_LEN) { /* the documented "16-character string" form */
            memcpy(iv, s, AES_IV_LEN);
        } else {
            return tcfp_fail(err, TCF_ECRYPTO, "Encryption.Iv is not a 16-byte AES IV");
        }
        *iv_len = AES_IV_LEN;
        return 0;
    }
    if (!ok || got == 0 || got > 16)
        return tcfp_fail(err, TCF_ECRYPTO, "Encryption.Iv is not a base64 SM4-GCM IV");
    memcpy(iv, buf, got);
    *iv_len = got;
    return 0;
}

static const char *tag_at(json_t *enc, size_t i)
{
    json_t *t = json_array_get(json_object_get(enc, "TagList"), i);
    return json_is_string(t) ? json_string_value(t) : NULL;
}

/* Splits a path ("Response.Text.IdCard", "Text.List[0].Name") into the parent container and the
 * last segment; *parent NULL when some step does not exist. Returns -1 for a malformed path. */
/* 1 when path is name ('.' name | '[' digits ']')*, a name being 1+ characters but . [ ]. */
static int path_ok(const char *p)
{
    int need_name = 1;
    while (*p != '\0') {
        if (need_name) {
            size_t n = strcspn(p, ".[]");
            if (n == 0)
                return 0;
            p += n;
            need_name = 0;
        } else if (*p == '.') {
            p++;
            need_name = 1;
        } else if (*p == '[') {
            size_t n = strspn(++p, "0123456789");
            if (n == 0 || p[n] != ']')
                return 0;
            p += n + 1;
        } else {
            return 0;
        }
    }
    return !need_name;
}

static int resolve_path(json_t *root, const char *path, json_t **parent, char *last, size_t cap)
{
    char seg[128];
    json_t *cur = root;
    const char *p = path;
    if (strncmp(p, "Response.", 9) == 0)
        p += 9;
    *parent = NULL;
    if (!path_ok(p))
        return -1;
    for (;;) {
        size_t n = 0;
        while (*p != '\0' && *p != '.' && *p != '[') {
            if (n + 1 >= sizeof seg)
                return -1;
            seg[n++] = *p++;
        }
        if (n == 0 && *p == '[') { /* "[0]" right after "]" or at the start */
            p++;
            while (*p >= '0' && *p <= '9' && n + 1 < sizeof seg)
                seg[n++] = *p++;
            if (*p != ']' || n == 0)
                return -1;
            p++;
        }
        if (n == 0)
            return -1;
        seg[n] = '\0';
        if (*p == '.')
            p++;
        else if (*p != '\0' && *p != '[')
            return -1;
        if (*p == '\0') {
            if (n + 1 > cap)
                return -1;
            memcpy(last, seg, n + 1);
            *parent = cur;
            return 0;
        }
        if (json_is_object(cur)) {
            cur = json_object_get(cur, seg);
        } else if (json_is_array(cur) && seg[0] >= '0' && seg[0] <= '9') {
            cur = json_array_get(cur, (size_t)strtoull(seg, NULL, 10));
        } else {
            return 0; /* the path does not exist here: nothing to decrypt */
        }
        if (cur == NULL)
            return 0;
    }
}

static json_t *child(json_t *parent, const char *seg)
{
    if (json_is_object(parent))
        return json_object_get(parent, seg);
    if (json_is_array(parent) && seg[0] >= '0' && seg[0] <= '9')
        return json_array_get(parent, (size_t)strtoull(seg, NULL, 10));
    return NULL;
}

static int set_child(json_t *parent, const char *seg, json_t *v)
{
    if (v == NULL)
        return TCF_ENOMEM;
    if (json_is_object(parent))
        return json_object_set_new(parent, seg, v) == 0 ? 0 : TCF_ENOMEM;
    return json_array_set_new(parent, (size_t)strtoull(seg, NULL, 10), v) == 0 ? 0 : TCF_ENOMEM;
}

static int utf8_ok(const unsigned char *p, size_t n)
{
    json_t *s = json_stringn((const char *)p, n);
    int ok = s != NULL;
    free_json(s);
    return ok;
}

static int decrypt_fields(json_t *resp, json_t *enc, json_t *list, tcf_encryption_algorithm alg,
                          const tcf_encryption_keys *k, tcf_error *err)
{
    unsigned char iv[16];
    size_t iv_len = 0;
    int rc = response_iv(iv, &iv_len, enc, alg, k, err);
    for (size_t i = 0; rc == 0 && i < json_array_size(list); i++) {
        json_t *pv = json_array_get(list, i);
        char what[48], last[128];
        json_t *parent = NULL;
        snprintf(what, sizeof what, "Encryption.EncryptList[%zu]", i);
        if (!json_is_string(pv))
            return tcfp_fail(err, TCF_EJSON, "%s is not a string", what);
        if (strcmp(json_string_value(pv), BODY_MARK) == 0)
            continue;
        if (resolve_path(resp, json_string_value(pv), &parent, last, sizeof last) != 0)
            return tcfp_fail(err, TCF_EJSON, "%s is not a usable JSON path", what);
        json_t *v = parent ? child(parent, last) : NULL;
        if (v == NULL || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
            continue;
        if (!json_is_string(v))
            return tcfp_fail(err, TCF_EJSON, "the value named by %s is not a string", what);
        unsigned char *pt = NULL;
        size_t pt_len = 0;
        rc = unseal(alg, k, iv, iv_len, json_string_value(v), json_string_length(v),
                    alg == TCF_ENCRYPTION_SM4_GCM ? tag_at(enc, i) : NULL, &pt, &pt_len, what, err);
        if (rc != 0)
            break;
        if (!utf8_ok(pt, pt_len))
            rc =
                tcfp_fail(err, TCF_ECRYPTO, "the value named by %s did not decrypt to UTF-8", what);
        else if (set_child(parent, last, json_stringn((const char *)pt, pt_len)) != 0)
            rc = tcfp_fail(err, TCF_ENOMEM, "out of memory decrypting %s", what);
        tcfp_wipe(pt, pt_len);
        tcfp_free(pt);
    }
    tcfp_wipe(iv, sizeof iv);
    return rc;
}

static int decrypt_body(json_t *resp, json_t *enc, json_t *body, tcf_encryption_algorithm alg,
                        const tcf_encryption_keys *k, tcf_error *err)
{
    unsigned char iv[16], *pt = NULL;
    size_t iv_len = 0, pt_len = 0;
    int rc = response_iv(iv, &iv_len, enc, alg, k, err);
    if (rc == 0)
        rc = unseal(alg, k, iv, iv_len, json_string_value(body), json_string_length(body),
                    alg == TCF_ENCRYPTION_SM4_GCM ? tag_at(enc, 0) : NULL, &pt, &pt_len,
                    "EncryptedBody", err);
    tcfp_wipe(iv, sizeof iv);
    if (rc != 0)
        return rc;
    json_error_t e;
    json_t *plain = json_loadb((const char *)pt, pt_len, JSON_REJECT_DUPLICATES, &e);
    tcfp_wipe(&e, sizeof e);
    tcfp_wipe(pt, pt_len);
    tcfp_free(pt);
    json_t *members = plain;
    json_t *inner = json_object_get(plain, "Response");
    if (json_is_object(inner) && json_object_size(plain) == 1)
        members = inner;
    if (!json_is_object(members)) {
        free_json(plain);
        return tcfp_fail(err, TCF_EJSON, "EncryptedBody did not decrypt to a JSON object");
    }
    if (json_object_set_new(resp, "EncryptedBody", json_string("")) != 0)
        rc = TCF_ENOMEM;
    const char *key;
    json_t *v;
    json_object_foreach(members, key, v)
    {
        if (rc != 0)
            break;
        if (strcmp(key, "RequestId") == 0 && json_object_get(resp, "RequestId") != NULL)
            continue;
        if (json_object_set(resp, key, v) != 0)
            rc = TCF_ENOMEM;
    }
    /* the values now belong to resp too (wiped with it): only drop this reference */
    json_decref(plain);
    return rc == 0 ? 0 : tcfp_fail(err, rc, "out of memory decrypting EncryptedBody");
}

int tcf_decrypt_response(char **json_out, size_t *len, const char *response_json, size_t n,
                         const tcf_encryption_keys *keys, tcf_error *err)
{
    if (json_out != NULL)
        *json_out = NULL;
    if (len != NULL)
        *len = 0;
    if (json_out == NULL || response_json == NULL || keys == NULL)
        return tcfp_fail(err, TCF_EINVAL, "%s is NULL",
                         json_out == NULL ? "json_out"
                         : keys == NULL   ? "keys"
                                          : "response_json");
    json_error_t e;
    json_t *root = json_loadb(response_json, n, JSON_REJECT_DUPLICATES, &e);
    tcfp_wipe(&e, sizeof e);
    if (!json_is_object(root)) {
        free_json(root);
        return tcfp_fail(err, TCF_EJSON, "response_json is not a JSON object");
    }
    json_t *resp = root, *inner = json_object_get(root, "Response");
    if (json_is_object(inner))
        resp = inner;
    json_t *enc = json_object_get(resp, "Encryption");
    json_t *body = json_object_get(resp, "EncryptedBody");
    json_t *list = json_object_get(enc, "EncryptList");
    int rc = 0;
    int has_body = json_is_string(body) && json_string_length(body) > 0;
    int has_fields = json_is_array(list) && json_array_size(list) > 0;
    if (body != NULL && !json_is_null(body) && !json_is_string(body))
        rc = tcfp_fail(err, TCF_EJSON, "EncryptedBody is not a string");
    if (rc == 0 && (has_body || has_fields)) {
        tcf_encryption_algorithm alg = keys->alg;
        json_t *an = json_object_get(enc, "Algorithm");
        if (json_is_string(an) && json_string_length(an) > 0) {
            const char *name = json_string_value(an);
            if (strcmp(name, "AES-256-CBC") == 0)
                alg = TCF_ENCRYPTION_AES_256_CBC;
            else if (strcmp(name, "SM4-GCM") == 0)
                alg = TCF_ENCRYPTION_SM4_GCM;
            else
                alg = (tcf_encryption_algorithm)0;
        }
        if (alg != keys->alg)
            rc = tcfp_fail(err, TCF_ECRYPTO,
                           "the response is encrypted with an algorithm other than the "
                           "request's (%s)",
                           tcf_encryption_algorithm_name(keys->alg));
        else if (has_body)
            rc = decrypt_body(resp, enc, body, alg, keys, err);
        else
            rc = decrypt_fields(resp, enc, list, alg, keys, err);
    }
    if (rc == 0)
        rc = dump_json(json_out, len, root, err);
    free_json(root);
    return rc;
}
