/* The libcurl transport against the FaceID emulator (started by tests/c/test_c_core.py):
 * TCF_TEST_ENDPOINT (plain HTTP, QPS limits off), TCF_TEST_TLS_ENDPOINT with its certificate
 * TCF_TEST_CA, and TCF_TEST_THREAD_CALLS (calls per thread in the thread test). */
#include "emulator.h"
#include "internal.h"
#include "tcft.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static const char *ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
static const char *KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

static const char *env_or_fail(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        tcft_fail(__FILE__, __LINE__, name);
    return v;
}

/* POST a JSON object to the emulator's control API. */
static int control(const char *what, const char *json)
{
    return emulator_control(what, json, NULL);
}

static tcf_client *client_for(const char *endpoint, const char *key, tcf_client_options *opts)
{
    tcf_credentials *creds = NULL;
    if (tcf_credentials_new_static(&creds, ID, key, NULL, NULL) != 0)
        return NULL;
    tcf_config_options config = TCF_CONFIG_OPTIONS_INIT;
    config.endpoint = endpoint;
    config.credentials = creds;
    tcf_client_options defaults = TCF_CLIENT_OPTIONS_INIT;
    defaults.proxy = "";
    tcf_client_options o = opts ? *opts : defaults;
    /* one exchange per call and no client-side QPS limit, unless the test asks otherwise: these
     * tests are about single exchanges (the retry policy has its own tests below) */
    static const tcf_retry_options single = {TCF_RETRY_OPTIONS_VERSION, 1, 0, 0, 0, 0, 0, 0, 0};
    if (o.retry == NULL) {
        o.retry = &single;
        o.qps_off = 1;
    }
    tcf_client *c = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    if (tcf_client_new(&c, &config, &o, &err) != 0)
        fprintf(stdout, "    tcf_client_new: %s\n", err.message);
    tcf_credentials_free(creds); /* the client keeps its own reference */
    return c;
}

TCFT_TEST(transport_call_success)
{
    const char *endpoint = env_or_fail("TCF_TEST_ENDPOINT");
    TCFT_CHECK(endpoint != NULL);
    tcf_client *c = client_for(endpoint, KEY, NULL);
    TCFT_CHECK(c != NULL);
    tcf_response *r = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_client_call(c, "GetLiveCode", "{}", 2, &r, &err);
    TCFT_CHECK(rc == 0);
    size_t len = 0;
    const char *json = tcf_response_json(r, &len);
    TCFT_CHECK(strstr(json, "\"LiveCode\"") != NULL && strstr(json, "\"RequestId\"") == NULL);
    TCFT_CHECK(strlen(tcf_response_request_id(r)) == 36);
    TCFT_CHECK(tcf_response_server_time(r) > 1600000000);
    tcf_response_free(r);
    /* NULL parameters are {} */
    TCFT_CHECK(tcf_client_call(c, "GetActionSequence", NULL, 0, &r, NULL) == 0);
    tcf_response_free(r);
    tcf_client_free(c);
}

TCFT_TEST(transport_api_and_auth_errors)
{
    const char *endpoint = env_or_fail("TCF_TEST_ENDPOINT");
    TCFT_CHECK(endpoint != NULL);
    tcf_client *c = client_for(endpoint, KEY, NULL);
    TCFT_CHECK(c != NULL);
    tcf_response *r = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    const char *p = "{\"RuleId\":\"404\",\"IdCard\":\"110101199003071233\",\"Name\":\"张三\"}";
    TCFT_CHECK(tcf_client_call(c, "DetectAuth", p, strlen(p), &r, &err) == TCF_EAPI);
    TCFT_CHECK(r == NULL && err.http_status == 200 && err.attempts == 1);
    TCFT_CHECK_STR(err.api_code, "InvalidParameterValue.RuleIdNotExist");
    TCFT_CHECK(strlen(err.request_id) == 36 && err.server_time > 0);
    tcf_client_free(c);

    c = client_for(endpoint, "wrong-secret-key-0000000000000000", NULL);
    TCFT_CHECK(c != NULL);
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call(c, "GetLiveCode", "{}", 2, &r, &err) == TCF_EAUTH);
    TCFT_CHECK_STR(err.api_code, "AuthFailure.SignatureFailure");
    TCFT_CHECK(strstr(err.message, "wrong-secret") == NULL);
    tcf_client_free(c);
}

