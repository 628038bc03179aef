/* Response parsing (tcf_parse): success, each error class, broken bodies, the Date header. */
#include "sansio.h"
#include "tcft.h"

#include <stdio.h>
#include <stdlib.h>

#define DATE_1700000000 "Tue, 14 Nov 2023 22:13:20 GMT"

static const tcf_header date_header[] = {{"Content-Type", "application/json"},
                                         {"Date", DATE_1700000000}};

/* Parse and expect a failure with `code`; err receives the details. */
static int parse_fails(int status, const char *body, size_t len, int code, tcf_error *err)
{
    tcf_error_clear(err);
    tcf_response *resp = (tcf_response *)1;
    int rc = tcf_parse(&resp, status, date_header, 2, body, len, err);
    int ok = rc == code && err->code == code && resp == NULL && err->message[0] != '\0';
    if (!ok)
        printf("    parse: rc=%d err.code=%d message=%s\n", rc, err->code, err->message);
    if (rc == 0)
        tcf_response_free(resp);
    return ok;
}

static int parse_fails_str(int status, const char *body, int code, tcf_error *err)
{
    return parse_fails(status, body, strlen(body), code, err);
}

/* ---- success ---- */

TCFT_TEST(response_success_envelope)
{
    const char *body =
        "{\"Response\":{\"BizToken\":\"CE661F1A-0F1E-45BD-BE13-34C05CEA7681\",\"Url\":"
        "\"https://faceid.qq.com/api/auth/index?token=CE661F1A\",\"Nested\":{\"A\":null,\"B\":[1,"
        "null,\"\xe5\xbc\xa0\xe4\xb8\x89\\u00b7\"],\"C\":{\"D\":null}},\"Sim\":87.13,\"Big\":"
        "1e300,\"RequestId\":\"f904f4cf-75db-4f8f-a5ec-dc4f942c7f7a\"}}";
    const char *expected =
        "{\"BizToken\":\"CE661F1A-0F1E-45BD-BE13-34C05CEA7681\",\"Url\":"
        "\"https://faceid.qq.com/api/auth/index?token=CE661F1A\",\"Nested\":{\"A\":null,\"B\":[1,"
        "null,\"\xe5\xbc\xa0\xe4\xb8\x89\\u00b7\"],\"C\":{\"D\":null}},\"Sim\":87.13,\"Big\":"
        "1e300}";
    tcf_response *resp = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_parse(&resp, 200, date_header, 2, body, strlen(body), &err) == 0);
    TCFT_CHECK(err.code == 0);
    size_t len = 0;
    const char *json = tcf_response_json(resp, &len);
    int ok = strcmp(tcf_response_request_id(resp), "f904f4cf-75db-4f8f-a5ec-dc4f942c7f7a") == 0 &&
             len == strlen(expected) && strcmp(json, expected) == 0 &&
             tcf_response_server_time(resp) == 1700000000;
    /* round trip: the text parses to the original object minus RequestId */
    json_t *mine = json_loadb(json, len, 0, NULL);
    json_t *orig = json_loads(body, 0, NULL);
    json_t *inner = json_object_get(orig, "Response");
    json_object_del(inner, "RequestId");
    int same = mine && json_equal(mine, inner) && json_equal(tcfp_response_object(resp), inner) &&
               json_is_null(json_object_get(json_object_get(mine, "Nested"), "A"));
    json_decref(mine);
    json_decref(orig);
    tcf_response_free(resp);
    TCFT_CHECK(ok);
    TCFT_CHECK(same);
}

