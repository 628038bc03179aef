/* tcf-bench: the C side of `make bench` (bench/run.py drives it; one measurement per run).
 *
 *   tcf-bench sign  <body_bytes> <iterations>
 *       ns per TC3 signature: tcf_sign (the public signer, every intermediate returned), tcf_build
 *       (the request a client sends: headers, JSON check of the parameters, signature), and the
 *       floor (all three sign content-type;host, as the official SDK does): a bare OpenSSL chain
 * (SHA-256 of the body, SHA-256 of a canonical request, the four HMAC-SHA256 of the key derivation
 * and the signature; EVP objects fetched once, contexts reused). body_bytes 0: a small DetectAuth
 * body. tcf-bench call  <endpoint> <calls> <action> <json> calls/s of tcf_client_call on one client
 * (one keep-alive connection), QPS limits off. tcf-bench curl  <endpoint> <calls> <action> <json>
 *       calls/s of a bare libcurl easy-handle loop: the same POST (same headers, a fixed
 *       Authorization of the same length), the response read into a buffer: the ceiling.
 *   tcf-bench curl-read  <endpoint> <calls> <action> <json>
 *       the same loop with the body given through CURLOPT_READFUNCTION (libcurl then sends the
 *       headers and the body in two send() calls): what that choice costs alone.
 *   tcf-bench curl-flags <endpoint> <calls> <action> <json> <flags>
 *       the loop with some of the client's transport choices (see cmd_curl), for profiling.
 *
 * Output: one line of JSON. Credentials are the emulator's public test keys (the canned server
 * does not check signatures).
 */
#include <curl/curl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcfaceid.h"

#define SECRET_ID "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
#define SECRET_KEY "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const tcf_error *err)
{
    fprintf(stderr, "tcf-bench: %s: %s (%d)\n", what, err ? err->message : "", err ? err->code : 0);
    exit(1);
}

/* ---- signing ---------------------------------------------------------------------------- */

static const char SMALL_BODY[] =
    "{\"RuleId\":\"1\",\"IdCard\":\"110101199003071233\",\"Name\":\"\xe5\xbc\xa0\xe4\xb8\x89\","
    "\"RedirectUrl\":\"https://example.com/verify/return?state=0123456789abcdef\"}";

static char *make_body(size_t n, size_t *len)
{
    if (n == 0) {
        *len = sizeof SMALL_BODY - 1;
        char *b = malloc(*len + 1);
        memcpy(b, SMALL_BODY, *len + 1);
        return b;
    }
    /* {"VideoBase64":"AAAA...","IdCard":...}: JSON of exactly n bytes (n >= 64) */
    static const char head[] = "{\"VideoBase64\":\"";
    static const char tail[] = "\",\"IdCard\":\"110101199003071233\",\"LivenessType\":\"SILENT\"}";
    size_t fill = n - (sizeof head - 1) - (sizeof tail - 1);
    char *b = malloc(n + 1);
    memcpy(b, head, sizeof head - 1);
    memset(b + sizeof head - 1, 'A', fill);
    memcpy(b + sizeof head - 1 + fill, tail, sizeof tail);
    *len = n;
    return b;
}

typedef struct floor_ctx {
    EVP_MD *md;
    EVP_MD_CTX *mctx;
    EVP_MAC *mac;
    EVP_MAC_CTX *hctx;
} floor_ctx;

static void hex(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = 0;
}

static void sha256(floor_ctx *f, const void *data, size_t n, unsigned char out[32])
{
    unsigned len = 32;
    if (EVP_DigestInit_ex(f->mctx, f->md, NULL) != 1 || EVP_DigestUpdate(f->mctx, data, n) != 1 ||
        EVP_DigestFinal_ex(f->mctx, out, &len) != 1)
        die("sha256", NULL);
}

