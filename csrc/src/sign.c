/* Request signing: TC3-HMAC-SHA256 and the legacy v1 HmacSHA1/HmacSHA256, as pure functions
 * (no clock, no network, no JSON). Rules: shared/reference/signing.md §2-3. */
#include "crypto.h"
#include "internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define TC3_ALGORITHM "TC3-HMAC-SHA256"
#define TC3_TERMINATOR "tc3_request"
/* sha256("UNSIGNED-PAYLOAD"), the hashed payload of X-TC-Content-SHA256: UNSIGNED-PAYLOAD */
#define UNSIGNED_PAYLOAD_SHA256 "438d4109ef0d676b8c2c7ed13cdfcb418e494d53b843d4634ce3b1085f07bb96"
/* 9999-12-31T23:59:59Z: the last second whose date has the YYYY-MM-DD form */
#define TIMESTAMP_MAX 253402300799LL
/* Secret keys up to this length are prefixed with "TC3" on the stack, longer ones on the heap */
#define TC3_KEY_STACK 256
/* Headers / parameters sorted in an array on the stack up to this count, on the heap beyond */
#define SORT_STACK 16

enum {
    F_HASHED_PAYLOAD,
    F_CANONICAL_REQUEST,
    F_STRING_TO_SIGN,
    F_SIGNATURE,
    F_AUTHORIZATION,
    F_COUNT
};

static const char *const field_names[F_COUNT] = {
    "hashed_payload", "canonical_request", "string_to_sign", "signature", "authorization",
};

struct tcf_signature {
    char *data;                 /* every field, each NUL-terminated */
    const char *field[F_COUNT]; /* into data; NULL when the algorithm has no such field */
};

typedef enum sign_alg { ALG_TC3, ALG_V1_SHA1, ALG_V1_SHA256 } sign_alg;

/* ---- character classes ---- */

/* RFC 9110 token characters (header names). */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Space, any other ASCII control character, or DEL. */
static int is_space_or_ctl(unsigned char c)
{
    return c <= 0x20 || c == 0x7F;
}

static int has_space_or_ctl(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (is_space_or_ctl(*p))
            return 1;
    return 0;
}

static int has_cr_or_lf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* ---- validation ---- */

static int missing(const char *s)
{
    return s == NULL || *s == '\0';
}

static int require(const char *s, const char *field, tcf_error *err)
{
    if (missing(s))
        return tcfp_fail(err, TCF_EINVAL, "tcf_sign: %s is missing (NULL or empty)", field);
    return 0;
}

/* A secret (secret_id, secret_key): never echoed. */
static int require_secret(const char *s, const char *field, tcf_error *err)
{
    int rc = require(s, field, err);
    if (rc == 0 && tcfp_check_secret(s) != 0)
        rc = tcfp_fail(err, TCF_EINVAL, "tcf_sign: %s contains white space or control characters",
                       field);
    return rc;
}

/* host, service: no white space or control characters anywhere. */
static int require_word(const char *s, const char *field, tcf_error *err)
{
    int rc = require(s, field, err);
    if (rc == 0 && has_space_or_ctl(s))
        rc = tcfp_fail(err, TCF_EINVAL, "tcf_sign: %s contains white space or control characters",
                       field);
    return rc;
}

static int parse_algorithm(const char *name, sign_alg *alg, tcf_error *err)
{
    if (name == NULL || strcmp(name, TC3_ALGORITHM) == 0)
        *alg = ALG_TC3;
    else if (strcmp(name, "HmacSHA1") == 0)
        *alg = ALG_V1_SHA1;
    else if (strcmp(name, "HmacSHA256") == 0)
        *alg = ALG_V1_SHA256;
    else
        return tcfp_fail(err, TCF_EINVAL,
                         "tcf_sign: unknown algorithm \"%.40s\" (expected \"" TC3_ALGORITHM
                         "\", \"HmacSHA1\" or \"HmacSHA256\")",
                         name);
    return 0;
}

