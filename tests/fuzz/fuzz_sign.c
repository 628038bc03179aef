/* tcf_sign with fuzzed inputs, checked against an independent TC3 / v1 computation (OpenSSL).
 *
 * Input: 1 byte algorithm (% 5: NULL, "TC3-HMAC-SHA256", "HmacSHA1", "HmacSHA256", a fuzzed
 * string), 1 byte of flags (bit 0: unsigned payload, bit 1: GET, bit 2: a fuzzed method,
 * bit 3: a fuzzed path, bit 4: SignatureMethod=HmacSHA256 appended to the v1 params), 8 bytes
 * timestamp (big-endian; flags bit 5 keeps it in 2000-2100), 1 byte extra header count (% 4),
 * 1 byte param count (% 5), then NUL-terminated strings: [algorithm], [method], [path],
 * secret_id, secret_key, service, host, content_type, canonical_query, the header names and
 * values, the param names and values; the body is the rest (raw, may hold NULs).
 * Invariants: on success every field is there; TC3: hashed_payload is SHA-256 of the body (or of
 * "UNSIGNED-PAYLOAD"), the canonical request starts with method/path/query and ends with it,
 * string_to_sign is algorithm, timestamp, date/service/tc3_request (the UTC date of the
 * timestamp) and SHA-256 of the canonical request, signature is the HMAC chain computed here,
 * authorization is assembled from those; v1: string_to_sign is method+host+path+'?'+the params
 * sorted, signature is base64(HMAC(secret_key, string_to_sign)); signing again gives the same
 * result (the signing-key cache is exercised). Failure leaves *out NULL with TCF_EINVAL and a
 * message that does not depend on the secret key's value. */
#include "fuzz_common.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <time.h>

static void hex(char *out, const unsigned char *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", in[i]);
}

static void sha256_hex(char out[65], const void *data, size_t n)
{
    unsigned char d[32];
    SHA256(data, n, d);
    hex(out, d, 32);
}

static size_t hmac(const char *digest, unsigned char *out, const void *key, size_t key_len,
                   const void *msg, size_t msg_len)
{
    size_t n = 0;
    FUZZ_CHECK(EVP_Q_mac(NULL, "HMAC", NULL, digest, NULL, key, key_len, msg, msg_len, out, 64,
                         &n) != NULL,
               "EVP_Q_mac failed");
    return n;
}

static int cmp_param(const void *a, const void *b)
{
    return strcmp(((const tcf_header *)a)->name, ((const tcf_header *)b)->name);
}

static const char *field(const tcf_signature *sig, const char *name)
{
    const char *v = tcf_signature_get(sig, name);
    FUZZ_CHECK(v != NULL, "no %s", name);
    return v;
}