static void hmac(floor_ctx *f, const unsigned char *key, size_t klen, const void *msg, size_t n,
                 unsigned char out[32])
{
    size_t len = 0;
    if (EVP_MAC_init(f->hctx, key, klen, NULL) != 1 || EVP_MAC_update(f->hctx, msg, n) != 1 ||
        EVP_MAC_final(f->hctx, out, &len, 32) != 1)
        die("hmac", NULL);
}

/* The crypto of one TC3 signature and nothing else. */
static void floor_sign(floor_ctx *f, const char *body, size_t len, char signature[65])
{
    unsigned char d[32], k[32];
    char body_hex[65], cr_hex[65];
    sha256(f, body, len, d);
    hex(body_hex, d, 32);
    char canonical[512];
    int n = snprintf(canonical, sizeof canonical,
                     "POST\n/\n\ncontent-type:application/json; charset=utf-8\n"
                     "host:faceid.tencentcloudapi.com\n\ncontent-type;host\n%s",
                     body_hex);
    sha256(f, canonical, (size_t)n, d);
    hex(cr_hex, d, 32);
    char sts[256];
    n = snprintf(sts, sizeof sts, "TC3-HMAC-SHA256\n1700000000\n2023-11-14/faceid/tc3_request\n%s",
                 cr_hex);
    static const char key0[] = "TC3" SECRET_KEY;
    hmac(f, (const unsigned char *)key0, sizeof key0 - 1, "2023-11-14", 10, k);
    hmac(f, k, 32, "faceid", 6, k);
    hmac(f, k, 32, "tc3_request", 11, k);
    hmac(f, k, 32, sts, (size_t)n, d);
    hex(signature, d, 32);
}

static int cmd_sign(size_t body_bytes, long iterations)
{
    size_t len;
    char *body = make_body(body_bytes, &len);
    tcf_sign_input in = TCF_SIGN_INPUT_INIT;
    in.secret_id = SECRET_ID;
    in.secret_key = SECRET_KEY;
    in.service = "faceid";
    in.host = "faceid.tencentcloudapi.com";
    in.method = "POST";
    in.content_type = "application/json; charset=utf-8";
    in.body = (const unsigned char *)body;
    in.body_len = len;
    in.timestamp = 1700000000;
    tcf_error err = {0};

    floor_ctx f;
    f.md = EVP_MD_fetch(NULL, "SHA256", NULL);
    f.mctx = EVP_MD_CTX_new();
    f.mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    f.hctx = EVP_MAC_CTX_new(f.mac);
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    if (!f.md || !f.mctx || !f.mac || !f.hctx || EVP_MAC_CTX_set_params(f.hctx, params) != 1)
        die("OpenSSL setup", NULL);

    tcf_config_options co = TCF_CONFIG_OPTIONS_INIT;
    co.endpoint = "https://faceid.tencentcloudapi.com";
    co.secret_id = SECRET_ID;
    co.secret_key = SECRET_KEY;
    tcf_config *cfg = NULL;
    if (tcf_config_new(&cfg, &co, &err) != 0)
        die("tcf_config_new", &err);

    long warm = iterations / 10 + 1;
    char sig[65];
    double t0, t_sign, t_build, t_floor;
    for (long i = 0; i < warm; i++) { /* warm-up of all three */
        tcf_signature *s = NULL;
        if (tcf_sign(&s, &in, &err) != 0)
            die("tcf_sign", &err);
        tcf_signature_free(s);
        floor_sign(&f, body, len, sig);
    }
    /* Interleaved in rounds, so that a load change on the machine hits all three alike. */
    long rounds = iterations >= 1000 ? 20 : 1, per = iterations / rounds;
    t_sign = t_build = t_floor = 0;
    for (long r = 0; r < rounds; r++) {
        t0 = now_s();
        for (long i = 0; i < per; i++) {
            tcf_signature *s = NULL;
            if (tcf_sign(&s, &in, &err) != 0)
                die("tcf_sign", &err);
            tcf_signature_free(s);
        }
        t_sign += now_s() - t0;
        t0 = now_s();
        for (long i = 0; i < per; i++) {
            tcf_request *req = NULL;
            if (tcf_build(&req, cfg, "DetectAuth", body, len, 1700000000 + (i & 1), &err) != 0)
                die("tcf_build", &err);
            tcf_request_free(req);
        }
        t_build += now_s() - t0;
        t0 = now_s();
        for (long i = 0; i < per; i++)
            floor_sign(&f, body, len, sig);
        t_floor += now_s() - t0;
    }
    iterations = per * rounds;
    printf("{\"body_bytes\": %zu, \"tcf_sign_ns\": %.1f, \"tcf_build_ns\": %.1f, \"floor_ns\": "
           "%.1f}\n",
           len, t_sign * 1e9 / (double)iterations, t_build * 1e9 / (double)iterations,
           t_floor * 1e9 / (double)iterations);
    tcf_config_free(cfg);
    EVP_MAC_CTX_free(f.hctx);
    EVP_MAC_free(f.mac);
    EVP_MD_CTX_free(f.mctx);
    EVP_MD_free(f.md);
    free(body);
    return 0;
}

