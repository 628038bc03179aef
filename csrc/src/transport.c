/* Transport: the only layer that does I/O. A tcf_client sends sans-IO requests with libcurl.
 * Easy handles come from a mutex-protected pool (one thread at a time per handle; each keeps its
 * keep-alive connection); one CURLSH shares DNS and TLS sessions (not connections) between them. */
#include "sansio.h"

#if TCF_WITH_CURL

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_POOL 16
#define DEFAULT_MULTI_CONNECTIONS 256L
#define MAX_RESPONSE (64u * 1024u * 1024u) /* far above any FaceID answer (8 MiB video) */
#define MAX_HEADERS 64

/* A configured QPS limit, and a live bucket per action. */
typedef struct qps_limit {
    char action[64];
    double qps; /* <= 0: no limit */
} qps_limit;

typedef struct qps_slot {
    char action[64];
    tcf_bucket bucket;
} qps_slot;

struct tcf_client {
    tcf_config *config;
    long connect_timeout_ms;
    long timeout_ms;
    char *proxy;
    char *ca_bundle;
    int insecure;
    tcf_log_fn log;
    void *log_user;
    char host[256];      /* for log lines */
    char user_agent[96]; /* "tcfaceid/<version> libcurl/<version>" */
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
    pthread_mutex_t pool_lock;
    CURL **pool;
    size_t pool_len;
    size_t pool_cap;
    /* reliability (issue 7): retries, the retry budget, the clock offset, QPS buckets */
    tcf_retry_options retry;
    int qps_off;
    pthread_mutex_t state_lock; /* guards what follows */
    tcf_bucket budget;
    long long skew; /* seconds to add to the local clock (learned from the service's Date) */
    qps_slot *qps;
    size_t qps_len;
    size_t qps_cap;
    qps_limit *qps_limits; /* configured per-action limits (own copy) */
    size_t qps_limit_count;
    /* field encryption: the default and the options (own copies of every string and buffer) */
    int encrypt;
    tcf_encryption_options enc;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *user)
{
    (void)h;
    (void)access;
    tcf_client *c = user;
    pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *user)
{
    (void)h;
    tcf_client *c = user;
    pthread_mutex_unlock(&c->share_locks[data]);
}

static void emit(const tcf_client *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void emit(const tcf_client *c, int level, const char *fmt, ...)
{
    if (c->log == NULL)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->log(c->log_user, level, line);
}

static char *dup_or_null(const char *s, int *failed)
{
    if (s == NULL || *s == '\0')
        return NULL;
    char *d = tcfp_strdup(s);
    if (d == NULL)
        *failed = 1;
    return d;
}

/* Frees the client's copy of the encryption options (the key is wiped). */
static void encryption_free(tcf_encryption_options *o)
{
    tcfp_free((char *)o->rsa_public_key_pem);
    tcfp_free((char *)o->sm2_public_key_pem);
    for (size_t i = 0; o->fields != NULL && i < o->field_count; i++)
        tcfp_free((char *)o->fields[i]);
    tcfp_free((void *)o->fields);
    if (o->key != NULL)
        tcfp_wipe((void *)o->key, o->key_len);
    tcfp_free((void *)o->key);
    tcfp_free((void *)o->iv);
    tcfp_free((char *)o->ciphertext_blob);
    memset(o, 0, sizeof *o);
}

static void *dup_bytes(const void *p, size_t n, int *failed)
{
    if (p == NULL || n == 0)
        return NULL;
    void *d = tcfp_malloc(n);
    if (d == NULL)
        *failed = 1;
    else
        memcpy(d, p, n);
    return d;
}

/* Checks *src and copies it (every string and buffer) into *dst; src NULL: the defaults. The
 * public key of the algorithm is checked by making key material once. */
static int encryption_copy(tcf_encryption_options *dst, const tcf_encryption_options *src,
                           tcf_error *err)
{
    tcf_encryption_options defaults = TCF_ENCRYPTION_OPTIONS_INIT;
    *dst = defaults;
    if (src == NULL)
        return 0;
    if (src->version != TCF_ENCRYPTION_OPTIONS_VERSION)
        return tcfp_fail(err, TCF_EINVAL, "tcf_encryption_options.version must be %d",
                         TCF_ENCRYPTION_OPTIONS_VERSION);
    if (src->algorithm != 0 && tcf_encryption_algorithm_name(src->algorithm) == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_encryption_options.algorithm is not an algorithm");
    if (src->field_count > 0 && src->fields == NULL)
        return tcfp_fail(err, TCF_EINVAL, "encryption fields is NULL but field_count is not 0");
    int failed = 0;
    dst->algorithm = src->algorithm;
    dst->whole_body = src->whole_body != 0;
    dst->rsa_public_key_pem = dup_or_null(src->rsa_public_key_pem, &failed);
    dst->sm2_public_key_pem = dup_or_null(src->sm2_public_key_pem, &failed);
    if (src->field_count > 0) {
        char **fields = tcfp_calloc(src->field_count, sizeof *fields);
        failed |= fields == NULL;
        for (size_t i = 0; fields != NULL && i < src->field_count; i++) {
            if (src->fields[i] == NULL || src->fields[i][0] == '\0') {
                dst->fields = (const char *const *)fields;
                dst->field_count = i;
                encryption_free(dst);
                return tcfp_fail(err, TCF_EINVAL, "encryption fields[%zu] is NULL or empty", i);
            }
            fields[i] = tcfp_strdup(src->fields[i]);
            failed |= fields[i] == NULL;
        }
        dst->fields = (const char *const *)fields;
        dst->field_count = fields ? src->field_count : 0;
    }
    dst->key = dup_bytes(src->key, src->key_len, &failed);
    dst->key_len = dst->key ? src->key_len : 0;
    dst->iv = dup_bytes(src->iv, src->iv_len, &failed);
    dst->iv_len = dst->iv ? src->iv_len : 0;
    dst->ciphertext_blob = dup_or_null(src->ciphertext_blob, &failed);
    if (failed) {
        encryption_free(dst);
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    }
    tcf_encryption_keys *k = NULL;
    int rc = tcf_encryption_keys_new(&k, dst, err);
    tcf_encryption_keys_free(k);
    if (rc != 0)
        encryption_free(dst);
    return rc;
}

/* Whether any proxy variable libcurl would use is set (http_proxy, HTTPS_PROXY, ALL_PROXY, ...). */
static int proxy_env_set(void)
{
    static const char *const names[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                        "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v != NULL && v[0] != '\0')
            return 1;
    }
    return 0;
}

int tcf_client_new(tcf_client **out, const tcf_config_options *config,
                   const tcf_client_options *opts, tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    *out = NULL;
    tcf_client_options defaults = TCF_CLIENT_OPTIONS_INIT;
    if (opts == NULL)
        opts = &defaults;
    if (opts->version != TCF_CLIENT_OPTIONS_VERSION)
        return tcfp_fail(err, TCF_EINVAL, "tcf_client_options.version must be %d",
                         TCF_CLIENT_OPTIONS_VERSION);
    if (opts->connect_timeout_ms < 0 || opts->timeout_ms < 0)
        return tcfp_fail(err, TCF_EINVAL, "timeouts must not be negative");
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK)
        return tcfp_fail(err, TCF_ETRANSPORT, "libcurl initialisation failed: %s",
                         curl_easy_strerror(curl_init_result));
    tcf_client *c = tcfp_calloc(1, sizeof *c);
    if (c == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    int rc = tcf_config_new(&c->config, config, err);
    if (rc != 0) {
        tcfp_free(c);
        return rc;
    }
    int failed = 0;
    c->connect_timeout_ms =
        opts->connect_timeout_ms ? opts->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
    c->timeout_ms = opts->timeout_ms ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
    /* "" means: no proxy at all. NULL: libcurl reads the proxy environment variables on every
     * transfer (about 13 us each); when none is set now, decide "no proxy" once. */
    const char *proxy = opts->proxy != NULL ? opts->proxy : proxy_env_set() ? NULL : "";
    c->proxy = proxy ? tcfp_strdup(proxy) : NULL;
    failed |= proxy != NULL && c->proxy == NULL;
    c->ca_bundle = dup_or_null(opts->ca_bundle, &failed);
    c->insecure = opts->insecure_skip_tls_verify != 0;
    c->log = opts->log;
    c->log_user = opts->log_user;
    c->pool_cap = opts->max_idle_connections ? opts->max_idle_connections : DEFAULT_POOL;
    c->pool = tcfp_calloc(c->pool_cap, sizeof *c->pool);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->share_locks[i], NULL);
    pthread_mutex_init(&c->pool_lock, NULL);
    pthread_mutex_init(&c->state_lock, NULL);
    tcf_retry_options retry_defaults = TCF_RETRY_OPTIONS_INIT;
    c->retry = opts->retry ? *opts->retry : retry_defaults;
    if (c->retry.version != TCF_RETRY_OPTIONS_VERSION || c->retry.max_attempts < 0 ||
        c->retry.base_delay_ms < 0 || c->retry.throttle_delay_ms < 0 || c->retry.max_delay_ms < 0 ||
        c->retry.deadline_ms < 0 || c->retry.budget_per_s < 0) {
        tcf_client_free(c);
        return tcfp_fail(err, TCF_EINVAL, "tcf_retry_options: bad version or a negative value");
    }
    c->qps_off = opts->qps_off != 0;
    if (opts->qps_limit_count > 0) {
        if (opts->qps_limits == NULL) {
            tcf_client_free(c);
            return tcfp_fail(err, TCF_EINVAL, "qps_limits is NULL but qps_limit_count is not 0");
        }
        c->qps_limits = tcfp_calloc(opts->qps_limit_count, sizeof *c->qps_limits);
        failed |= c->qps_limits == NULL;
        for (size_t i = 0; c->qps_limits && i < opts->qps_limit_count; i++) {
            const char *a = opts->qps_limits[i].action;
            if (a == NULL || strlen(a) >= sizeof c->qps_limits[i].action) {
                tcf_client_free(c);
                return tcfp_fail(err, TCF_EINVAL, "qps_limits[%zu].action is missing or too long",
                                 i);
            }
            memcpy(c->qps_limits[i].action, a, strlen(a) + 1);
            c->qps_limits[i].qps = opts->qps_limits[i].qps;
            c->qps_limit_count++;
        }
    }
    c->encrypt = opts->encrypt != 0;
    rc = encryption_copy(&c->enc, opts->encryption, err);
    if (rc != 0) {
        tcf_client_free(c);
        return rc;
    }
    double capacity = c->retry.budget == 0 ? 10 : c->retry.budget;
    tcf_bucket_init(&c->budget, c->retry.budget_per_s > 0 ? c->retry.budget_per_s : 1.0,
                    capacity > 0 ? capacity : 1, 0);
    c->share = curl_share_init();
    if (failed || c->pool == NULL || c->share == NULL) {
        tcf_client_free(c);
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    }
    curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    tcfp_copy_field(c->host, sizeof c->host, c->config->host, strlen(c->config->host));
    snprintf(c->user_agent, sizeof c->user_agent, "tcfaceid/%s libcurl/%s", TCF_VERSION_STRING,
             curl_version_info(CURLVERSION_NOW)->version);
    if (c->insecure)
        emit(c, TCF_LOG_WARNING,
             "TLS verification is OFF for %s: certificates are not checked (insecure)", c->host);
    *out = c;
    return 0;
}

void tcf_client_free(tcf_client *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->pool_len; i++)
        curl_easy_cleanup(c->pool[i]);
    if (c->share)
        curl_share_cleanup(c->share);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_destroy(&c->share_locks[i]);
    pthread_mutex_destroy(&c->pool_lock);
    pthread_mutex_destroy(&c->state_lock);
    tcfp_free(c->qps);
    tcfp_free(c->qps_limits);
    tcfp_free(c->pool);
    tcfp_free(c->proxy);
    tcfp_free(c->ca_bundle);
    encryption_free(&c->enc);
    tcf_config_free(c->config);
    tcfp_free(c);
}

