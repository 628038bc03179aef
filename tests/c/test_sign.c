/* The crypto layer (SHA-256, HMAC, base64) and request signing (TC3-HMAC-SHA256, v1), checked
 * against the shared vectors (shared/vectors/tc3.json), published known answers and values
 * computed independently with Python hashlib/hmac. */
#include "crypto.h"
#include "internal.h"
#include "tcft.h"

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define EXAMPLE_ID "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
#define EXAMPLE_KEY "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char *const tc3_fields[] = {"hashed_payload", "canonical_request", "string_to_sign",
                                         "signature", "authorization"};

/* ---------------------------------------------------------------------------------------------
 * helpers
 * ------------------------------------------------------------------------------------------- */

static void hex_of(char out[65], const unsigned char digest[32])
{
    tcfp_hex(out, digest, 32);
}

static int sha256_hex_is(const void *data, size_t len, const char *expected)
{
    unsigned char d[32];
    char hex[65];
    if (tcfp_sha256(d, data, len) != 0)
        return 0;
    hex_of(hex, d);
    return strcmp(hex, expected) == 0;
}

/* SHA-256 through the streaming interface, fed in chunks of `chunk` bytes. */
static int sha256_chunked(char hex[65], const void *data, size_t len, size_t chunk)
{
    tcfp_sha256_ctx c = TCFP_SHA256_CTX_INIT;
    unsigned char d[32];
    const unsigned char *p = data;
    int rc = tcfp_sha256_init(&c);
    for (size_t off = 0; rc == 0 && off < len; off += chunk)
        rc = tcfp_sha256_update(&c, p + off, len - off < chunk ? len - off : chunk);
    if (rc == 0)
        rc = tcfp_sha256_final(&c, d);
    tcfp_sha256_free(&c);
    if (rc == 0)
        hex_of(hex, d);
    return rc;
}

static int hmac_hex_is(tcfp_hmac_alg alg, const void *key, size_t key_len, const void *msg,
                       size_t msg_len, const char *expected)
{
    unsigned char mac[TCFP_HMAC_MAX_LEN];
    char hex[2 * TCFP_HMAC_MAX_LEN + 1];
    if (tcfp_hmac(alg, mac, key, key_len, msg, msg_len) != 0)
        return 0;
    tcfp_hex(hex, mac, tcfp_hmac_len(alg));
    return strcmp(hex, expected) == 0;
}

/* A TC3 input with the documentation's example keys. */
static tcf_sign_input example_input(const char *body)
{
    tcf_sign_input in = TCF_SIGN_INPUT_INIT;
    in.secret_id = EXAMPLE_ID;
    in.secret_key = EXAMPLE_KEY;
    in.service = "faceid";
    in.host = "faceid.tencentcloudapi.com";
    in.method = "POST";
    in.content_type = "application/json";
    in.body = (const unsigned char *)body;
    in.body_len = body ? strlen(body) : 0;
    in.timestamp = 1700000000;
    return in;
}

static json_t *load_vectors(void)
{
    const char *path = tcft_vectors_path();
    char joined[4096];
    struct stat st;
    if (path == NULL) {
        printf("    no signature vectors: run with --vectors PATH/tc3.json or set TCF_VECTORS\n");
        return NULL;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(joined, sizeof joined, "%s/tc3.json", path);
        path = joined;
    }
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (root == NULL) {
        printf("    cannot read the signature vectors %s: %s\n", path, jerr.text);
        return NULL;
    }
    json_t *vectors = json_object_get(root, "vectors");
    if (!json_is_array(vectors)) {
        printf("    %s has no \"vectors\" array\n", path);
        json_decref(root);
        return NULL;
    }
    json_incref(vectors);
    json_decref(root);
    return vectors;
}

/* A vector's inputs as a tcf_sign_input (pointers into the vector, plus owned copies). */
typedef struct vec_input {
    tcf_sign_input in;
    unsigned char *body;
    char *signed_headers;
    tcf_header extra[8];
    tcf_header *params;
} vec_input;

static void vec_free(vec_input *x)
{
    free(x->body);
    free(x->signed_headers);
    free(x->params);
}

static const char *str_of(json_t *v, const char *key)
{
    return json_string_value(json_object_get(v, key));
}

static int vec_load(json_t *v, vec_input *x)
{
    tcf_sign_input init = TCF_SIGN_INPUT_INIT;
    memset(x, 0, sizeof *x);
    x->in = init;
    x->in.algorithm = str_of(v, "algorithm");
    x->in.secret_id = str_of(v, "secret_id");
    x->in.secret_key = str_of(v, "secret_key");
    x->in.service = str_of(v, "service");
    x->in.host = str_of(v, "host");
    x->in.method = str_of(v, "method");
    x->in.content_type = str_of(v, "content_type");
    x->in.canonical_query = str_of(v, "canonical_query");
    x->in.timestamp = json_integer_value(json_object_get(v, "timestamp"));
    x->in.unsigned_payload = json_is_true(json_object_get(v, "unsigned_payload"));
    json_t *utf8 = json_object_get(v, "body_utf8"), *b64 = json_object_get(v, "body_base64");
    if (json_is_string(utf8)) {
        x->in.body = (const unsigned char *)json_string_value(utf8);
        x->in.body_len = json_string_length(utf8);
    } else if (json_is_string(b64)) {
        size_t n = json_string_length(b64);
        x->body = malloc(n / 4 * 3 + 1);
        if (x->body == NULL ||
            tcfp_base64_decode(x->body, &x->in.body_len, json_string_value(b64), n) != 0)
            return -1;
        x->in.body = x->body;
    }
    const char *signed_headers = str_of(v, "signed_headers");
    if (signed_headers != NULL) {
        size_t count = 0;
        x->signed_headers = strdup(signed_headers);
        if (x->signed_headers == NULL)
            return -1;
        for (char *save = NULL, *name = strtok_r(x->signed_headers, ";", &save); name != NULL;
             name = strtok_r(NULL, ";", &save)) {
            if (strcmp(name, "content-type") == 0 || strcmp(name, "host") == 0)
                continue;
            if (strcmp(name, "x-tc-action") != 0 || count == 8)
                return -1; /* the only extra signed header the vectors use */
            x->extra[count].name = name;
            x->extra[count].value = str_of(v, "action");
            count++;
        }
        x->in.extra_signed_headers = x->extra;
        x->in.extra_signed_header_count = count;
    }
    json_t *params = json_object_get(v, "params_raw");
    if (json_is_object(params)) {
        size_t n = 0;
        const char *key;
        json_t *value;
        x->params = calloc(json_object_size(params) + 1, sizeof *x->params);
        if (x->params == NULL)
            return -1;
        json_object_foreach(params, key, value)
        {
            x->params[n].name = key;
            x->params[n].value = json_string_value(value);
            n++;
        }
        x->in.params = x->params;
        x->in.param_count = n;
    }
    return 0;
}

static int is_tc3(json_t *v)
{
    return strcmp(str_of(v, "algorithm"), "TC3-HMAC-SHA256") == 0;
}

/* Compares every expected field of a vector with a signature; prints each mismatch. */
static int compare_vector(json_t *v, const tcf_signature *sig)
{
    int failures = 0;
    json_t *expected = json_object_get(v, "expected");
    const char *key;
    json_t *want;
    json_object_foreach(expected, key, want)
    {
        const char *got = tcf_signature_get(sig, key);
        if (got == NULL || strcmp(got, json_string_value(want)) != 0) {
            printf("    vector %s: %s differs\n      want: %s\n      got:  %s\n", str_of(v, "id"),
                   key, json_string_value(want), got ? got : "(null)");
            failures++;
        }
    }
    /* a v1 result has no TC3 fields */
    if (!is_tc3(v))
        for (size_t i = 0; i < sizeof tc3_fields / sizeof tc3_fields[0]; i++)
            if (json_object_get(expected, tc3_fields[i]) == NULL &&
                tcf_signature_get(sig, tc3_fields[i]) != NULL) {
                printf("    vector %s: unexpected field %s\n", str_of(v, "id"), tc3_fields[i]);
                failures++;
            }
    return failures;
}

