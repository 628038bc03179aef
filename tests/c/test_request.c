/* Configuration and request building (tcf_config_new, tcf_build). */
#include "internal.h"
#include "tcft.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#define KEY_ID "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
#define KEY_SECRET "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
#define TOKEN "tmp-session-token-EXAMPLE-0123456789"
#define V01_BODY                                                                                   \
    "{\"RuleId\":\"1\",\"RedirectUrl\":\"https://example.com/"                                     \
    "cb?a=1&b=2\",\"Extra\":\"order-0001\"}"

/* ---- helpers ---- */

/* The vector with this id from tc3.json (a new reference), or NULL. */
static json_t *load_vector(const char *id)
{
    const char *path = tcft_vectors_path();
    if (path == NULL)
        return NULL;
    char file[4096];
    size_t n = strlen(path);
    if (n > 5 && strcmp(path + n - 5, ".json") == 0)
        snprintf(file, sizeof file, "%s", path);
    else
        snprintf(file, sizeof file, "%s/tc3.json", path);
    json_error_t e;
    json_t *all = json_load_file(file, 0, &e);
    json_t *found = NULL;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(all, "vectors"), i, v)
    {
        const char *vid = json_string_value(json_object_get(v, "id"));
        if (vid && strcmp(vid, id) == 0)
            found = json_incref(v);
    }
    json_decref(all);
    return found;
}

static const char *vstr(json_t *v, const char *key)
{
    return json_string_value(json_object_get(v, key));
}

static const char *header(const tcf_request *req, const char *name)
{
    for (size_t i = 0; i < tcf_request_header_count(req); i++)
        if (strcmp(tcf_request_header_name(req, i), name) == 0)
            return tcf_request_header_value(req, i);
    return NULL;
}

static tcf_config *make_config(const char *endpoint, const char *region, const char *token)
{
    tcf_config_options o = TCF_CONFIG_OPTIONS_INIT;
    o.endpoint = endpoint;
    o.region = region;
    o.secret_id = KEY_ID;
    o.secret_key = KEY_SECRET;
    o.token = token;
    tcf_config *cfg = NULL;
    if (tcf_config_new(&cfg, &o, NULL) != 0)
        return NULL;
    return cfg;
}

/* Build with params and expect `code`; returns 1 when it did. */
static int build_fails(const tcf_config *cfg, const char *action, const void *params, size_t len,
                       int code)
{
    tcf_error err;
    tcf_error_clear(&err);
    tcf_request *req = (tcf_request *)1;
    int rc = tcf_build(&req, cfg, action, params, len, 1700000000, &err);
    int ok = rc == code && err.code == code && req == NULL && err.message[0] != '\0';
    if (!ok)
        printf("    build: rc=%d err.code=%d message=%s\n", rc, err.code, err.message);
    if (rc == 0)
        tcf_request_free(req);
    return ok;
}

/* Create a config and expect TCF_EINVAL with a message containing `field`. */
static int config_rejected(const tcf_config_options *o, const char *field)
{
    tcf_error err;
    tcf_error_clear(&err);
    tcf_config *cfg = (tcf_config *)1;
    int rc = tcf_config_new(&cfg, o, &err);
    int ok = rc == TCF_EINVAL && err.code == TCF_EINVAL && cfg == NULL &&
             strstr(err.message, field) != NULL && strstr(err.message, KEY_SECRET) == NULL;
    if (!ok)
        printf("    config (%s): rc=%d message=%s\n", field, rc, err.message);
    if (rc == 0)
        tcf_config_free(cfg);
    return ok;
}

/* ---- the signature vectors ---- */