/* The client's fixed options on an easy handle (a fresh or a reset one). */
static void configure_handle(const tcf_client *c, CURL *h)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_SHARE, c->share);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    if (c->ca_bundle)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_bundle);
    /* NULL: libcurl's usual environment variables (https_proxy, no_proxy); "": no proxy. */
    if (c->proxy)
        curl_easy_setopt(h, CURLOPT_PROXY, c->proxy);
}

/* An easy handle with the client's fixed options; from the pool when one is idle. */
static CURL *take_handle(tcf_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->pool_lock);
    if (c->pool_len > 0)
        h = c->pool[--c->pool_len];
    pthread_mutex_unlock(&c->pool_lock);
    if (h != NULL)
        return h;
    h = curl_easy_init();
    if (h != NULL)
        configure_handle(c, h);
    return h;
}

static void give_back(tcf_client *c, CURL *h)
{
    pthread_mutex_lock(&c->pool_lock);
    if (c->pool_len < c->pool_cap) {
        c->pool[c->pool_len++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->pool_lock);
    if (h != NULL)
        curl_easy_cleanup(h);
}

typedef struct exchange {
    const char *upload; /* the request body (sent from there by libcurl: CURLOPT_POSTFIELDS) */
    size_t upload_len;
    int requests;       /* requests libcurl started in this transfer */
    int rewind_refused; /* a second one was refused */
    tcfp_buf body;
    tcfp_buf header_text; /* "name\0value\0" pairs of the last response head */
    size_t header_count;
    int too_large;
} exchange;

/* libcurl sends the request again on a fresh connection when a reused one died before any byte
 * of the answer arrived. The server may have run the action by then (a second DetectAuth, a
 * second bill), so a call is one attempt: a second request within one transfer is refused here
 * (the transfer fails) and the caller decides. */
static int on_prereq(void *user, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
                     int conn_local_port)
{
    (void)conn_primary_ip;
    (void)conn_local_ip;
    (void)conn_primary_port;
    (void)conn_local_port;
    exchange *x = user;
    if (x->requests++ == 0)
        return CURL_PREREQFUNC_OK;
    x->rewind_refused = 1;
    return CURL_PREREQFUNC_ABORT;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    exchange *x = user;
    size_t len = size * n;
    if (x->body.len + len > MAX_RESPONSE) {
        x->too_large = 1;
        return 0;
    }
    return tcfp_buf_append(&x->body, data, len) == 0 ? len : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    exchange *x = user;
    size_t len = size * n;
    if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) { /* a new response head (after 1xx) */
        x->header_text.len = 0;
        x->header_count = 0;
        return len;
    }
    const char *colon = memchr(data, ':', len);
    if (colon == NULL || x->header_count >= MAX_HEADERS)
        return len;
    size_t name_len = (size_t)(colon - data);
    const char *value = colon + 1;
    size_t value_len = len - name_len - 1;
    while (value_len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        value_len--;
    }
    while (value_len > 0 && (value[value_len - 1] == '\r' || value[value_len - 1] == '\n' ||
                             value[value_len - 1] == ' '))
        value_len--;
    if (tcfp_buf_append(&x->header_text, data, name_len) != 0 ||
        tcfp_buf_append_char(&x->header_text, '\0') != 0 ||
        tcfp_buf_append(&x->header_text, value, value_len) != 0 ||
        tcfp_buf_append_char(&x->header_text, '\0') != 0)
        return 0;
    x->header_count++;
    return len;
}