/* Signs one vector (with the cache and/or the precomputed payload hash when given); returns
 * the number of mismatches. */
static int check_vector(json_t *v, tcfp_sign_key_cache *cache, int precompute_hash)
{
    vec_input x;
    if (vec_load(v, &x) != 0) {
        printf("    vector %s: cannot read its inputs\n", str_of(v, "id"));
        vec_free(&x);
        return 1;
    }
    unsigned char hash[32];
    const unsigned char *payload_sha256 = NULL;
    if (precompute_hash) {
        tcfp_sha256_ctx c = TCFP_SHA256_CTX_INIT;
        int rc = tcfp_sha256_init(&c);
        for (size_t i = 0; rc == 0 && i < x.in.body_len; i += 5)
            rc = tcfp_sha256_update(&c, x.in.body + i,
                                    x.in.body_len - i < 5 ? x.in.body_len - i : 5);
        if (rc == 0)
            rc = tcfp_sha256_final(&c, hash);
        tcfp_sha256_free(&c);
        if (rc != 0) {
            vec_free(&x);
            return 1;
        }
        payload_sha256 = hash;
    }
    tcf_signature *sig = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int failures = 0;
    if (tcfp_sign_ex(&sig, &x.in, payload_sha256, cache, &err) != 0) {
        printf("    vector %s: tcf_sign failed: %s\n", str_of(v, "id"), err.message);
        failures = 1;
    } else {
        failures = compare_vector(v, sig);
    }
    tcf_signature_free(sig);
    vec_free(&x);
    return failures;
}

static int message_has(const tcf_error *err, const char *text)
{
    return strstr(err->message, text) != NULL;
}

/* ---------------------------------------------------------------------------------------------
 * SHA-256
 * ------------------------------------------------------------------------------------------- */