TCFT_TEST(response_request_id_anywhere)
{
    static const struct {
        const char *body, *json;
    } cases[] = {
        {"{\"Response\":{\"RequestId\":\"r\",\"A\":1,\"B\":2}}", "{\"A\":1,\"B\":2}"},
        {"{\"Response\":{\"A\":1,\"RequestId\":\"r\",\"B\":2}}", "{\"A\":1,\"B\":2}"},
        {"{\"Response\":{\"A\":1,\"B\":2,\"RequestId\":\"r\"}}", "{\"A\":1,\"B\":2}"},
        {"{\"Response\":{\"RequestId\":\"r\"}}", "{}"},
        {"{\"Response\":{}}", "{}"},
        {" { \"Other\" : [1,{\"RequestId\":\"x\"}] , \"Response\" : {\n  \"RequestId\" : \"r\" ,\n"
         "  \"A\" : \"}\\\",{\" \n} } ",
         "{\n  \"A\" : \"}\\\",{\" \n}"},
        {"{\"Response\":{\"A\":{\"RequestId\":\"inner\"},\"Request\\u0049d\":\"r\"}}",
         "{\"A\":{\"RequestId\":\"inner\"}}"},
        {"{\"Response\":{\"A\":[],\"RequestId\":\"r\"},\"X\":1}", "{\"A\":[]}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcf_response *resp = NULL;
        tcf_error err;
        tcf_error_clear(&err);
        int rc = tcf_parse(&resp, 200, NULL, 0, cases[i].body, strlen(cases[i].body), &err);
        const char *rid = tcf_response_request_id(resp);
        int ok = rc == 0 && strcmp(tcf_response_json(resp, NULL), cases[i].json) == 0 &&
                 (i == 4 ? rid == NULL : (rid != NULL && strcmp(rid, "r") == 0)) &&
                 tcf_response_server_time(resp) == 0;
        if (!ok)
            printf("    case %zu: rc=%d %s json=%s\n", i, rc, err.message,
                   rc == 0 ? tcf_response_json(resp, NULL) : "");
        tcf_response_free(resp);
        TCFT_CHECK(ok);
    }
}

TCFT_TEST(response_nul_escape_and_non_string_request_id)
{
    const char *body = "{\"Response\":{\"Name\":\"a\\u0000b\",\"RequestId\":42}}";
    tcf_response *resp = NULL;
    TCFT_CHECK(tcf_parse(&resp, 200, NULL, 0, body, strlen(body), NULL) == 0);
    int ok = tcf_response_request_id(resp) == NULL &&
             strcmp(tcf_response_json(resp, NULL), "{\"Name\":\"a\\u0000b\"}") == 0;
    tcf_response_free(resp);
    TCFT_CHECK(ok);
}

TCFT_TEST(response_large_body)
{
    size_t payload = 8u * 1024 * 1024;
    char *body = malloc(payload + 64);
    TCFT_CHECK(body != NULL);
    size_t m = (size_t)sprintf(body, "{\"Response\":{\"Video\":\"");
    memset(body + m, 'A', payload);
    m += payload;
    m += (size_t)sprintf(body + m, "\",\"RequestId\":\"r\"}}");
    tcf_response *resp = NULL;
    int rc = tcf_parse(&resp, 200, NULL, 0, body, m, NULL);
    size_t len = 0;
    const char *json = tcf_response_json(resp, &len);
    int ok = rc == 0 && len == payload + 12 && json[len] == '\0' && json[len - 1] == '}';
    tcf_response_free(resp);
    free(body);
    TCFT_CHECK(ok);
}

/* ---- API errors ---- */

TCFT_TEST(response_error_classes)
{
    static const struct {
        const char *code;
        int cls, retryable;
    } cases[] = {
        {"AuthFailure.SignatureFailure", TCF_EAUTH, 0},
        {"AuthFailure.SignatureExpire", TCF_EAUTH, 0},
        {"AuthFailure", TCF_EAUTH, 0},
        {"AuthFailureX", TCF_EAPI, 0},
        {"RequestLimitExceeded", TCF_ETHROTTLED, 1},
        {"RequestLimitExceeded.UinLimitExceeded", TCF_ETHROTTLED, 1},
        {"LimitExceeded", TCF_ETHROTTLED, 1},
        {"FailedOperation.RequestLimitExceeded", TCF_ETHROTTLED, 1},
        {"RequestSizeLimitExceeded", TCF_EAPI, 0},
        {"FailedOperation.IdentityAuthLimitExceeded", TCF_ERATE_LIMITED, 0},
        {"InvalidParameterValue.BizTokenExpired", TCF_ETOKEN_EXPIRED, 0},
        {"InvalidParameterValue.BizTokenIllegal", TCF_EAPI, 0},
        {"InternalError", TCF_EAPI, 1},
        {"InternalError.EncryptSystemError", TCF_EAPI, 1},
        {"FailedOperation.UnKnown", TCF_EAPI, 0},
        {"InvalidParameter", TCF_EAPI, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"Response\":{\"Error\":{\"Code\":\"%s\",\"Message\":\"msg "
                 "\xe9\x94\x99\xe8\xaf\xaf\"},\"RequestId\":\"req-%zu\"}}",
                 cases[i].code, i);
        char rid[32];
        snprintf(rid, sizeof rid, "req-%zu", i);
        tcf_error err;
        int ok = parse_fails_str(200, body, cases[i].cls, &err) &&
                 strcmp(err.api_code, cases[i].code) == 0 &&
                 strcmp(err.message, "msg \xe9\x94\x99\xe8\xaf\xaf") == 0 &&
                 strcmp(err.request_id, rid) == 0 && err.http_status == 200 &&
                 err.retryable == cases[i].retryable && err.server_time == 1700000000;
        if (!ok)
            printf("    case %s: code=%d retryable=%d\n", cases[i].code, err.code, err.retryable);
        TCFT_CHECK(ok);
    }
}

TCFT_TEST(response_error_with_non_200_status_keeps_class_and_status)
{
    tcf_error err;
    const char *body = "{\"Response\":{\"Error\":{\"Code\":\"InternalError\",\"Message\":\"boom\"},"
                       "\"RequestId\":\"abc\"}}";
    TCFT_CHECK(parse_fails_str(500, body, TCF_EAPI, &err));
    TCFT_CHECK(err.http_status == 500 && err.retryable == 1 && strcmp(err.request_id, "abc") == 0);
    TCFT_CHECK(strcmp(err.api_code, "InternalError") == 0 && strcmp(err.message, "boom") == 0);
    body = "{\"Response\":{\"Error\":{\"Code\":\"AuthFailure.SignatureFailure\",\"Message\":\"x\"},"
           "\"RequestId\":\"abc\"}}";
    TCFT_CHECK(parse_fails_str(401, body, TCF_EAUTH, &err));
    TCFT_CHECK(err.http_status == 401 && err.retryable == 0);
}

TCFT_TEST(response_error_message_truncated_and_cleaned)
{
    /* 300 x "张" (900 bytes): the message keeps whole characters only */
    size_t cap = 2048;
    char *body = malloc(cap);
    TCFT_CHECK(body != NULL);
    size_t m = (size_t)sprintf(body, "{\"Response\":{\"Error\":{\"Code\":\"FailedOperation\","
                                     "\"Message\":\"");
    for (int i = 0; i < 300; i++) {
        memcpy(body + m, "\xe5\xbc\xa0", 3);
        m += 3;
    }
    m += (size_t)sprintf(body + m, "\"},\"RequestId\":\"r\"}}");
    tcf_error err;
    int ok = parse_fails(200, body, m, TCF_EAPI, &err);
    size_t n = strlen(err.message);
    free(body);
    TCFT_CHECK(ok);
    TCFT_CHECK(n > 0 && n <= TCF_ERROR_MESSAGE_MAX - 1 && n % 3 == 0);
    TCFT_CHECK(memcmp(err.message, "\xe5\xbc\xa0", 3) == 0);
    /* control characters (log injection) become spaces; a long code is truncated */
    const char *ctl = "{\"Response\":{\"Error\":{\"Code\":\"FailedOperation\",\"Message\":"
                      "\"line1\\nline2\\u0000tail\\u001b[31m\"},\"RequestId\":\"r\"}}";
    TCFT_CHECK(parse_fails_str(200, ctl, TCF_EAPI, &err));
    TCFT_CHECK_STR(err.message, "line1 line2 tail [31m");
    const char *nomsg = "{\"Response\":{\"Error\":{\"Code\":\"FailedOperation\"}}}";
    TCFT_CHECK(parse_fails_str(200, nomsg, TCF_EAPI, &err));
    TCFT_CHECK(strstr(err.message, "without a message") != NULL && err.request_id[0] == '\0');
}

TCFT_TEST(response_malformed_error_member)
{
    static const char *const bodies[] = {
        "{\"Response\":{\"Error\":\"AuthFailure\",\"RequestId\":\"r\"}}",
        "{\"Response\":{\"Error\":{},\"RequestId\":\"r\"}}",
        "{\"Response\":{\"Error\":{\"Code\":\"\"},\"RequestId\":\"r\"}}",
        "{\"Response\":{\"Error\":{\"Code\":7},\"RequestId\":\"r\"}}",
        "{\"Response\":{\"Error\":null,\"RequestId\":\"r\"}}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        tcf_error err;
        TCFT_CHECK(parse_fails_str(200, bodies[i], TCF_EJSON, &err));
        TCFT_CHECK(strstr(err.message, "Error") != NULL && strcmp(err.request_id, "r") == 0);
        TCFT_CHECK(parse_fails_str(503, bodies[i], TCF_EHTTP, &err));
        TCFT_CHECK(err.http_status == 503 && err.retryable == 1);
    }
}

/* ---- bodies that are not an envelope ---- */

TCFT_TEST(response_html_gateway_page)
{
    const char *html = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 "
                       "Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n";
    tcf_error err;
    TCFT_CHECK(parse_fails_str(502, html, TCF_EHTTP, &err));
    TCFT_CHECK(err.http_status == 502 && err.retryable == 1 && err.server_time == 1700000000);
    TCFT_CHECK(strstr(err.message, "HTML") != NULL && strstr(err.message, "502") != NULL);
    TCFT_CHECK(strstr(err.message, "nginx") == NULL && err.api_code[0] == '\0');
    TCFT_CHECK(parse_fails_str(200, html, TCF_EJSON, &err));
    TCFT_CHECK(err.http_status == 200 && strstr(err.message, "HTML") != NULL);
    TCFT_CHECK(parse_fails_str(404, "Not Found", TCF_EHTTP, &err));
    TCFT_CHECK(err.retryable == 0 && strstr(err.message, "not JSON") != NULL);
    TCFT_CHECK(parse_fails_str(429, "Too Many Requests", TCF_EHTTP, &err));
    TCFT_CHECK(err.retryable == 1);
    TCFT_CHECK(parse_fails_str(200, "OK", TCF_EJSON, &err));
}

TCFT_TEST(response_empty_body)
{
    tcf_error err;
    TCFT_CHECK(parse_fails(200, "", 0, TCF_EJSON, &err));
    TCFT_CHECK(strstr(err.message, "empty") != NULL);
    TCFT_CHECK(parse_fails(200, NULL, 0, TCF_EJSON, &err));
    TCFT_CHECK(parse_fails(502, NULL, 0, TCF_EHTTP, &err));
    TCFT_CHECK(err.http_status == 502 && strstr(err.message, "empty") != NULL);
    TCFT_CHECK(parse_fails(200, " \r\n", 3, TCF_EJSON, &err));
}

TCFT_TEST(response_truncated_body_every_prefix)
{
    const char *body =
        "{\"Response\":{\"Result\":\"0\",\"Description\":\"\xe6\x88\x90\xe5\x8a\x9f\",\"Sim\":"
        "95.5,\"Ok\":true,\"Nothing\":null,\"List\":[1,-2.5e3,false],\"Escaped\":\"\\u00b7\\n\","
        "\"RequestId\":\"abc\"}}";
    size_t n = strlen(body);
    int ok = 1;
    for (size_t cut = 1; cut < n; cut++) {
        tcf_error err;
        if (!parse_fails(200, body, cut, TCF_EJSON, &err)) {
            ok = 0;
            continue;
        }
        if (strstr(err.message, "truncated") == NULL || err.retryable != 1) {
            printf("    cut at %zu: %s\n", cut, err.message);
            ok = 0;
        }
    }
    TCFT_CHECK(ok);
    tcf_error err;
    TCFT_CHECK(parse_fails(500, body, n / 2, TCF_EHTTP, &err));
    TCFT_CHECK(strstr(err.message, "truncated") != NULL && err.http_status == 500);
}

TCFT_TEST(response_json_without_usable_response)
{
    static const struct {
        const char *body, *why;
    } cases[] = {
        {"{\"Response\": 5}", "not an object"},
        {"{\"Response\": null}", "not an object"},
        {"{\"Response\": [{}]}", "not an object"},
        {"{}", "no Response"},
        {"{\"response\":{}}", "no Response"},
        {"{\"code\":4000,\"message\":\"legacy\",\"codeDesc\":\"AuthFailure\"}", "no Response"},
        {"[]", "not an object"},
        {"\"Response\"", "not an object"},
        {"42", "not an object"},
        {"{\"Response\":{},\"Response\":{}}", "duplicate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcf_error err;
        TCFT_CHECK(parse_fails_str(200, cases[i].body, TCF_EJSON, &err));
        if (strstr(err.message, cases[i].why) == NULL)
            printf("    case %zu: %s\n", i, err.message);
        TCFT_CHECK(strstr(err.message, cases[i].why) != NULL);
        TCFT_CHECK(parse_fails_str(502, cases[i].body, TCF_EHTTP, &err));
    }
}

TCFT_TEST(response_success_envelope_with_error_status)
{
    tcf_error err;
    TCFT_CHECK(parse_fails_str(500, "{\"Response\":{\"RequestId\":\"r\"}}", TCF_EHTTP, &err));
    TCFT_CHECK(err.http_status == 500 && strcmp(err.request_id, "r") == 0);
}

TCFT_TEST(response_invalid_utf8_and_nul_bytes)
{
    tcf_error err;
    const char *bad = "{\"Response\":{\"Name\":\"\xc3\x28\",\"RequestId\":\"r\"}}";
    TCFT_CHECK(parse_fails_str(200, bad, TCF_EJSON, &err));
    TCFT_CHECK(strstr(err.message, "UTF-8") != NULL);
    const char nul[] = "{\"Response\":{\"Name\":\"a\0b\",\"RequestId\":\"r\"}}";
    TCFT_CHECK(parse_fails(200, nul, sizeof nul - 1, TCF_EJSON, &err));
    TCFT_CHECK(strstr(err.message, "NUL") != NULL);
    const char nul2[] = "{\"Response\":{\"RequestId\":\"r\"}}\0\0";
    TCFT_CHECK(parse_fails(200, nul2, sizeof nul2 - 1, TCF_EJSON, &err));
    const char nul3[] = "\0{\"Response\":{}}";
    TCFT_CHECK(parse_fails(200, nul3, sizeof nul3 - 1, TCF_EJSON, &err));
    /* messages never quote the body (it may hold identity data) */
    const char *pii = "{\"Response\":{\"IdCard\":\"11010519491231002X\" \"Name\":1}}";
    TCFT_CHECK(parse_fails_str(200, pii, TCF_EJSON, &err));
    TCFT_CHECK(strstr(err.message, "1101") == NULL);
}

TCFT_TEST(response_deep_nesting)
{
    size_t n = 100000;
    char *deep = malloc(n + 32);
    TCFT_CHECK(deep != NULL);
    memset(deep, '[', n);
    tcf_error err;
    int ok = parse_fails(200, deep, n, TCF_EJSON, &err) && strstr(err.message, "deep") != NULL;
    size_t m = (size_t)sprintf(deep, "{\"Response\":{\"A\":");
    memset(deep + m, '{', n / 2);
    ok &= parse_fails(200, deep, m + n / 2, TCF_EJSON, &err);
    memset(deep, '{', n);
    ok &= parse_fails(200, deep, n, TCF_EJSON, &err);
    free(deep);
    TCFT_CHECK(ok);
}

/* ---- the Date header ---- */

static long long date_of(const char *name, const char *value)
{
    tcf_header h[] = {{"X-Other", "1"}, {name, value}};
    tcf_response *resp = NULL;
    const char *body = "{\"Response\":{\"RequestId\":\"r\"}}";
    if (tcf_parse(&resp, 200, h, 2, body, strlen(body), NULL) != 0)
        return -1;
    long long t = tcf_response_server_time(resp);
    tcf_response_free(resp);
    return t;
}

TCFT_TEST(response_date_header)
{
    TCFT_CHECK(date_of("Date", DATE_1700000000) == 1700000000);
    TCFT_CHECK(date_of("date", " " DATE_1700000000 "\t") == 1700000000);
    TCFT_CHECK(date_of("DATE", "Thu, 01 Jan 1970 00:00:00 GMT") == 0);
    TCFT_CHECK(date_of("Date", "Sun, 06 Nov 1994 08:49:37 GMT") == 784111777);
    TCFT_CHECK(date_of("Date", "Thu, 29 Feb 2024 12:00:00 GMT") == 1709208000);
    TCFT_CHECK(date_of("Date", "Fri, 31 Dec 9999 23:59:59 GMT") == 253402300799LL);
    TCFT_CHECK(date_of("Date", "Sat, 30 Jun 2012 23:59:60 GMT") == 1341100800);
    static const char *const bad[] = {
        "",
        "garbage",
        "Tue, 14 Nov 2023 22:13:20 UTC",
        "Tue, 14 Nov 2023 22:13:20 +0000",
        "Tuesday, 14-Nov-23 22:13:20 GMT",
        "Tue Nov 14 22:13:20 2023",
        "Tue, 32 Nov 2023 22:13:20 GMT",
        "Tue, 31 Nov 2023 22:13:20 GMT",
        "Wed, 29 Feb 2023 22:13:20 GMT",
        "Tue, 14 Nov 2023 24:13:20 GMT",
        "Tue, 14 Nov 2023 22:60:20 GMT",
        "Tue, 14 Nov 2023 22:13:61 GMT",
        "Tue, 14 Foo 2023 22:13:20 GMT",
        "Xyz, 14 Nov 2023 22:13:20 GMT",
        "Tue, 14 Nov 1969 22:13:20 GMT",
        "Tue, 1a Nov 2023 22:13:20 GMT",
        "Tue, 14 Nov 2023 22:13:20 GMTX",
        "Tue, 14 Nov 2023 22:13:2 GMT",
        "Tue, -1 Nov 2023 22:13:20 GMT",
        "Tue, 14 Nov 2023 22:13:20 GMT\r\nX: y",
        "\xe5\xbc\xa0\xe5\xbc\xa0\xe5\xbc\xa0\xe5\xbc\xa0\xe5\xbc\xa0\xe5\xbc\xa0\xe5\xbc\xa0xxxxxx"
        "xx",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (date_of("Date", bad[i]) != 0)
            printf("    accepted: %s\n", bad[i]);
        TCFT_CHECK(date_of("Date", bad[i]) == 0);
    }
    TCFT_CHECK(date_of("Dates", DATE_1700000000) == 0);
    TCFT_CHECK(date_of(NULL, DATE_1700000000) == 0);
    TCFT_CHECK(date_of("Date", NULL) == 0);
    /* a malformed Date then a good one: the good one counts */
    tcf_header two[] = {{"Date", "nonsense"}, {"Date", DATE_1700000000}};
    tcf_response *resp = NULL;
    const char *body = "{\"Response\":{}}";
    TCFT_CHECK(tcf_parse(&resp, 200, two, 2, body, strlen(body), NULL) == 0);
    long long t = tcf_response_server_time(resp);
    tcf_response_free(resp);
    TCFT_CHECK(t == 1700000000);
    /* on errors too */
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_parse(&resp, 502, two, 2, "<html>", 6, &err) == TCF_EHTTP);
    TCFT_CHECK(err.server_time == 1700000000);
}

/* ---- arguments ---- */

TCFT_TEST(response_bad_arguments_and_first_error_wins)
{
    tcf_error err;
    tcf_error_clear(&err);
    const char *body = "{\"Response\":{}}";
    TCFT_CHECK(tcf_parse(NULL, 200, NULL, 0, body, strlen(body), &err) == TCF_EINVAL);
    tcf_response *resp = NULL;
    TCFT_CHECK(tcf_parse(&resp, 200, NULL, 1, body, strlen(body), NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_parse(&resp, 200, NULL, 0, NULL, 5, NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_parse(&resp, 0, NULL, 0, body, strlen(body), NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_parse(&resp, 1000, NULL, 0, body, strlen(body), NULL) == TCF_EINVAL);
    TCFT_CHECK(resp == NULL);
    tcf_error_clear(&err);
    tcfp_fail(&err, TCF_ETIMEOUT, "earlier");
    const char *auth = "{\"Response\":{\"Error\":{\"Code\":\"AuthFailure\",\"Message\":\"m\"},"
                       "\"RequestId\":\"r\"}}";
    TCFT_CHECK(tcf_parse(&resp, 200, date_header, 2, auth, strlen(auth), &err) == TCF_EAUTH);
    TCFT_CHECK(err.code == TCF_ETIMEOUT && strcmp(err.message, "earlier") == 0);
    TCFT_CHECK(err.api_code[0] == '\0' && err.request_id[0] == '\0' && err.server_time == 0);
    TCFT_CHECK(tcf_parse(&resp, 200, NULL, 0, auth, strlen(auth), NULL) == TCF_EAUTH);
    size_t len = 9;
    TCFT_CHECK(tcf_response_json(NULL, &len) == NULL && len == 0);
    TCFT_CHECK(tcf_response_request_id(NULL) == NULL && tcf_response_server_time(NULL) == 0);
    tcf_response_free(NULL);
}

/* ---- allocation failure ---- */

#ifdef TCF_ALLOC_FAILURE_INJECTION
static int parse_under_failures(const char *body, int final_code)
{
    int ok = 1, done = 0;
    for (long n = 1; n < 200 && !done; n++) {
        tcf_error err;
        tcf_error_clear(&err);
        tcf_response *resp = NULL;
        tcfp_fail_allocations_after(n);
        int rc = tcf_parse(&resp, 200, date_header, 2, body, strlen(body), &err);
        tcfp_fail_allocations_after(0);
        if (rc == final_code)
            done = 1;
        else if (rc != TCF_ENOMEM || err.code != TCF_ENOMEM || resp != NULL)
            ok = 0;
        tcf_response_free(resp);
    }
    return ok && done;
}

TCFT_TEST(response_allocation_failure)
{
    TCFT_CHECK(parse_under_failures(
        "{\"Response\":{\"A\":[1,{\"B\":null}],\"RequestId\":\"r\",\"C\":\"\xe5\xbc\xa0\"}}", 0));
    TCFT_CHECK(parse_under_failures("{\"Response\":{}}", 0));
    TCFT_CHECK(parse_under_failures("{\"Response\":{\"Error\":{\"Code\":\"RequestLimitExceeded\","
                                    "\"Message\":\"m\"},\"RequestId\":\"r\"}}",
                                    TCF_ETHROTTLED));
}
#endif

/* Found by fuzzing (tests/fuzz/crashes/parse/error-message-nul): a NUL inside the server's message
 * becomes a space like the other control characters; it does not cut the message. */
TCFT_TEST(response_error_message_with_nul)
{
    tcf_error err;
    const char *body = "{\"Response\":{\"Error\":{\"Code\":\"InvalidParameter\",\"Message\":"
                       "\"\\u0000bad\\u0000value\"},\"RequestId\":\"r\"}}";
    TCFT_CHECK(parse_fails_str(200, body, TCF_EAPI, &err));
    TCFT_CHECK_STR(err.message, " bad value");
}