static int transport_error(tcf_error *err, CURLcode code, const char *detail)
{
    int tcf;
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        tcf = TCF_ETIMEOUT;
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
        tcf = TCF_ETLS;
        break;
    case CURLE_OUT_OF_MEMORY:
        tcf = TCF_ENOMEM;
        break;
    default:
        tcf = TCF_ETRANSPORT;
    }
    int rc = tcfp_fail(err, tcf, "%s: %s", curl_easy_strerror(code), detail[0] ? detail : "-");
    /* Nothing reached the server when the connection could not be made. */
    if (err && err->code == tcf &&
        (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
         code == CURLE_COULDNT_RESOLVE_PROXY))
        err->retryable = 1;
    return rc;
}

/* One attempt's transfer: the signed request on a configured easy handle, performed blocking
 * (attempt_once) or on a multi handle (tcf_op). */
typedef struct transfer {
    tcf_request *req;
    CURL *h;
    struct curl_slist *headers;
    exchange x;
    char curl_error[CURL_ERROR_SIZE];
    struct timespec t0;
} transfer;

/* Builds and signs the request (timestamp ts). A failure is local: nothing was sent. */
static int transfer_build(tcf_client *c, transfer *t, const char *action, const void *params,
                          size_t params_len, int build_flags, long long ts, tcf_error *err)
{
    memset(t, 0, sizeof *t);
    tcfp_buf_init(&t->x.body);
    tcfp_buf_init(&t->x.header_text);
    return tcfp_build_ex(&t->req, c->config, action, params, params_len, ts, build_flags, err);
}

/* Sets the built request up on h (t->h is h from then on, even on failure; NULL: no handle could
 * be made). A failure is local: nothing was sent. */
static int transfer_attach(transfer *t, CURL *h, long timeout_ms, tcf_error *err)
{
    t->h = h;
    if (h == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "cannot create a libcurl handle");
    for (size_t i = 0; i < tcf_request_header_count(t->req); i++) {
        tcfp_buf line;
        tcfp_buf_init(&line);
        tcfp_buf_printf(&line, "%s: %s", tcf_request_header_name(t->req, i),
                        tcf_request_header_value(t->req, i));
        struct curl_slist *next =
            line.failed ? NULL : curl_slist_append(t->headers, (char *)line.data);
        tcfp_buf_free_secret(&line); /* the Authorization line */
        if (next == NULL)
            return tcfp_fail(err, TCF_ENOMEM, "out of memory");
        t->headers = next;
    }
    struct curl_slist *next =
        curl_slist_append(t->headers, "Expect:"); /* no 100-continue round trip */
    if (next == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    t->headers = next;
    t->x.upload = tcf_request_body(t->req, &t->x.upload_len);
    curl_easy_setopt(h, CURLOPT_URL, tcf_request_url(t->req));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    /* the body as it is (no copy: libcurl reads it from there); small bodies leave in one send()
     * with the headers */
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->x.upload_len);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, t->x.upload);
    curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(h, CURLOPT_PREREQDATA, &t->x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t->x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t->x);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->curl_error);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    clock_gettime(CLOCK_MONOTONIC, &t->t0);
    return 0;
}

/* The transfer ended with cc: the response (parsed) or the error, and the log line. After a
 * failed transfer the connection may be in an unknown state: the handle is dropped (t->h NULL). */
static int transfer_finish(tcf_client *c, transfer *t, const char *action, CURLcode cc,
                           tcf_response **out, tcf_error *err)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (long)((t1.tv_sec - t->t0.tv_sec) * 1000 + (t1.tv_nsec - t->t0.tv_nsec) / 1000000);
    long status = 0;
    curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
    int rc;
    if (cc != CURLE_OK) {
        if (t->x.too_large)
            rc = tcfp_fail(err, TCF_ETRANSPORT, "the response is larger than %u bytes",
                           MAX_RESPONSE);
        else if (t->x.rewind_refused)
            rc = tcfp_fail(err, TCF_ETRANSPORT,
                           "the connection closed before any answer; the request may have been "
                           "processed, so it was not sent again");
        else if (t->x.body.failed || t->x.header_text.failed)
            rc = tcfp_fail(err, TCF_ENOMEM, "out of memory while receiving the response");
        else
            rc = transport_error(err, cc, t->curl_error);
        if (err && status > 0)
            err->http_status = (int)status;
        emit(c, TCF_LOG_INFO, "action=%s host=%s latency_ms=%ld status=%ld error=%s", action,
             c->host, ms, status, curl_easy_strerror(cc));
        curl_easy_cleanup(t->h);
        t->h = NULL;
        return rc;
    }
    tcf_header parsed[MAX_HEADERS];
    const char *p = (const char *)t->x.header_text.data;
    for (size_t i = 0; i < t->x.header_count; i++) {
        parsed[i].name = p;
        p += strlen(p) + 1;
        parsed[i].value = p;
        p += strlen(p) + 1;
    }
    rc = tcf_parse(out, (int)status, parsed, t->x.header_count, t->x.body.data, t->x.body.len, err);
    const char *request_id = rc == 0 ? tcf_response_request_id(*out) : (err ? err->request_id : "");
    emit(c, TCF_LOG_INFO, "action=%s host=%s latency_ms=%ld status=%ld request_id=%s%s%s", action,
         c->host, ms, status, request_id && request_id[0] ? request_id : "-",
         rc == 0 ? "" : " error=",
         rc == 0 ? "" : (err && err->api_code[0] ? err->api_code : tcf_strerror(rc)));
    return rc;
}

/* Frees what the transfer holds and returns its handle, detached and reusable (NULL when it was
 * dropped). */
static CURL *transfer_release(transfer *t)
{
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    CURL *h = t->h;
    if (h != NULL) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(h, CURLOPT_PREREQDATA, NULL);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, NULL);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    }
    t->h = NULL;
    tcfp_buf_free_secret(&t->x.body); /* the answer's identity data */
    tcfp_buf_free(&t->x.header_text);
    tcf_request_free(t->req);
    t->req = NULL;
    return h;
}