TCFT_TEST(request_v01_headers_body_and_authorization)
{
    json_t *v = load_vector("V01");
    TCFT_CHECK(v != NULL);
    const char *body = vstr(v, "body_utf8");
    const char *expected = vstr(json_object_get(v, "expected"), "authorization");
    TCFT_CHECK(body != NULL && expected != NULL);
    TCFT_CHECK(json_integer_value(json_object_get(v, "timestamp")) == 1700000000);

    tcf_config_options o = TCF_CONFIG_OPTIONS_INIT;
    o.endpoint = "https://faceid.tencentcloudapi.com";
    o.region = vstr(v, "region");
    o.secret_id = vstr(v, "secret_id");
    o.secret_key = vstr(v, "secret_key");
    tcf_config *cfg = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_config_new(&cfg, &o, &err) == 0);
    tcf_request *req = NULL;
    int rc = tcf_build(&req, cfg, vstr(v, "action"), body, strlen(body), 1700000000, &err);
    tcf_config_free(cfg);
    if (rc != 0) {
        printf("    %s\n", err.message);
        json_decref(v);
        TCFT_CHECK(rc == 0);
    }

    static const char *const names[] = {
        "Host",           "Content-Type", "X-TC-Action",        "X-TC-Version",
        "X-TC-Timestamp", "X-TC-Region",  "X-TC-RequestClient", "Authorization"};
    const char *values[] = {"faceid.tencentcloudapi.com",
                            "application/json",
                            "DetectAuth",
                            "2018-03-01",
                            "1700000000",
                            "ap-guangzhou",
                            "SDK_C_tcfaceid_" TCF_VERSION_STRING,
                            expected};
    int headers_ok = tcf_request_header_count(req) == 8;
    for (size_t i = 0; headers_ok && i < 8; i++)
        headers_ok = strcmp(tcf_request_header_name(req, i), names[i]) == 0 &&
                     strcmp(tcf_request_header_value(req, i), values[i]) == 0;
    size_t len = 0;
    const char *sent = tcf_request_body(req, &len);
    int body_ok = len == strlen(body) && memcmp(sent, body, len) == 0 && sent[len] == '\0';
    int rest_ok = strcmp(tcf_request_method(req), "POST") == 0 &&
                  strcmp(tcf_request_url(req), "https://faceid.tencentcloudapi.com/") == 0 &&
                  strcmp(tcf_request_url(req), vstr(v, "url_sent")) == 0 &&
                  tcf_request_header_name(req, 8) == NULL &&
                  tcf_request_header_value(req, 8) == NULL;
    tcf_request_free(req);
    json_decref(v);
    TCFT_CHECK(headers_ok);
    TCFT_CHECK(body_ok);
    TCFT_CHECK(rest_ok);
}

TCFT_TEST(request_v04_token_header_leaves_authorization_unchanged)
{
    json_t *v = load_vector("V04");
    TCFT_CHECK(v != NULL);
    const char *expected = vstr(json_object_get(v, "expected"), "authorization");
    const char *token = vstr(v, "token");
    tcf_config *with = make_config("https://faceid.tencentcloudapi.com", "ap-guangzhou", token);
    tcf_config *without = make_config("https://faceid.tencentcloudapi.com", "ap-guangzhou", NULL);
    tcf_request *a = NULL, *b = NULL;
    int rc1 = tcf_build(&a, with, "DetectAuth", V01_BODY, strlen(V01_BODY), 1700000000, NULL);
    int rc2 = tcf_build(&b, without, "DetectAuth", V01_BODY, strlen(V01_BODY), 1700000000, NULL);
    int ok = rc1 == 0 && rc2 == 0 && expected && token && header(a, "X-TC-Token") &&
             strcmp(header(a, "X-TC-Token"), token) == 0 && header(b, "X-TC-Token") == NULL &&
             strcmp(header(a, "Authorization"), expected) == 0 &&
             strcmp(header(b, "Authorization"), expected) == 0 &&
             tcf_request_header_count(a) == tcf_request_header_count(b) + 1;
    /* the token comes after the region, before the request client */
    int order_ok = rc1 == 0 && strcmp(tcf_request_header_name(a, 5), "X-TC-Region") == 0 &&
                   strcmp(tcf_request_header_name(a, 6), "X-TC-Token") == 0 &&
                   strcmp(tcf_request_header_name(a, 7), "X-TC-RequestClient") == 0;
    tcf_request_free(a);
    tcf_request_free(b);
    tcf_config_free(with);
    tcf_config_free(without);
    json_decref(v);
    TCFT_CHECK(ok);
    TCFT_CHECK(order_ok);
}