TCFT_TEST(crypto_sha256_known_answers)
{
    /* FIPS 180-2, appendix B.1 and B.2 */
    TCFT_CHECK(sha256_hex_is("abc", 3,
                             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    const char *b2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    TCFT_CHECK(sha256_hex_is(b2, strlen(b2),
                             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    TCFT_CHECK(sha256_hex_is("", 0, SHA256_EMPTY));
    TCFT_CHECK(sha256_hex_is(NULL, 0, SHA256_EMPTY));
    TCFT_CHECK(sha256_hex_is("UNSIGNED-PAYLOAD", 16,
                             "438d4109ef0d676b8c2c7ed13cdfcb418e494d53b843d4634ce3b1085f07bb96"));
}

TCFT_TEST(crypto_sha256_streaming_million_a)
{
    /* FIPS 180-2, appendix B.3: one million 'a', streamed in chunks of 1000 */
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    tcfp_sha256_ctx c = TCFP_SHA256_CTX_INIT;
    unsigned char d[32];
    char hex[65];
    TCFT_CHECK(tcfp_sha256_init(&c) == 0);
    for (int i = 0; i < 1000; i++)
        TCFT_CHECK(tcfp_sha256_update(&c, chunk, sizeof chunk) == 0);
    TCFT_CHECK(tcfp_sha256_final(&c, d) == 0);
    hex_of(hex, d);
    TCFT_CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* the same context hashes again after a new init */
    TCFT_CHECK(tcfp_sha256_init(&c) == 0);
    TCFT_CHECK(tcfp_sha256_update(&c, "abc", 3) == 0);
    TCFT_CHECK(tcfp_sha256_final(&c, d) == 0);
    tcfp_sha256_free(&c);
    tcfp_sha256_free(&c); /* idempotent */
    hex_of(hex, d);
    TCFT_CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TCFT_TEST(crypto_sha256_chunking_is_irrelevant)
{
    unsigned char data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7 % 256); /* includes 0x00 and bytes >= 0x80 */
    unsigned char d[32];
    char one[65], chunked[65];
    TCFT_CHECK(tcfp_sha256(d, data, sizeof data) == 0);
    hex_of(one, d);
    size_t sizes[] = {1, 3, 63, 64, 65, 999, 1000, 5000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        TCFT_CHECK(sha256_chunked(chunked, data, sizeof data, sizes[i]) == 0);
        TCFT_CHECK_STR(chunked, one);
    }
}

TCFT_TEST(crypto_sha256_misuse_is_an_error)
{
    tcfp_sha256_ctx c = TCFP_SHA256_CTX_INIT;
    unsigned char d[32];
    TCFT_CHECK(tcfp_sha256_update(&c, "x", 1) == TCF_ECRYPTO);
    TCFT_CHECK(tcfp_sha256_final(&c, d) == TCF_ECRYPTO);
    tcfp_sha256_free(&c);
}

/* ---------------------------------------------------------------------------------------------
 * HMAC
 * ------------------------------------------------------------------------------------------- */

TCFT_TEST(crypto_hmac_sha256_rfc4231)
{
    /* test case 2 */
    TCFT_CHECK(hmac_hex_is(TCFP_HMAC_SHA256, "Jefe", 4, "what do ya want for nothing?", 28,
                           "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    /* test case 1: binary key */
    unsigned char key1[20];
    memset(key1, 0x0b, sizeof key1);
    TCFT_CHECK(hmac_hex_is(TCFP_HMAC_SHA256, key1, sizeof key1, "Hi There", 8,
                           "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
    /* test case 6: a key longer than the block size */
    unsigned char key6[131];
    memset(key6, 0xaa, sizeof key6);
    const char *msg6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    TCFT_CHECK(hmac_hex_is(TCFP_HMAC_SHA256, key6, sizeof key6, msg6, strlen(msg6),
                           "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
}

TCFT_TEST(crypto_hmac_sha1_rfc2202)
{
    /* test case 2 */
    TCFT_CHECK(hmac_hex_is(TCFP_HMAC_SHA1, "Jefe", 4, "what do ya want for nothing?", 28,
                           "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"));
    /* test case 1 */
    unsigned char key1[20];
    memset(key1, 0x0b, sizeof key1);
    TCFT_CHECK(hmac_hex_is(TCFP_HMAC_SHA1, key1, sizeof key1, "Hi There", 8,
                           "b617318655057264e28bc0b6fb378c8ef146be00"));
    TCFT_CHECK(tcfp_hmac_len(TCFP_HMAC_SHA1) == 20 && tcfp_hmac_len(TCFP_HMAC_SHA256) == 32);
}

TCFT_TEST(crypto_hmac_context_reused_with_new_keys)
{
    tcfp_hmac_ctx h = TCFP_HMAC_CTX_INIT;
    unsigned char mac[32], key[32];
    char hex[65];
    TCFT_CHECK(tcfp_hmac_init(&h, TCFP_HMAC_SHA256) == 0);
    TCFT_CHECK(tcfp_hmac_compute(&h, mac, "Jefe", 4, "what do ya want for nothing?", 28) == 0);
    tcfp_hex(hex, mac, 32);
    TCFT_CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(key, 0x0b, 20);
    TCFT_CHECK(tcfp_hmac_compute(&h, mac, key, 20, "Hi There", 8) == 0);
    tcfp_hex(hex, mac, 32);
    TCFT_CHECK_STR(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* output into the key's own buffer (the TC3 key chain does this) */
    memcpy(key, "Jefe", 4);
    TCFT_CHECK(tcfp_hmac_compute(&h, key, key, 4, "what do ya want for nothing?", 28) == 0);
    tcfp_hex(hex, key, 32);
    TCFT_CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* and switched to SHA-1 */
    TCFT_CHECK(tcfp_hmac_init(&h, TCFP_HMAC_SHA1) == 0);
    TCFT_CHECK(tcfp_hmac_compute(&h, mac, "Jefe", 4, "what do ya want for nothing?", 28) == 0);
    tcfp_hex(hex, mac, 20);
    TCFT_CHECK_STR(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    /* an empty key and an empty message are valid (python: hmac.new(b"", b"", sha256)) */
    TCFT_CHECK(tcfp_hmac_init(&h, TCFP_HMAC_SHA256) == 0);
    TCFT_CHECK(tcfp_hmac_compute(&h, mac, NULL, 0, NULL, 0) == 0);
    tcfp_hex(hex, mac, 32);
    TCFT_CHECK_STR(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
    tcfp_hmac_free(&h);
    tcfp_hmac_free(&h); /* idempotent */
    TCFT_CHECK(tcfp_hmac_compute(&h, mac, "k", 1, "m", 1) == TCF_ECRYPTO);
}

/* ---------------------------------------------------------------------------------------------
 * base64
 * ------------------------------------------------------------------------------------------- */

static const char *const rfc4648[][2] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TCFT_TEST(crypto_base64_rfc4648_section10)
{
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        const char *plain = rfc4648[i][0], *enc = rfc4648[i][1];
        char out[16];
        unsigned char back[16];
        size_t n = 99;
        TCFT_CHECK(tcfp_base64_encoded_len(strlen(plain)) == strlen(enc));
        TCFT_CHECK(tcfp_base64_encode(out, (const unsigned char *)plain, strlen(plain)) ==
                   strlen(enc));
        TCFT_CHECK_STR(out, enc);
        TCFT_CHECK(tcfp_base64_decode(back, &n, enc, strlen(enc)) == 0);
        TCFT_CHECK(n == strlen(plain) && memcmp(back, plain, n) == 0);
    }
}

TCFT_TEST(crypto_base64_streaming_any_chunking)
{
    unsigned char data[256];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(255 - i);
    char whole[400], streamed[400];
    size_t whole_len = tcfp_base64_encode(whole, data, sizeof data);
    TCFT_CHECK(whole_len == tcfp_base64_encoded_len(sizeof data));
    for (size_t chunk = 1; chunk <= 10; chunk++) {
        tcfp_base64_stream s = TCFP_BASE64_STREAM_INIT;
        size_t o = 0;
        for (size_t i = 0; i < sizeof data; i += chunk) {
            size_t n = sizeof data - i < chunk ? sizeof data - i : chunk;
            size_t w = tcfp_base64_stream_update(&s, streamed + o, data + i, n);
            TCFT_CHECK(w <= TCFP_BASE64_STREAM_OUT_MAX(n) && w % 4 == 0);
            o += w;
        }
        o += tcfp_base64_stream_final(&s, streamed + o);
        TCFT_CHECK(o == whole_len && memcmp(streamed, whole, o) == 0);
    }
    /* every RFC vector, byte by byte */
    for (size_t i = 0; i < sizeof rfc4648 / sizeof rfc4648[0]; i++) {
        tcfp_base64_stream s = TCFP_BASE64_STREAM_INIT;
        char out[16];
        size_t o = 0;
        for (const char *p = rfc4648[i][0]; *p; p++)
            o += tcfp_base64_stream_update(&s, out + o, (const unsigned char *)p, 1);
        o += tcfp_base64_stream_final(&s, out + o);
        out[o] = '\0';
        TCFT_CHECK_STR(out, rfc4648[i][1]);
    }
    /* binary round trip through the decoder */
    unsigned char back[256];
    size_t n = 0;
    TCFT_CHECK(tcfp_base64_decode(back, &n, whole, whole_len) == 0);
    TCFT_CHECK(n == sizeof data && memcmp(back, data, n) == 0);
}

TCFT_TEST(crypto_base64_decode_is_strict)
{
    const char *bad[] = {"Zg",       "Zg=",      "Zg=a",        "Zh==",       "Zm9=",  "Z===",
                         "====",     "Zm8",      "Zm9v YmFy",   "Zm9v Ym=",   "Zm9\n", "Zm9v\n",
                         "Zg==Zg==", "Zm9v-_==", "Zm9vYg=\x01", "\xc3\xa9Zm8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned char out[16];
        size_t n = 0;
        TCFT_CHECK(tcfp_base64_decode(out, &n, bad[i], strlen(bad[i])) == TCF_EINVAL);
    }
    TCFT_CHECK(tcfp_base64_encoded_len((size_t)-1) == (size_t)-1);
}

/* ---------------------------------------------------------------------------------------------
 * the shared vectors
 * ------------------------------------------------------------------------------------------- */

TCFT_TEST(sign_every_vector_every_stage)
{
    json_t *vectors = load_vectors();
    TCFT_CHECK(vectors != NULL);
    size_t i, tc3 = 0, v1 = 0;
    int failures = 0;
    json_t *v;
    json_array_foreach(vectors, i, v)
    {
        failures += check_vector(v, NULL, 0);
        if (is_tc3(v))
            tc3++;
        else
            v1++;
    }
    size_t total = json_array_size(vectors);
    json_decref(vectors);
    TCFT_CHECK(failures == 0);
    TCFT_CHECK(total == 27 && tc3 == 24 && v1 == 3);
}

TCFT_TEST(sign_vectors_with_key_cache_and_streamed_payload_hash)
{
    json_t *vectors = load_vectors();
    TCFT_CHECK(vectors != NULL);
    tcfp_sign_key_cache cache;
    TCFT_CHECK(tcfp_sign_key_cache_init(&cache) == 0);
    int failures = 0;
    for (int round = 0; round < 2; round++) {
        size_t i;
        json_t *v;
        json_array_foreach(vectors, i, v)
        {
            failures += check_vector(v, &cache, 1);
            failures += check_vector(v, &cache, 0); /* the same again: a cache hit */
        }
    }
    json_decref(vectors);
    unsigned long hits = cache.hits, misses = cache.misses;
    tcfp_sign_key_cache_destroy(&cache);
    TCFT_CHECK(failures == 0);
    /* 24 TC3 vectors signed 4 times each: at least the repeats are hits */
    TCFT_CHECK(hits + misses == 96 && hits >= 48);
}

/* ---------------------------------------------------------------------------------------------
 * bytes, canonical forms, dates
 * ------------------------------------------------------------------------------------------- */

/* NUL bytes and invalid UTF-8 in the body are signed exactly */
static const char binary_body[] = "\x00\xff\xfe{\"a\":\x00\x80\xc3(}\x00";

TCFT_TEST(sign_binary_body_is_signed_byte_exactly)
{
    tcf_sign_input in = example_input(NULL);
    in.body = (const unsigned char *)binary_body;
    in.body_len = sizeof binary_body - 1; /* 14 bytes; the first is NUL */
    in.content_type = "application/octet-stream";
    tcf_signature *sig = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_sign(&sig, &in, &err) == 0);
    /* independent expectations: a different chunking of the streaming hash, and Python */
    char chunked[65];
    TCFT_CHECK(sha256_chunked(chunked, binary_body, in.body_len, 1) == 0);
    TCFT_CHECK_STR(tcf_signature_get(sig, "hashed_payload"), chunked);
    TCFT_CHECK_STR(chunked, "2df1cb1c608ac6c44f52439b488a7fc089d753ef858a135653c162d91f7f7cec");
    const char *cr = tcf_signature_get(sig, "canonical_request");
    TCFT_CHECK(cr != NULL && strlen(cr) > 64 && strcmp(cr + strlen(cr) - 64, chunked) == 0);
    /* python: hmac/hashlib reference implementation of signing.md */
    TCFT_CHECK_STR(tcf_signature_get(sig, "signature"),
                   "17b9bfedc76288a13f9177796824a04924e70de05bc66898448e62b9c2a8e8fe");
    tcf_signature_free(sig);

    /* a change after the first NUL changes the signature (no strlen anywhere) */
    unsigned char changed[sizeof binary_body];
    memcpy(changed, binary_body, sizeof binary_body);
    changed[13] = 0x01;
    in.body = changed;
    TCFT_CHECK(tcf_sign(&sig, &in, &err) == 0);
    TCFT_CHECK_STR(tcf_signature_get(sig, "signature"),
                   "e35ccb5fbe556b1a7a6a51db9ab2ec37c7b9f7eb7ead14f020b8482e08e396f8");
    tcf_signature_free(sig);

    /* the empty body: NULL with length 0 */
    in.body = NULL;
    in.body_len = 0;
    TCFT_CHECK(tcf_sign(&sig, &in, &err) == 0);
    TCFT_CHECK_STR(tcf_signature_get(sig, "hashed_payload"), SHA256_EMPTY);
    tcf_signature_free(sig);
}

TCFT_TEST(sign_unsigned_payload_ignores_the_body)
{
    tcf_sign_input in = example_input("{\"RuleId\": \"1\"}");
    in.unsigned_payload = 1;
    tcf_signature *a = NULL, *b = NULL;
    TCFT_CHECK(tcf_sign(&a, &in, NULL) == 0);
    in.body = (const unsigned char *)"{\"RuleId\":\"1\"}";
    in.body_len = 14;
    TCFT_CHECK(tcf_sign(&b, &in, NULL) == 0);
    char expect[65];
    TCFT_CHECK(sha256_chunked(expect, "UNSIGNED-PAYLOAD", 16, 3) == 0);
    TCFT_CHECK_STR(tcf_signature_get(a, "hashed_payload"), expect);
    TCFT_CHECK_STR(tcf_signature_get(a, "authorization"), tcf_signature_get(b, "authorization"));
    /* P03 of the vectors */
    TCFT_CHECK_STR(tcf_signature_get(a, "signature"),
                   "f8998d2bbd43d4e968ac7b96c5a863da450319a13f985111771877af5653e7a7");
    tcf_signature_free(a);
    tcf_signature_free(b);
}

TCFT_TEST(sign_headers_are_canonicalised_and_sorted)
{
    tcf_header extra[] = {
        {"X-TC-Action", "DetectAuth"}, {"Accept", " */* "}, {"x-tc-region", "ap-guangzhou"}};
    tcf_sign_input in = example_input("{}");
    in.host = "FaceID.TencentCloudAPI.com";
    in.content_type = "  Application/JSON; Charset=UTF-8\t";
    in.extra_signed_headers = extra;
    in.extra_signed_header_count = 3;
    tcf_signature *sig = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_sign(&sig, &in, &err) == 0);
    TCFT_CHECK_STR(tcf_signature_get(sig, "canonical_request"),
                   "POST\n/\n\naccept:*/*\ncontent-type:application/json; charset=utf-8\n"
                   "host:faceid.tencentcloudapi.com\nx-tc-action:detectauth\n"
                   "x-tc-region:ap-guangzhou\n\naccept;content-type;host;x-tc-action;x-tc-region\n"
                   "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    /* python reference implementation (names and values lower-cased, values trimmed) */
    TCFT_CHECK_STR(tcf_signature_get(sig, "signature"),
                   "b7eda51cdd441ea5d8465b3acafe827981ed2e8fb6f7f846c0c2db7aa7855ac0");
    TCFT_CHECK(strstr(tcf_signature_get(sig, "authorization"),
                      ", SignedHeaders=accept;content-type;host;x-tc-action;x-tc-region, ") !=
               NULL);
    tcf_signature_free(sig);
}

TCFT_TEST(sign_many_extra_headers_sorted_on_the_heap)
{
    /* more headers than the on-stack array holds */
    char names[40][16];
    tcf_header extra[40];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "X-H%02d", 39 - i);
        extra[i].name = names[i];
        extra[i].value = "V";
    }
    tcf_sign_input in = example_input("{}");
    in.extra_signed_headers = extra;
    in.extra_signed_header_count = 40;
    tcf_signature *sig = NULL;
    TCFT_CHECK(tcf_sign(&sig, &in, NULL) == 0);
    const char *cr = tcf_signature_get(sig, "canonical_request");
    TCFT_CHECK(strstr(cr, "host:faceid.tencentcloudapi.com\nx-h00:v\nx-h01:v\n") != NULL);
    TCFT_CHECK(strstr(cr, "x-h38:v\nx-h39:v\n\ncontent-type;host;x-h00;x-h01;") != NULL);
    tcf_signature_free(sig);
}

TCFT_TEST(sign_path_and_query_are_signed_as_given)
{
    tcf_sign_input in = example_input("");
    in.method = "GET";
    in.path = "/v2/x";
    in.canonical_query = "b=2&a=%E6%9C%AA";
    in.content_type = "application/x-www-form-urlencoded";
    tcf_signature *sig = NULL;
    TCFT_CHECK(tcf_sign(&sig, &in, NULL) == 0);
    TCFT_CHECK(strncmp(tcf_signature_get(sig, "canonical_request"),
                       "GET\n/v2/x\nb=2&a=%E6%9C%AA\ncontent-type:", 39) == 0);
    tcf_signature_free(sig);
}

TCFT_TEST(sign_dates_are_utc_days_of_the_timestamp)
{
    static const struct {
        long long ts;
        const char *scope;
    } cases[] = {
        {0, "\n0\n1970-01-01/faceid/"},
        {86399, "\n86399\n1970-01-01/faceid/"},
        {86400, "\n86400\n1970-01-02/faceid/"},
        {951782400, "\n951782400\n2000-02-29/faceid/"},
        {1551113065, "\n1551113065\n2019-02-25/faceid/"}, /* 2019-02-26 in UTC+8 */
        {1700006399, "\n1700006399\n2023-11-14/faceid/"},
        {1700006400, "\n1700006400\n2023-11-15/faceid/"},
        {1709164800, "\n1709164800\n2024-02-29/faceid/"},
        {2147483648LL, "\n2147483648\n2038-01-19/faceid/"},
        {4102444800LL, "\n4102444800\n2100-01-01/faceid/"},
        {253402300799LL, "\n253402300799\n9999-12-31/faceid/"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcf_sign_input in = example_input("{}");
        in.timestamp = cases[i].ts;
        tcf_signature *sig = NULL;
        tcf_error err;
        tcf_error_clear(&err);
        TCFT_CHECK(tcf_sign(&sig, &in, &err) == 0);
        TCFT_CHECK(strstr(tcf_signature_get(sig, "string_to_sign"), cases[i].scope) != NULL);
        tcf_signature_free(sig);
    }
    long long bad[] = {-1, -86400, 253402300800LL, LLONG_MAX, LLONG_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tcf_sign_input in = example_input("{}");
        in.timestamp = bad[i];
        tcf_signature *sig = (tcf_signature *)&in; /* must be reset to NULL */
        tcf_error err;
        tcf_error_clear(&err);
        TCFT_CHECK(tcf_sign(&sig, &in, &err) == TCF_EINVAL && sig == NULL);
        TCFT_CHECK(message_has(&err, "timestamp"));
    }
}

TCFT_TEST(sign_v1_documentation_example_and_sorting)
{
    /* The v1 documentation example (masked keys taken literally); HmacSHA1 because there is no
     * SignatureMethod parameter. */
    tcf_header params[] = {
        {"Version", "2017-03-12"},
        {"Timestamp", "1465185768"},
        {"SecretId", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******"},
        {"Region", "ap-guangzhou"},
        {"Offset", "0"},
        {"Nonce", "11886"},
        {"Limit", "20"},
        {"InstanceIds.0", "ins-09dx96dg"},
        {"Action", "DescribeInstances"},
    };
    tcf_sign_input in = TCF_SIGN_INPUT_INIT;
    in.algorithm = "HmacSHA1";
    in.secret_key = "Gu5t9xGARNpq86cd98joQYCN3*******";
    in.host = "cvm.tencentcloudapi.com";
    in.method = "GET";
    in.params = params;
    in.param_count = sizeof params / sizeof params[0];
    tcf_signature *sig = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_sign(&sig, &in, &err) == 0);
    TCFT_CHECK_STR(tcf_signature_get(sig, "string_to_sign"),
                   "GETcvm.tencentcloudapi.com/?Action=DescribeInstances&InstanceIds.0=ins-09dx96dg"
                   "&Limit=20&Nonce=11886&Offset=0&Region=ap-guangzhou&SecretId="
                   "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******&Timestamp=1465185768&Version=2017-03-12");
    TCFT_CHECK_STR(tcf_signature_get(sig, "signature"), "zmmjn35mikh6pM3V7sUEuX4wyYM=");
    TCFT_CHECK(tcf_signature_get(sig, "authorization") == NULL);
    TCFT_CHECK(tcf_signature_get(sig, "canonical_request") == NULL);
    TCFT_CHECK(tcf_signature_get(sig, "hashed_payload") == NULL);
    tcf_signature_free(sig);

    /* byte order: "InstanceIds.12" < "InstanceIds.2", upper case before lower case; raw values */
    tcf_header p2[] = {{"a", "x"},
                       {"InstanceIds.2", "b"},
                       {"B", "y"},
                       {"InstanceIds.12", "a&b=c d"},
                       {"SignatureMethod", "HmacSHA256"}};
    in.algorithm = "HmacSHA256";
    in.method = "POST";
    in.path = "/p";
    in.params = p2;
    in.param_count = 5;
    TCFT_CHECK(tcf_sign(&sig, &in, &err) == 0);
    TCFT_CHECK_STR(tcf_signature_get(sig, "string_to_sign"),
                   "POSTcvm.tencentcloudapi.com/p?B=y&InstanceIds.12=a&b=c d&InstanceIds.2=b&"
                   "SignatureMethod=HmacSHA256&a=x");
    TCFT_CHECK(strlen(tcf_signature_get(sig, "signature")) == 44); /* base64 of 32 bytes */
    tcf_signature_free(sig);
}

TCFT_TEST(sign_v1_many_params_sorted_on_the_heap)
{
    char names[50][16], values[50][16];
    tcf_header params[51];
    for (int i = 0; i < 50; i++) {
        snprintf(names[i], sizeof names[i], "P%02d", 49 - i);
        snprintf(values[i], sizeof values[i], "%d", i);
        params[i].name = names[i];
        params[i].value = values[i];
    }
    params[50].name = "SignatureMethod";
    params[50].value = "HmacSHA1";
    tcf_sign_input in = TCF_SIGN_INPUT_INIT;
    in.algorithm = "HmacSHA1";
    in.secret_key = EXAMPLE_KEY;
    in.host = "faceid.tencentcloudapi.com";
    in.method = "GET";
    in.params = params;
    in.param_count = 51;
    tcf_signature *sig = NULL;
    TCFT_CHECK(tcf_sign(&sig, &in, NULL) == 0);
    const char *sts = tcf_signature_get(sig, "string_to_sign");
    TCFT_CHECK(strncmp(sts, "GETfaceid.tencentcloudapi.com/?P00=49&P01=48&", 45) == 0);
    TCFT_CHECK(strstr(sts, "&P49=0&SignatureMethod=HmacSHA1") != NULL);
    TCFT_CHECK(strlen(tcf_signature_get(sig, "signature")) == 28); /* base64 of 20 bytes */
    tcf_signature_free(sig);
}

TCFT_TEST(sign_result_accessors)
{
    tcf_sign_input in = example_input("{}");
    tcf_signature *sig = NULL;
    TCFT_CHECK(tcf_sign(&sig, &in, NULL) == 0);
    for (size_t i = 0; i < sizeof tc3_fields / sizeof tc3_fields[0]; i++)
        TCFT_CHECK(tcf_signature_get(sig, tc3_fields[i]) != NULL);
    TCFT_CHECK(tcf_signature_get(sig, "Signature") == NULL);
    TCFT_CHECK(tcf_signature_get(sig, "") == NULL);
    TCFT_CHECK(tcf_signature_get(sig, NULL) == NULL);
    TCFT_CHECK(tcf_signature_get(NULL, "signature") == NULL);
    /* V03 of the vectors; algorithm NULL means TC3 */
    TCFT_CHECK_STR(tcf_signature_get(sig, "signature"),
                   "bb4fea43fd112ba54f0b516ffec78e1233d8261b28739047a3223090c2b97f3e");
    tcf_signature_free(sig);
    tcf_signature_free(NULL);
}

/* ---------------------------------------------------------------------------------------------
 * validation
 * ------------------------------------------------------------------------------------------- */

typedef void (*mutator)(tcf_sign_input *in);
#define MUT(name, body)                                                                            \
    static void name(tcf_sign_input *in)                                                           \
    {                                                                                              \
        body;                                                                                      \
    }

static const tcf_header hdr_no_name[] = {{NULL, "v"}};
static const tcf_header hdr_empty_name[] = {{"", "v"}};
static const tcf_header hdr_space_name[] = {{"X Bad", "v"}};
static const tcf_header hdr_colon_name[] = {{"X:Bad", "v"}};
static const tcf_header hdr_utf8_name[] = {{"x-\xc3\xbc", "v"}};
static const tcf_header hdr_no_value[] = {{"x-a", NULL}};
static const tcf_header hdr_crlf_value[] = {{"x-a", "a\r\nX-Evil: 1"}};
static const tcf_header hdr_lf_value[] = {{"x-a", "a\nb"}};
static const tcf_header hdr_content_type[] = {{"Content-Type", "application/json"}};
static const tcf_header hdr_host[] = {{"HOST", "x"}};
static const tcf_header hdr_twice[] = {{"x-a", "1"}, {"X-A", "2"}};
static const tcf_header hdr_authorization[] = {{"Authorization", "x"}};

MUT(m_version0, in->version = 0)
MUT(m_version2, in->version = 2)
MUT(m_algorithm, in->algorithm = "HMAC-SHA256")
MUT(m_algorithm_case, in->algorithm = "tc3-hmac-sha256")
MUT(m_method_null, in->method = NULL)
MUT(m_method_lower, in->method = "post")
MUT(m_method_put, in->method = "PUT")
MUT(m_host_null, in->host = NULL)
MUT(m_host_empty, in->host = "")
MUT(m_host_space, in->host = "faceid .tencentcloudapi.com")
MUT(m_host_crlf, in->host = "faceid.tencentcloudapi.com\r\nX-Evil: 1")
MUT(m_path_empty, in->path = "")
MUT(m_path_relative, in->path = "v2")
MUT(m_path_space, in->path = "/a b")
MUT(m_path_query, in->path = "/a?b=1")
MUT(m_id_null, in->secret_id = NULL)
MUT(m_id_empty, in->secret_id = "")
MUT(m_id_space, in->secret_id = " AKIDSECRETVALUE")
MUT(m_id_tab, in->secret_id = "AKIDSECRETVALUE\t")
MUT(m_id_ctl, in->secret_id = "AKID\x01SECRETVALUE")
MUT(m_key_null, in->secret_key = NULL)
MUT(m_key_empty, in->secret_key = "")
MUT(m_key_space, in->secret_key = "KEYSECRETVALUE ")
MUT(m_key_newline, in->secret_key = "KEYSECRET\nVALUE")
MUT(m_key_del, in->secret_key = "KEYSECRETVALUE\x7f")
MUT(m_service_null, in->service = NULL)
MUT(m_service_empty, in->service = "")
MUT(m_service_space, in->service = "face id")
MUT(m_service_slash, in->service = "face/id")
MUT(m_ct_null, in->content_type = NULL)
MUT(m_ct_empty, in->content_type = "")
MUT(m_ct_blank, in->content_type = "  \t ")
MUT(m_ct_crlf, in->content_type = "application/json\r\nX-Evil: 1")
MUT(m_query_space, in->canonical_query = "a=b c")
MUT(m_query_lf, in->canonical_query = "a=\n")
MUT(m_body_null, (in->body = NULL, in->body_len = 5))
MUT(m_ts_negative, in->timestamp = -1)
MUT(m_ts_absurd, in->timestamp = 253402300800LL)
MUT(m_hdr_null_array, (in->extra_signed_headers = NULL, in->extra_signed_header_count = 1))
MUT(m_hdr_too_many, (in->extra_signed_headers = hdr_twice, in->extra_signed_header_count = 1001))
MUT(m_hdr_no_name, (in->extra_signed_headers = hdr_no_name, in->extra_signed_header_count = 1))
MUT(m_hdr_empty_name,
    (in->extra_signed_headers = hdr_empty_name, in->extra_signed_header_count = 1))
MUT(m_hdr_space_name,
    (in->extra_signed_headers = hdr_space_name, in->extra_signed_header_count = 1))
MUT(m_hdr_colon_name,
    (in->extra_signed_headers = hdr_colon_name, in->extra_signed_header_count = 1))
MUT(m_hdr_utf8_name, (in->extra_signed_headers = hdr_utf8_name, in->extra_signed_header_count = 1))
MUT(m_hdr_no_value, (in->extra_signed_headers = hdr_no_value, in->extra_signed_header_count = 1))
MUT(m_hdr_crlf_value,
    (in->extra_signed_headers = hdr_crlf_value, in->extra_signed_header_count = 1))
MUT(m_hdr_lf_value, (in->extra_signed_headers = hdr_lf_value, in->extra_signed_header_count = 1))
MUT(m_hdr_content_type,
    (in->extra_signed_headers = hdr_content_type, in->extra_signed_header_count = 1))
MUT(m_hdr_host, (in->extra_signed_headers = hdr_host, in->extra_signed_header_count = 1))
MUT(m_hdr_twice, (in->extra_signed_headers = hdr_twice, in->extra_signed_header_count = 2))
MUT(m_hdr_authorization,
    (in->extra_signed_headers = hdr_authorization, in->extra_signed_header_count = 1))

static const struct {
    const char *name;
    mutator mutate;
    const char *message; /* must appear in the error message */
} tc3_errors[] = {
    {"version 0", m_version0, "version"},
    {"version 2", m_version2, "version"},
    {"algorithm", m_algorithm, "unknown algorithm \"HMAC-SHA256\""},
    {"algorithm case", m_algorithm_case, "unknown algorithm"},
    {"method NULL", m_method_null, "method"},
    {"method lower case", m_method_lower, "method"},
    {"method PUT", m_method_put, "method"},
    {"host NULL", m_host_null, "host is missing"},
    {"host empty", m_host_empty, "host is missing"},
    {"host space", m_host_space, "host contains"},
    {"host CRLF", m_host_crlf, "host contains"},
    {"path empty", m_path_empty, "path"},
    {"path relative", m_path_relative, "path"},
    {"path space", m_path_space, "path"},
    {"path query", m_path_query, "path"},
    {"secret_id NULL", m_id_null, "secret_id is missing"},
    {"secret_id empty", m_id_empty, "secret_id is missing"},
    {"secret_id space", m_id_space, "secret_id contains white space"},
    {"secret_id tab", m_id_tab, "secret_id contains white space"},
    {"secret_id control", m_id_ctl, "secret_id contains"},
    {"secret_key NULL", m_key_null, "secret_key is missing"},
    {"secret_key empty", m_key_empty, "secret_key is missing"},
    {"secret_key space", m_key_space, "secret_key contains white space"},
    {"secret_key newline", m_key_newline, "secret_key contains"},
    {"secret_key DEL", m_key_del, "secret_key contains"},
    {"service NULL", m_service_null, "service is missing"},
    {"service empty", m_service_empty, "service is missing"},
    {"service space", m_service_space, "service contains"},
    {"service slash", m_service_slash, "service must not contain '/'"},
    {"content_type NULL", m_ct_null, "content_type is missing"},
    {"content_type empty", m_ct_empty, "content_type is missing"},
    {"content_type blank", m_ct_blank, "content_type is missing"},
    {"content_type CRLF", m_ct_crlf, "content_type contains CR or LF"},
    {"query space", m_query_space, "canonical_query"},
    {"query LF", m_query_lf, "canonical_query"},
    {"body NULL", m_body_null, "body is NULL"},
    {"timestamp negative", m_ts_negative, "timestamp -1 is out of range"},
    {"timestamp absurd", m_ts_absurd, "timestamp 253402300800 is out of range"},
    {"headers NULL", m_hdr_null_array, "extra_signed_headers is NULL"},
    {"headers too many", m_hdr_too_many, "more than 1000"},
    {"header name NULL", m_hdr_no_name, "extra_signed_headers[0].name is missing"},
    {"header name empty", m_hdr_empty_name, "extra_signed_headers[0].name is missing"},
    {"header name space", m_hdr_space_name, "extra_signed_headers[0].name contains"},
    {"header name colon", m_hdr_colon_name, "extra_signed_headers[0].name contains"},
    {"header name UTF-8", m_hdr_utf8_name, "extra_signed_headers[0].name contains"},
    {"header value NULL", m_hdr_no_value, "extra_signed_headers[0].value is missing"},
    {"header value CRLF", m_hdr_crlf_value, "extra_signed_headers[0].value contains CR or LF"},
    {"header value LF", m_hdr_lf_value, "extra_signed_headers[0].value contains CR or LF"},
    {"header content-type", m_hdr_content_type, "\"content-type\" is signed twice"},
    {"header host", m_hdr_host, "\"host\" is signed twice"},
    {"header twice", m_hdr_twice, "\"x-a\" is signed twice"},
    {"header authorization", m_hdr_authorization, "Authorization cannot be signed"},
};

/* Runs one invalid input; 1 when it failed as expected. */
static int rejects(const tcf_sign_input *in, const char *what, const char *message)
{
    tcf_signature *sig = (tcf_signature *)in; /* must be reset to NULL */
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_sign(&sig, in, &err);
    int ok = rc == TCF_EINVAL && err.code == TCF_EINVAL && sig == NULL &&
             strncmp(err.message, "tcf_sign: ", 10) == 0 && message_has(&err, message) &&
             !message_has(&err, "SECRETVALUE") && !message_has(&err, EXAMPLE_KEY);
    if (!ok) {
        printf("    %s: rc %d, message \"%s\" (expected \"%s\")\n", what, rc, err.message, message);
        if (rc == 0)
            tcf_signature_free(sig);
    }
    return ok;
}

TCFT_TEST(sign_tc3_validation_errors)
{
    int failures = 0;
    for (size_t i = 0; i < sizeof tc3_errors / sizeof tc3_errors[0]; i++) {
        tcf_sign_input in = example_input("{}");
        tc3_errors[i].mutate(&in);
        failures += !rejects(&in, tc3_errors[i].name, tc3_errors[i].message);
    }
    TCFT_CHECK(failures == 0);
    /* NULL arguments; err is optional */
    tcf_sign_input in = example_input("{}");
    tcf_signature *sig = NULL;
    TCFT_CHECK(tcf_sign(NULL, &in, NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_sign(&sig, NULL, NULL) == TCF_EINVAL && sig == NULL);
    in.secret_key = "with space";
    TCFT_CHECK(tcf_sign(&sig, &in, NULL) == TCF_EINVAL && sig == NULL);
}

TCFT_TEST(sign_first_error_wins)
{
    tcf_error err;
    tcf_error_clear(&err);
    tcfp_fail(&err, TCF_EJSON, "an earlier failure");
    tcf_sign_input in = example_input("{}");
    in.method = "PUT";
    tcf_signature *sig = NULL;
    TCFT_CHECK(tcf_sign(&sig, &in, &err) == TCF_EINVAL);
    TCFT_CHECK(err.code == TCF_EJSON);
    TCFT_CHECK_STR(err.message, "an earlier failure");
}

TCFT_TEST(sign_v1_validation_errors)
{
    static const tcf_header ok_sha1[] = {{"Action", "DetectAuth"}};
    static const tcf_header no_name[] = {{NULL, "x"}};
    static const tcf_header empty_name[] = {{"", "x"}};
    static const tcf_header eq_name[] = {{"a=b", "x"}};
    static const tcf_header amp_name[] = {{"a&b", "x"}};
    static const tcf_header space_name[] = {{"a b", "x"}};
    static const tcf_header no_value[] = {{"Action", NULL}};
    static const tcf_header signature[] = {{"Signature", "x"}};
    static const tcf_header twice[] = {{"Action", "a"}, {"Nonce", "1"}, {"Action", "b"}};
    static const tcf_header says_256[] = {{"SignatureMethod", "HmacSHA256"}};
    static const tcf_header says_1[] = {{"SignatureMethod", "HmacSHA1"}};
    static const struct {
        const char *algorithm;
        const tcf_header *params;
        size_t count;
        const char *key;
        const char *message;
    } cases[] = {
        {"HmacSHA1", NULL, 0, EXAMPLE_KEY, "params is missing"},
        {"HmacSHA1", ok_sha1, 0, EXAMPLE_KEY, "params is missing"},
        {"HmacSHA1", NULL, 3, EXAMPLE_KEY, "params is missing"},
        {"HmacSHA1", ok_sha1, 100001, EXAMPLE_KEY, "more than 100000 params"},
        {"HmacSHA1", no_name, 1, EXAMPLE_KEY, "params[0].name is missing"},
        {"HmacSHA1", empty_name, 1, EXAMPLE_KEY, "params[0].name is missing"},
        {"HmacSHA1", eq_name, 1, EXAMPLE_KEY, "params[0].name contains"},
        {"HmacSHA1", amp_name, 1, EXAMPLE_KEY, "params[0].name contains"},
        {"HmacSHA1", space_name, 1, EXAMPLE_KEY, "params[0].name contains"},
        {"HmacSHA1", no_value, 1, EXAMPLE_KEY, "params[0].value is missing"},
        {"HmacSHA1", signature, 1, EXAMPLE_KEY, "must not contain Signature"},
        {"HmacSHA1", twice, 3, EXAMPLE_KEY, "parameter \"Action\" appears twice"},
        {"HmacSHA256", ok_sha1, 1, EXAMPLE_KEY, "needs the parameter SignatureMethod=HmacSHA256"},
        {"HmacSHA256", says_1, 1, EXAMPLE_KEY, "needs the parameter SignatureMethod=HmacSHA256"},
        {"HmacSHA1", says_256, 1, EXAMPLE_KEY, "the server would use HmacSHA256"},
        {"HmacSHA1", ok_sha1, 1, NULL, "secret_key is missing"},
        {"HmacSHA1", ok_sha1, 1, "KEYSECRETVALUE ", "secret_key contains white space"},
        {"hmacsha1", ok_sha1, 1, EXAMPLE_KEY, "unknown algorithm"},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcf_sign_input in = TCF_SIGN_INPUT_INIT;
        in.algorithm = cases[i].algorithm;
        in.secret_key = cases[i].key;
        in.host = "faceid.tencentcloudapi.com";
        in.method = "POST";
        in.params = cases[i].params;
        in.param_count = cases[i].count;
        char what[32];
        snprintf(what, sizeof what, "v1 case %zu", i);
        failures += !rejects(&in, what, cases[i].message);
    }
    TCFT_CHECK(failures == 0);
    /* secret_id is optional for v1 but checked when given */
    tcf_sign_input in = TCF_SIGN_INPUT_INIT;
    in.algorithm = "HmacSHA1";
    in.secret_key = EXAMPLE_KEY;
    in.secret_id = "AKID SECRETVALUE";
    in.host = "faceid.tencentcloudapi.com";
    in.method = "GET";
    in.params = ok_sha1;
    in.param_count = 1;
    TCFT_CHECK(rejects(&in, "v1 secret_id", "secret_id contains white space"));
}

/* ---------------------------------------------------------------------------------------------
 * the signing-key cache
 * ------------------------------------------------------------------------------------------- */

static int same_signature(tcf_sign_input *in, tcfp_sign_key_cache *cache)
{
    tcf_signature *a = NULL, *b = NULL;
    int ok =
        tcf_sign(&a, in, NULL) == 0 && tcfp_sign_ex(&b, in, NULL, cache, NULL) == 0 &&
        strcmp(tcf_signature_get(a, "authorization"), tcf_signature_get(b, "authorization")) == 0;
    tcf_signature_free(a);
    tcf_signature_free(b);
    return ok;
}

TCFT_TEST(sign_key_cache_follows_secret_date_and_service)
{
    tcfp_sign_key_cache cache;
    TCFT_CHECK(tcfp_sign_key_cache_init(&cache) == 0);
    tcf_sign_input in = example_input("{}");
    TCFT_CHECK(same_signature(&in, &cache) && cache.misses == 1 && cache.hits == 0);
    TCFT_CHECK(same_signature(&in, &cache) && cache.hits == 1);
    in.timestamp += 3600; /* same UTC day */
    TCFT_CHECK(same_signature(&in, &cache) && cache.hits == 2);
    in.timestamp = 1700006400; /* next UTC day */
    TCFT_CHECK(same_signature(&in, &cache) && cache.misses == 2);
    in.service = "cvm";
    TCFT_CHECK(same_signature(&in, &cache) && cache.misses == 3);
    in.secret_key = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLF";
    TCFT_CHECK(same_signature(&in, &cache) && cache.misses == 4);
    in.secret_key = "Gu5t9xGARNpq86cd98joQYCN3EXAMP"; /* a prefix of the cached one */
    TCFT_CHECK(same_signature(&in, &cache) && cache.misses == 5);
    TCFT_CHECK(same_signature(&in, &cache) && cache.hits == 3);
    /* a secret longer than the cache holds bypasses it (and the heap "TC3" + key path) */
    char long_key[400];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    in.secret_key = long_key;
    TCFT_CHECK(same_signature(&in, &cache) && same_signature(&in, &cache));
    TCFT_CHECK(cache.hits == 3 && cache.misses == 5);
    tcfp_sign_key_cache_destroy(&cache);
    /* destroying wipes the secret and the key */
    const unsigned char *bytes = (const unsigned char *)&cache;
    int zero = 1;
    for (size_t i = 0; i < sizeof cache; i++)
        zero &= bytes[i] == 0;
    TCFT_CHECK(zero);
    tcfp_sign_key_cache_destroy(NULL);
}

typedef struct thread_job {
    tcfp_sign_key_cache *cache;
    int index;
    int failures;
} thread_job;

/* V01 of the vectors (2023-11-14) */
#define V01_SIGNATURE "52ca05ccb5b1c9800041e683d1976fcd8e4e0b156e8a84b105f6faceb53c03dc"

static void *sign_in_thread(void *arg)
{
    thread_job *job = arg;
    tcf_sign_input in = example_input("{\"RuleId\":\"1\",\"RedirectUrl\":\"https://example.com/"
                                      "cb?a=1&b=2\",\"Extra\":\"order-0001\"}");
    char next_day[65] = "";
    tcf_signature *sig = NULL;
    in.timestamp = 1700006400;
    if (tcf_sign(&sig, &in, NULL) != 0) {
        job->failures++;
        return NULL;
    }
    strcpy(next_day, tcf_signature_get(sig, "signature"));
    tcf_signature_free(sig);
    for (int i = 0; i < 200; i++) {
        int day = (i + job->index) % 2;
        in.timestamp = day ? 1700006400 : 1700000000;
        if (tcfp_sign_ex(&sig, &in, NULL, job->cache, NULL) != 0) {
            job->failures++;
            continue;
        }
        const char *want = day ? next_day : V01_SIGNATURE;
        if (strcmp(tcf_signature_get(sig, "signature"), want) != 0)
            job->failures++;
        tcf_signature_free(sig);
    }
    return NULL;
}

TCFT_TEST(sign_key_cache_shared_between_threads)
{
    tcfp_sign_key_cache cache;
    TCFT_CHECK(tcfp_sign_key_cache_init(&cache) == 0);
    pthread_t threads[4];
    thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i].cache = &cache;
        jobs[i].index = i;
        jobs[i].failures = 0;
        TCFT_CHECK(pthread_create(&threads[i], NULL, sign_in_thread, &jobs[i]) == 0);
    }
    int failures = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        failures += jobs[i].failures;
    }
    unsigned long total = cache.hits + cache.misses;
    tcfp_sign_key_cache_destroy(&cache);
    TCFT_CHECK(failures == 0);
    TCFT_CHECK(total == 800);
}

/* ---------------------------------------------------------------------------------------------
 * allocation failure
 * ------------------------------------------------------------------------------------------- */

#ifdef TCF_ALLOC_FAILURE_INJECTION
/* For N = 1, 2, ...: the Nth allocation and all later ones fail. Every failing call must
 * return TCF_ENOMEM with *out NULL; the first call that succeeds must give the reference
 * authorization (or v1 signature). Leaks are caught by ASan/valgrind. */
static int survives_allocation_failures(const tcf_sign_input *in, tcfp_sign_key_cache *cache,
                                        const char *field)
{
    tcf_signature *ref = NULL;
    if (tcfp_sign_ex(&ref, in, NULL, cache, NULL) != 0)
        return 0;
    int ok = 0;
    for (long n = 1; n < 1000; n++) {
        tcf_signature *sig = (tcf_signature *)in;
        tcf_error err;
        tcf_error_clear(&err);
        tcfp_fail_allocations_after(n);
        int rc = tcfp_sign_ex(&sig, in, NULL, cache, &err);
        tcfp_fail_allocations_after(0);
        if (rc == 0) {
            ok = sig != NULL &&
                 strcmp(tcf_signature_get(sig, field), tcf_signature_get(ref, field)) == 0;
            tcf_signature_free(sig);
            break;
        }
        if (rc != TCF_ENOMEM || err.code != TCF_ENOMEM || sig != NULL) {
            printf("    allocation %ld failing: rc %d, message \"%s\"\n", n, rc, err.message);
            break;
        }
    }
    tcf_signature_free(ref);
    return ok;
}

TCFT_TEST(sign_allocation_failure_tc3)
{
    tcf_sign_input in = example_input("{\"RuleId\":\"1\"}");
    TCFT_CHECK(survives_allocation_failures(&in, NULL, "authorization"));
    /* the heap paths: many headers, a long secret key */
    char names[20][16];
    tcf_header extra[20];
    for (int i = 0; i < 20; i++) {
        snprintf(names[i], sizeof names[i], "x-%d", i);
        extra[i].name = names[i];
        extra[i].value = "v";
    }
    in.extra_signed_headers = extra;
    in.extra_signed_header_count = 20;
    char long_key[300];
    memset(long_key, 'k', sizeof long_key - 1);
    long_key[sizeof long_key - 1] = '\0';
    in.secret_key = long_key;
    TCFT_CHECK(survives_allocation_failures(&in, NULL, "authorization"));
    /* with the cache (a miss, then hits) */
    tcfp_sign_key_cache cache;
    TCFT_CHECK(tcfp_sign_key_cache_init(&cache) == 0);
    in.secret_key = EXAMPLE_KEY;
    int ok = survives_allocation_failures(&in, &cache, "authorization");
    tcfp_sign_key_cache_destroy(&cache);
    TCFT_CHECK(ok);
}

TCFT_TEST(sign_allocation_failure_v1)
{
    char names[30][16];
    tcf_header params[31];
    for (int i = 0; i < 30; i++) {
        snprintf(names[i], sizeof names[i], "P%d", i);
        params[i].name = names[i];
        params[i].value = "v";
    }
    params[30].name = "SignatureMethod";
    params[30].value = "HmacSHA256";
    tcf_sign_input in = TCF_SIGN_INPUT_INIT;
    in.algorithm = "HmacSHA256";
    in.secret_key = EXAMPLE_KEY;
    in.host = "faceid.tencentcloudapi.com";
    in.method = "POST";
    in.params = params + 29; /* two parameters: sorted on the stack */
    in.param_count = 2;
    TCFT_CHECK(survives_allocation_failures(&in, NULL, "signature"));
    in.params = params; /* 31: sorted on the heap */
    in.param_count = 31;
    TCFT_CHECK(survives_allocation_failures(&in, NULL, "signature"));
}
#endif

static const char *split_value_of(void *user, const char *name)
{
    (void)user;
    if (strcasecmp(name, "x-tc-action") == 0)
        return "DetectAuth";
    if (strcasecmp(name, "x-tc-timestamp") == 0)
        return "1700000000";
    return NULL;
}

/* The signed-headers list of test vectors and tools, split once for tcf-sign, Python and Lua. */
TCFT_TEST(sign_split_signed_headers)
{
    tcf_header extra[8];
    size_t n = 99;
    tcf_error err;
    char list[] = "content-type;host;X-TC-Action;x-tc-timestamp";
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_sign_split_signed_headers(extra, &n, list, split_value_of, NULL, &err) == 0);
    TCFT_CHECK(n == 2);
    TCFT_CHECK_STR(extra[0].name, "X-TC-Action");
    TCFT_CHECK_STR(extra[0].value, "DetectAuth");
    TCFT_CHECK_STR(extra[1].name, "x-tc-timestamp");
    TCFT_CHECK_STR(extra[1].value, "1700000000");
    char missing[] = "content-type;x-tc-action";
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_sign_split_signed_headers(extra, &n, missing, split_value_of, NULL, &err) ==
               TCF_EINVAL);
    TCFT_CHECK(n == 0 && strstr(err.message, "content-type and host") != NULL);
    char empty[] = "content-type;;host";
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_sign_split_signed_headers(extra, &n, empty, split_value_of, NULL, &err) ==
               TCF_EINVAL);
    TCFT_CHECK(strstr(err.message, "empty name") != NULL);
    char unknown[] = "content-type;host;x-custom";
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_sign_split_signed_headers(extra, &n, unknown, split_value_of, NULL, &err) ==
               TCF_EINVAL);
    TCFT_CHECK(strstr(err.message, "\"x-custom\" has no value") != NULL);
    TCFT_CHECK(tcf_sign_split_signed_headers(NULL, &n, unknown, split_value_of, NULL, NULL) ==
               TCF_EINVAL);
}