TCFT_TEST(transport_local_errors_send_nothing)
{
    const char *endpoint = env_or_fail("TCF_TEST_ENDPOINT");
    TCFT_CHECK(endpoint != NULL);
    tcf_client *c = client_for(endpoint, KEY, NULL);
    TCFT_CHECK(c != NULL);
    tcf_response *r = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call(c, "GetLiveCode", "[1]", 3, &r, &err) == TCF_EJSON);
    TCFT_CHECK(err.attempts == 0);
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call(c, "no such action", "{}", 2, &r, &err) == TCF_EINVAL);
    tcf_client_free(c);
}

TCFT_TEST(transport_connection_refused)
{
    tcf_client *c = client_for("http://127.0.0.1:1", KEY, NULL);
    TCFT_CHECK(c != NULL);
    tcf_response *r = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call(c, "GetLiveCode", "{}", 2, &r, &err) == TCF_ETRANSPORT);
    TCFT_CHECK(err.retryable == 1 && err.http_status == 0 && err.attempts == 1);
    tcf_client_free(c);
}

TCFT_TEST(transport_timeout_and_5xx)
{
    const char *endpoint = env_or_fail("TCF_TEST_ENDPOINT");
    TCFT_CHECK(endpoint != NULL);
    tcf_client_options opts = TCF_CLIENT_OPTIONS_INIT;
    opts.proxy = "";
    opts.timeout_ms = 300;
    tcf_client *c = client_for(endpoint, KEY, &opts);
    TCFT_CHECK(c != NULL);
    TCFT_CHECK(control("faults", "{\"kind\": \"latency\", \"seconds\": 1.5}") == 0);
    tcf_response *r = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call(c, "GetLiveCode", "{}", 2, &r, &err) == TCF_ETIMEOUT);
    TCFT_CHECK(control("faults", "{\"kind\": \"http_5xx\", \"status\": 502}") == 0);
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call(c, "GetLiveCode", "{}", 2, &r, &err) == TCF_EHTTP);
    TCFT_CHECK(err.http_status == 502);
    TCFT_CHECK(control("faults", "{\"kind\": \"truncated\"}") == 0);
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call(c, "GetLiveCode", "{}", 2, &r, &err) == TCF_ETRANSPORT);
    TCFT_CHECK(control("faults", "{\"kind\": \"reset\"}") == 0);
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call(c, "GetLiveCode", "{}", 2, &r, &err) == TCF_ETRANSPORT);
    /* and the client still works */
    TCFT_CHECK(tcf_client_call(c, "GetLiveCode", "{}", 2, &r, NULL) == 0);
    tcf_response_free(r);
    tcf_client_free(c);
}

TCFT_TEST(transport_tls_verification)
{
    const char *endpoint = env_or_fail("TCF_TEST_TLS_ENDPOINT");
    const char *ca = env_or_fail("TCF_TEST_CA");
    TCFT_CHECK(endpoint != NULL && ca != NULL);
    tcf_client *c = client_for(endpoint, KEY, NULL);
    TCFT_CHECK(c != NULL);
    tcf_response *r = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call(c, "GetLiveCode", "{}", 2, &r, &err) == TCF_ETLS);
    tcf_client_free(c);
    tcf_client_options opts = TCF_CLIENT_OPTIONS_INIT;
    opts.proxy = "";
    opts.ca_bundle = ca;
    c = client_for(endpoint, KEY, &opts);
    TCFT_CHECK(c != NULL);
    TCFT_CHECK(tcf_client_call(c, "GetLiveCode", "{}", 2, &r, NULL) == 0);
    tcf_response_free(r);
    tcf_client_free(c);
}

static int log_lines;
static int log_leaked;

static void count_log(void *user, int level, const char *line)
{
    (void)user;
    (void)level;
    log_lines++;
    if (strstr(line, KEY) || strstr(line, "Signature=") || strstr(line, "110101199003071233"))
        log_leaked = 1;
}

TCFT_TEST(transport_log_lines_are_redacted)
{
    const char *endpoint = env_or_fail("TCF_TEST_ENDPOINT");
    TCFT_CHECK(endpoint != NULL);
    tcf_client_options opts = TCF_CLIENT_OPTIONS_INIT;
    opts.proxy = "";
    opts.log = count_log;
    log_lines = log_leaked = 0;
    tcf_client *c = client_for(endpoint, KEY, &opts);
    TCFT_CHECK(c != NULL);
    tcf_response *r = NULL;
    const char *p = "{\"RuleId\":\"1\",\"IdCard\":\"110101199003071233\",\"Name\":\"张三\"}";
    TCFT_CHECK(tcf_client_call(c, "DetectAuth", p, strlen(p), &r, NULL) == 0);
    tcf_response_free(r);
    TCFT_CHECK(log_lines == 1 && log_leaked == 0);
    tcf_client_free(c);
}