TCFT_TEST(request_v06_regional_endpoint_from_region)
{
    json_t *v = load_vector("V06");
    TCFT_CHECK(v != NULL);
    const char *expected = vstr(json_object_get(v, "expected"), "authorization");
    tcf_config *cfg = make_config(NULL, "ap-shanghai", NULL);
    tcf_request *req = NULL;
    int rc = tcf_build(&req, cfg, "DetectAuth", V01_BODY, strlen(V01_BODY), 1700000000, NULL);
    int ok = rc == 0 && expected &&
             strcmp(header(req, "Host"), "faceid.ap-shanghai.tencentcloudapi.com") == 0 &&
             strcmp(header(req, "X-TC-Region"), "ap-shanghai") == 0 &&
             strcmp(tcf_request_url(req), "https://faceid.ap-shanghai.tencentcloudapi.com/") == 0 &&
             strcmp(header(req, "Authorization"), expected) == 0;
    tcf_request_free(req);
    tcf_config_free(cfg);
    /* the same host given as an endpoint signs the same */
    cfg = make_config("faceid.ap-shanghai.tencentcloudapi.com", "ap-shanghai", NULL);
    rc = tcf_build(&req, cfg, "DetectAuth", V01_BODY, strlen(V01_BODY), 1700000000, NULL);
    int same = rc == 0 && expected && strcmp(header(req, "Authorization"), expected) == 0;
    tcf_request_free(req);
    tcf_config_free(cfg);
    json_decref(v);
    TCFT_CHECK(ok);
    TCFT_CHECK(same);
}

TCFT_TEST(request_emulator_endpoint_signs_host_with_port)
{
    tcf_config *cfg = make_config("http://127.0.0.1:8455", NULL, NULL);
    TCFT_CHECK(cfg != NULL);
    tcf_request *req = NULL;
    int rc = tcf_build(&req, cfg, "DetectAuth", V01_BODY, strlen(V01_BODY), 1700000000, NULL);
    tcf_config_free(cfg);
    TCFT_CHECK(rc == 0);

    tcf_sign_input in = TCF_SIGN_INPUT_INIT;
    in.secret_id = KEY_ID;
    in.secret_key = KEY_SECRET;
    in.service = "faceid";
    in.host = "127.0.0.1:8455";
    in.method = "POST";
    in.content_type = "application/json";
    in.body = (const unsigned char *)V01_BODY;
    in.body_len = strlen(V01_BODY);
    in.timestamp = 1700000000;
    tcf_signature *sig = NULL;
    int src = tcf_sign(&sig, &in, NULL);
    int ok = src == 0 && strcmp(header(req, "Host"), "127.0.0.1:8455") == 0 &&
             strcmp(tcf_request_url(req), "http://127.0.0.1:8455/") == 0 &&
             strcmp(header(req, "Authorization"), tcf_signature_get(sig, "authorization")) == 0 &&
             header(req, "X-TC-Region") == NULL && header(req, "X-TC-Language") == NULL &&
             header(req, "X-TC-Token") == NULL;
    tcf_signature_free(sig);
    tcf_request_free(req);
    TCFT_CHECK(ok);
}

/* ---- configuration ---- */