/* ---- calls ------------------------------------------------------------------------------ */

static int cmd_call(const char *endpoint, long calls, const char *action, const char *json)
{
    tcf_config_options co = TCF_CONFIG_OPTIONS_INIT;
    co.endpoint = endpoint;
    co.secret_id = SECRET_ID;
    co.secret_key = SECRET_KEY;
    tcf_client_options opts = TCF_CLIENT_OPTIONS_INIT;
    opts.qps_off = 1;
    tcf_client *client = NULL;
    tcf_error err = {0};
    if (tcf_client_new(&client, &co, &opts, &err) != 0)
        die("tcf_client_new", &err);
    size_t jlen = strlen(json);
    long warm = calls / 10 + 10;
    double t0 = 0;
    for (long i = -warm; i < calls; i++) {
        if (i == 0)
            t0 = now_s();
        tcf_response *resp = NULL;
        tcf_error_clear(&err);
        if (tcf_client_call(client, action, json, jlen, &resp, &err) != 0)
            die("tcf_client_call", &err);
        tcf_response_free(resp);
    }
    double t = now_s() - t0;
    printf("{\"calls\": %ld, \"seconds\": %.6f, \"rate\": %.1f}\n", calls, t, (double)calls / t);
    tcf_client_free(client);
    return 0;
}

typedef struct sink {
    char *data;
    size_t len, cap;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    sink *s = user;
    size_t add = size * n;
    if (s->len + add > s->cap) {
        s->cap = (s->len + add) * 2;
        s->data = realloc(s->data, s->cap);
    }
    memcpy(s->data + s->len, p, add);
    s->len += add;
    return add;
}

typedef struct source {
    const char *data;
    size_t len, off;
} source;

static size_t on_read(char *p, size_t size, size_t n, void *user)
{
    source *src = user;
    size_t room = size * n, left = src->len - src->off;
    size_t k = left < room ? left : room;
    memcpy(p, src->data + src->off, k);
    src->off += k;
    return k;
}

static size_t on_header_line(char *p, size_t size, size_t n, void *user)
{
    sink *s = user;
    on_data(p, size, n, s);
    return size * n;
}

/* flags (for profiling the client's transport choices one at a time; 0 for the ceiling):
 *   1  the body through CURLOPT_READFUNCTION (as tcf_client_call's transport sends it) instead
 *      of CURLOPT_POSTFIELDS
 *   2  CURLOPT_URL, CURLOPT_HTTPHEADER and the callbacks set again before every transfer
 *   4  no CURLOPT_PROXY "" (libcurl then reads the proxy environment variables per transfer)
 *   8  a CURLSH sharing DNS and TLS sessions
 *  16  a header callback keeping the response headers */