/* One blocking exchange: build and sign with timestamp, send, parse. timeout_ms bounds it. */
static int attempt_once(tcf_client *c, const char *action, const void *params, size_t params_len,
                        int build_flags, long long timestamp, long timeout_ms, tcf_response **out,
                        tcf_error *err, int *sent)
{
    *sent = 0;
    transfer t;
    int rc = transfer_build(c, &t, action, params, params_len, build_flags, timestamp, err);
    if (rc == 0)
        rc = transfer_attach(&t, take_handle(c), timeout_ms, err);
    if (rc == 0) {
        *sent = 1;
        CURLcode cc = curl_easy_perform(t.h);
        rc = transfer_finish(c, &t, action, cc, out, err);
    }
    CURL *h = transfer_release(&t);
    if (h != NULL)
        give_back(c, h);
    return rc;
}

/* ---- retries, clock skew, QPS limits, daily limits ---- */

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    if (ms <= 0)
        return;
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0)
        ;
}

/* Uniform in [0, 1), for the jitter only (not for secrets). */
static double jitter(void)
{
    static _Thread_local unsigned long long state;
    if (state == 0) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        state = ((unsigned long long)t.tv_nsec << 20) ^ (unsigned long long)t.tv_sec ^
                (unsigned long long)(size_t)&state;
        if (state == 0)
            state = 0x9E3779B97F4A7C15ULL;
    }
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (double)(state >> 11) / 9007199254740992.0; /* 2^53 */
}

long long tcf_client_clock_offset(const tcf_client *c)
{
    if (c == NULL)
        return 0;
    pthread_mutex_lock((pthread_mutex_t *)&c->state_lock);
    long long skew = c->skew;
    pthread_mutex_unlock((pthread_mutex_t *)&c->state_lock);
    return skew;
}

/* The QPS of action for this client: a configured limit, else the documented default. */
static double qps_of(const tcf_client *c, const char *action)
{
    for (size_t i = 0; i < c->qps_limit_count; i++)
        if (strcmp(c->qps_limits[i].action, action) == 0)
            return c->qps_limits[i].qps;
    return tcf_action_default_qps(action);
}

/* Milliseconds to wait before sending action (0: go now; the token is taken). */
static long qps_wait(tcf_client *c, const char *action)
{
    if (c->qps_off || strlen(action) >= sizeof c->qps[0].action)
        return 0;
    double qps = qps_of(c, action);
    if (qps <= 0)
        return 0;
    long wait = 0;
    pthread_mutex_lock(&c->state_lock);
    qps_slot *slot = NULL;
    for (size_t i = 0; i < c->qps_len; i++)
        if (strcmp(c->qps[i].action, action) == 0)
            slot = &c->qps[i];
    if (slot == NULL) {
        if (c->qps_len == c->qps_cap) {
            size_t cap = c->qps_cap ? c->qps_cap * 2 : 8;
            qps_slot *grown = tcfp_realloc(c->qps, cap * sizeof *grown);
            if (grown != NULL) {
                c->qps = grown;
                c->qps_cap = cap;
            }
        }
        if (c->qps_len < c->qps_cap) {
            slot = &c->qps[c->qps_len++];
            memcpy(slot->action, action, strlen(action) + 1);
            /* a burst of one second's worth, at least one */
            tcf_bucket_init(&slot->bucket, qps, qps >= 1 ? qps : 1, now_ms());
        }
    }
    if (slot != NULL)
        wait = tcf_bucket_take(&slot->bucket, 1, now_ms());
    pthread_mutex_unlock(&c->state_lock);
    return wait < 0 ? 0 : wait;
}

static int take_retry_token(tcf_client *c, const tcf_retry_options *o)
{
    if (o->budget < 0)
        return 1;
    pthread_mutex_lock(&c->state_lock);
    int ok = tcf_bucket_take(&c->budget, 1, now_ms()) == 0;
    pthread_mutex_unlock(&c->state_lock);
    return ok;
}

/* An element check's "daily identity limit" Result turns the success into TCF_ERATE_LIMITED. */
static int daily_limit(tcf_client *c, const char *action, tcf_response **out, tcf_error *err)
{
    json_t *resp = tcfp_response_object(*out);
    const char *result = json_string_value(json_object_get(resp, "Result"));
    if (result == NULL || !tcf_daily_limit_result(action, result))
        return 0;
    char result_copy[16];
    tcfp_copy_field(result_copy, sizeof result_copy, result, strlen(result));
    long long server = tcf_response_server_time(*out);
    char request_id[TCF_ERROR_REQUEST_ID_MAX];
    const char *rid = tcf_response_request_id(*out);
    tcfp_copy_field(request_id, sizeof request_id, rid ? rid : "", rid ? strlen(rid) : 0);
    tcf_response_free(*out);
    *out = NULL;
    int rc = tcfp_fail(err, TCF_ERATE_LIMITED,
                       "%s answered Result %s: the daily identity limit was reached; it resets at "
                       "00:00 Asia/Shanghai",
                       action, result_copy);
    if (err != NULL && err->code == TCF_ERATE_LIMITED) {
        err->http_status = 200;
        err->retry_at = tcf_next_shanghai_midnight(
            server > 0 ? server : (long long)time(NULL) + tcf_client_clock_offset(c));
        memcpy(err->request_id, request_id, sizeof request_id);
    }
    return rc;
}

/* ---- field encryption ---- */

/* Encrypts params for action with the client's options, once per call. *body stays NULL (send
 * params as they are) when the action has no field encryption or none of the configured fields
 * applies to it. */
static int encrypt_params(const tcf_client *c, const char *action, const void *params,
                          size_t params_len, char **body, size_t *body_len,
                          tcf_encryption_keys **keys, tcf_error *err)
{
    *body = NULL;
    *body_len = 0;
    *keys = NULL;
    size_t count = 0;
    const char *const *list = tcf_encryptable_fields(action, &count);
    if (list == NULL)
        return 0; /* nothing encryptable: sent as is */
    tcf_encryption_options o = c->enc;
    const char **fields = NULL;
    if (count > 0) {
        o.whole_body = 0; /* only for the actions with encrypted responses */
        if (c->enc.field_count > 0) {
            fields = tcfp_calloc(c->enc.field_count, sizeof *fields);
            if (fields == NULL)
                return tcfp_fail(err, TCF_ENOMEM, "out of memory");
            size_t n = 0;
            for (size_t i = 0; i < c->enc.field_count; i++)
                for (size_t j = 0; j < count; j++)
                    if (strcmp(c->enc.fields[i], list[j]) == 0) {
                        fields[n++] = c->enc.fields[i];
                        break;
                    }
            if (n == 0) {
                tcfp_free(fields);
                return 0; /* none of the configured fields is the action's */
            }
            o.fields = fields;
            o.field_count = n;
        }
    } else {
        o.fields = NULL;
        o.field_count = 0;
    }
    int rc =
        tcf_encrypt_request(body, body_len, action, params, params ? params_len : 0, &o, keys, err);
    tcfp_free(fields);
    return rc;
}