TCFT_TEST(config_endpoint_forms)
{
    static const struct {
        const char *endpoint, *region, *url, *host;
    } cases[] = {
        {NULL, NULL, "https://faceid.tencentcloudapi.com/", "faceid.tencentcloudapi.com"},
        {NULL, "ap-beijing", "https://faceid.ap-beijing.tencentcloudapi.com/",
         "faceid.ap-beijing.tencentcloudapi.com"},
        {"https://faceid.tencentcloudapi.com/", "ap-beijing", "https://faceid.tencentcloudapi.com/",
         "faceid.tencentcloudapi.com"},
        {"faceid.tencentcloudapi.com", NULL, "https://faceid.tencentcloudapi.com/",
         "faceid.tencentcloudapi.com"},
        {"HTTPS://FaceID.TencentCloudAPI.com", NULL, "https://faceid.tencentcloudapi.com/",
         "faceid.tencentcloudapi.com"},
        {"https://faceid.tencentcloudapi.com:443", NULL, "https://faceid.tencentcloudapi.com:443/",
         "faceid.tencentcloudapi.com:443"},
        {"localhost:8455", NULL, "https://localhost:8455/", "localhost:8455"},
        {"http://[::1]:8455/", NULL, "http://[::1]:8455/", "[::1]:8455"},
        {"http://emulator.local", NULL, "http://emulator.local/", "emulator.local"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcf_config *cfg = make_config(cases[i].endpoint, cases[i].region, NULL);
        TCFT_CHECK(cfg != NULL);
        tcf_request *req = NULL;
        int rc = tcf_build(&req, cfg, "GetLiveCode", NULL, 0, 1700000000, NULL);
        tcf_config_free(cfg);
        TCFT_CHECK(rc == 0);
        int ok = strcmp(tcf_request_url(req), cases[i].url) == 0 &&
                 strcmp(header(req, "Host"), cases[i].host) == 0;
        if (!ok)
            printf("    case %zu: %s %s\n", i, tcf_request_url(req), header(req, "Host"));
        tcf_request_free(req);
        TCFT_CHECK(ok);
    }
}

TCFT_TEST(config_bad_endpoints)
{
    static const char *const bad[] = {
        "",
        "ftp://faceid.tencentcloudapi.com",
        "https://",
        "https://faceid.tencentcloudapi.com/path",
        "https://faceid.tencentcloudapi.com/?a=1",
        "https://faceid.tencentcloudapi.com#x",
        "https://user:pw@faceid.tencentcloudapi.com",
        "https://faceid.tencentcloudapi.com:0",
        "https://faceid.tencentcloudapi.com:65536",
        "https://faceid.tencentcloudapi.com:",
        "https://faceid.tencentcloudapi.com:8a",
        "https://faceid tencentcloudapi.com",
        "https://faceid.tencentcloudapi.com\r\nX-Evil: 1",
        "https://-faceid.com",
        "https://faceid..com",
        "https://faceid_x.com",
        "https://[::1",
        "https://[::1]x",
        "https://[zz]",
        "https://人脸.com",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tcf_config_options o = TCF_CONFIG_OPTIONS_INIT;
        o.endpoint = bad[i];
        if (!config_rejected(&o, "endpoint"))
            printf("    endpoint case %zu accepted\n", i);
        TCFT_CHECK(config_rejected(&o, "endpoint"));
    }
}

TCFT_TEST(config_rejects_bad_fields_by_name)
{
    tcf_config_options o = TCF_CONFIG_OPTIONS_INIT;
    o.version = 0;
    TCFT_CHECK(config_rejected(&o, "version"));
    o.version = TCF_CONFIG_OPTIONS_VERSION + 1;
    TCFT_CHECK(config_rejected(&o, "version"));

    static const char *const languages[] = {"zh-cn", "fr-FR", "en", "zh-CN ", "en-US\n"};
    for (size_t i = 0; i < sizeof languages / sizeof languages[0]; i++) {
        tcf_config_options l = TCF_CONFIG_OPTIONS_INIT;
        l.language = languages[i];
        TCFT_CHECK(config_rejected(&l, "language"));
    }
    static const char *const regions[] = {"AP-Guangzhou", "ap_guangzhou", "-ap",
                                          "ap-",          "ap guangzhou", "ap.guangzhou"};
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++) {
        tcf_config_options r = TCF_CONFIG_OPTIONS_INIT;
        r.region = regions[i];
        TCFT_CHECK(config_rejected(&r, "region"));
    }
    static const char *const clients[] = {
        "my app",
        "a/b",
        "x:y",
        "\xe4\xb8\xad",
        "a\r\nX: y",
        "0123456789012345678901234567890123456789012345678901234"
        "5678901234567890123456789012345678901234567890123456789"};
    for (size_t i = 0; i < sizeof clients / sizeof clients[0]; i++) {
        tcf_config_options c = TCF_CONFIG_OPTIONS_INIT;
        c.request_client = clients[i];
        TCFT_CHECK(config_rejected(&c, "request_client"));
    }
    tcf_config_options s = TCF_CONFIG_OPTIONS_INIT;
    s.service = "FaceID";
    TCFT_CHECK(config_rejected(&s, "service"));
    s.service = "";
    TCFT_CHECK(config_rejected(&s, "service"));
    tcf_config_options a = TCF_CONFIG_OPTIONS_INIT;
    a.api_version = "2018-3-1";
    TCFT_CHECK(config_rejected(&a, "api_version"));
}