typedef struct worker {
    tcf_client *client;
    int calls;
    int failures;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < w->calls; i++) {
        tcf_response *r = NULL;
        tcf_error err;
        tcf_error_clear(&err);
        if (tcf_client_call(w->client, "GetLiveCode", "{}", 2, &r, &err) != 0) {
            w->failures++;
            continue;
        }
        size_t len = 0;
        if (strstr(tcf_response_json(r, &len), "LiveCode") == NULL)
            w->failures++;
        tcf_response_free(r);
    }
    return NULL;
}

TCFT_TEST(transport_threads_share_one_client)
{
    const char *endpoint = env_or_fail("TCF_TEST_ENDPOINT");
    TCFT_CHECK(endpoint != NULL);
    const char *n = getenv("TCF_TEST_THREAD_CALLS");
    int calls = n ? atoi(n) : 500;
    tcf_client *c = client_for(endpoint, KEY, NULL);
    TCFT_CHECK(c != NULL);
    pthread_t threads[8];
    worker workers[8];
    for (int i = 0; i < 8; i++) {
        workers[i] = (worker){c, calls, 0};
        TCFT_CHECK(pthread_create(&threads[i], NULL, run_worker, &workers[i]) == 0);
    }
    int failures = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(threads[i], NULL);
        failures += workers[i].failures;
    }
    tcf_client_free(c);
    TCFT_CHECK(failures == 0);
}

/* The retry policy over the network: reads are retried, a billable request that may have run is
 * reported ambiguous, connection failures are retried for every class; attempts are counted. */
TCFT_TEST(transport_retry_policy)
{
    const char *endpoint = env_or_fail("TCF_TEST_ENDPOINT");
    TCFT_CHECK(endpoint != NULL);
    tcf_retry_options fast = TCF_RETRY_OPTIONS_INIT;
    fast.base_delay_ms = 1;
    fast.throttle_delay_ms = 1;
    fast.max_delay_ms = 5;
    tcf_client_options opts = TCF_CLIENT_OPTIONS_INIT;
    opts.proxy = "";
    opts.retry = &fast;
    opts.qps_off = 1;
    tcf_client *c = client_for(endpoint, KEY, &opts);
    TCFT_CHECK(c != NULL);
    tcf_response *r = NULL;
    tcf_error err;
    /* a read: the 502 is retried, the call succeeds */
    TCFT_CHECK(control("faults", "{\"kind\": \"http_5xx\", \"status\": 502, \"count\": 1}") == 0);
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call(c, "GetLiveCode", "{}", 2, &r, &err) == 0);
    tcf_response_free(r);
    r = NULL;
    /* a read failing every time: max_attempts (3) requests, then the last error */
    TCFT_CHECK(control("faults", "{\"kind\": \"http_5xx\", \"count\": 3}") == 0);
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call(c, "GetLiveCode", "{}", 2, &r, &err) == TCF_EHTTP);
    TCFT_CHECK(err.attempts == 3 && err.http_status == 503);
    /* a billable action whose connection was reset after it ran: ambiguous, not sent again */
    TCFT_CHECK(control("faults", "{\"kind\": \"reset\", \"phase\": \"after\", \"action\": "
                                 "\"IdCardVerification\"}") == 0);
    tcf_error_clear(&err);
    const char *params =
        "{\"IdCard\":\"110101199003071233\",\"Name\":\"\xe5\xbc\xa0\xe4\xb8\x89\"}";
    TCFT_CHECK(tcf_client_call(c, "IdCardVerification", params, strlen(params), &r, &err) ==
               TCF_EAMBIGUOUS);
    TCFT_CHECK(err.code == TCF_EAMBIGUOUS && err.attempts == 1 && err.retryable == 0);
    TCFT_CHECK(strstr(err.message, "IdCardVerification") != NULL);
    TCFT_CHECK(strstr(err.message, "110101199003071233") == NULL);
    /* per call: no retries */
    TCFT_CHECK(control("faults", "{\"kind\": \"http_5xx\", \"count\": 1}") == 0);
    tcf_retry_options once = TCF_RETRY_OPTIONS_INIT;
    once.max_attempts = 1;
    tcf_call_options call = TCF_CALL_OPTIONS_INIT;
    call.retry = &once;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call_ex(c, "GetLiveCode", "{}", 2, &call, &r, &err) == TCF_EHTTP);
    TCFT_CHECK(err.attempts == 1);
    call.version = 99;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call_ex(c, "GetLiveCode", "{}", 2, &call, &r, &err) == TCF_EINVAL);
    TCFT_CHECK(tcf_client_clock_offset(c) == 0 && tcf_client_clock_offset(NULL) == 0);
    tcf_client_free(c);
    /* nothing listening: safe to send again, for every class */
    c = client_for("http://127.0.0.1:1", KEY, &opts);
    TCFT_CHECK(c != NULL);
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call(c, "IdCardVerification", params, strlen(params), &r, &err) ==
               TCF_ETRANSPORT);
    TCFT_CHECK(err.attempts == 3 && err.retryable == 1);
    tcf_client_free(c);
    /* bad options */
    tcf_retry_options bad = TCF_RETRY_OPTIONS_INIT;
    bad.max_attempts = -1;
    opts.retry = &bad;
    tcf_config_options config = TCF_CONFIG_OPTIONS_INIT;
    config.endpoint = endpoint;
    config.secret_id = ID;
    config.secret_key = KEY;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_new(&c, &config, &opts, &err) == TCF_EINVAL && c == NULL);
}