/* The successful response *out decrypted in place when it carries an encrypted part. */
static int decrypt_in_place(tcf_response *resp, const tcf_encryption_keys *keys, tcf_error *err)
{
    json_t *obj = tcfp_response_object(resp);
    json_t *list = json_object_get(json_object_get(obj, "Encryption"), "EncryptList");
    json_t *body = json_object_get(obj, "EncryptedBody");
    int encrypted = (json_is_array(list) && json_array_size(list) > 0) ||
                    (json_is_string(body) && json_string_length(body) > 0);
    if (!encrypted)
        return 0;
    size_t n = 0;
    const char *text = tcf_response_json(resp, &n);
    char *plain = NULL;
    size_t plain_len = 0;
    tcf_error e;
    tcf_error_clear(&e);
    int rc = tcf_decrypt_response(&plain, &plain_len, text, n, keys, &e);
    if (rc == 0)
        rc = tcfp_response_replace_json(resp, plain, plain_len, &e);
    if (plain != NULL) {
        tcfp_wipe(plain, plain_len);
        tcfp_free(plain);
    }
    if (rc != 0) {
        if (rc != TCF_ENOMEM)
            rc = TCF_ECRYPTO;
        tcfp_fail(err, rc, "the response could not be decrypted: %s", e.message);
        if (err != NULL && err->code == rc) {
            const char *rid = tcf_response_request_id(resp);
            err->http_status = 200;
            err->server_time = tcf_response_server_time(resp);
            if (rid != NULL)
                tcfp_copy_field(err->request_id, sizeof err->request_id, rid, strlen(rid));
        }
    }
    tcfp_wipe(&e, sizeof e);
    return rc;
}

/* ---- one call: a state machine shared by the blocking and the asynchronous drivers ---- */

enum { STEP_SEND, STEP_WAIT, STEP_DONE };

typedef struct call_state {
    tcf_client *c;
    const char *action;
    const void *params; /* what every attempt sends (the encrypted body when encrypting) */
    size_t params_len;
    int build_flags;
    tcf_retry_options o;
    int max_attempts;
    tcf_retry_class cls;
    long long deadline; /* monotonic ms, 0: none */
    int attempts, resigned, rc;
    char *enc_body;
    size_t enc_len;
    tcf_encryption_keys *keys;
    tcf_error last;
} call_state;

/* Options, then the encryption of the parameters (once per call). A failure: nothing to send. */
static int call_begin(call_state *s, tcf_client *c, const char *action, const void *params,
                      size_t params_len, int trusted, const tcf_call_options *call, tcf_error *err)
{
    memset(s, 0, sizeof *s);
    tcf_error_clear(&s->last);
    if (c == NULL)
        return tcfp_fail(err, TCF_EINVAL, "client is NULL");
    if (action == NULL)
        return tcfp_fail(err, TCF_EINVAL, "action is NULL");
    if (call != NULL && call->version != TCF_CALL_OPTIONS_VERSION)
        return tcfp_fail(err, TCF_EINVAL, "tcf_call_options.version must be %d",
                         TCF_CALL_OPTIONS_VERSION);
    const tcf_retry_options *o = call && call->retry ? call->retry : &c->retry;
    if (o->version != TCF_RETRY_OPTIONS_VERSION)
        return tcfp_fail(err, TCF_EINVAL, "tcf_retry_options.version must be %d",
                         TCF_RETRY_OPTIONS_VERSION);
    if (call != NULL && (call->encrypt < -1 || call->encrypt > 1))
        return tcfp_fail(err, TCF_EINVAL, "tcf_call_options.encrypt must be -1, 0 or 1");
    s->c = c;
    s->action = action;
    s->params = params;
    s->params_len = params_len;
    s->o = *o;
    int encrypt = call == NULL || call->encrypt < 0 ? c->encrypt : call->encrypt;
    if (encrypt) {
        int rc =
            encrypt_params(c, action, params, params_len, &s->enc_body, &s->enc_len, &s->keys, err);
        if (rc != 0)
            return rc;
        if (s->enc_body != NULL) {
            s->params = s->enc_body; /* every attempt sends these same bytes */
            s->params_len = s->enc_len;
            trusted = 1; /* written by tcf_encrypt_request */
        }
    }
    /* A body written by the core is sent as is by every attempt: neither re-parsed nor copied. */
    s->build_flags = trusted ? TCFP_BUILD_TRUSTED | TCFP_BUILD_BORROW : 0;
    s->max_attempts = o->max_attempts > 0 ? o->max_attempts : 3;
    s->cls = tcf_action_retry_class(action);
    s->deadline = o->deadline_ms > 0 ? now_ms() + o->deadline_ms : 0;
    return 0;
}

/* Before an attempt: STEP_SEND (*timeout: for this attempt, *ts: the timestamp to sign), STEP_WAIT
 * (*wait ms for a QPS token, then ask again) or STEP_DONE (s->rc). */
static int call_before(call_state *s, long *timeout, long long *ts, long *wait)
{
    tcf_client *c = s->c;
    *wait = qps_wait(c, s->action);
    if (*wait > 0) {
        if (s->deadline && now_ms() + *wait >= s->deadline) {
            tcf_error_clear(&s->last);
            s->rc = tcfp_fail(&s->last, TCF_ETHROTTLED,
                              "the client-side QPS limit of %s would pass the deadline", s->action);
            return STEP_DONE;
        }
        return STEP_WAIT;
    }
    *timeout = c->timeout_ms;
    if (s->deadline) {
        long long left = s->deadline - now_ms();
        if (left <= 0) {
            if (s->attempts == 0)
                s->rc = tcfp_fail(&s->last, TCF_ETIMEOUT, "the deadline passed before sending");
            return STEP_DONE; /* else the last attempt's failure */
        }
        if (left < *timeout)
            *timeout = (long)left;
    }
    tcf_error_clear(&s->last);
    *ts = (long long)time(NULL) + tcf_client_clock_offset(c);
    return STEP_SEND;
}

/* After an attempt that returned rc (sent: it reached the network; *out on success): STEP_DONE
 * (s->rc; *out kept on success), or STEP_WAIT (*wait ms: 0 re-signs now, else the backoff) and
 * then call_before again. */