TCFT_TEST(config_rejects_bad_credentials_without_echoing_them)
{
    tcf_config_options o = TCF_CONFIG_OPTIONS_INIT;
    o.secret_id = KEY_ID;
    TCFT_CHECK(config_rejected(&o, "secret_key")); /* key missing */
    o.secret_key = " " KEY_SECRET;
    TCFT_CHECK(config_rejected(&o, "secret_key"));
    o.secret_key = KEY_SECRET "\n";
    TCFT_CHECK(config_rejected(&o, "secret_key"));
    o.secret_key = "";
    TCFT_CHECK(config_rejected(&o, "secret_key"));
    o.secret_key = "Gu5t9x\xc3\xa9";
    TCFT_CHECK(config_rejected(&o, "secret_key"));
    o.secret_key = KEY_SECRET;
    o.secret_id = KEY_ID "\t";
    TCFT_CHECK(config_rejected(&o, "secret_id"));
    o.secret_id = NULL;
    TCFT_CHECK(config_rejected(&o, "secret_id"));
    o.secret_id = KEY_ID;
    o.token = "tok en";
    TCFT_CHECK(config_rejected(&o, "token"));
    tcf_config_options t = TCF_CONFIG_OPTIONS_INIT;
    t.token = TOKEN;
    TCFT_CHECK(config_rejected(&t, "token"));
}

TCFT_TEST(config_optional_headers)
{
    tcf_config_options o = TCF_CONFIG_OPTIONS_INIT;
    o.secret_id = KEY_ID;
    o.secret_key = KEY_SECRET;
    o.language = "en-US";
    o.request_client = "python-3.12_tcfaceid,x;y.z";
    o.token = ""; /* same as NULL */
    o.region = "";
    tcf_config *cfg = NULL;
    TCFT_CHECK(tcf_config_new(&cfg, &o, NULL) == 0);
    tcf_request *req = NULL;
    int rc = tcf_build(&req, cfg, "GetLiveCode", "{}", 2, 1700000000, NULL);
    tcf_config_free(cfg);
    TCFT_CHECK(rc == 0);
    int ok = strcmp(header(req, "X-TC-Language"), "en-US") == 0 &&
             strcmp(header(req, "X-TC-RequestClient"),
                    "SDK_C_tcfaceid_" TCF_VERSION_STRING "; python-3.12_tcfaceid,x;y.z") == 0 &&
             header(req, "X-TC-Token") == NULL && header(req, "X-TC-Region") == NULL &&
             tcf_request_header_count(req) == 8 &&
             strcmp(tcf_request_header_name(req, 5), "X-TC-Language") == 0 &&
             strcmp(tcf_request_header_name(req, 7), "Authorization") == 0;
    tcf_request_free(req);
    TCFT_CHECK(ok);

    tcf_config_options z = TCF_CONFIG_OPTIONS_INIT;
    z.language = "zh-CN";
    z.api_version = "2020-01-01";
    z.service = "cvm";
    z.secret_id = KEY_ID;
    z.secret_key = KEY_SECRET;
    TCFT_CHECK(tcf_config_new(&cfg, &z, NULL) == 0);
    rc = tcf_build(&req, cfg, "DescribeInstances", NULL, 0, 1700000000, NULL);
    tcf_config_free(cfg);
    TCFT_CHECK(rc == 0);
    ok = strcmp(header(req, "X-TC-Language"), "zh-CN") == 0 &&
         strcmp(header(req, "X-TC-Version"), "2020-01-01") == 0 &&
         strcmp(header(req, "Host"), "cvm.tencentcloudapi.com") == 0 &&
         strstr(header(req, "Authorization"), "/cvm/tc3_request") != NULL;
    tcf_request_free(req);
    TCFT_CHECK(ok);
}

TCFT_TEST(config_null_arguments_and_no_credentials)
{
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_config_new(NULL, NULL, &err) == TCF_EINVAL && err.code == TCF_EINVAL);
    tcf_config_free(NULL);
    tcf_config *cfg = NULL;
    TCFT_CHECK(tcf_config_new(&cfg, NULL, NULL) == 0 && cfg != NULL);
    tcf_error_clear(&err);
    tcf_request *req = (tcf_request *)1;
    int rc = tcf_build(&req, cfg, "DetectAuth", NULL, 0, 1700000000, &err);
    tcf_config_free(cfg);
    TCFT_CHECK(rc == TCF_ENOCRED && err.code == TCF_ENOCRED && req == NULL);
    TCFT_CHECK(strstr(err.message, "credentials") != NULL);
}

/* ---- tcf_build arguments ---- */