static void check_tc3(const tcf_signature *sig, const tcf_sign_input *in)
{
    const char *hp = field(sig, "hashed_payload"), *cr = field(sig, "canonical_request");
    const char *sts = field(sig, "string_to_sign"), *signature = field(sig, "signature");
    const char *auth = field(sig, "authorization");
    char want[65];
    if (in->unsigned_payload)
        sha256_hex(want, "UNSIGNED-PAYLOAD", 16);
    else
        sha256_hex(want, in->body, in->body_len);
    FUZZ_CHECK(strcmp(hp, want) == 0, "hashed_payload is not SHA-256 of the body");

    const char *path = in->path ? in->path : "/";
    const char *query = in->canonical_query ? in->canonical_query : "";
    size_t ml = strlen(in->method), pl = strlen(path), ql = strlen(query), crl = strlen(cr);
    FUZZ_CHECK(strncmp(cr, in->method, ml) == 0 && cr[ml] == '\n' &&
                   strncmp(cr + ml + 1, path, pl) == 0 && cr[ml + 1 + pl] == '\n' &&
                   strncmp(cr + ml + pl + 2, query, ql) == 0 && cr[ml + pl + ql + 2] == '\n',
               "canonical request does not start with method, path and query:\n%s", cr);
    FUZZ_CHECK(crl > 65 && cr[crl - 65] == '\n' && strcmp(cr + crl - 64, hp) == 0,
               "canonical request does not end with the hashed payload");

    time_t t = (time_t)in->timestamp;
    struct tm tm;
    FUZZ_CHECK(gmtime_r(&t, &tm) != NULL, "gmtime");
    char date[16], cr_hash[65];
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    sha256_hex(cr_hash, cr, crl);
    size_t need = 128 + strlen(in->service);
    char *want_sts = malloc(need);
    if (want_sts == NULL)
        abort();
    snprintf(want_sts, need, "TC3-HMAC-SHA256\n%lld\n%s/%s/tc3_request\n%s", in->timestamp, date,
             in->service, cr_hash);
    FUZZ_CHECK(strcmp(sts, want_sts) == 0, "string_to_sign:\n%s\nexpected:\n%s", sts, want_sts);

    size_t kl = strlen(in->secret_key);
    unsigned char *k0 = malloc(kl + 3), k[64];
    if (k0 == NULL)
        abort();
    memcpy(k0, "TC3", 3);
    memcpy(k0 + 3, in->secret_key, kl);
    size_t n = hmac("SHA256", k, k0, kl + 3, date, strlen(date));
    n = hmac("SHA256", k, k, n, in->service, strlen(in->service));
    n = hmac("SHA256", k, k, n, "tc3_request", 11);
    n = hmac("SHA256", k, k, n, sts, strlen(sts));
    char sig_hex[129];
    hex(sig_hex, k, n);
    FUZZ_CHECK(strcmp(signature, sig_hex) == 0, "signature %s, computed %s", signature, sig_hex);
    free(k0);

    const char *sh = strrchr(cr, '\n');
    size_t shl = 0;
    while (sh > cr && sh[-1 - (long)shl] != '\n')
        shl++;
    need = 256 + strlen(in->secret_id) + strlen(in->service) + shl;
    char *want_auth = malloc(need);
    if (want_auth == NULL)
        abort();
    snprintf(want_auth, need,
             "TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, SignedHeaders=%.*s, Signature=%s",
             in->secret_id, date, in->service, (int)shl, sh - shl, sig_hex);
    FUZZ_CHECK(strcmp(auth, want_auth) == 0, "authorization:\n%s\nexpected:\n%s", auth, want_auth);
    free(want_auth);
    free(want_sts);
}

static void check_v1(const tcf_signature *sig, const tcf_sign_input *in, int sha256)
{
    const char *sts = field(sig, "string_to_sign"), *signature = field(sig, "signature");
    FUZZ_CHECK(tcf_signature_get(sig, "canonical_request") == NULL, "v1 has no canonical request");
    tcf_header *sorted = malloc(in->param_count * sizeof *sorted);
    if (sorted == NULL)
        abort();
    memcpy(sorted, in->params, in->param_count * sizeof *sorted);
    qsort(sorted, in->param_count, sizeof *sorted, cmp_param);
    size_t need = strlen(in->method) + strlen(in->host) + strlen(in->path ? in->path : "/") + 2;
    for (size_t i = 0; i < in->param_count; i++)
        need += strlen(sorted[i].name) + strlen(sorted[i].value) + 2;
    char *want = malloc(need);
    if (want == NULL)
        abort();
    int w = snprintf(want, need, "%s%s%s?", in->method, in->host, in->path ? in->path : "/");
    for (size_t i = 0; i < in->param_count; i++)
        w += snprintf(want + w, need - (size_t)w, "%s%s=%s", i ? "&" : "", sorted[i].name,
                      sorted[i].value);
    FUZZ_CHECK(strcmp(sts, want) == 0, "v1 string_to_sign:\n%s\nexpected:\n%s", sts, want);
    unsigned char mac[64];
    size_t n = hmac(sha256 ? "SHA256" : "SHA1", mac, in->secret_key, strlen(in->secret_key), sts,
                    strlen(sts));
    unsigned char b64[100];
    EVP_EncodeBlock(b64, mac, (int)n);
    FUZZ_CHECK(strcmp(signature, (const char *)b64) == 0, "v1 signature %s, computed %s", signature,
               b64);
    free(want);
    free(sorted);
}

/* The failure does not depend on the secret key's printable characters: signing with another
 * key of the same shape (each printable ASCII character changed) fails with the same message,
 * so no message echoes the key. */