static int call_after(call_state *s, int rc, int sent, tcf_response **out, long *wait)
{
    tcf_client *c = s->c;
    s->rc = rc;
    s->attempts += sent;
    *wait = 0;
    if (!sent && rc != 0)
        return STEP_DONE; /* a local failure (parameters, memory): nothing to retry */
    if (rc == 0) {
        if (s->keys != NULL) {
            s->rc = decrypt_in_place(*out, s->keys, &s->last);
            if (s->rc != 0) {
                tcf_response_free(*out);
                *out = NULL;
                return STEP_DONE;
            }
        }
        s->rc = daily_limit(c, s->action, out, &s->last);
        return STEP_DONE;
    }
    tcf_error *last = &s->last;
    if (last->code == TCF_EAUTH && strcmp(last->api_code, "AuthFailure.SignatureExpire") == 0 &&
        last->server_time > 0 && !s->resigned) {
        long long skew = last->server_time - (long long)time(NULL);
        pthread_mutex_lock(&c->state_lock);
        c->skew = skew;
        pthread_mutex_unlock(&c->state_lock);
        emit(c, TCF_LOG_WARNING,
             "action=%s clock skew: the service's clock is %+lld s from ours; re-signing",
             s->action, skew);
        s->resigned = 1;
        return STEP_WAIT;
    }
    tcf_retry_verdict v = tcf_retry_decide(s->cls, last, s->o.retry_billable);
    if (v == TCF_RETRY_AMBIGUOUS) {
        char msg[TCF_ERROR_MESSAGE_MAX + 256];
        snprintf(msg, sizeof msg,
                 "%.64s may have been executed (and billed) but no usable answer arrived, so it "
                 "was not retried: %s",
                 s->action, last->message);
        last->code = TCF_EAMBIGUOUS;
        last->retryable = 0;
        tcfp_copy_field(last->message, sizeof last->message, msg, strlen(msg));
        s->rc = TCF_EAMBIGUOUS;
        return STEP_DONE;
    }
    if (v != TCF_RETRY_YES || s->attempts >= s->max_attempts)
        return STEP_DONE;
    if (!take_retry_token(c, &s->o)) {
        emit(c, TCF_LOG_WARNING, "action=%s retry budget exhausted: not retried", s->action);
        return STEP_DONE;
    }
    long delay = tcf_retry_delay_ms(&s->o, s->attempts, last->code == TCF_ETHROTTLED, jitter());
    if (s->deadline && now_ms() + delay >= s->deadline)
        return STEP_DONE;
    emit(c, TCF_LOG_INFO, "action=%s attempt=%d failed (%s); retrying in %ld ms", s->action,
         s->attempts, last->api_code[0] ? last->api_code : tcf_strerror(last->code), delay);
    *wait = delay;
    return STEP_WAIT;
}

/* The call's result: s->rc, with its error (and the attempt count) in err; frees the state. */
static int call_end(call_state *s, tcf_error *err)
{
    int rc = s->rc;
    if (rc != 0 && err != NULL && err->code == 0) {
        *err = s->last;
        err->attempts = s->attempts;
    }
    tcfp_wipe(&s->last, sizeof s->last);
    tcf_encryption_keys_free(s->keys);
    s->keys = NULL;
    tcf_string_free(s->enc_body);
    s->enc_body = NULL;
    return rc;
}

static int call_impl(tcf_client *c, const char *action, const void *params, size_t params_len,
                     int trusted, const tcf_call_options *call, tcf_response **out, tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    *out = NULL;
    call_state s;
    int rc = call_begin(&s, c, action, params, params_len, trusted, call, err);
    if (rc != 0) {
        call_end(&s, NULL);
        return rc;
    }
    for (;;) {
        long timeout = 0, wait = 0;
        long long ts = 0;
        int step = call_before(&s, &timeout, &ts, &wait);
        if (step == STEP_WAIT) {
            sleep_ms(wait);
            continue;
        }
        if (step == STEP_DONE)
            break;
        int sent = 0;
        rc = attempt_once(c, action, s.params, s.params_len, s.build_flags, ts, timeout, out,
                          &s.last, &sent);
        if (call_after(&s, rc, sent, out, &wait) == STEP_DONE)
            break;
        sleep_ms(wait);
    }
    return call_end(&s, err);
}

int tcf_client_call_ex(tcf_client *c, const char *action, const void *params, size_t params_len,
                       const tcf_call_options *call, tcf_response **out, tcf_error *err)
{
    return call_impl(c, action, params, params_len, 0, call, out, err);
}

int tcfp_client_call_body(tcf_client *c, const char *action, const char *body, size_t body_len,
                          const tcf_call_options *opts, tcf_response **out, tcf_error *err)
{
    return call_impl(c, action, body, body_len, 1, opts, out, err);
}

int tcf_client_call(tcf_client *c, const char *action, const void *params, size_t params_len,
                    tcf_response **out, tcf_error *err)
{
    return tcf_client_call_ex(c, action, params, params_len, NULL, out, err);
}

/* ---- asynchronous calls: the same state machine on a multi handle ---- */

enum { OP_WAITING = 1, OP_TRANSFER = 2, OP_DONE = 3, OP_CANCELLED = 4 };

struct tcf_op {
    tcf_multi *m; /* NULL once the multi is freed */
    tcf_op *prev, *next;
    tcf_op *done_next;
    int state;
    int queued; /* in the multi's done list */
    int taken;  /* the result was handed out */
    long long wake_at;
    void *user;
    tcf_client *c;
    tcf_call_options opts;
    tcf_retry_options retry; /* opts.retry points here when the caller gave one */
    char action[72];
    char *params; /* own copy (tcf_op_start) */
    size_t params_len;
    int trusted;
    int is_check;
    tcfp_check_plan plan;
    call_state s;
    int s_live; /* s holds resources (call_begin succeeded, call_end not yet run) */
    transfer t;
    tcf_response *resp;
    int rc;
    tcf_error err;
    tcf_check_outcome *outcome;
};

struct tcf_multi {
    CURLM *multi;
    tcf_multi_options cb;
    tcf_op *ops; /* every op not yet freed */
    tcf_op *done_head, *done_tail;
    size_t running;
    long long curl_at; /* when libcurl wants tcf_multi_timeout (monotonic ms), -1: never */
    CURL **pool;       /* idle easy handles (connections live in the multi's cache) */
    size_t pool_len, pool_cap;
};

static int on_socket(CURL *h, curl_socket_t fd, int what, void *user, void *socketp)
{
    (void)h;
    (void)socketp;
    tcf_multi *m = user;
    int w = what == CURL_POLL_REMOVE ? TCF_POLL_REMOVE
            : what == CURL_POLL_IN   ? TCF_POLL_IN
            : what == CURL_POLL_OUT  ? TCF_POLL_OUT
                                     : TCF_POLL_INOUT;
    m->cb.watch(m->cb.user, (int)fd, w);
    return 0;
}

static int on_timer(CURLM *multi, long ms, void *user)
{
    (void)multi;
    tcf_multi *m = user;
    m->curl_at = ms < 0 ? -1 : now_ms() + ms;
    return 0;
}

/* Tells the loop when to call tcf_multi_timeout next: libcurl's timer or the earliest wait. */
static void update_timer(tcf_multi *m)
{
    long long at = m->curl_at;
    for (tcf_op *op = m->ops; op != NULL; op = op->next)
        if (op->state == OP_WAITING && (at < 0 || op->wake_at < at))
            at = op->wake_at;
    if (at < 0) {
        m->cb.timer(m->cb.user, -1);
        return;
    }
    long long ms = at - now_ms();
    m->cb.timer(m->cb.user, ms < 0 ? 0 : (long)ms);
}