TCFT_TEST(request_bad_action_names)
{
    tcf_config *cfg = make_config(NULL, NULL, NULL);
    TCFT_CHECK(cfg != NULL);
    static const char *const bad[] = {
        "",
        "detectAuth",
        "1DetectAuth",
        "Detect-Auth",
        "Detect Auth",
        "DetectAuth\n",
        "Detect_Auth",
        "D\xc3\xa9tect",
        "A1234567890123456789012345678901234567890123456789012345678901234", /* 65 */
    };
    int all = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        all &= build_fails(cfg, bad[i], NULL, 0, TCF_EINVAL);
    all &= build_fails(cfg, NULL, NULL, 0, TCF_EINVAL);
    tcf_request *req = NULL;
    int rc64 =
        tcf_build(&req, cfg, "A123456789012345678901234567890123456789012345678901234567890123",
                  NULL, 0, 1700000000, NULL);
    tcf_request_free(req);
    tcf_config_free(cfg);
    TCFT_CHECK(all);
    TCFT_CHECK(rc64 == 0);
}

TCFT_TEST(request_bad_arguments)
{
    tcf_config *cfg = make_config(NULL, NULL, NULL);
    TCFT_CHECK(cfg != NULL);
    tcf_error err;
    tcf_error_clear(&err);
    int ok = tcf_build(NULL, cfg, "DetectAuth", NULL, 0, 1, &err) == TCF_EINVAL;
    tcf_request *req = NULL;
    ok &= tcf_build(&req, NULL, "DetectAuth", NULL, 0, 1, NULL) == TCF_EINVAL;
    ok &= build_fails(cfg, "DetectAuth", NULL, 5, TCF_EINVAL);
    tcf_error_clear(&err);
    ok &= tcf_build(&req, cfg, "DetectAuth", NULL, 0, -1, &err) == TCF_EINVAL &&
          strstr(err.message, "timestamp") != NULL;
    ok &= tcf_build(&req, cfg, "DetectAuth", NULL, 0, 253402300800LL, NULL) == TCF_EINVAL;
    /* first error wins */
    tcf_error_clear(&err);
    tcfp_fail(&err, TCF_ETIMEOUT, "earlier");
    ok &= tcf_build(&req, cfg, "bad", NULL, 0, 1, &err) == TCF_EINVAL && err.code == TCF_ETIMEOUT &&
          strcmp(err.message, "earlier") == 0;
    /* accessors accept NULL */
    size_t len = 7;
    ok &= tcf_request_method(NULL) == NULL && tcf_request_url(NULL) == NULL &&
          tcf_request_header_count(NULL) == 0 && tcf_request_header_name(NULL, 0) == NULL &&
          tcf_request_body(NULL, &len) == NULL && len == 0;
    tcf_request_free(NULL);
    tcf_config_free(cfg);
    TCFT_CHECK(ok);
}

/* ---- parameters ---- */

TCFT_TEST(request_empty_params_send_empty_object)
{
    tcf_config *cfg = make_config(NULL, NULL, NULL);
    TCFT_CHECK(cfg != NULL);
    tcf_request *a = NULL, *b = NULL;
    int rc1 = tcf_build(&a, cfg, "GetLiveCode", NULL, 0, 1700000000, NULL);
    int rc2 = tcf_build(&b, cfg, "GetLiveCode", "ignored", 0, 1700000000, NULL);
    tcf_config_free(cfg);
    size_t la = 0, lb = 0;
    int ok = rc1 == 0 && rc2 == 0 && strcmp(tcf_request_body(a, &la), "{}") == 0 && la == 2 &&
             strcmp(tcf_request_body(b, &lb), "{}") == 0 && lb == 2 &&
             strcmp(header(a, "Authorization"), header(b, "Authorization")) == 0;
    /* V03 signs the body {} for GetLiveCode with the same keys and timestamp */
    json_t *v = load_vector("V03");
    const char *expected = v ? vstr(json_object_get(v, "expected"), "authorization") : NULL;
    int v03 = rc1 == 0 && expected && strcmp(header(a, "Authorization"), expected) == 0;
    json_decref(v);
    tcf_request_free(a);
    tcf_request_free(b);
    TCFT_CHECK(ok);
    TCFT_CHECK(v03);
}