static void check_no_echo(const tcf_sign_input *si, const char *skey, const tcf_error *err)
{
    size_t n = strlen(skey);
    char *other = malloc(n + 1);
    if (other == NULL)
        abort();
    for (size_t i = 0; i <= n; i++)
        other[i] = (skey[i] > 0x20 && skey[i] < 0x7f) ? (skey[i] == 'a' ? 'b' : 'a') : skey[i];
    tcf_sign_input in2 = *si;
    in2.secret_key = other;
    tcf_signature *sig = NULL;
    tcf_error err2 = {0};
    int rc = tcf_sign(&sig, &in2, &err2);
    FUZZ_CHECK(rc == err->code && strcmp(err2.message, err->message) == 0,
               "the failure depends on the secret key's value:\n%s\n%s", err->message,
               err2.message);
    free(other);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const algs[] = {NULL, "TC3-HMAC-SHA256", "HmacSHA1", "HmacSHA256"};
    fuzz_in in = {data, size};
    unsigned alg_i = fuzz_byte(&in) % 5, flags = fuzz_byte(&in);
    unsigned long long ts = 0;
    for (int i = 0; i < 8; i++)
        ts = (ts << 8) | fuzz_byte(&in);
    if (flags & 32)
        ts = 946684800ULL + ts % (4102444800ULL - 946684800ULL);
    size_t nh = fuzz_byte(&in) % 4, np = fuzz_byte(&in) % 5;
    char *alg = alg_i == 4 ? fuzz_str(&in) : NULL;
    char *method = (flags & 4) ? fuzz_str(&in) : NULL;
    char *path = (flags & 8) ? fuzz_str(&in) : NULL;
    char *sid = fuzz_str(&in), *skey = fuzz_str(&in), *service = fuzz_str(&in);
    char *host = fuzz_str(&in), *ctype = fuzz_str(&in), *query = fuzz_str(&in);
    char *strs[18] = {0};
    tcf_header hdrs[4], params[5];
    for (size_t i = 0; i < nh; i++) {
        hdrs[i].name = strs[2 * i] = fuzz_str(&in);
        hdrs[i].value = strs[2 * i + 1] = fuzz_str(&in);
    }
    for (size_t i = 0; i < np; i++) {
        params[i].name = strs[8 + 2 * i] = fuzz_str(&in);
        params[i].value = strs[9 + 2 * i] = fuzz_str(&in);
    }
    if (flags & 16) {
        params[np].name = "SignatureMethod";
        params[np].value = "HmacSHA256";
        np++;
    }
    size_t body_len;
    uint8_t *body = fuzz_bytes(&in, in.n, &body_len);

    tcf_sign_input si = TCF_SIGN_INPUT_INIT;
    si.algorithm = alg_i == 4 ? alg : algs[alg_i];
    si.secret_id = sid;
    si.secret_key = skey;
    si.service = service;
    si.host = host;
    si.method = (flags & 4) ? method : (flags & 2) ? "GET" : "POST";
    si.path = path;
    si.content_type = ctype;
    si.canonical_query = query;
    si.body = body;
    si.body_len = body_len;
    si.unsigned_payload = flags & 1;
    si.timestamp = (long long)ts;
    si.extra_signed_headers = nh ? hdrs : NULL;
    si.extra_signed_header_count = nh;
    si.params = np ? params : NULL;
    si.param_count = np;

    tcf_signature *sig = (tcf_signature *)1;
    tcf_error err = {0};
    int rc = tcf_sign(&sig, &si, &err);
    if (rc != 0) {
        FUZZ_CHECK(sig == NULL, "*out set on failure");
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc == TCF_EINVAL || rc == TCF_ENOMEM, "code %d: %s", rc, err.message);
        if (skey)
            check_no_echo(&si, skey, &err);
    } else {
        FUZZ_CHECK(sig != NULL, "success without a signature");
        FUZZ_CHECK(tcf_signature_get(sig, "bogus") == NULL, "an unknown field");
        const char *a = si.algorithm;
        if (a == NULL || strcmp(a, "TC3-HMAC-SHA256") == 0)
            check_tc3(sig, &si);
        else
            check_v1(sig, &si, strcmp(a, "HmacSHA256") == 0);
        tcf_signature *again = NULL;
        FUZZ_CHECK(tcf_sign(&again, &si, NULL) == 0, "signing again failed");
        static const char *const fields[] = {"hashed_payload", "canonical_request",
                                             "string_to_sign", "signature", "authorization"};
        for (size_t i = 0; i < 5; i++) {
            const char *x = tcf_signature_get(sig, fields[i]);
            const char *y = tcf_signature_get(again, fields[i]);
            FUZZ_CHECK((x == NULL && y == NULL) || (x && y && strcmp(x, y) == 0),
                       "%s differs when signing again", fields[i]);
        }
        tcf_signature_free(again);
        tcf_signature_free(sig);
    }
    free(alg), free(method), free(path), free(sid), free(skey), free(service), free(host);
    free(ctype), free(query), free(body);
    for (size_t i = 0; i < 18; i++)
        free(strs[i]);
    return 0;
}