int tcf_multi_new(tcf_multi **out, const tcf_multi_options *opts, tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    *out = NULL;
    if (opts == NULL || opts->version != TCF_MULTI_OPTIONS_VERSION)
        return tcfp_fail(err, TCF_EINVAL, "tcf_multi_options.version must be %d",
                         TCF_MULTI_OPTIONS_VERSION);
    if (opts->watch == NULL || opts->timer == NULL)
        return tcfp_fail(err, TCF_EINVAL, "the watch and timer callbacks are required");
    if (opts->max_connections < 0)
        return tcfp_fail(err, TCF_EINVAL, "max_connections must not be negative");
    pthread_once(&curl_once, curl_init);
    if (curl_init_result != CURLE_OK)
        return tcfp_fail(err, TCF_ETRANSPORT, "libcurl initialisation failed: %s",
                         curl_easy_strerror(curl_init_result));
    tcf_multi *m = tcfp_calloc(1, sizeof *m);
    if (m == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    m->cb = *opts;
    m->curl_at = -1;
    m->pool_cap = DEFAULT_POOL;
    m->pool = tcfp_calloc(m->pool_cap, sizeof *m->pool);
    m->multi = curl_multi_init();
    if (m->multi == NULL || m->pool == NULL) {
        if (m->multi)
            curl_multi_cleanup(m->multi);
        tcfp_free(m->pool);
        tcfp_free(m);
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    }
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      opts->max_connections ? opts->max_connections : DEFAULT_MULTI_CONNECTIONS);
    *out = m;
    return 0;
}

/* An easy handle for one attempt of op's client: an idle one reset, or a new one. */
static CURL *multi_handle(tcf_multi *m, const tcf_client *c)
{
    CURL *h = m->pool_len > 0 ? m->pool[--m->pool_len] : curl_easy_init();
    if (h == NULL)
        return NULL;
    curl_easy_reset(h);
    configure_handle(c, h);
    return h;
}

static void multi_give_back(tcf_multi *m, CURL *h)
{
    if (h == NULL)
        return;
    if (m != NULL && m->pool_len < m->pool_cap)
        m->pool[m->pool_len++] = h;
    else
        curl_easy_cleanup(h);
}

static void op_queue_done(tcf_op *op)
{
    tcf_multi *m = op->m;
    op->done_next = NULL;
    if (m->done_tail)
        m->done_tail->done_next = op;
    else
        m->done_head = op;
    m->done_tail = op;
    op->queued = 1;
}

static void op_unqueue(tcf_op *op)
{
    tcf_multi *m = op->m;
    if (!op->queued || m == NULL)
        return;
    tcf_op **pp = &m->done_head;
    tcf_op *prev = NULL;
    while (*pp != NULL && *pp != op) {
        prev = *pp;
        pp = &(*pp)->done_next;
    }
    if (*pp == op) {
        *pp = op->done_next;
        if (m->done_tail == op)
            m->done_tail = prev;
    }
    op->queued = 0;
}

static void op_attempt(tcf_op *op);

/* The call ended (s->rc): its result, or (a helper) the fallback action or the outcome. */
static void op_finish(tcf_op *op)
{
    tcf_error_clear(&op->err);
    op->rc = call_end(&op->s, &op->err);
    op->s_live = 0;
    if (op->is_check) {
        if (op->rc != 0 && tcfp_check_plan_fall_back(&op->plan, op->rc, &op->err)) {
            tcf_response_free(op->resp);
            op->resp = NULL;
            tcf_error_clear(&op->err);
            op->rc = call_begin(&op->s, op->c, op->plan.action, op->plan.body, op->plan.len, 1,
                                &op->opts, &op->err);
            op->s_live = op->rc == 0;
            if (op->rc == 0) {
                op_attempt(op);
                return;
            }
        } else {
            op->rc = tcfp_check_decide(&op->outcome, op->plan.action, op->rc, op->resp, &op->err);
            tcf_response_free(op->resp);
            op->resp = NULL;
        }
    }
    op->state = OP_DONE;
    op->m->running--;
    op_queue_done(op);
}

/* Starts the next attempt, a wait, or finishes. */
static void op_attempt(tcf_op *op)
{
    for (;;) {
        long timeout = 0, wait = 0;
        long long ts = 0;
        int step = call_before(&op->s, &timeout, &ts, &wait);
        if (step == STEP_WAIT) {
            op->state = OP_WAITING;
            op->wake_at = now_ms() + wait;
            return;
        }
        if (step == STEP_DONE)
            break;
        int rc = transfer_build(op->c, &op->t, op->s.action, op->s.params, op->s.params_len,
                                op->s.build_flags, ts, &op->s.last);
        if (rc == 0)
            rc = transfer_attach(&op->t, multi_handle(op->m, op->c), timeout, &op->s.last);
        if (rc == 0) {
            curl_easy_setopt(op->t.h, CURLOPT_PRIVATE, op);
            CURLMcode mc = curl_multi_add_handle(op->m->multi, op->t.h);
            if (mc == CURLM_OK) {
                op->state = OP_TRANSFER;
                return;
            }
            rc = tcfp_fail(&op->s.last, mc == CURLM_OUT_OF_MEMORY ? TCF_ENOMEM : TCF_ETRANSPORT,
                           "libcurl: %s", curl_multi_strerror(mc));
        }
        multi_give_back(op->m, transfer_release(&op->t));
        if (call_after(&op->s, rc, 0, &op->resp, &wait) == STEP_DONE)
            break;
    }
    op_finish(op);
}

/* Transfers libcurl finished: each attempt's result, then the next step of its op. */
static void process_done(tcf_multi *m)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *h = msg->easy_handle;
        CURLcode cc = msg->data.result;
        tcf_op *op = NULL;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&op);
        curl_multi_remove_handle(m->multi, h);
        if (op == NULL || op->state != OP_TRANSFER || op->t.h != h)
            continue;
        int rc = transfer_finish(op->c, &op->t, op->s.action, cc, &op->resp, &op->s.last);
        multi_give_back(m, transfer_release(&op->t));
        long wait = 0;
        if (call_after(&op->s, rc, 1, &op->resp, &wait) == STEP_DONE) {
            op_finish(op);
        } else {
            op->state = OP_WAITING;
            op->wake_at = now_ms() + wait;
        }
    }
}

/* Ops whose wait is over start their next attempt. */
static void run_waits(tcf_multi *m)
{
    long long now = now_ms();
    for (tcf_op *op = m->ops; op != NULL; op = op->next)
        if (op->state == OP_WAITING && op->wake_at <= now)
            op_attempt(op);
}

void tcf_multi_socket(tcf_multi *m, int fd, int events)
{
    if (m == NULL)
        return;
    int mask = ((events & TCF_POLL_IN) ? CURL_CSELECT_IN : 0) |
               ((events & TCF_POLL_OUT) ? CURL_CSELECT_OUT : 0);
    int running = 0;
    curl_multi_socket_action(m->multi, (curl_socket_t)fd, mask, &running);
    process_done(m);
    run_waits(m);
    update_timer(m);
}

void tcf_multi_timeout(tcf_multi *m)
{
    if (m == NULL)
        return;
    int running = 0;
    curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    process_done(m);
    run_waits(m);
    update_timer(m);
}

tcf_op *tcf_multi_next_done(tcf_multi *m)
{
    if (m == NULL || m->done_head == NULL)
        return NULL;
    tcf_op *op = m->done_head;
    m->done_head = op->done_next;
    if (m->done_head == NULL)
        m->done_tail = NULL;
    op->queued = 0;
    op->done_next = NULL;
    return op;
}

size_t tcf_multi_running(const tcf_multi *m)
{
    return m ? m->running : 0;
}