TCFT_TEST(request_params_bytes_sent_unchanged)
{
    tcf_config *cfg = make_config(NULL, NULL, NULL);
    TCFT_CHECK(cfg != NULL);
    static const char *const bodies[] = {
        "{\"RuleId\": \"1\", \"Name\": \"\\u963f\\u535c\"}",
        " {\"RuleId\":\"1\"}\n",
        "{\"Name\":\"a\\u0000b\"}", /* a NUL inside a JSON string escape */
        "{\"Name\":\"\xe5\xbc\xa0\xe4\xb8\x89\xc2\xb7\"}",
        "{\"N\":1e308,\"M\":-0.000001,\"L\":[true,false,null]}",
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        tcf_request *req = NULL;
        tcf_error err;
        tcf_error_clear(&err);
        int rc = tcf_build(&req, cfg, "DetectAuth", bodies[i], strlen(bodies[i]), 1, &err);
        size_t len = 0;
        const char *sent = tcf_request_body(req, &len);
        if (rc != 0 || len != strlen(bodies[i]) || memcmp(sent, bodies[i], len) != 0) {
            printf("    body %zu: rc=%d %s\n", i, rc, err.message);
            ok = 0;
        }
        tcf_request_free(req);
    }
    tcf_config_free(cfg);
    TCFT_CHECK(ok);
}

TCFT_TEST(request_params_must_be_one_json_object)
{
    tcf_config *cfg = make_config(NULL, NULL, NULL);
    TCFT_CHECK(cfg != NULL);
    static const struct {
        const char *text;
        size_t len;
        const char *why;
    } bad[] = {
        {"[1,2]", 5, "object"},
        {"\"DetectAuth\"", 12, "object"},
        {"5", 1, "object"},
        {"null", 4, "object"},
        {" ", 1, "empty"},
        {"\n\t", 2, "empty"},
        {"{\"RuleId\":", 10, "truncated"},
        {"{\"RuleId\":\"1\"", 13, "truncated"},
        {"{\"a\":1,\"a\":2}", 13, "duplicate"},
        {"{\"a\":1} x", 9, "not valid JSON"},
        {"{\"a\":1}{}", 9, "not valid JSON"},
        {"<xml/>", 6, "not JSON"},
        {"{\"Name\":\"\xff\"}", 12, "UTF-8"},
        {"{\"Name\":\"\xe5\xbc\"}", 13, "UTF-8"},
        {"{\"Name\":\"\xed\xa0\x80\"}", 14, "UTF-8"}, /* a UTF-16 surrogate */
        {"{\"Name\":\"a\0b\"}", 14, "NUL"},           /* a raw NUL byte */
        {"{\"a\":1}\0", 8, "NUL"},
        {"{\"N\":123456789012345678901234567890}", 36, "number"},
        {"{'a':1}", 7, "not valid JSON"},
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tcf_error err;
        tcf_error_clear(&err);
        tcf_request *req = (tcf_request *)1;
        int rc = tcf_build(&req, cfg, "DetectAuth", bad[i].text, bad[i].len, 1, &err);
        if (rc != TCF_EJSON || err.code != TCF_EJSON || req != NULL ||
            strstr(err.message, bad[i].why) == NULL) {
            printf("    case %zu: rc=%d message=%s\n", i, rc, err.message);
            ok = 0;
        }
        if (rc == 0)
            tcf_request_free(req);
    }
    tcf_config_free(cfg);
    TCFT_CHECK(ok);
}

/* {"a":[[...]]} with `levels` levels in all; returns the length. */
static size_t nested(char *out, int levels)
{
    size_t m = (size_t)sprintf(out, "{\"a\":");
    for (int i = 1; i < levels; i++)
        out[m++] = '[';
    for (int i = 1; i < levels; i++)
        out[m++] = ']';
    out[m++] = '}';
    return m;
}

TCFT_TEST(request_deep_nesting_is_rejected)
{
    tcf_config *cfg = make_config(NULL, NULL, NULL);
    TCFT_CHECK(cfg != NULL);
    size_t n = 100000;
    char *deep = malloc(n + 16);
    TCFT_CHECK(deep != NULL);
    memset(deep, '[', n);
    int ok = build_fails(cfg, "DetectAuth", deep, n, TCF_EJSON);
    /* inside an object, closed properly */
    memcpy(deep, "{\"a\":", 5);
    memset(deep + 5, '[', n / 2);
    memset(deep + 5 + n / 2, ']', n / 2);
    deep[5 + n] = '}';
    ok &= build_fails(cfg, "DetectAuth", deep, n + 6, TCF_EJSON);
    /* brackets inside strings do not count */
    size_t m = 0;
    m += (size_t)sprintf(deep + m, "{\"a\":\"");
    memset(deep + m, '[', 1000);
    m += 1000;
    m += (size_t)sprintf(deep + m, "\"}");
    tcf_request *req = NULL;
    ok &= tcf_build(&req, cfg, "DetectAuth", deep, m, 1, NULL) == 0;
    tcf_request_free(req);
    /* exactly 64 levels are fine, 65 are not */
    m = nested(deep, 64);
    ok &= tcf_build(&req, cfg, "DetectAuth", deep, m, 1, NULL) == 0;
    tcf_request_free(req);
    m = nested(deep, 65);
    ok &= build_fails(cfg, "DetectAuth", deep, m, TCF_EJSON);
    free(deep);
    tcf_config_free(cfg);
    TCFT_CHECK(ok);
}