/* The BizToken of a DetectAuth response (JSON text) into out. */
static int biz_token(const char *json, char *out, size_t cap)
{
    const char *p = strstr(json, "\"BizToken\":");
    if (p == NULL)
        return -1;
    p += strlen("\"BizToken\":");
    while (*p == ' ')
        p++;
    if (*p++ != '"')
        return -1;
    const char *end = strchr(p, '"');
    if (end == NULL || (size_t)(end - p) >= cap)
        return -1;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return 0;
}

/* Field encryption in tcf_client_call_ex: TCF_TEST_RSA_PUB / TCF_TEST_SM2_PUB are the emulator's
 * public keys (its private halves decrypt). */
TCFT_TEST(transport_field_encryption)
{
    const char *endpoint = env_or_fail("TCF_TEST_ENDPOINT");
    const char *rsa = env_or_fail("TCF_TEST_RSA_PUB");
    const char *sm2 = env_or_fail("TCF_TEST_SM2_PUB");
    const char *params =
        "{\"IdCard\":\"110101199003071233\",\"Name\":\"\xe5\xbc\xa0\xe4\xb8\x89\"}";
    tcf_response *r = NULL;
    tcf_error err;
    for (int alg = TCF_ENCRYPTION_AES_256_CBC; alg <= TCF_ENCRYPTION_SM4_GCM; alg++) {
        tcf_encryption_options enc = TCF_ENCRYPTION_OPTIONS_INIT;
        enc.algorithm = (tcf_encryption_algorithm)alg;
        enc.rsa_public_key_pem = rsa;
        enc.sm2_public_key_pem = sm2;
        tcf_client_options opts = TCF_CLIENT_OPTIONS_INIT;
        opts.proxy = "";
        opts.encryption = &enc;
        opts.encrypt = 1;
        tcf_client *c = client_for(endpoint, KEY, &opts);
        TCFT_CHECK(c != NULL);
        if (c == NULL)
            return;
        /* an element check, encrypted: the emulator decrypts and answers as in clear */
        tcf_error_clear(&err);
        TCFT_CHECK(tcf_client_call(c, "IdCardVerification", params, strlen(params), &r, &err) == 0);
        const char *json = tcf_response_json(r, NULL);
        TCFT_CHECK(json != NULL && (strstr(json, "\"Result\":\"0\"") != NULL ||
                                    strstr(json, "\"Result\": \"0\"") != NULL));
        tcf_response_free(r);
        r = NULL;
        /* the SaaS flow: DetectAuth encrypted, then an encrypted (field-level and whole-body)
         * GetDetectInfoEnhanced read back in clear */
        const char *auth = "{\"RuleId\":\"1\",\"IdCard\":\"110101199003071233\",\"Name\":"
                           "\"\xe5\xbc\xa0\xe4\xb8\x89\"}";
        tcf_error_clear(&err);
        TCFT_CHECK(tcf_client_call(c, "DetectAuth", auth, strlen(auth), &r, &err) == 0);
        char token[128] = "", body[256];
        TCFT_CHECK(r != NULL && biz_token(tcf_response_json(r, NULL), token, sizeof token) == 0);
        tcf_response_free(r);
        r = NULL;
        snprintf(body, sizeof body, "{\"token\": \"%s\", \"scenario\": \"pass\"}", token);
        TCFT_CHECK(control("complete", body) == 0);
        snprintf(body, sizeof body, "{\"BizToken\":\"%s\",\"RuleId\":\"1\",\"InfoType\":\"0\"}",
                 token);
        tcf_error_clear(&err);
        TCFT_CHECK(tcf_client_call(c, "GetDetectInfoEnhanced", body, strlen(body), &r, &err) == 0);
        json = tcf_response_json(r, NULL);
        TCFT_CHECK(json != NULL && strstr(json, "\"IdCard\":\"110101199003071233\"") != NULL);
        TCFT_CHECK(json != NULL && strstr(json, "\"EncryptList\":[\"") != NULL);
        TCFT_CHECK(r != NULL && tcf_response_request_id(r) != NULL);
        TCFT_CHECK(json != NULL && strstr(json, "\"RequestId\"") == NULL);
        tcf_response_free(r);
        r = NULL;
        tcf_client_free(c);
        enc.whole_body = 1;
        c = client_for(endpoint, KEY, &opts);
        TCFT_CHECK(c != NULL);
        if (c == NULL)
            return;
        tcf_error_clear(&err);
        TCFT_CHECK(tcf_client_call(c, "GetDetectInfoEnhanced", body, strlen(body), &r, &err) == 0);
        json = tcf_response_json(r, NULL);
        TCFT_CHECK(json != NULL && strstr(json, "\"IdCard\":\"110101199003071233\"") != NULL);
        TCFT_CHECK(json != NULL && strstr(json, "\"EncryptedBody\":\"\"") != NULL);
        TCFT_CHECK(json != NULL && strstr(json, "\"RequestId\"") == NULL);
        tcf_response_free(r);
        r = NULL;
        /* whole_body applies only where the action has it: DetectAuth still works */
        tcf_error_clear(&err);
        TCFT_CHECK(tcf_client_call(c, "DetectAuth", auth, strlen(auth), &r, &err) == 0);
        tcf_response_free(r);
        r = NULL;
        tcf_client_free(c);
    }
    /* the documented (service's) public key: the emulator cannot decrypt, which proves the
     * request was encrypted; per call, encrypt 0 sends it in clear */
    tcf_client_options opts = TCF_CLIENT_OPTIONS_INIT;
    opts.proxy = "";
    opts.encrypt = 1;
    tcf_client *c = client_for(endpoint, KEY, &opts);
    TCFT_CHECK(c != NULL);
    if (c == NULL)
        return;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call(c, "IdCardVerification", params, strlen(params), &r, &err) ==
               TCF_EAPI);
    TCFT_CHECK(strcmp(err.api_code, "FailedOperation.DecryptSystemError") == 0);
    TCFT_CHECK(strstr(err.message, "110101199003071233") == NULL);
    tcf_call_options call = TCF_CALL_OPTIONS_INIT;
    call.encrypt = 0;
    tcf_error_clear(&err);
    TCFT_CHECK(
        tcf_client_call_ex(c, "IdCardVerification", params, strlen(params), &call, &r, &err) == 0);
    tcf_response_free(r);
    r = NULL;
    /* an action without field encryption is sent as is */
    call.encrypt = 1;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call_ex(c, "GetLiveCode", "{}", 2, &call, &r, &err) == 0);
    tcf_response_free(r);
    r = NULL;
    call.encrypt = 2;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call_ex(c, "GetLiveCode", "{}", 2, &call, &r, &err) == TCF_EINVAL);
    /* an encryptable field that is not a string: refused before sending */
    call.encrypt = 1;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_call_ex(c, "IdCardVerification", "{\"IdCard\":1,\"Name\":\"x\"}", 23,
                                  &call, &r, &err) == TCF_EINVAL);
    TCFT_CHECK(err.attempts == 0);
    tcf_client_free(c);
    /* bad encryption options: refused by tcf_client_new */
    tcf_encryption_options bad = TCF_ENCRYPTION_OPTIONS_INIT;
    bad.rsa_public_key_pem = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n";
    opts.encryption = &bad;
    tcf_config_options config = TCF_CONFIG_OPTIONS_INIT;
    config.endpoint = endpoint;
    config.secret_id = ID;
    config.secret_key = KEY;
    c = NULL;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_new(&c, &config, &opts, &err) == TCF_EINVAL && c == NULL);
    bad = (tcf_encryption_options)TCF_ENCRYPTION_OPTIONS_INIT;
    bad.version = 7;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_client_new(&c, &config, &opts, &err) == TCF_EINVAL && c == NULL);
}