/* Stops op's transfer or wait; it ends TCF_ECANCELLED (not listed as done). */
static void op_stop(tcf_op *op)
{
    if (op->state == OP_TRANSFER) {
        curl_multi_remove_handle(op->m->multi, op->t.h);
        CURL *h = transfer_release(&op->t);
        if (h != NULL)
            curl_easy_cleanup(h); /* mid-transfer: its connection is not reused */
    }
    if (op->state == OP_TRANSFER || op->state == OP_WAITING) {
        op->m->running--;
        if (op->s_live)
            call_end(&op->s, NULL);
        op->s_live = 0;
        tcf_error_clear(&op->err);
        op->rc = tcfp_fail(&op->err, TCF_ECANCELLED, "%.64s was cancelled", op->action);
        op->state = OP_CANCELLED;
    }
}

void tcf_multi_free(tcf_multi *m)
{
    if (m == NULL)
        return;
    for (tcf_op *op = m->ops; op != NULL; op = op->next)
        op_stop(op);
    for (tcf_op *op = m->ops; op != NULL; op = op->next) {
        op->queued = 0;
        op->m = NULL;
    }
    for (size_t i = 0; i < m->pool_len; i++)
        curl_easy_cleanup(m->pool[i]);
    tcfp_free(m->pool);
    curl_multi_cleanup(m->multi); /* unwatches its sockets */
    tcfp_free(m);
}

/* A new op linked into m; its options copied. */
static tcf_op *op_new(tcf_multi *m, tcf_client *c, const char *action, const tcf_call_options *opts,
                      void *user, tcf_error *err)
{
    if (m == NULL || c == NULL || action == NULL) {
        tcfp_fail(err, TCF_EINVAL, "multi, client and action must not be NULL");
        return NULL;
    }
    if (strlen(action) >= sizeof((tcf_op *)0)->action) {
        tcfp_fail(err, TCF_EINVAL, "action is too long");
        return NULL;
    }
    tcf_op *op = tcfp_calloc(1, sizeof *op);
    if (op == NULL) {
        tcfp_fail(err, TCF_ENOMEM, "out of memory");
        return NULL;
    }
    op->m = m;
    op->c = c;
    op->user = user;
    memcpy(op->action, action, strlen(action) + 1);
    tcf_call_options defaults = TCF_CALL_OPTIONS_INIT;
    op->opts = opts ? *opts : defaults;
    if (opts != NULL && opts->retry != NULL) {
        op->retry = *opts->retry;
        op->opts.retry = &op->retry;
    }
    return op;
}

/* Links a started op into m and runs its first step. */
static void op_launch(tcf_op *op)
{
    tcf_multi *m = op->m;
    op->next = m->ops;
    if (m->ops)
        m->ops->prev = op;
    m->ops = op;
    m->running++;
    op->s_live = 1;
    op_attempt(op);
    update_timer(m);
}

static void op_discard(tcf_op *op)
{
    tcfp_check_plan_free(&op->plan);
    if (op->params) {
        tcfp_wipe(op->params, op->params_len);
        tcfp_free(op->params);
    }
    tcfp_free(op);
}

int tcf_op_start(tcf_op **out, tcf_multi *m, tcf_client *c, const char *action, const void *params,
                 size_t params_len, const tcf_call_options *opts, void *user, tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    *out = NULL;
    if (params == NULL && params_len > 0)
        return tcfp_fail(err, TCF_EINVAL, "params is NULL but params_len is not 0");
    tcf_op *op = op_new(m, c, action, opts, user, err);
    if (op == NULL)
        return err ? err->code : TCF_EINVAL;
    if (params_len > 0) {
        op->params = tcfp_malloc(params_len);
        if (op->params == NULL) {
            op_discard(op);
            return tcfp_fail(err, TCF_ENOMEM, "out of memory");
        }
        memcpy(op->params, params, params_len);
        op->params_len = params_len;
    }
    int rc = call_begin(&op->s, c, op->action, op->params, op->params_len, 0, &op->opts, err);
    if (rc != 0) {
        call_end(&op->s, NULL);
        op_discard(op);
        return rc;
    }
    op_launch(op);
    *out = op;
    return 0;
}

int tcf_op_start_check(tcf_op **out, tcf_multi *m, tcf_client *c, const char *action,
                       const tcf_check_params *p, const tcf_call_options *opts, void *user,
                       tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    *out = NULL;
    tcf_op *op = op_new(m, c, action, opts, user, err);
    if (op == NULL)
        return err ? err->code : TCF_EINVAL;
    op->is_check = 1;
    long long today = (long long)time(NULL) + tcf_client_clock_offset(c);
    int rc = tcfp_check_plan_make(&op->plan, action, p, today, err);
    if (rc == 0)
        rc = call_begin(&op->s, c, op->plan.action, op->plan.body, op->plan.len, 1, &op->opts, err);
    if (rc != 0) {
        call_end(&op->s, NULL);
        op_discard(op);
        return rc;
    }
    op_launch(op);
    *out = op;
    return 0;
}

void *tcf_op_user(const tcf_op *op)
{
    return op ? op->user : NULL;
}

int tcf_op_done(const tcf_op *op)
{
    return op != NULL && (op->state == OP_DONE || op->state == OP_CANCELLED);
}

/* The finished op's code and error, once; TCF_ESTATE before that. */
static int op_take(tcf_op *op, int check, tcf_error *err)
{
    if (op == NULL)
        return tcfp_fail(err, TCF_EINVAL, "op is NULL");
    if (!tcf_op_done(op))
        return tcfp_fail(err, TCF_ESTATE, "the call has not finished");
    if (op->is_check != check)
        return tcfp_fail(err, TCF_EINVAL, "%s",
                         check ? "not a tcf_op_start_check op"
                               : "a tcf_op_start_check op: use "
                                 "tcf_op_check_result");
    if (op->taken)
        return tcfp_fail(err, TCF_ESTATE, "the result was already taken");
    op->taken = 1;
    if (op->rc != 0 && err != NULL && err->code == 0)
        *err = op->err;
    return op->rc;
}

int tcf_op_result(tcf_op *op, tcf_response **out, tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    *out = NULL;
    int rc = op_take(op, 0, err);
    if (rc == 0) {
        *out = op->resp;
        op->resp = NULL;
    }
    return rc;
}

int tcf_op_check_result(tcf_op *op, tcf_check_outcome **out, tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    *out = NULL;
    int rc = op_take(op, 1, err);
    if (rc == 0) {
        *out = op->outcome;
        op->outcome = NULL;
    }
    return rc;
}

void tcf_op_cancel(tcf_op *op)
{
    if (op == NULL || op->m == NULL)
        return;
    op_stop(op);
    update_timer(op->m);
}

void tcf_op_free(tcf_op *op)
{
    if (op == NULL)
        return;
    tcf_multi *m = op->m;
    if (m != NULL) {
        op_stop(op);
        op_unqueue(op);
        if (op->prev)
            op->prev->next = op->next;
        else
            m->ops = op->next;
        if (op->next)
            op->next->prev = op->prev;
        update_timer(m);
    }
    tcf_response_free(op->resp);
    tcf_check_outcome_free(op->outcome);
    tcfp_wipe(&op->err, sizeof op->err);
    op_discard(op);
}

#endif /* TCF_WITH_CURL */