/* Fields common to both algorithms. */
static int check_common(const tcf_sign_input *in, const char *path, tcf_error *err)
{
    int rc;
    if (in->method == NULL || (strcmp(in->method, "POST") != 0 && strcmp(in->method, "GET") != 0))
        return tcfp_fail(err, TCF_EINVAL, "tcf_sign: method must be \"POST\" or \"GET\"");
    if ((rc = require_word(in->host, "host", err)) != 0)
        return rc;
    if (path[0] != '/' || has_space_or_ctl(path) || strpbrk(path, "?#") != NULL)
        return tcfp_fail(err, TCF_EINVAL,
                         "tcf_sign: path must start with '/' and contain no white space, control "
                         "characters, '?' or '#'");
    return 0;
}

/* ---- the output object ---- */

static int finish(tcf_signature **out, tcfp_buf *b, const size_t off[F_COUNT],
                  const int has[F_COUNT], tcf_error *err)
{
    tcf_signature *sig = tcfp_malloc(sizeof *sig);
    if (sig == NULL || b->failed) {
        tcfp_free(sig);
        tcfp_buf_free(b);
        return tcfp_fail(err, TCF_ENOMEM, "tcf_sign: out of memory");
    }
    sig->data = tcfp_buf_steal(b, NULL);
    for (int f = 0; f < F_COUNT; f++)
        sig->field[f] = has[f] ? sig->data + off[f] : NULL;
    *out = sig;
    return 0;
}

const char *tcf_signature_get(const tcf_signature *sig, const char *field)
{
    if (sig == NULL || field == NULL)
        return NULL;
    for (int f = 0; f < F_COUNT; f++)
        if (strcmp(field, field_names[f]) == 0)
            return sig->field[f];
    return NULL;
}

void tcf_signature_free(tcf_signature *sig)
{
    if (sig == NULL)
        return;
    tcfp_free(sig->data);
    tcfp_free(sig);
}

/* ---- TC3 ---- */

typedef struct canon_header {
    const char *name; /* as given; compared and written in lower case */
    size_t name_len;
    const char *value; /* trimmed of spaces and tabs; written in lower case */
    size_t value_len;
} canon_header;

static int header_name_cmp(const void *pa, const void *pb)
{
    const canon_header *a = pa, *b = pb;
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    for (size_t i = 0; i < n; i++) {
        unsigned char ca = (unsigned char)ascii_lower(a->name[i]);
        unsigned char cb = (unsigned char)ascii_lower(b->name[i]);
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

static canon_header make_header(const char *name, const char *value)
{
    canon_header h = {name, strlen(name), value, strlen(value)};
    while (h.value_len > 0 && (*h.value == ' ' || *h.value == '\t')) {
        h.value++;
        h.value_len--;
    }
    while (h.value_len > 0 && (h.value[h.value_len - 1] == ' ' || h.value[h.value_len - 1] == '\t'))
        h.value_len--;
    return h;
}

static int name_is(const canon_header *h, const char *lower)
{
    canon_header other = {lower, strlen(lower), "", 0};
    return header_name_cmp(h, &other) == 0;
}

/* Validates the TC3 fields and fills hdrs (content-type, host, the extras), sorted. */
static int tc3_headers(const tcf_sign_input *in, canon_header *hdrs, size_t count, tcf_error *err)
{
    hdrs[0] = make_header("content-type", in->content_type);
    hdrs[1] = make_header("host", in->host);
    if (hdrs[0].value_len == 0)
        return tcfp_fail(err, TCF_EINVAL, "tcf_sign: content_type is missing (NULL or empty)");
    for (size_t i = 0; i + 2 < count; i++) {
        const tcf_header *x = &in->extra_signed_headers[i];
        if (missing(x->name))
            return tcfp_fail(err, TCF_EINVAL, "tcf_sign: extra_signed_headers[%zu].name is missing",
                             i);
        for (const unsigned char *p = (const unsigned char *)x->name; *p; p++)
            if (!is_tchar(*p))
                return tcfp_fail(err, TCF_EINVAL,
                                 "tcf_sign: extra_signed_headers[%zu].name contains a character "
                                 "not allowed in a header name",
                                 i);
        if (x->value == NULL)
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_sign: extra_signed_headers[%zu].value is missing (NULL)", i);
        if (has_cr_or_lf(x->value))
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_sign: extra_signed_headers[%zu].value contains CR or LF", i);
        hdrs[i + 2] = make_header(x->name, x->value);
        if (name_is(&hdrs[i + 2], "authorization"))
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_sign: extra_signed_headers[%zu]: Authorization cannot be signed",
                             i);
    }
    qsort(hdrs, count, sizeof *hdrs, header_name_cmp);
    for (size_t i = 1; i < count; i++)
        if (header_name_cmp(&hdrs[i - 1], &hdrs[i]) == 0) {
            char lower[65];
            size_t n = hdrs[i].name_len < 64 ? hdrs[i].name_len : 64;
            for (size_t k = 0; k < n; k++)
                lower[k] = ascii_lower(hdrs[i].name[k]);
            lower[n] = '\0';
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_sign: header \"%s\" is signed twice (content-type and host are "
                             "always signed; extra_signed_headers must not repeat a name)",
                             lower);
        }
    return 0;
}

