/* Request building (sans-IO): action + JSON parameters + config + timestamp -> a signed
 * {method, url, headers[], body}. The caller's parameter bytes are checked with jansson but
 * sent unchanged, so the signature covers exactly the bytes that go on the wire. */
#include "crypto.h"
#include "sansio.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ACTION_MAX_LEN 64
#define MAX_HEADERS 10
#define CONTENT_TYPE "application/json"
/* 9999-12-31T23:59:59Z: X-TC-Timestamp and the credential date stay well formed */
#define TIMESTAMP_MAX 253402300799LL

typedef struct request_header {
    const char *name; /* static */
    char *value;
    int secret; /* wiped when freed */
} request_header;

struct tcf_request {
    char *url;
    char *body;
    size_t body_len;
    int body_borrowed; /* TCFP_BUILD_BORROW: body is the caller's, neither copied nor freed */
    size_t header_count;
    request_header headers[MAX_HEADERS];
};

static int valid_action(const char *a)
{
    size_t n = strlen(a);
    if (n == 0 || n > ACTION_MAX_LEN || a[0] < 'A' || a[0] > 'Z')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = a[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

/* Append a header with a copy of value. 0 or TCF_ENOMEM. */
static int add_header(tcf_request *req, const char *name, const char *value, int secret)
{
    char *copy = tcfp_strdup(value);
    if (copy == NULL)
        return TCF_ENOMEM;
    request_header *h = &req->headers[req->header_count++];
    h->name = name;
    h->value = copy;
    h->secret = secret;
    return 0;
}

void tcf_request_free(tcf_request *req)
{
    if (req == NULL)
        return;
    for (size_t i = 0; i < req->header_count; i++) {
        if (req->headers[i].secret)
            tcfp_free_secret(req->headers[i].value);
        else
            tcfp_free(req->headers[i].value);
    }
    tcfp_free(req->url);
    if (req->body && !req->body_borrowed) {
        tcfp_wipe(req->body, req->body_len); /* IdCard, Name, ... */
        tcfp_free(req->body);
    }
    tcfp_free(req);
}

/* Check that params are one JSON object; TCF_EJSON (or TCF_ENOMEM) otherwise. */
static int check_params(const char *text, size_t len, tcf_error *err)
{
    tcfp_json_status st;
    json_t *v = tcfp_json_load(text, len, &st);
    if (v == NULL) {
        if (st == TCFP_JSON_NOMEM)
            return tcfp_fail(err, TCF_ENOMEM, "out of memory");
        return tcfp_fail(err, TCF_EJSON, "tcf_build: params %s", tcfp_json_status_text(st));
    }
    int is_object = json_is_object(v);
    tcfp_json_wipe_strings(v); /* the parameters' copies of identity data */
    json_decref(v);
    if (!is_object)
        return tcfp_fail(err, TCF_EJSON, "tcf_build: params must be a JSON object");
    return 0;
}

static int sign(tcf_request *req, const tcf_config *cfg, const char *secret_id,
                const char *secret_key, long long timestamp, tcf_error *err)
{
    tcf_sign_input in = TCF_SIGN_INPUT_INIT;
    in.secret_id = secret_id;
    in.secret_key = secret_key;
    in.service = cfg->service;
    in.host = cfg->host;
    in.method = "POST";
    in.content_type = CONTENT_TYPE;
    in.body = (const unsigned char *)req->body;
    in.body_len = req->body_len;
    in.timestamp = timestamp;
    tcf_signature *sig = NULL;
    int rc = tcfp_sign_ex(&sig, &in, NULL, cfg->key_cache, err);
    if (rc != 0)
        return rc;
    const char *auth = tcf_signature_get(sig, "authorization");
    if (auth == NULL)
        rc = tcfp_fail(err, TCF_ECRYPTO, "tcf_build: the signature has no Authorization value");
    else if (add_header(req, "Authorization", auth, 1) != 0)
        rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
    tcf_signature_free(sig);
    return rc;
}

int tcf_build(tcf_request **out, const tcf_config *cfg, const char *action, const void *params_json,
              size_t params_len, long long timestamp, tcf_error *err)
{
    return tcfp_build_ex(out, cfg, action, params_json, params_len, timestamp, 0, err);
}

int tcfp_build_ex(tcf_request **out, const tcf_config *cfg, const char *action,
                  const void *params_json, size_t params_len, long long timestamp, int flags,
                  tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_build: out is NULL");
    *out = NULL;
    if (cfg == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_build: cfg is NULL");
    if (action == NULL || !valid_action(action))
        return tcfp_fail(err, TCF_EINVAL,
                         "tcf_build: action must be 1-64 ASCII letters or digits starting with "
                         "an upper-case letter, e.g. DetectAuth");
    if (params_json == NULL && params_len > 0)
        return tcfp_fail(err, TCF_EINVAL, "tcf_build: params_json is NULL but params_len is not 0");
    if (params_len > TCFP_MAX_REQUEST_BODY)
        return tcfp_fail(err, TCF_EINVAL,
                         "tcf_build: params are %zu bytes; the service accepts at most %zu",
                         params_len, TCFP_MAX_REQUEST_BODY);
    if (timestamp < 0 || timestamp > TIMESTAMP_MAX)
        return tcfp_fail(err, TCF_EINVAL, "tcf_build: timestamp out of range");
    if (cfg->credentials == NULL && (cfg->secret_id == NULL || cfg->secret_key == NULL))
        return tcfp_fail(err, TCF_ENOCRED, "tcf_build: the config has no credentials");

    const char *body = "{}";
    size_t body_len = 2;
    if (params_len > 0) {
        body = params_json;
        body_len = params_len;
        int rc = (flags & TCFP_BUILD_TRUSTED) ? 0 : check_params(body, body_len, err);
        if (rc != 0)
            return rc;
    }

    /* One consistent credential triple for this request (a provider may rotate them). */
    tcfp_secret_triple *triple = NULL;
    const char *secret_id = cfg->secret_id, *secret_key = cfg->secret_key, *token = cfg->token;
    if (cfg->credentials) {
        triple = tcfp_malloc(sizeof *triple);
        if (triple == NULL)
            return tcfp_fail(err, TCF_ENOMEM, "out of memory");
        int rc = tcfp_credentials_get(cfg->credentials, triple, err);
        if (rc != 0) {
            tcfp_free(triple);
            return rc;
        }
        secret_id = triple->secret_id;
        secret_key = triple->secret_key;
        token = triple->token[0] ? triple->token : NULL;
    }
    tcf_request *req = tcfp_calloc(1, sizeof *req);
    if (req == NULL) {
        if (triple) {
            tcfp_wipe(triple, sizeof *triple);
            tcfp_free(triple);
        }
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    }
    char ts[24];
    snprintf(ts, sizeof ts, "%lld", timestamp);
    int rc = 0;
    req->body_borrowed = (flags & TCFP_BUILD_BORROW) && params_len > 0;
    if (req->body_borrowed)
        req->body = (char *)(uintptr_t)body; /* only read: sent and hashed */
    if ((req->url = tcfp_strdup(cfg->url)) == NULL ||
        (!req->body_borrowed && (req->body = tcfp_strndup(body, body_len)) == NULL) ||
        add_header(req, "Host", cfg->host, 0) != 0 ||
        add_header(req, "Content-Type", CONTENT_TYPE, 0) != 0 ||
        add_header(req, "X-TC-Action", action, 0) != 0 ||
        add_header(req, "X-TC-Version", cfg->api_version, 0) != 0 ||
        add_header(req, "X-TC-Timestamp", ts, 0) != 0 ||
        (cfg->region && add_header(req, "X-TC-Region", cfg->region, 0) != 0) ||
        (token && add_header(req, "X-TC-Token", token, 1) != 0) ||
        (cfg->language && add_header(req, "X-TC-Language", cfg->language, 0) != 0) ||
        add_header(req, "X-TC-RequestClient", cfg->request_client, 0) != 0) {
        rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
        goto fail;
    }
    req->body_len = body_len;
    if ((rc = sign(req, cfg, secret_id, secret_key, timestamp, err)) != 0)
        goto fail;
    *out = req;
    req = NULL;
fail:
    tcf_request_free(req);
    if (triple) {
        tcfp_wipe(triple, sizeof *triple);
        tcfp_free(triple);
    }
    return rc;
}

const char *tcf_request_method(const tcf_request *req)
{
    return req ? "POST" : NULL;
}

const char *tcf_request_url(const tcf_request *req)
{
    return req ? req->url : NULL;
}

size_t tcf_request_header_count(const tcf_request *req)
{
    return req ? req->header_count : 0;
}

const char *tcf_request_header_name(const tcf_request *req, size_t i)
{
    return req && i < req->header_count ? req->headers[i].name : NULL;
}

const char *tcf_request_header_value(const tcf_request *req, size_t i)
{
    return req && i < req->header_count ? req->headers[i].value : NULL;
}

const char *tcf_request_body(const tcf_request *req, size_t *len)
{
    if (len)
        *len = req ? req->body_len : 0;
    return req ? req->body : NULL;
}