static int cmd_curl(const char *endpoint, long calls, const char *action, const char *json,
                    int flags)
{
    int read_callback = flags & 1;
    source src = {json, strlen(json), 0};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    char url[512], hdr_action[128], host[256];
    snprintf(url, sizeof url, "%s/", endpoint);
    const char *authority = strstr(endpoint, "://");
    snprintf(host, sizeof host, "Host: %s", authority ? authority + 3 : endpoint);
    snprintf(hdr_action, sizeof hdr_action, "X-TC-Action: %s", action);
    struct curl_slist *hl = NULL;
    hl = curl_slist_append(hl, "Content-Type: application/json; charset=utf-8");
    hl = curl_slist_append(hl, host);
    hl = curl_slist_append(hl, hdr_action);
    hl = curl_slist_append(hl, "X-TC-Version: 2018-03-01");
    hl = curl_slist_append(hl, "X-TC-Timestamp: 1700000000");
    hl = curl_slist_append(hl, "X-TC-RequestClient: SDK_C_tcfaceid_0.1.0");
    hl = curl_slist_append(hl, "Authorization: TC3-HMAC-SHA256 Credential=" SECRET_ID
                               "/2023-11-14/faceid/tc3_request, SignedHeaders=content-type;host;"
                               "x-tc-action, Signature="
                               "0000000000000000000000000000000000000000000000000000000000000000");
    hl = curl_slist_append(hl, "Expect:");
    sink s = {malloc(4096), 0, 4096};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (read_callback) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &src);
    } else {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    }
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (!(flags & 4))
        curl_easy_setopt(h, CURLOPT_PROXY, "");
    sink hs = {malloc(4096), 0, 4096};
    CURLSH *share = NULL;
    if (flags & 8) {
        share = curl_share_init();
        curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        curl_easy_setopt(h, CURLOPT_SHARE, share);
    }
    if (flags & 16) {
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header_line);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &hs);
    }
    long warm = calls / 10 + 10;
    double t0 = 0;
    for (long i = -warm; i < calls; i++) {
        if (i == 0)
            t0 = now_s();
        s.len = 0;
        hs.len = 0;
        src.off = 0;
        if (flags & 2) {
            curl_easy_setopt(h, CURLOPT_URL, url);
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
            curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
            curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
        }
        CURLcode rc = curl_easy_perform(h);
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (rc != CURLE_OK || status != 200) {
            fprintf(stderr, "tcf-bench: curl: %s, HTTP %ld\n", curl_easy_strerror(rc), status);
            return 1;
        }
    }
    double t = now_s() - t0;
    printf("{\"calls\": %ld, \"seconds\": %.6f, \"rate\": %.1f}\n", calls, t, (double)calls / t);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    free(s.data);
    free(hs.data);
    if (share)
        curl_share_cleanup(share);
    curl_global_cleanup();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "sign") == 0)
        return cmd_sign((size_t)strtoull(argv[2], NULL, 10), strtol(argv[3], NULL, 10));
    if (argc == 6 && strcmp(argv[1], "call") == 0)
        return cmd_call(argv[2], strtol(argv[3], NULL, 10), argv[4], argv[5]);
    if (argc == 6 && strcmp(argv[1], "curl") == 0)
        return cmd_curl(argv[2], strtol(argv[3], NULL, 10), argv[4], argv[5], 0);
    if (argc == 6 && strcmp(argv[1], "curl-read") == 0)
        return cmd_curl(argv[2], strtol(argv[3], NULL, 10), argv[4], argv[5], 1);
    if (argc == 7 && strcmp(argv[1], "curl-flags") == 0)
        return cmd_curl(argv[2], strtol(argv[3], NULL, 10), argv[4], argv[5],
                        (int)strtol(argv[6], NULL, 10));
    fprintf(stderr, "usage: tcf-bench sign <body_bytes> <iterations>\n"
                    "       tcf-bench call|curl|curl-read <endpoint> <calls> <action> <json>\n"
                    "       tcf-bench curl-flags <endpoint> <calls> <action> <json> <flags>\n");
    return 2;
}