static void append_lower(tcfp_buf *b, const char *s, size_t n)
{
    if (tcfp_buf_reserve(b, n) != 0)
        return;
    char *d = (char *)b->data + b->len;
    for (size_t i = 0; i < n; i++)
        d[i] = ascii_lower(s[i]);
    b->len += n;
    b->data[b->len] = 0;
}

static void append_hex(tcfp_buf *b, const unsigned char *bytes, size_t n)
{
    if (tcfp_buf_reserve(b, 2 * n) != 0)
        return;
    tcfp_hex((char *)b->data + b->len, bytes, n);
    b->len += 2 * n;
}

/* A non-negative number in decimal (printf is needlessly slow on this path). */
static void append_decimal(tcfp_buf *b, long long v)
{
    char text[24], *p = text + sizeof text;
    unsigned long long u = (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    tcfp_buf_append(b, p, (size_t)(text + sizeof text - p));
}

/* The credential scope DATE/SERVICE/tc3_request. */
static void append_scope(tcfp_buf *b, const char *date, const char *service)
{
    tcfp_buf_append_str(b, date);
    tcfp_buf_append_char(b, '/');
    tcfp_buf_append_str(b, service);
    tcfp_buf_append_str(b, "/" TC3_TERMINATOR);
}

/* Appends n bytes found at offset off of the buffer itself (reserving first, so that the
 * source does not move under the copy). */
static void append_self(tcfp_buf *b, size_t off, size_t n)
{
    if (tcfp_buf_reserve(b, n) != 0)
        return;
    memmove(b->data + b->len, b->data + off, n);
    b->len += n;
    b->data[b->len] = 0;
}

/* Appends a NUL that ends a field (the buffer keeps its own terminator after it). */
static void end_field(tcfp_buf *b)
{
    tcfp_buf_append(b, "", 1);
}

/* "YYYY-MM-DD" of a Unix timestamp in UTC; -1 if it cannot be represented. */
static int utc_date(long long timestamp, char out[11])
{
    time_t t = (time_t)timestamp;
    struct tm tm;
    if ((long long)t != timestamp || gmtime_r(&t, &tm) == NULL)
        return -1;
    int year = tm.tm_year + 1900, month = tm.tm_mon + 1, day = tm.tm_mday;
    if (year < 0 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31)
        return -1;
    int parts[3][2] = {{year, 4}, {month, 2}, {day, 2}};
    char *p = out;
    for (int i = 0; i < 3; i++) {
        if (i > 0)
            *p++ = '-';
        for (int k = parts[i][1] - 1, v = parts[i][0]; k >= 0; k--, v /= 10)
            p[k] = (char)('0' + v % 10);
        p += parts[i][1];
    }
    *p = '\0';
    return 0;
}

/* kSigning = HMAC(HMAC(HMAC("TC3" + key, date), service), "tc3_request") */
static int derive_key(tcfp_hmac_ctx *h, const char *secret_key, const char *date,
                      const char *service, unsigned char key[TCFP_SHA256_LEN])
{
    size_t key_len = strlen(secret_key);
    unsigned char stack[TC3_KEY_STACK];
    unsigned char *tc3 = stack, k[TCFP_SHA256_LEN];
    if (key_len > sizeof stack - 3 && (tc3 = tcfp_malloc(key_len + 3)) == NULL)
        return TCF_ENOMEM;
    memcpy(tc3, "TC3", 3);
    memcpy(tc3 + 3, secret_key, key_len);
    int rc = tcfp_hmac_compute(h, k, tc3, key_len + 3, date, strlen(date));
    tcfp_wipe(tc3, key_len + 3);
    if (tc3 != stack)
        tcfp_free(tc3);
    if (rc == 0)
        rc = tcfp_hmac_compute(h, k, k, sizeof k, service, strlen(service));
    if (rc == 0)
        rc = tcfp_hmac_compute(h, key, k, sizeof k, TC3_TERMINATOR, strlen(TC3_TERMINATOR));
    tcfp_wipe(k, sizeof k);
    return rc;
}

static int cache_lookup(tcfp_sign_key_cache *c, const char *secret, size_t secret_len,
                        const char *date, const char *service, size_t service_len,
                        unsigned char key[TCFP_SHA256_LEN])
{
    int hit = 0;
    if (pthread_mutex_lock(&c->lock) != 0)
        return 0;
    if (c->valid && c->secret_len == secret_len && c->service_len == service_len &&
        memcmp(c->secret, secret, secret_len) == 0 &&
        memcmp(c->service, service, service_len) == 0 &&
        memcmp(c->date, date, sizeof c->date) == 0) {
        memcpy(key, c->key, TCFP_SHA256_LEN);
        hit = 1;
        c->hits++;
    } else {
        c->misses++;
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

static void cache_store(tcfp_sign_key_cache *c, const char *secret, size_t secret_len,
                        const char *date, const char *service, size_t service_len,
                        const unsigned char key[TCFP_SHA256_LEN])
{
    if (pthread_mutex_lock(&c->lock) != 0)
        return;
    tcfp_wipe(c->secret, sizeof c->secret);
    memcpy(c->secret, secret, secret_len);
    c->secret_len = secret_len;
    memcpy(c->service, service, service_len);
    c->service_len = service_len;
    memcpy(c->date, date, sizeof c->date);
    memcpy(c->key, key, TCFP_SHA256_LEN);
    c->valid = 1;
    pthread_mutex_unlock(&c->lock);
}

int tcfp_sign_key_cache_init(tcfp_sign_key_cache *cache)
{
    memset(cache, 0, sizeof *cache);
    return pthread_mutex_init(&cache->lock, NULL) == 0 ? 0 : TCF_ENOMEM;
}

void tcfp_sign_key_cache_destroy(tcfp_sign_key_cache *cache)
{
    if (cache == NULL)
        return;
    pthread_mutex_destroy(&cache->lock);
    tcfp_wipe(cache, sizeof *cache);
}

/* The signing key, from the cache when it holds the same secret, date and service. */
static int signing_key(tcfp_hmac_ctx *h, const tcf_sign_input *in, const char *date,
                       tcfp_sign_key_cache *cache, unsigned char key[TCFP_SHA256_LEN])
{
    size_t secret_len = strlen(in->secret_key), service_len = strlen(in->service);
    if (cache != NULL && (secret_len > sizeof cache->secret || service_len > sizeof cache->service))
        cache = NULL;
    if (cache != NULL &&
        cache_lookup(cache, in->secret_key, secret_len, date, in->service, service_len, key))
        return 0;
    int rc = derive_key(h, in->secret_key, date, in->service, key);
    if (rc == 0 && cache != NULL)
        cache_store(cache, in->secret_key, secret_len, date, in->service, service_len, key);
    return rc;
}

static int crypto_fail(int rc, const char *what, tcf_error *err)
{
    if (rc == TCF_ENOMEM)
        return tcfp_fail(err, rc, "tcf_sign: out of memory");
    return tcfp_fail(err, TCF_ECRYPTO, "tcf_sign: %s failed (OpenSSL)", what);
}

static int sign_tc3(tcf_signature **out, const tcf_sign_input *in, const char *path,
                    const unsigned char *payload_sha256, tcfp_sign_key_cache *cache, tcf_error *err)
{
    int rc;
    const char *query = in->canonical_query ? in->canonical_query : "";
    if ((rc = require_secret(in->secret_id, "secret_id", err)) != 0 ||
        (rc = require_secret(in->secret_key, "secret_key", err)) != 0 ||
        (rc = require_word(in->service, "service", err)) != 0)
        return rc;
    if (strchr(in->service, '/') != NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_sign: service must not contain '/'");
    if ((rc = require(in->content_type, "content_type", err)) != 0)
        return rc;
    if (has_cr_or_lf(in->content_type))
        return tcfp_fail(err, TCF_EINVAL, "tcf_sign: content_type contains CR or LF");
    if (has_space_or_ctl(query))
        return tcfp_fail(err, TCF_EINVAL,
                         "tcf_sign: canonical_query contains white space or control characters");
    if (in->body == NULL && in->body_len > 0)
        return tcfp_fail(err, TCF_EINVAL, "tcf_sign: body is NULL but body_len is not 0");
    if (in->extra_signed_header_count > 0 && in->extra_signed_headers == NULL)
        return tcfp_fail(err, TCF_EINVAL,
                         "tcf_sign: extra_signed_headers is NULL but its count is not 0");
    if (in->extra_signed_header_count > 1000)
        return tcfp_fail(err, TCF_EINVAL, "tcf_sign: more than 1000 extra_signed_headers");
    char date[11];
    if (in->timestamp < 0 || in->timestamp > TIMESTAMP_MAX || utc_date(in->timestamp, date) != 0)
        return tcfp_fail(err, TCF_EINVAL,
                         "tcf_sign: timestamp %lld is out of range (0 to %lld, Unix seconds)",
                         in->timestamp, TIMESTAMP_MAX);

    size_t count = 2 + in->extra_signed_header_count;
    canon_header stack_hdrs[SORT_STACK], *hdrs = stack_hdrs;
    if (count > SORT_STACK && (hdrs = tcfp_calloc(count, sizeof *hdrs)) == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "tcf_sign: out of memory");
    if ((rc = tc3_headers(in, hdrs, count, err)) != 0) {
        if (hdrs != stack_hdrs)
            tcfp_free(hdrs);
        return rc;
    }

    /* every field goes into one buffer; reserve roughly what it needs at once */
    size_t estimate = 512 + strlen(in->method) + strlen(path) + strlen(query) +
                      2 * strlen(in->service) + strlen(in->secret_id);
    for (size_t i = 0; i < count; i++)
        estimate += 2 * hdrs[i].name_len + hdrs[i].value_len + 3;
    tcfp_buf b;
    tcfp_buf_init(&b);
    tcfp_buf_reserve(&b, estimate);

    size_t off[F_COUNT];
    int has[F_COUNT] = {1, 1, 1, 1, 1};
    unsigned char digest[TCFP_SHA256_LEN], key[TCFP_SHA256_LEN];
    tcfp_sha256_ctx sha = TCFP_SHA256_CTX_INIT;
    tcfp_hmac_ctx hmac = TCFP_HMAC_CTX_INIT;
    const char *what = "SHA-256";

    /* HashedRequestPayload */
    off[F_HASHED_PAYLOAD] = b.len;
    if (in->unsigned_payload) {
        tcfp_buf_append_str(&b, UNSIGNED_PAYLOAD_SHA256);
    } else if (payload_sha256 != NULL) {
        append_hex(&b, payload_sha256, TCFP_SHA256_LEN);
    } else {
        if ((rc = tcfp_sha256_init_shared(&sha)) == 0 &&
            (rc = tcfp_sha256_update(&sha, in->body, in->body_len)) == 0)
            rc = tcfp_sha256_final(&sha, digest);
        if (rc != 0)
            goto fail;
        append_hex(&b, digest, sizeof digest);
    }
    end_field(&b);

    /* CanonicalRequest */
    off[F_CANONICAL_REQUEST] = b.len;
    tcfp_buf_append_str(&b, in->method);
    tcfp_buf_append_char(&b, '\n');
    tcfp_buf_append_str(&b, path);
    tcfp_buf_append_char(&b, '\n');
    tcfp_buf_append_str(&b, query);
    tcfp_buf_append_char(&b, '\n');
    for (size_t i = 0; i < count; i++) {
        append_lower(&b, hdrs[i].name, hdrs[i].name_len);
        tcfp_buf_append_char(&b, ':');
        append_lower(&b, hdrs[i].value, hdrs[i].value_len);
        tcfp_buf_append_char(&b, '\n');
    }
    tcfp_buf_append_char(&b, '\n');
    size_t signed_headers_off = b.len;
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            tcfp_buf_append_char(&b, ';');
        append_lower(&b, hdrs[i].name, hdrs[i].name_len);
    }
    size_t signed_headers_len = b.len - signed_headers_off;
    tcfp_buf_append_char(&b, '\n');
    append_self(&b, off[F_HASHED_PAYLOAD], 64);
    if (b.failed)
        goto nomem;
    size_t canonical_len = b.len - off[F_CANONICAL_REQUEST];
    end_field(&b);

    /* StringToSign */
    if (b.failed)
        goto nomem;
    if ((rc = tcfp_sha256_init_shared(&sha)) != 0 ||
        (rc = tcfp_sha256_update(&sha, b.data + off[F_CANONICAL_REQUEST], canonical_len)) != 0 ||
        (rc = tcfp_sha256_final(&sha, digest)) != 0)
        goto fail;
    off[F_STRING_TO_SIGN] = b.len;
    tcfp_buf_append_str(&b, TC3_ALGORITHM "\n");
    append_decimal(&b, in->timestamp);
    tcfp_buf_append_char(&b, '\n');
    append_scope(&b, date, in->service);
    tcfp_buf_append_char(&b, '\n');
    append_hex(&b, digest, sizeof digest);
    size_t sts_len = b.len - off[F_STRING_TO_SIGN];
    end_field(&b);
    if (b.failed)
        goto nomem;

    /* Signature */
    what = "HMAC-SHA256";
    if ((rc = tcfp_hmac_init_shared(&hmac)) != 0 ||
        (rc = signing_key(&hmac, in, date, cache, key)) != 0 ||
        (rc = tcfp_hmac_compute(&hmac, digest, key, sizeof key, b.data + off[F_STRING_TO_SIGN],
                                sts_len)) != 0)
        goto fail;
    off[F_SIGNATURE] = b.len;
    append_hex(&b, digest, sizeof digest);
    end_field(&b);

    /* Authorization */
    off[F_AUTHORIZATION] = b.len;
    tcfp_buf_append_str(&b, TC3_ALGORITHM " Credential=");
    tcfp_buf_append_str(&b, in->secret_id);
    tcfp_buf_append_char(&b, '/');
    append_scope(&b, date, in->service);
    tcfp_buf_append_str(&b, ", SignedHeaders=");
    append_self(&b, signed_headers_off, signed_headers_len);
    tcfp_buf_append_str(&b, ", Signature=");
    append_self(&b, off[F_SIGNATURE], 64);
    end_field(&b);
    if (b.failed)
        goto nomem;

    tcfp_wipe(key, sizeof key);
    tcfp_sha256_free(&sha);
    tcfp_hmac_free(&hmac);
    if (hdrs != stack_hdrs)
        tcfp_free(hdrs);
    return finish(out, &b, off, has, err);

nomem:
    rc = TCF_ENOMEM;
fail:
    tcfp_wipe(key, sizeof key);
    tcfp_sha256_free(&sha);
    tcfp_hmac_free(&hmac);
    if (hdrs != stack_hdrs)
        tcfp_free(hdrs);
    tcfp_buf_free(&b);
    return crypto_fail(rc, what, err);
}

/* ---- v1 ---- */

static int param_name_cmp(const void *pa, const void *pb)
{
    const tcf_header *a = *(const tcf_header *const *)pa, *b = *(const tcf_header *const *)pb;
    return strcmp(a->name, b->name);
}

static int sign_v1(tcf_signature **out, const tcf_sign_input *in, const char *path, sign_alg alg,
                   tcf_error *err)
{
    int rc;
    if ((rc = require_secret(in->secret_key, "secret_key", err)) != 0)
        return rc;
    if (in->secret_id != NULL && (rc = require_secret(in->secret_id, "secret_id", err)) != 0)
        return rc;
    if (in->param_count == 0 || in->params == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_sign: params is missing (v1 signs the parameters)");
    if (in->param_count > 100000)
        return tcfp_fail(err, TCF_EINVAL, "tcf_sign: more than 100000 params");
    const char *method_param = NULL;
    for (size_t i = 0; i < in->param_count; i++) {
        const tcf_header *p = &in->params[i];
        if (missing(p->name))
            return tcfp_fail(err, TCF_EINVAL, "tcf_sign: params[%zu].name is missing", i);
        if (has_space_or_ctl(p->name) || strpbrk(p->name, "=&") != NULL)
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_sign: params[%zu].name contains white space, control "
                             "characters, '=' or '&'",
                             i);
        if (p->value == NULL)
            return tcfp_fail(err, TCF_EINVAL, "tcf_sign: params[%zu].value is missing (NULL)", i);
        if (strcmp(p->name, "Signature") == 0)
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_sign: params must not contain Signature (it is the result)");
        if (strcmp(p->name, "SignatureMethod") == 0)
            method_param = p->value;
    }
    /* The server picks the hash from SignatureMethod: HmacSHA256 selects SHA-256, anything
     * else (or none) SHA-1. A mismatch would always fail as AuthFailure.SignatureFailure. */
    int param_says_256 = method_param != NULL && strcmp(method_param, "HmacSHA256") == 0;
    if (param_says_256 != (alg == ALG_V1_SHA256))
        return tcfp_fail(err, TCF_EINVAL,
                         alg == ALG_V1_SHA256
                             ? "tcf_sign: algorithm HmacSHA256 needs the parameter "
                               "SignatureMethod=HmacSHA256 (without it the server uses HmacSHA1)"
                             : "tcf_sign: algorithm HmacSHA1 with the parameter "
                               "SignatureMethod=HmacSHA256 (the server would use HmacSHA256)");

    const tcf_header *stack_sorted[SORT_STACK];
    const tcf_header **sorted = stack_sorted;
    if (in->param_count > SORT_STACK &&
        (sorted = tcfp_calloc(in->param_count, sizeof *sorted)) == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "tcf_sign: out of memory");
    for (size_t i = 0; i < in->param_count; i++)
        sorted[i] = &in->params[i];
    qsort(sorted, in->param_count, sizeof *sorted, param_name_cmp);
    for (size_t i = 1; i < in->param_count; i++)
        if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0) {
            rc = tcfp_fail(err, TCF_EINVAL, "tcf_sign: parameter \"%.64s\" appears twice",
                           sorted[i]->name);
            if (sorted != stack_sorted)
                tcfp_free(sorted);
            return rc;
        }

    tcfp_buf b;
    tcfp_buf_init(&b);
    size_t off[F_COUNT] = {0};
    int has[F_COUNT] = {0, 0, 1, 1, 0};
    off[F_STRING_TO_SIGN] = 0;
    tcfp_buf_append_str(&b, in->method);
    tcfp_buf_append_str(&b, in->host);
    tcfp_buf_append_str(&b, path);
    tcfp_buf_append_char(&b, '?');
    for (size_t i = 0; i < in->param_count; i++) {
        if (i > 0)
            tcfp_buf_append_char(&b, '&');
        tcfp_buf_append_str(&b, sorted[i]->name);
        tcfp_buf_append_char(&b, '=');
        tcfp_buf_append_str(&b, sorted[i]->value);
    }
    if (sorted != stack_sorted)
        tcfp_free(sorted);
    size_t sts_len = b.len;
    end_field(&b);
    if (b.failed) {
        tcfp_buf_free(&b);
        return tcfp_fail(err, TCF_ENOMEM, "tcf_sign: out of memory");
    }

    tcfp_hmac_alg hmac_alg = alg == ALG_V1_SHA256 ? TCFP_HMAC_SHA256 : TCFP_HMAC_SHA1;
    unsigned char mac[TCFP_HMAC_MAX_LEN];
    rc = tcfp_hmac(hmac_alg, mac, in->secret_key, strlen(in->secret_key), b.data, sts_len);
    if (rc != 0) {
        tcfp_buf_free(&b);
        return crypto_fail(rc, hmac_alg == TCFP_HMAC_SHA1 ? "HMAC-SHA1" : "HMAC-SHA256", err);
    }
    off[F_SIGNATURE] = b.len;
    size_t mac_len = tcfp_hmac_len(hmac_alg);
    if (tcfp_buf_reserve(&b, tcfp_base64_encoded_len(mac_len)) == 0)
        b.len += tcfp_base64_encode((char *)b.data + b.len, mac, mac_len);
    end_field(&b);
    return finish(out, &b, off, has, err);
}

/* ---- entry points ---- */

int tcfp_sign_ex(tcf_signature **out, const tcf_sign_input *in, const unsigned char *payload_sha256,
                 tcfp_sign_key_cache *cache, tcf_error *err)
{
    sign_alg alg = ALG_TC3;
    int rc;
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_sign: out is NULL");
    *out = NULL;
    if (in == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_sign: in is NULL");
    if (in->version != TCF_SIGN_INPUT_VERSION)
        return tcfp_fail(err, TCF_EINVAL,
                         "tcf_sign: tcf_sign_input.version is %u, expected %d (use "
                         "TCF_SIGN_INPUT_INIT)",
                         in->version, TCF_SIGN_INPUT_VERSION);
    if ((rc = parse_algorithm(in->algorithm, &alg, err)) != 0)
        return rc;
    const char *path = in->path ? in->path : "/";
    if ((rc = check_common(in, path, err)) != 0)
        return rc;
    if (alg == ALG_TC3)
        return sign_tc3(out, in, path, payload_sha256, cache, err);
    return sign_v1(out, in, path, alg, err);
}

int tcf_sign(tcf_signature **out, const tcf_sign_input *in, tcf_error *err)
{
    return tcfp_sign_ex(out, in, NULL, NULL, err);
}

int tcf_sign_split_signed_headers(tcf_header *extra, size_t *count, char *list_copy,
                                  const char *(*value_of)(void *user, const char *name), void *user,
                                  tcf_error *err)
{
    if (count)
        *count = 0;
    if (extra == NULL || count == NULL || list_copy == NULL || value_of == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_sign_split_signed_headers: NULL argument");
    int seen_content_type = 0, seen_host = 0;
    size_t n = 0;
    char *p = list_copy;
    for (;;) {
        char *end = strchr(p, ';');
        if (end)
            *end = '\0';
        if (*p == '\0')
            return tcfp_fail(err, TCF_EINVAL, "signed_headers has an empty name");
        if (strcasecmp(p, "content-type") == 0) {
            seen_content_type = 1;
        } else if (strcasecmp(p, "host") == 0) {
            seen_host = 1;
        } else {
            const char *value = value_of(user, p);
            if (value == NULL)
                return tcfp_fail(err, TCF_EINVAL,
                                 "signed header \"%.64s\" has no value: besides content-type and "
                                 "host, only x-tc-action, x-tc-region, x-tc-version, "
                                 "x-tc-language, x-tc-token and x-tc-timestamp can be signed, "
                                 "with the value of the input of the same name",
                                 p);
            extra[n].name = p;
            extra[n].value = value;
            n++;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (!seen_content_type || !seen_host)
        return tcfp_fail(err, TCF_EINVAL, "signed_headers must include content-type and host");
    *count = n;
    return 0;
}