TCFT_TEST(request_huge_params)
{
    tcf_config *cfg = make_config(NULL, NULL, NULL);
    TCFT_CHECK(cfg != NULL);
    size_t payload = 8u * 1024 * 1024;
    size_t n = payload + 32;
    char *big = malloc(n);
    TCFT_CHECK(big != NULL);
    size_t m = (size_t)sprintf(big, "{\"VideoBase64\":\"");
    memset(big + m, 'A', payload);
    m += payload;
    memcpy(big + m, "\"}", 2);
    m += 2;
    tcf_request *req = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_build(&req, cfg, "LivenessRecognition", big, m, 1700000000, &err);
    size_t len = 0;
    const char *body = tcf_request_body(req, &len);
    int ok = rc == 0 && len == m && memcmp(body, big, m) == 0 && header(req, "Authorization");
    tcf_request_free(req);
    /* over the service's 10 MB limit: a local error, nothing to send */
    char *huge = malloc(11u * 1024 * 1024);
    int too_big = huge != NULL;
    if (huge) {
        tcf_error_clear(&err);
        too_big = tcf_build(&req, cfg, "LivenessRecognition", huge, 11u * 1024 * 1024, 1, &err) ==
                      TCF_EINVAL &&
                  req == NULL;
    }
    free(huge);
    free(big);
    tcf_config_free(cfg);
    TCFT_CHECK(ok);
    TCFT_CHECK(too_big);
}

/* ---- allocation failure ---- */

#ifdef TCF_ALLOC_FAILURE_INJECTION
TCFT_TEST(config_allocation_failure)
{
    tcf_config_options o = TCF_CONFIG_OPTIONS_INIT;
    o.secret_id = KEY_ID;
    o.secret_key = KEY_SECRET;
    o.token = TOKEN;
    o.region = "ap-guangzhou";
    o.language = "zh-CN";
    o.request_client = "tests";
    int ok = 1, succeeded = 0;
    for (long n = 1; n < 200 && !succeeded; n++) {
        tcf_error err;
        tcf_error_clear(&err);
        tcf_config *cfg = NULL;
        tcfp_fail_allocations_after(n);
        int rc = tcf_config_new(&cfg, &o, &err);
        tcfp_fail_allocations_after(0);
        if (rc == 0)
            succeeded = 1;
        else if (rc != TCF_ENOMEM || err.code != TCF_ENOMEM || cfg != NULL)
            ok = 0;
        tcf_config_free(cfg);
    }
    TCFT_CHECK(ok);
    TCFT_CHECK(succeeded);
}

TCFT_TEST(request_allocation_failure)
{
    tcf_config *cfg = make_config("http://127.0.0.1:8455", "ap-guangzhou", TOKEN);
    TCFT_CHECK(cfg != NULL);
    int ok = 1, succeeded = 0;
    for (long n = 1; n < 500 && !succeeded; n++) {
        tcf_error err;
        tcf_error_clear(&err);
        tcf_request *req = NULL;
        tcfp_fail_allocations_after(n);
        int rc = tcf_build(&req, cfg, "DetectAuth", V01_BODY, strlen(V01_BODY), 1700000000, &err);
        tcfp_fail_allocations_after(0);
        if (rc == 0)
            succeeded = req != NULL && tcf_request_header_count(req) == 9;
        else if (rc != TCF_ENOMEM || err.code != TCF_ENOMEM || req != NULL) {
            printf("    n=%ld rc=%d %s\n", n, rc, err.message);
            ok = 0;
        }
        tcf_request_free(req);
    }
    tcf_config_free(cfg);
    TCFT_CHECK(ok);
    TCFT_CHECK(succeeded);
}
#endif
