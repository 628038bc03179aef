/* DetectAuth parameters (tcf_detect_auth_body) and sessions (tcf_session_*): every validation
 * rule, exact body bytes, a recorded DetectAuth response, the JSON round trip, strict
 * from_json, result-request boundaries and allocation failures. */
#include "internal.h"
#include "tcft.h"

#include <stdio.h>
#include <stdlib.h>

#define ID_OK "110101199003071233"
#define ID_X "81000019920101003X"
#define TODAY 1764400000LL /* 2025-11-29 */

/* A DetectAuth Response as the service returns it (RequestId included). */
static const char recorded_response[] =
    "{\"Url\":\"https://open.weixin.qq.com/connect/oauth2/"
    "authorize?appid=wx2cca36a86d5035ae&redirect_uri=http%3A%2F%2Fopen.faceid.qq.com%2Fv1%2Fapi%"
    "2FgetCode%3FbizRedirect%3Dhttp%253A%252F%252Ffaceid.qq.com%252Fapi%252Fauth%252F"
    "getOpenidAndSaveToken%253Ftoken%253D7ECD8E0D-F2F6-4F52-8E5B-3E3C13F0A8E1&response_type="
    "code&scope=snsapi_base&state=&component_appid=wx9802ee81e68d6dee#wechat_redirect\","
    "\"BizToken\":\"7ECD8E0D-F2F6-4F52-8E5B-3E3C13F0A8E1\","
    "\"RequestId\":\"f904f4cf-75db-4f8f-a5ec-dc4f942c7f7a\"}";

/* The body for p, or NULL (reason printed). Caller frees with tcf_string_free. */
static char *body_of(const tcf_detect_auth_params *p)
{
    char *out = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_detect_auth_body(&out, &len, p, TODAY, &err);
    if (rc != 0 || out == NULL || strlen(out) != len) {
        printf("    body: rc=%d message=%s\n", rc, err.message);
        tcf_string_free(out);
        return NULL;
    }
    return out;
}

/* 1 when p is rejected with TCF_EINVAL, a message containing `what`, and no output. */
static int rejected(const tcf_detect_auth_params *p, const char *what)
{
    char *out = (char *)1;
    size_t len = 7;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_detect_auth_body(&out, &len, p, TODAY, &err);
    if (rc != TCF_EINVAL || err.code != TCF_EINVAL || out != NULL || len != 0 ||
        strstr(err.message, what) == NULL) {
        printf("    expected rejection '%s': rc=%d message=%s\n", what, rc, err.message);
        if (rc == 0)
            tcf_string_free(out);
        return 0;
    }
    return 1;
}

static int body_is(const tcf_detect_auth_params *p, const char *expected)
{
    char *b = body_of(p);
    int ok = b != NULL && strcmp(b, expected) == 0;
    if (!ok)
        printf("    body %s\n    want %s\n", b ? b : "(null)", expected);
    tcf_string_free(b);
    return ok;
}

TCFT_TEST(detect_auth_exact_bodies)
{
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    p.rule_id = "1";
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\"}"));

    p.id_card = ID_OK;
    p.name = "张三";
    p.redirect_url = "https://example.com/done?a=1&b=\"2\"";
    p.extra = "order\\42\n\x01";
    p.intention_verify_text = "本人自愿办理";
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"IdCard\":\"" ID_OK "\",\"Name\":\"张三\","
                           "\"RedirectUrl\":\"https://example.com/done?a=1&b=\\\"2\\\"\","
                           "\"Extra\":\"order\\\\42\\n\\u0001\","
                           "\"IntentionVerifyText\":\"本人自愿办理\"}"));

    /* "" leaves a field out, like NULL */
    tcf_detect_auth_params q = TCF_DETECT_AUTH_PARAMS_INIT;
    q.rule_id = "r-2";
    q.id_card = "";
    q.name = "";
    q.extra = "";
    q.image_base64 = "";
    q.intention_verify_text = "";
    q.redirect_url = "";
    TCFT_CHECK(body_is(&q, "{\"RuleId\":\"r-2\"}"));

    /* raw image bytes: base64-encoded in place, between Extra and IntentionVerifyText */
    static const unsigned char img[] = {0xFF, 0xD8, 0xFF, 0xE0, 'a'};
    q.image = img;
    q.image_len = sizeof img;
    q.extra = "e";
    q.intention_verify_text = "t";
    TCFT_CHECK(body_is(&q, "{\"RuleId\":\"r-2\",\"Extra\":\"e\",\"ImageBase64\":\"/9j/"
                           "4GE=\",\"IntentionVerifyText\":\"t\"}"));
    q.image_len = 3;
    TCFT_CHECK(body_is(&q, "{\"RuleId\":\"r-2\",\"Extra\":\"e\",\"ImageBase64\":\"/9j/\","
                           "\"IntentionVerifyText\":\"t\"}"));
}

TCFT_TEST(detect_auth_normalises_identity)
{
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    p.rule_id = "1";
    p.id_card = "81000019920101003x"; /* lowercase x: uppercased, and that is what is sent */
    p.name = "  阿卜杜拉•买买提 ";    /* look-alike dot and spaces: normalised */
    TCFT_CHECK(
        body_is(&p, "{\"RuleId\":\"1\",\"IdCard\":\"" ID_X "\",\"Name\":\"阿卜杜拉·买买提\"}"));
    p.name = "欧阳.娜娜";
    p.id_card = ID_X;
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"IdCard\":\"" ID_X "\",\"Name\":\"欧阳·娜娜\"}"));
}

TCFT_TEST(detect_auth_rejects)
{
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    TCFT_CHECK(rejected(&p, "RuleId is required"));
    p.rule_id = "";
    TCFT_CHECK(rejected(&p, "RuleId is required"));
    p.rule_id = "\xff";
    TCFT_CHECK(rejected(&p, "RuleId is not valid UTF-8"));
    p.rule_id = "1";

    p.id_card = "110101199003071234"; /* bad check digit */
    TCFT_CHECK(rejected(&p, ""));
    p.id_card = "11010119900307123"; /* 17 characters */
    TCFT_CHECK(rejected(&p, ""));
    p.id_card = "110101209003071238"; /* born in 2090: after today */
    TCFT_CHECK(rejected(&p, ""));
    p.id_card = ID_OK;

    p.name = "Zhang San";
    TCFT_CHECK(rejected(&p, ""));
    p.name = "张";
    TCFT_CHECK(rejected(&p, ""));
    p.name = "张三";

    p.redirect_url = "ftp://example.com/";
    TCFT_CHECK(rejected(&p, ""));
    p.redirect_url = "https://example.com/";

    char extra[1026];
    memset(extra, 'e', 1025);
    extra[1025] = '\0';
    p.extra = extra;
    TCFT_CHECK(rejected(&p, "Extra is longer than 1024 bytes"));
    extra[1024] = '\0';
    char *b = body_of(&p);
    TCFT_CHECK(b != NULL);
    tcf_string_free(b);
    p.extra = "a\xc0\xafz"; /* overlong */
    TCFT_CHECK(rejected(&p, "Extra is not valid UTF-8"));
    p.extra = "\xed\xa0\x80"; /* surrogate */
    TCFT_CHECK(rejected(&p, "Extra is not valid UTF-8"));
    p.extra = NULL;

    /* 120 characters (360 bytes) pass, 121 do not */
    char text[3 * 121 + 1] = {0};
    for (int i = 0; i < 121; i++)
        memcpy(text + 3 * i, "意", 3);
    p.intention_verify_text = text;
    TCFT_CHECK(rejected(&p, "IntentionVerifyText is longer than 120 characters"));
    text[3 * 120] = '\0';
    b = body_of(&p);
    TCFT_CHECK(b != NULL);
    tcf_string_free(b);
    p.intention_verify_text = "\xe6\x84";
    TCFT_CHECK(rejected(&p, "IntentionVerifyText is not valid UTF-8"));
    p.intention_verify_text = NULL;

    p.version = 2;
    TCFT_CHECK(rejected(&p, "version"));
    p.version = TCF_DETECT_AUTH_PARAMS_VERSION;

    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_detect_auth_body(NULL, NULL, &p, 0, &err) == TCF_EINVAL);
    char *out = (char *)1;
    TCFT_CHECK(tcf_detect_auth_body(&out, NULL, NULL, 0, NULL) == TCF_EINVAL && out == NULL);
    /* len may be NULL */
    TCFT_CHECK(tcf_detect_auth_body(&out, NULL, &p, 0, NULL) == 0 && out != NULL);
    tcf_string_free(out);
    tcf_string_free(NULL);
}

TCFT_TEST(detect_auth_image_base64)
{
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    p.rule_id = "1";
    p.image_base64 = "data:image/jpeg;base64,/9j/\r\n4GE=\n";
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"ImageBase64\":\"/9j/4GE=\"}"));
    p.image_base64 = "DATA:image/png;BASE64, iVBO\tRw0K ";
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"ImageBase64\":\"iVBORw0K\"}"));
    p.image_base64 = "QUJD\nREU=";
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"ImageBase64\":\"QUJDREU=\"}"));
    p.image_base64 = "QQ==";
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"ImageBase64\":\"QQ==\"}"));

    p.image_base64 = "data:image/jpeg,/9j/"; /* not ;base64 */
    TCFT_CHECK(rejected(&p, "data: URI"));
    p.image_base64 = "data:image/jpeg;base64";
    TCFT_CHECK(rejected(&p, "data: URI"));
    p.image_base64 = "data:image/jpeg;base64, \n";
    TCFT_CHECK(rejected(&p, "image_base64 is empty"));
    p.image_base64 = " \r\n";
    TCFT_CHECK(rejected(&p, "image_base64 is empty"));
    p.image_base64 = "QUJD-EU=";
    TCFT_CHECK(rejected(&p, "not standard base64"));
    p.image_base64 = "QUJDREU"; /* no padding */
    TCFT_CHECK(rejected(&p, "not padded base64"));
    p.image_base64 = "QU=D";
    TCFT_CHECK(rejected(&p, "not standard base64"));
    p.image_base64 = "Q===";
    TCFT_CHECK(rejected(&p, "not padded base64"));
    p.image_base64 = "QUJD_EU=";
    TCFT_CHECK(rejected(&p, "not standard base64"));

    /* both kinds, or an inconsistent raw image */
    static const unsigned char one[] = {1};
    p.image_base64 = "QQ==";
    p.image = one;
    p.image_len = 1;
    TCFT_CHECK(rejected(&p, "not both"));
    p.image_base64 = NULL;
    p.image_len = 0;
    TCFT_CHECK(rejected(&p, "no bytes"));
    p.image = NULL;
    p.image_len = 3;
    TCFT_CHECK(rejected(&p, "NULL"));
}

TCFT_TEST(detect_auth_image_3mib_limit)
{
    const size_t limit = (size_t)3 * 1024 * 1024; /* base64 characters */
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    p.rule_id = "1";
    /* raw bytes: 3 MiB / 4 * 3 bytes encode to exactly 3 MiB; 1 more byte is over */
    size_t raw = limit / 4 * 3;
    unsigned char *img = calloc(raw + 1, 1);
    TCFT_CHECK(img != NULL);
    p.image = img;
    p.image_len = raw;
    char *b = body_of(&p);
    int ok = b != NULL && strlen(b) == strlen("{\"RuleId\":\"1\",\"ImageBase64\":\"\"}") + limit &&
             strncmp(b + 29, "AAAA", 4) == 0;
    tcf_string_free(b);
    p.image_len = raw + 1;
    ok = ok && rejected(&p, "over 3 MiB");
    free(img);
    TCFT_CHECK(ok);

    /* already base64: the limit counts the text without white space and prefix */
    char *text = malloc(limit + 64);
    TCFT_CHECK(text != NULL);
    strcpy(text, "data:image/png;base64,\n");
    size_t off = strlen(text);
    memset(text + off, 'A', limit);
    text[off + limit] = '\n';
    text[off + limit + 1] = '\0';
    p.image = NULL;
    p.image_len = 0;
    p.image_base64 = text;
    b = body_of(&p);
    ok = b != NULL && strlen(b) == strlen("{\"RuleId\":\"1\",\"ImageBase64\":\"\"}") + limit;
    tcf_string_free(b);
    memcpy(text + off + limit, "AAAA", 5);
    ok = ok && rejected(&p, "over 3 MiB");
    free(text);
    TCFT_CHECK(ok);
}

/* ---- sessions ---- */

static tcf_session *recorded_session(void)
{
    tcf_session *s = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_session_new(&s, recorded_response, strlen(recorded_response), "1", "order-42",
                             1700000000, &err);
    if (rc != 0)
        printf("    session: rc=%d message=%s\n", rc, err.message);
    return s;
}

TCFT_TEST(session_from_recorded_detect_auth)
{
    tcf_session *s = recorded_session();
    TCFT_CHECK(s != NULL);
    TCFT_CHECK_STR(tcf_session_biz_token(s), "7ECD8E0D-F2F6-4F52-8E5B-3E3C13F0A8E1");
    TCFT_CHECK_STR(tcf_session_rule_id(s), "1");
    TCFT_CHECK_STR(tcf_session_extra(s), "order-42");
    TCFT_CHECK(strncmp(tcf_session_url(s), "https://open.weixin.qq.com/connect/", 35) == 0);
    TCFT_CHECK(strstr(tcf_session_url(s), "#wechat_redirect") != NULL);
    TCFT_CHECK(tcf_session_created_at(s) == 1700000000);
    TCFT_CHECK(tcf_session_expires_at(s) == 1700000000 + 7200);
    TCFT_CHECK(tcf_session_results_until(s) == 1700000000 + 3 * 86400);
    tcf_session_free(s);

    /* the envelope, no Url, no extra */
    const char *env = "{\"Response\":{\"BizToken\":\"tok\",\"Url\":null,\"RequestId\":\"r\"}}";
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_session_new(&s, env, strlen(env), "7", "", 10, &err) == 0);
    TCFT_CHECK_STR(tcf_session_biz_token(s), "tok");
    TCFT_CHECK(tcf_session_url(s) == NULL && tcf_session_extra(s) == NULL);
    tcf_session_free(s);
    tcf_session_free(NULL);
    TCFT_CHECK(tcf_session_biz_token(NULL) == NULL && tcf_session_expires_at(NULL) == 0);
}

static int session_new_fails(const char *json, const char *rule, const char *extra,
                             long long created, int code)
{
    tcf_session *s = (tcf_session *)1;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_session_new(&s, json, json ? strlen(json) : 0, rule, extra, created, &err);
    if (rc != code || err.code != code || s != NULL) {
        printf("    session_new: rc=%d message=%s\n", rc, err.message);
        if (rc == 0)
            tcf_session_free(s);
        return 0;
    }
    return 1;
}

TCFT_TEST(session_new_rejects)
{
    const char *ok = "{\"BizToken\":\"t\"}";
    TCFT_CHECK(session_new_fails("", "1", NULL, 0, TCF_EJSON));
    TCFT_CHECK(session_new_fails("[1]", "1", NULL, 0, TCF_EJSON));
    TCFT_CHECK(session_new_fails("{\"BizToken\":1}", "1", NULL, 0, TCF_EJSON));
    TCFT_CHECK(session_new_fails("{\"BizToken\":\"\"}", "1", NULL, 0, TCF_EJSON));
    TCFT_CHECK(session_new_fails("{\"BizToken\":\"a\\u0000b\"}", "1", NULL, 0, TCF_EJSON));
    TCFT_CHECK(session_new_fails("{\"Url\":\"u\"}", "1", NULL, 0, TCF_EJSON));
    TCFT_CHECK(session_new_fails("{\"BizToken\":\"t\",\"Url\":5}", "1", NULL, 0, TCF_EJSON));
    TCFT_CHECK(session_new_fails(NULL, "1", NULL, 0, TCF_EINVAL));
    TCFT_CHECK(session_new_fails(ok, NULL, NULL, 0, TCF_EINVAL));
    TCFT_CHECK(session_new_fails(ok, "", NULL, 0, TCF_EINVAL));
    TCFT_CHECK(session_new_fails(ok, "1", "\xff", 0, TCF_EINVAL));
    TCFT_CHECK(session_new_fails(ok, "1", NULL, -1, TCF_EINVAL));
    TCFT_CHECK(session_new_fails(ok, "1", NULL, 253402300800LL, TCF_EINVAL));
    TCFT_CHECK(tcf_session_new(NULL, ok, strlen(ok), "1", NULL, 0, NULL) == TCF_EINVAL);
}

TCFT_TEST(session_json_round_trip)
{
    tcf_session *s = recorded_session();
    TCFT_CHECK(s != NULL);
    char *json = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_session_to_json(s, &json, &len, &err);
    tcf_session_free(s);
    TCFT_CHECK(rc == 0 && json != NULL && strlen(json) == len);
    TCFT_CHECK(strncmp(json,
                       "{\"v\":1,\"biz_token\":\"7ECD8E0D-F2F6-4F52-8E5B-3E3C13F0A8E1\","
                       "\"rule_id\":\"1\",\"url\":\"https://open.weixin",
                       92) == 0);
    const char *tail = "\"extra\":\"order-42\",\"created_at\":1700000000,\"expires_at\":1700007200,"
                       "\"results_until\":1700259200}";
    TCFT_CHECK(len > strlen(tail) && strcmp(json + len - strlen(tail), tail) == 0);

    tcf_session *t = NULL;
    rc = tcf_session_from_json(&t, json, len, &err);
    tcf_string_free(json);
    TCFT_CHECK(rc == 0 && t != NULL);
    TCFT_CHECK_STR(tcf_session_biz_token(t), "7ECD8E0D-F2F6-4F52-8E5B-3E3C13F0A8E1");
    TCFT_CHECK_STR(tcf_session_extra(t), "order-42");
    TCFT_CHECK(tcf_session_results_until(t) == 1700259200);
    /* and again: byte-identical */
    char *again = NULL;
    TCFT_CHECK(tcf_session_to_json(t, &again, NULL, &err) == 0);
    tcf_session_free(t);
    TCFT_CHECK(strstr(again, tail) != NULL);
    tcf_string_free(again);

    /* nulls and escapes survive */
    const char *minimal = "{\"v\":1,\"biz_token\":\"t\\\"k\",\"rule_id\":\"规则\",\"url\":null,"
                          "\"extra\":null,\"created_at\":0,\"expires_at\":7200,"
                          "\"results_until\":259200}";
    TCFT_CHECK(tcf_session_from_json(&t, minimal, strlen(minimal), &err) == 0);
    TCFT_CHECK(tcf_session_url(t) == NULL && tcf_session_extra(t) == NULL);
    TCFT_CHECK_STR(tcf_session_biz_token(t), "t\"k");
    TCFT_CHECK(tcf_session_to_json(t, &again, &len, &err) == 0);
    tcf_session_free(t);
    TCFT_CHECK_STR(again, minimal);
    tcf_string_free(again);
    TCFT_CHECK(tcf_session_to_json(NULL, &again, &len, NULL) == TCF_EINVAL && again == NULL);
}

static int from_json_fails(const char *json, int code, const char *what)
{
    tcf_session *s = (tcf_session *)1;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_session_from_json(&s, json, json ? strlen(json) : 0, &err);
    if (rc != code || s != NULL || strstr(err.message, what) == NULL) {
        printf("    from_json %s: rc=%d message=%s\n", json ? json : "NULL", rc, err.message);
        if (rc == 0)
            tcf_session_free(s);
        return 0;
    }
    return 1;
}

#define SESSION_TAIL "\"created_at\":0,\"expires_at\":7200,\"results_until\":259200}"
TCFT_TEST(session_from_json_is_strict)
{
    TCFT_CHECK(from_json_fails(NULL, TCF_EINVAL, "NULL"));
    TCFT_CHECK(from_json_fails("", TCF_EJSON, "session"));
    TCFT_CHECK(from_json_fails("{\"v\":1", TCF_EJSON, "session"));
    TCFT_CHECK(from_json_fails("[]", TCF_EJSON, "not a JSON object"));
    TCFT_CHECK(from_json_fails(
        "{\"biz_token\":\"t\",\"rule_id\":\"1\",\"url\":null,\"extra\":null," SESSION_TAIL,
        TCF_EJSON, "no version"));
    TCFT_CHECK(from_json_fails("{\"v\":2,\"biz_token\":\"t\",\"rule_id\":\"1\",\"url\":null,"
                               "\"extra\":null," SESSION_TAIL,
                               TCF_EJSON, "not 1"));
    TCFT_CHECK(from_json_fails("{\"v\":\"1\",\"biz_token\":\"t\",\"rule_id\":\"1\",\"url\":null,"
                               "\"extra\":null," SESSION_TAIL,
                               TCF_EJSON, "not 1"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"biz_token\":\"t\",\"rule_id\":\"1\",\"url\":null,"
                               "\"extra\":null,\"more\":1," SESSION_TAIL,
                               TCF_EJSON, "unknown member"));
    TCFT_CHECK(
        from_json_fails("{\"v\":1,\"rule_id\":\"1\",\"url\":null,\"extra\":null," SESSION_TAIL,
                        TCF_EJSON, "no \"biz_token\""));
    TCFT_CHECK(from_json_fails(
        "{\"v\":1,\"biz_token\":\"t\",\"rule_id\":\"1\",\"extra\":null," SESSION_TAIL, TCF_EJSON,
        "no \"url\""));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"biz_token\":null,\"rule_id\":\"1\",\"url\":null,"
                               "\"extra\":null," SESSION_TAIL,
                               TCF_EJSON, "\"biz_token\" is not a string"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"biz_token\":\"t\",\"rule_id\":1,\"url\":null,"
                               "\"extra\":null," SESSION_TAIL,
                               TCF_EJSON, "\"rule_id\" is not a string"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"biz_token\":\"t\",\"rule_id\":\"1\",\"url\":[],"
                               "\"extra\":null," SESSION_TAIL,
                               TCF_EJSON, "\"url\" is not a string or null"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"biz_token\":\"t\",\"rule_id\":\"1\",\"url\":null,"
                               "\"extra\":true," SESSION_TAIL,
                               TCF_EJSON, "\"extra\" is not a string or null"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"biz_token\":\"t\",\"rule_id\":\"1\",\"url\":null,"
                               "\"extra\":null,\"created_at\":0.5,\"expires_at\":7200,"
                               "\"results_until\":259200}",
                               TCF_EJSON, "\"created_at\" is not an integer"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"biz_token\":\"t\",\"rule_id\":\"1\",\"url\":null,"
                               "\"extra\":null,\"created_at\":0,\"expires_at\":\"7200\","
                               "\"results_until\":259200}",
                               TCF_EJSON, "\"expires_at\" is not an integer"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"biz_token\":\"t\",\"rule_id\":\"1\",\"url\":null,"
                               "\"extra\":null,\"created_at\":0,\"expires_at\":7200}",
                               TCF_EJSON, "no \"results_until\""));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"biz_token\":\"t\",\"rule_id\":\"1\",\"url\":null,"
                               "\"extra\":null,\"created_at\":0,\"expires_at\":7201,"
                               "\"results_until\":259200}",
                               TCF_EJSON, "do not match"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"biz_token\":\"\",\"rule_id\":\"1\",\"url\":null,"
                               "\"extra\":null," SESSION_TAIL,
                               TCF_EJSON, "biz_token"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"biz_token\":\"t\",\"rule_id\":\"\",\"url\":null,"
                               "\"extra\":null," SESSION_TAIL,
                               TCF_EJSON, "rule_id"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"biz_token\":\"t\",\"rule_id\":\"1\",\"url\":null,"
                               "\"extra\":null,\"created_at\":-7200,\"expires_at\":0,"
                               "\"results_until\":252000}",
                               TCF_EJSON, "created_at"));
}

TCFT_TEST(session_result_request_boundaries)
{
    tcf_session *s = recorded_session();
    TCFT_CHECK(s != NULL);
    const long long c = 1700000000;
    tcf_error err;
    tcf_error_clear(&err);
    int ok = tcf_session_check_result_request(s, NULL, c, &err) == 0 &&
             tcf_session_check_result_request(s, "1", c + 3 * 86400, &err) == 0 &&
             tcf_session_check_result_request(s, NULL, c + 3 * 86400, &err) == 0 && err.code == 0;
    ok = ok &&
         tcf_session_check_result_request(s, "1", c + 3 * 86400 + 1, &err) == TCF_ETOKEN_EXPIRED &&
         err.code == TCF_ETOKEN_EXPIRED && strstr(err.message, "3 days") != NULL;
    tcf_error_clear(&err);
    ok = ok && tcf_session_check_result_request(s, "2", c, &err) == TCF_EINVAL &&
         strstr(err.message, "RuleId") != NULL;
    ok = ok && tcf_session_check_result_request(NULL, NULL, c, NULL) == TCF_EINVAL;
    ok = ok && tcf_session_can_start(s, c) == 1 && tcf_session_can_start(s, c + 7200) == 1 &&
         tcf_session_can_start(s, c + 7201) == 0 && tcf_session_can_start(NULL, c) == 0;
    tcf_session_free(s);
    TCFT_CHECK(ok);
}

#ifdef TCF_ALLOC_FAILURE_INJECTION
TCFT_TEST(session_allocation_failures)
{
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    p.rule_id = "1";
    p.id_card = ID_OK;
    p.name = "张三";
    p.image_base64 = "QQ==";
    int succeeded = 0;
    for (long n = 1; n <= 5 && !succeeded; n++) {
        char *out = NULL;
        tcf_error err;
        tcf_error_clear(&err);
        tcfp_fail_allocations_after(n);
        int rc = tcf_detect_auth_body(&out, NULL, &p, 0, &err);
        tcfp_fail_allocations_after(0);
        if (rc == 0) {
            succeeded = 1;
            tcf_string_free(out);
        } else {
            TCFT_CHECK(rc == TCF_ENOMEM && err.code == TCF_ENOMEM && out == NULL);
        }
    }
    TCFT_CHECK(succeeded);

    succeeded = 0;
    for (long n = 1; n <= 20 && !succeeded; n++) {
        tcf_session *s = NULL;
        tcf_error err;
        tcf_error_clear(&err);
        tcfp_fail_allocations_after(n);
        int rc =
            tcf_session_new(&s, recorded_response, strlen(recorded_response), "1", "x", 5, &err);
        tcfp_fail_allocations_after(0);
        if (rc == 0) {
            succeeded = 1;
            char *json = NULL;
            for (long m = 1; m <= 20; m++) {
                tcfp_fail_allocations_after(m);
                rc = tcf_session_to_json(s, &json, NULL, NULL);
                tcfp_fail_allocations_after(0);
                if (rc == 0)
                    break;
                TCFT_CHECK(rc == TCF_ENOMEM && json == NULL);
            }
            tcf_session_free(s);
            TCFT_CHECK(json != NULL);
            int from_ok = 0;
            for (long m = 1; m <= 20 && !from_ok; m++) {
                tcf_session *t = NULL;
                tcfp_fail_allocations_after(m);
                rc = tcf_session_from_json(&t, json, strlen(json), NULL);
                tcfp_fail_allocations_after(0);
                if (rc == 0) {
                    from_ok = 1;
                    tcf_session_free(t);
                } else if (rc != TCF_ENOMEM || t != NULL) {
                    break;
                }
            }
            tcf_string_free(json);
            TCFT_CHECK(from_ok);
        } else {
            TCFT_CHECK(rc == TCF_ENOMEM && err.code == TCF_ENOMEM && s == NULL);
        }
    }
    TCFT_CHECK(succeeded);
}
#endif

/* ---- DetectAuth intention options (IntentionQuestions, IntentionActions, Config) ---- */

/* n copies of the 3-byte character 意 into buf (at least 3 * n + 1 bytes). */
static char *cjk_text(char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++)
        memcpy(buf + 3 * i, "意", 3);
    buf[3 * n] = '\0';
    return buf;
}

static const char *const yes_answers[] = {"是", "是的", "对"};
static const char *const nod_texts[] = {"请点头确认", "同意请\"点头\""};

#define QA_ONE                                                                                            \
    "\"IntentionQuestions\":[{\"Question\":\"您是否本人办理？\",\"Answers\":[\"是\",\"是的\"," \
    "\"对\"]}]"

TCFT_TEST(detect_auth_intention_questions_exact)
{
    tcf_intention_question q[2] = {{"您是否本人办理？", yes_answers, 3},
                                   {"Is it \"you\"?\n", yes_answers + 1, 1}};
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    p.rule_id = "1";
    p.intention_questions = q;
    p.intention_question_count = 1;
    /* IntentionType 0 (Q&A) is the service's default: not sent unless given */
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\"," QA_ONE "}"));
    p.intention_question_count = 2;
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"IntentionQuestions\":[{\"Question\":\"您是否本人"
                           "办理？\",\"Answers\":[\"是\",\"是的\",\"对\"]},{\"Question\":\"Is it "
                           "\\\"you\\\"?\\n\",\"Answers\":[\"是的\"]}]}"));
    p.intention_question_count = 1;
    p.intention_type = 0;
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\"," QA_ONE ",\"Config\":{\"IntentionType\":0}}"));
    /* every Config field, in the order IntentionRecognition, IntentionType,
     * MouthOpenRecognition, Speed; after the other members */
    p.intention_recognition = 0;
    p.mouth_open_recognition = 1;
    p.speed = 2;
    p.extra = "x";
    p.intention_verify_text = "本人自愿";
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"Extra\":\"x\",\"IntentionVerifyText\":\"本人自愿\","
                           "" QA_ONE ",\"Config\":{\"IntentionRecognition\":false,"
                           "\"IntentionType\":0,\"MouthOpenRecognition\":true,\"Speed\":2}}"));
    p.intention_type = -1;
    p.intention_recognition = 1;
    p.mouth_open_recognition = -1;
    p.speed = 0;
    p.extra = NULL;
    p.intention_verify_text = NULL;
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\"," QA_ONE
                           ",\"Config\":{\"IntentionRecognition\":true,\"Speed\":0}}"));

    /* 10 rounds, 50 answers of 10 characters (CJK: 30 bytes each), a 250-character question */
    static const char *const many[50] = {"一二三四五六七八九十",
                                         "一二三四五六七八九十",
                                         "一二三四五六七八九十",
                                         "一二三四五六七八九十",
                                         "一二三四五六七八九十",
                                         "一二三四五六七八九十",
                                         "一二三四五六七八九十",
                                         "一二三四五六七八九十",
                                         "一二三四五六七八九十",
                                         "一二三四五六七八九十",
                                         "abcdefghij",
                                         "a",
                                         "b",
                                         "c",
                                         "d",
                                         "e",
                                         "f",
                                         "g",
                                         "h",
                                         "i",
                                         "j",
                                         "k",
                                         "l",
                                         "m",
                                         "n",
                                         "o",
                                         "p",
                                         "q",
                                         "r",
                                         "s",
                                         "t",
                                         "u",
                                         "v",
                                         "w",
                                         "x",
                                         "y",
                                         "z",
                                         "0",
                                         "1",
                                         "2",
                                         "3",
                                         "4",
                                         "5",
                                         "6",
                                         "7",
                                         "8",
                                         "9",
                                         "😀😀😀😀😀😀😀😀😀😀",
                                         "é",
                                         "ß"};
    char question[3 * 250 + 1];
    tcf_intention_question ten[10];
    for (size_t i = 0; i < 10; i++) {
        ten[i].question = cjk_text(question, 250);
        ten[i].answers = many;
        ten[i].answer_count = 50;
    }
    p.intention_questions = ten;
    p.intention_question_count = 10;
    char *b = body_of(&p);
    TCFT_CHECK(b != NULL);
    int ok = strstr(b, "\"😀😀😀😀😀😀😀😀😀😀\",\"é\",\"ß\"]}]") != NULL;
    tcf_string_free(b);
    TCFT_CHECK(ok);
}

TCFT_TEST(detect_auth_intention_actions_exact)
{
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    p.rule_id = "1";
    p.intention_actions = nod_texts;
    p.intention_action_count = 2;
    /* IntentionType 1 (nod) is implied by the actions */
    const char *nod = "{\"RuleId\":\"1\",\"IntentionActions\":[{\"Text\":\"请点头确认\"},{\"Text\":"
                      "\"同意请\\\"点头\\\"\"}],\"Config\":{\"IntentionType\":1}}";
    TCFT_CHECK(body_is(&p, nod));
    p.intention_type = 1;
    TCFT_CHECK(body_is(&p, nod));
    p.intention_type = -1;
    p.intention_action_count = 1;
    p.intention_recognition = 1;
    p.mouth_open_recognition = 0;
    p.speed = 3;
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"IntentionActions\":[{\"Text\":\"请点头确认\"}],"
                           "\"Config\":{\"IntentionRecognition\":true,\"IntentionType\":1,"
                           "\"MouthOpenRecognition\":false,\"Speed\":3}}"));

    /* 10 texts of 250 characters */
    char text[3 * 250 + 1];
    const char *ten[10];
    for (size_t i = 0; i < 10; i++)
        ten[i] = cjk_text(text, 250);
    p.intention_actions = ten;
    p.intention_action_count = 10;
    char *b = body_of(&p);
    TCFT_CHECK(b != NULL);
    tcf_string_free(b);
}

TCFT_TEST(detect_auth_config_alone)
{
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    p.rule_id = "1";
    p.speed = 3;
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"Config\":{\"Speed\":3}}"));
    p.speed = -1;
    p.intention_recognition = 0;
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"Config\":{\"IntentionRecognition\":false}}"));
    p.intention_recognition = -1;
    p.mouth_open_recognition = 1;
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"Config\":{\"MouthOpenRecognition\":true}}"));
    p.mouth_open_recognition = -1;
    p.intention_type = 1;
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"Config\":{\"IntentionType\":1}}"));
    p.intention_type = 0;
    TCFT_CHECK(body_is(&p, "{\"RuleId\":\"1\",\"Config\":{\"IntentionType\":0}}"));
    /* NULL with a count of 0 is no list; a list with a count of 0 is an error */
    tcf_intention_question q = {"问题", yes_answers, 1};
    p.intention_type = -1;
    p.intention_questions = &q;
    TCFT_CHECK(rejected(&p, "IntentionQuestions: 1 to 10 rounds"));
    p.intention_questions = NULL;
    p.intention_actions = nod_texts;
    TCFT_CHECK(rejected(&p, "IntentionActions: 1 to 10 rounds"));
}

TCFT_TEST(detect_auth_intention_rejects)
{
    char long_text[3 * 251 + 1];
    tcf_intention_question q = {"您是否本人办理？", yes_answers, 3};
    tcf_intention_question eleven[11];
    for (size_t i = 0; i < 11; i++)
        eleven[i] = q;
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    p.rule_id = "1";

    /* rounds */
    p.intention_question_count = 1; /* NULL list */
    TCFT_CHECK(rejected(&p, "IntentionQuestions"));
    p.intention_questions = eleven;
    p.intention_question_count = 11;
    TCFT_CHECK(rejected(&p, "1 to 10 rounds"));
    p.intention_question_count = 10;
    char *b = body_of(&p);
    TCFT_CHECK(b != NULL);
    tcf_string_free(b);

    /* the question */
    p.intention_questions = &q;
    p.intention_question_count = 1;
    q.question = "";
    TCFT_CHECK(rejected(&p, "IntentionQuestions[0].Question"));
    q.question = NULL;
    TCFT_CHECK(rejected(&p, "IntentionQuestions[0].Question"));
    q.question = cjk_text(long_text, 251);
    TCFT_CHECK(rejected(&p, "IntentionQuestions[0].Question is longer than 250 characters"));
    q.question = cjk_text(long_text, 250);
    b = body_of(&p);
    TCFT_CHECK(b != NULL);
    tcf_string_free(b);
    q.question = "\xe6\x84?";
    TCFT_CHECK(rejected(&p, "not valid UTF-8"));
    q.question = "问题";

    /* the answers: 1-50 of 1-10 characters */
    q.answer_count = 0;
    TCFT_CHECK(rejected(&p, "IntentionQuestions[0].Answers"));
    q.answer_count = 1;
    q.answers = NULL;
    TCFT_CHECK(rejected(&p, "IntentionQuestions[0].Answers"));
    const char *fifty_one[51];
    for (size_t i = 0; i < 51; i++)
        fifty_one[i] = "是";
    q.answers = fifty_one;
    q.answer_count = 51;
    TCFT_CHECK(rejected(&p, "IntentionQuestions[0].Answers"));
    q.answer_count = 50;
    b = body_of(&p);
    TCFT_CHECK(b != NULL);
    tcf_string_free(b);
    const char *answers[2] = {"是", "一二三四五六七八九十一"}; /* 11 characters */
    q.answers = answers;
    q.answer_count = 2;
    TCFT_CHECK(rejected(&p, "IntentionQuestions[0].Answers[1] is longer than 10 characters"));
    answers[1] = "abcdefghijk";
    TCFT_CHECK(rejected(&p, "IntentionQuestions[0].Answers[1] is longer than 10 characters"));
    answers[1] = "";
    TCFT_CHECK(rejected(&p, "IntentionQuestions[0].Answers[1]"));
    answers[1] = NULL;
    TCFT_CHECK(rejected(&p, "IntentionQuestions[0].Answers[1]"));
    answers[1] = "\xff";
    TCFT_CHECK(rejected(&p, "IntentionQuestions[0].Answers[1] is not valid UTF-8"));
    answers[1] = "一二三四五六七八九十"; /* 10 characters, 30 bytes */
    b = body_of(&p);
    TCFT_CHECK(b != NULL);
    tcf_string_free(b);
    /* an error in the second round names it */
    tcf_intention_question two[2] = {q, q};
    const char *bad_answers[1] = {"abcdefghijk"};
    two[1].answers = bad_answers;
    two[1].answer_count = 1;
    p.intention_questions = two;
    p.intention_question_count = 2;
    TCFT_CHECK(rejected(&p, "IntentionQuestions[1].Answers[0]"));
    p.intention_questions = NULL;
    p.intention_question_count = 0;

    /* actions: 1-10 texts of 1-250 characters */
    p.intention_action_count = 1; /* NULL list */
    TCFT_CHECK(rejected(&p, "IntentionActions"));
    const char *acts[11];
    for (size_t i = 0; i < 11; i++)
        acts[i] = "请点头";
    p.intention_actions = acts;
    p.intention_action_count = 11;
    TCFT_CHECK(rejected(&p, "1 to 10 rounds"));
    p.intention_action_count = 2;
    acts[1] = "";
    TCFT_CHECK(rejected(&p, "IntentionActions[1].Text"));
    acts[1] = NULL;
    TCFT_CHECK(rejected(&p, "IntentionActions[1].Text"));
    acts[1] = cjk_text(long_text, 251);
    TCFT_CHECK(rejected(&p, "IntentionActions[1].Text is longer than 250 characters"));
    acts[1] = "请点头";

    /* both lists, or a contradicting IntentionType */
    q.answers = yes_answers;
    q.answer_count = 3;
    p.intention_questions = &q;
    p.intention_question_count = 1;
    TCFT_CHECK(rejected(&p, "not both"));
    p.intention_action_count = 0;
    p.intention_actions = NULL;
    p.intention_type = 1;
    TCFT_CHECK(rejected(&p, "IntentionType"));
    p.intention_questions = NULL;
    p.intention_question_count = 0;
    p.intention_actions = acts;
    p.intention_action_count = 1;
    p.intention_type = 0;
    TCFT_CHECK(rejected(&p, "IntentionType"));
    p.intention_type = -1;

    /* Config values */
    p.intention_type = 2;
    TCFT_CHECK(rejected(&p, "Config.IntentionType"));
    p.intention_type = -2;
    TCFT_CHECK(rejected(&p, "Config.IntentionType"));
    p.intention_type = -1;
    p.intention_recognition = 2;
    TCFT_CHECK(rejected(&p, "Config.IntentionRecognition"));
    p.intention_recognition = -2;
    TCFT_CHECK(rejected(&p, "Config.IntentionRecognition"));
    p.intention_recognition = -1;
    p.mouth_open_recognition = 2;
    TCFT_CHECK(rejected(&p, "Config.MouthOpenRecognition"));
    p.mouth_open_recognition = -1;
    p.speed = 4;
    TCFT_CHECK(rejected(&p, "Config.Speed"));
    p.speed = -2;
    TCFT_CHECK(rejected(&p, "Config.Speed"));
    p.speed = 1;
    b = body_of(&p);
    TCFT_CHECK(b != NULL);
    tcf_string_free(b);
}

/* ---- GetEidToken body ---- */

#define MERCHANT "0NSJ2106291122"

static int eid_body_is(const tcf_eid_token_params *p, const char *expected)
{
    char *out = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_eid_token_body(&out, &len, p, TODAY, &err);
    int ok = rc == 0 && out != NULL && strlen(out) == len && strcmp(out, expected) == 0;
    if (!ok)
        printf("    eid body rc=%d message=%s\n    body %s\n    want %s\n", rc, err.message,
               out ? out : "(null)", expected);
    tcf_string_free(out);
    return ok;
}

/* 1 when p is rejected with TCF_EINVAL, a message containing `what` and none of `secrets`. */
static int eid_rejected(const tcf_eid_token_params *p, const char *what)
{
    char *out = (char *)1;
    size_t len = 7;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_eid_token_body(&out, &len, p, TODAY, &err);
    int ok = rc == TCF_EINVAL && err.code == TCF_EINVAL && out == NULL && len == 0 &&
             strstr(err.message, what) != NULL;
    if (ok && p->id_card && *p->id_card && strstr(err.message, p->id_card) != NULL)
        ok = 0;
    if (ok && p->name && *p->name && strstr(err.message, p->name) != NULL)
        ok = 0;
    if (!ok) {
        printf("    expected eid rejection '%s': rc=%d message=%s\n", what, rc, err.message);
        if (rc == 0)
            tcf_string_free(out);
    }
    return ok;
}

TCFT_TEST(eid_token_body_exact)
{
    tcf_eid_token_params p = TCF_EID_TOKEN_PARAMS_INIT;
    p.merchant_id = MERCHANT;
    /* nothing in Config: no Config */
    TCFT_CHECK(eid_body_is(&p, "{\"MerchantId\":\"" MERCHANT "\"}"));
    p.id_card = "";
    p.name = "";
    p.extra = "";
    p.redirect_url = "";
    p.intention_verify_text = "";
    TCFT_CHECK(eid_body_is(&p, "{\"MerchantId\":\"" MERCHANT "\"}"));

    /* identity normalised as for DetectAuth; InputType sent as a string */
    p.id_card = "81000019920101003x";
    p.name = "  欧阳.娜娜 ";
    p.extra = "order\\7\n";
    p.redirect_url = "https://example.com/back?a=1";
    p.input_type = 4;
    TCFT_CHECK(eid_body_is(&p, "{\"MerchantId\":\"" MERCHANT "\",\"IdCard\":\"" ID_X
                               "\",\"Name\":\"欧阳·娜娜\",\"Extra\":\"order\\\\7\\n\","
                               "\"Config\":{\"InputType\":\"4\"},"
                               "\"RedirectUrl\":\"https://example.com/back?a=1\"}"));
    p.id_card = NULL;
    p.name = NULL;
    p.extra = NULL;
    p.redirect_url = NULL;
    for (int t = 1; t <= 3; t++) {
        char want[96];
        p.input_type = t;
        snprintf(want, sizeof want,
                 "{\"MerchantId\":\"" MERCHANT "\",\"Config\":{\"InputType\":\"%d\"}}", t);
        TCFT_CHECK(eid_body_is(&p, want));
    }
    p.input_type = 0;

    /* read aloud: IntentionMode "1" and UseIntentionVerify true implied */
    p.intention_verify_text = "本人自愿办理";
    TCFT_CHECK(eid_body_is(&p,
                           "{\"MerchantId\":\"" MERCHANT "\",\"Config\":{\"UseIntentionVerify\""
                           ":true,\"IntentionMode\":\"1\",\"IntentionVerifyText\":\"本人自愿办理"
                           "\"}}"));
    p.use_intention_verify = 1;
    p.intention_mode = 1;
    TCFT_CHECK(eid_body_is(&p,
                           "{\"MerchantId\":\"" MERCHANT "\",\"Config\":{\"UseIntentionVerify\""
                           ":true,\"IntentionMode\":\"1\",\"IntentionVerifyText\":\"本人自愿办理"
                           "\"}}"));
    p.use_intention_verify = -1;
    p.intention_mode = 0;
    p.intention_verify_text = NULL;

    /* Q&A: "2" */
    tcf_intention_question q = {"您是否本人办理？", yes_answers, 3};
    p.intention_questions = &q;
    p.intention_question_count = 1;
    TCFT_CHECK(eid_body_is(&p, "{\"MerchantId\":\"" MERCHANT "\",\"Config\":{\"UseIntentionVerify\""
                               ":true,\"IntentionMode\":\"2\"," QA_ONE "}}"));
    /* every Config field in order */
    p.input_type = 2;
    p.intention_recognition = 1;
    p.is_support_hmt_resident_permit_ocr = 0;
    p.mouth_open_recognition = 1;
    p.speed = 3;
    p.use_intention_verify = 1;
    p.intention_mode = 2;
    p.redirect_url = "http://example.com/r";
    TCFT_CHECK(eid_body_is(&p, "{\"MerchantId\":\"" MERCHANT "\",\"Config\":{\"InputType\":\"2\","
                               "\"UseIntentionVerify\":true,\"IntentionMode\":\"2\"," QA_ONE
                               ",\"IntentionRecognition\":true,\"IsSupportHMTResidentPermitOCR\":"
                               "false,\"MouthOpenRecognition\":true,\"Speed\":3},\"RedirectUrl\":"
                               "\"http://example.com/r\"}"));
    p.input_type = 0;
    p.intention_recognition = -1;
    p.is_support_hmt_resident_permit_ocr = -1;
    p.mouth_open_recognition = -1;
    p.speed = -1;
    p.use_intention_verify = -1;
    p.intention_mode = 0;
    p.redirect_url = NULL;
    p.intention_questions = NULL;
    p.intention_question_count = 0;

    /* nod: "3" */
    p.intention_actions = nod_texts;
    p.intention_action_count = 2;
    TCFT_CHECK(eid_body_is(&p, "{\"MerchantId\":\"" MERCHANT "\",\"Config\":{\"UseIntentionVerify\""
                               ":true,\"IntentionMode\":\"3\",\"IntentionActions\":[{\"Text\":\"请"
                               "点头确认\"},{\"Text\":\"同意请\\\"点头\\\"\"}]}}"));
    p.intention_actions = NULL;
    p.intention_action_count = 0;

    /* a mode alone implies UseIntentionVerify; flags alone are sent as given */
    p.intention_mode = 3;
    TCFT_CHECK(eid_body_is(&p, "{\"MerchantId\":\"" MERCHANT "\",\"Config\":{\"UseIntentionVerify\""
                               ":true,\"IntentionMode\":\"3\"}}"));
    p.intention_mode = 0;
    p.use_intention_verify = 0;
    TCFT_CHECK(eid_body_is(&p, "{\"MerchantId\":\"" MERCHANT
                               "\",\"Config\":{\"UseIntentionVerify\":false}}"));
    p.use_intention_verify = 1;
    TCFT_CHECK(eid_body_is(&p, "{\"MerchantId\":\"" MERCHANT
                               "\",\"Config\":{\"UseIntentionVerify\":true}}"));
    p.use_intention_verify = -1;
    p.is_support_hmt_resident_permit_ocr = 1;
    TCFT_CHECK(eid_body_is(&p, "{\"MerchantId\":\"" MERCHANT
                               "\",\"Config\":{\"IsSupportHMTResidentPermitOCR\":true}}"));
    p.is_support_hmt_resident_permit_ocr = -1;
    p.speed = 0;
    TCFT_CHECK(eid_body_is(&p, "{\"MerchantId\":\"" MERCHANT "\",\"Config\":{\"Speed\":0}}"));
    p.speed = -1;
    p.mouth_open_recognition = 0;
    TCFT_CHECK(eid_body_is(&p, "{\"MerchantId\":\"" MERCHANT
                               "\",\"Config\":{\"MouthOpenRecognition\":false}}"));
    p.mouth_open_recognition = -1;
    p.intention_recognition = 0;
    TCFT_CHECK(eid_body_is(&p, "{\"MerchantId\":\"" MERCHANT
                               "\",\"Config\":{\"IntentionRecognition\":false}}"));

    /* 50 characters of MerchantId */
    tcf_eid_token_params m = TCF_EID_TOKEN_PARAMS_INIT;
    m.merchant_id = "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij";
    TCFT_CHECK(
        eid_body_is(&m, "{\"MerchantId\":\"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij\"}"));
}

TCFT_TEST(eid_token_body_rejects)
{
    tcf_eid_token_params p = TCF_EID_TOKEN_PARAMS_INIT;
    TCFT_CHECK(eid_rejected(&p, "MerchantId is required"));
    p.merchant_id = "";
    TCFT_CHECK(eid_rejected(&p, "MerchantId is required"));
    p.merchant_id = "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijk"; /* 51 */
    TCFT_CHECK(eid_rejected(&p, "MerchantId"));
    p.merchant_id = "0NSJ 2106";
    TCFT_CHECK(eid_rejected(&p, "MerchantId"));
    p.merchant_id = " 0NSJ2106";
    TCFT_CHECK(eid_rejected(&p, "MerchantId"));
    p.merchant_id = "0NSJ2106\t";
    TCFT_CHECK(eid_rejected(&p, "MerchantId"));
    p.merchant_id = "0NSJ\n2106";
    TCFT_CHECK(eid_rejected(&p, "MerchantId"));
    p.merchant_id = "0NSJ\xff";
    TCFT_CHECK(eid_rejected(&p, "MerchantId"));
    p.merchant_id = MERCHANT;

    /* InputType */
    p.input_type = 5;
    TCFT_CHECK(eid_rejected(&p, "Config.InputType"));
    p.input_type = -1;
    TCFT_CHECK(eid_rejected(&p, "Config.InputType"));
    p.input_type = 4;
    TCFT_CHECK(eid_rejected(&p, "InputType 4"));
    p.id_card = ID_OK;
    TCFT_CHECK(eid_rejected(&p, "InputType 4"));
    p.id_card = NULL;
    p.name = "张三";
    TCFT_CHECK(eid_rejected(&p, "InputType 4"));
    p.id_card = "";
    TCFT_CHECK(eid_rejected(&p, "InputType 4"));
    p.id_card = ID_OK;
    p.input_type = 0;

    /* identity: rejected without the value in the message */
    p.id_card = "110101199003071234"; /* bad check digit */
    TCFT_CHECK(eid_rejected(&p, ""));
    p.id_card = "11010119900307123";
    TCFT_CHECK(eid_rejected(&p, ""));
    p.id_card = "110101209003071238"; /* born after today */
    TCFT_CHECK(eid_rejected(&p, ""));
    p.id_card = ID_OK;
    p.name = "Zhang San";
    TCFT_CHECK(eid_rejected(&p, ""));
    p.name = "张";
    TCFT_CHECK(eid_rejected(&p, ""));
    p.name = "张三";
    p.redirect_url = "ftp://example.com/";
    TCFT_CHECK(eid_rejected(&p, ""));
    p.redirect_url = NULL;
    char extra[1026];
    memset(extra, 'e', 1025);
    extra[1025] = '\0';
    p.extra = extra;
    TCFT_CHECK(eid_rejected(&p, "Extra is longer than 1024 bytes"));
    p.extra = NULL;

    /* intention content: one kind, matching the mode, not with UseIntentionVerify false */
    tcf_intention_question q = {"您是否本人办理？", yes_answers, 3};
    p.intention_verify_text = "本人自愿办理";
    p.intention_questions = &q;
    p.intention_question_count = 1;
    TCFT_CHECK(eid_rejected(&p, "give one of"));
    p.intention_verify_text = NULL;
    p.intention_actions = nod_texts;
    p.intention_action_count = 1;
    TCFT_CHECK(eid_rejected(&p, "give one of"));
    p.intention_questions = NULL;
    p.intention_question_count = 0;
    p.intention_verify_text = "本人自愿办理";
    TCFT_CHECK(eid_rejected(&p, "give one of"));
    p.intention_actions = NULL;
    p.intention_action_count = 0;

    p.intention_mode = 2; /* text with Q&A */
    TCFT_CHECK(eid_rejected(&p, "IntentionMode 2"));
    p.intention_mode = 3;
    TCFT_CHECK(eid_rejected(&p, "IntentionMode 3"));
    p.intention_verify_text = NULL;
    p.intention_questions = &q;
    p.intention_question_count = 1;
    p.intention_mode = 1;
    TCFT_CHECK(eid_rejected(&p, "IntentionMode 1"));
    p.intention_mode = 3;
    TCFT_CHECK(eid_rejected(&p, "IntentionMode 3"));
    p.intention_questions = NULL;
    p.intention_question_count = 0;
    p.intention_actions = nod_texts;
    p.intention_action_count = 1;
    p.intention_mode = 2;
    TCFT_CHECK(eid_rejected(&p, "IntentionMode 2"));
    p.intention_mode = 0;
    p.use_intention_verify = 0;
    TCFT_CHECK(eid_rejected(&p, "UseIntentionVerify"));
    p.intention_actions = NULL;
    p.intention_action_count = 0;
    p.intention_verify_text = "本人自愿办理";
    TCFT_CHECK(eid_rejected(&p, "UseIntentionVerify"));
    p.intention_verify_text = NULL;
    p.intention_mode = 1;
    TCFT_CHECK(eid_rejected(&p, "UseIntentionVerify"));
    p.use_intention_verify = -1;
    p.intention_mode = 4;
    TCFT_CHECK(eid_rejected(&p, "Config.IntentionMode"));
    p.intention_mode = -1;
    TCFT_CHECK(eid_rejected(&p, "Config.IntentionMode"));
    p.intention_mode = 0;

    /* the content itself */
    char text[3 * 251 + 1];
    p.intention_verify_text = cjk_text(text, 121);
    TCFT_CHECK(eid_rejected(&p, "IntentionVerifyText is longer than 120 characters"));
    p.intention_verify_text = cjk_text(text, 120);
    char *out = NULL;
    TCFT_CHECK(tcf_eid_token_body(&out, NULL, &p, TODAY, NULL) == 0 && out != NULL);
    tcf_string_free(out);
    p.intention_verify_text = NULL;
    p.intention_question_count = 1; /* NULL list */
    TCFT_CHECK(eid_rejected(&p, "IntentionQuestions"));
    tcf_intention_question eleven[11];
    for (size_t i = 0; i < 11; i++)
        eleven[i] = q;
    p.intention_questions = eleven;
    p.intention_question_count = 11;
    TCFT_CHECK(eid_rejected(&p, "1 to 10 rounds"));
    p.intention_question_count = 0;
    TCFT_CHECK(eid_rejected(&p, "IntentionQuestions: 1 to 10 rounds"));
    p.intention_questions = NULL;
    p.intention_actions = nod_texts;
    TCFT_CHECK(eid_rejected(&p, "IntentionActions: 1 to 10 rounds"));
    p.intention_actions = NULL;
    const char *long_answer[1] = {"一二三四五六七八九十一"};
    q.answers = long_answer;
    q.answer_count = 1;
    p.intention_questions = &q;
    p.intention_question_count = 1;
    TCFT_CHECK(eid_rejected(&p, "IntentionQuestions[0].Answers[0]"));
    p.intention_questions = NULL;
    p.intention_question_count = 0;
    const char *acts[1] = {cjk_text(text, 251)};
    p.intention_actions = acts;
    p.intention_action_count = 1;
    TCFT_CHECK(eid_rejected(&p, "IntentionActions[0].Text"));
    p.intention_actions = NULL;
    p.intention_action_count = 0;

    /* flags */
    p.use_intention_verify = 2;
    TCFT_CHECK(eid_rejected(&p, "Config.UseIntentionVerify"));
    p.use_intention_verify = -1;
    p.intention_recognition = 2;
    TCFT_CHECK(eid_rejected(&p, "Config.IntentionRecognition"));
    p.intention_recognition = -1;
    p.is_support_hmt_resident_permit_ocr = -3;
    TCFT_CHECK(eid_rejected(&p, "Config.IsSupportHMTResidentPermitOCR"));
    p.is_support_hmt_resident_permit_ocr = -1;
    p.mouth_open_recognition = 2;
    TCFT_CHECK(eid_rejected(&p, "Config.MouthOpenRecognition"));
    p.mouth_open_recognition = -1;
    p.speed = 4;
    TCFT_CHECK(eid_rejected(&p, "Config.Speed"));
    p.speed = -1;

    p.version = 2;
    TCFT_CHECK(eid_rejected(&p, "version"));
    p.version = TCF_EID_TOKEN_PARAMS_VERSION;
    out = (char *)1;
    TCFT_CHECK(tcf_eid_token_body(&out, NULL, NULL, 0, NULL) == TCF_EINVAL && out == NULL);
    TCFT_CHECK(tcf_eid_token_body(NULL, NULL, &p, 0, NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_eid_token_body(&out, NULL, &p, 0, NULL) == 0 && out != NULL);
    tcf_string_free(out);
}

/* ---- E-ID sessions ---- */

#define EID_TOKEN "E1B2C3D4-5E6F-4A8B-9C0D-112233445566"
static const char eid_response[] =
    "{\"EidToken\":\"" EID_TOKEN "\",\"Url\":\"https://eid.faceid.qq.com/api/v1/"
    "GetOpenId?token=" EID_TOKEN "\",\"RequestId\":\"3c1b1c8a-2f3e-4c4e-9a53-5bd1f9f4a001\"}";
#define EID_JSON                                                                                   \
    "{\"v\":1,\"kind\":\"eid\",\"eid_token\":\"" EID_TOKEN "\",\"merchant_id\":\"" MERCHANT        \
    "\",\"url\":\"https://eid.faceid.qq.com/api/v1/GetOpenId?token=" EID_TOKEN "\",\"extra\":"     \
    "\"order-7\",\"created_at\":1700000000,\"expires_at\":1700000600,\"results_until\":"           \
    "1700259200}"

static tcf_session *eid_session(void)
{
    tcf_session *s = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_eid_session_new(&s, eid_response, strlen(eid_response), MERCHANT, "order-7",
                                 1700000000, &err);
    if (rc != 0)
        printf("    eid session: rc=%d message=%s\n", rc, err.message);
    return s;
}

TCFT_TEST(eid_session_from_get_eid_token)
{
    tcf_session *s = eid_session();
    TCFT_CHECK(s != NULL);
    int ok =
        tcf_session_kind_of(s) == TCF_SESSION_EID && tcf_session_token(s) != NULL &&
        strcmp(tcf_session_token(s), EID_TOKEN) == 0 && tcf_session_eid_token(s) != NULL &&
        strcmp(tcf_session_eid_token(s), EID_TOKEN) == 0 && tcf_session_merchant_id(s) != NULL &&
        strcmp(tcf_session_merchant_id(s), MERCHANT) == 0 && tcf_session_biz_token(s) == NULL &&
        tcf_session_rule_id(s) == NULL && tcf_session_extra(s) != NULL &&
        strcmp(tcf_session_extra(s), "order-7") == 0 && tcf_session_url(s) != NULL &&
        strncmp(tcf_session_url(s), "https://eid.faceid.qq.com/", 26) == 0 &&
        tcf_session_created_at(s) == 1700000000 && tcf_session_expires_at(s) == 1700000000 + 600 &&
        tcf_session_results_until(s) == 1700000000 + 259200;
    char *json = NULL;
    size_t len = 0;
    ok =
        ok && tcf_session_to_json(s, &json, &len, NULL) == 0 && json != NULL && strlen(json) == len;
    tcf_session_free(s);
    if (json && strcmp(json, EID_JSON) != 0) {
        printf("    json %s\n    want %s\n", json, EID_JSON);
        ok = 0;
    }
    tcf_string_free(json);
    TCFT_CHECK(ok);

    /* the envelope, Url null, no extra */
    const char *env = "{\"Response\":{\"EidToken\":\"tok\",\"Url\":null,\"RequestId\":\"r\"}}";
    TCFT_CHECK(tcf_eid_session_new(&s, env, strlen(env), "m", "", 10, NULL) == 0);
    ok = tcf_session_kind_of(s) == TCF_SESSION_EID && tcf_session_url(s) == NULL &&
         tcf_session_extra(s) == NULL && tcf_session_eid_token(s) != NULL &&
         strcmp(tcf_session_eid_token(s), "tok") == 0 && tcf_session_expires_at(s) == 610;
    ok = ok && tcf_session_to_json(s, &json, NULL, NULL) == 0 &&
         strcmp(json, "{\"v\":1,\"kind\":\"eid\",\"eid_token\":\"tok\",\"merchant_id\":\"m\","
                      "\"url\":null,\"extra\":null,\"created_at\":10,\"expires_at\":610,"
                      "\"results_until\":259210}") == 0;
    tcf_string_free(json);
    tcf_session_free(s);
    TCFT_CHECK(ok);

    /* a SaaS session: the E-ID accessors give NULL */
    s = recorded_session();
    TCFT_CHECK(s != NULL);
    ok = tcf_session_kind_of(s) == TCF_SESSION_SAAS && tcf_session_eid_token(s) == NULL &&
         tcf_session_merchant_id(s) == NULL && tcf_session_token(s) != NULL &&
         strcmp(tcf_session_token(s), "7ECD8E0D-F2F6-4F52-8E5B-3E3C13F0A8E1") == 0;
    tcf_session_free(s);
    TCFT_CHECK(ok);
    TCFT_CHECK(tcf_session_kind_of(NULL) == 0 && tcf_session_token(NULL) == NULL &&
               tcf_session_eid_token(NULL) == NULL && tcf_session_merchant_id(NULL) == NULL);
}

static int eid_session_new_fails(const char *json, const char *merchant, long long created,
                                 int code)
{
    tcf_session *s = (tcf_session *)1;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_eid_session_new(&s, json, json ? strlen(json) : 0, merchant, NULL, created, &err);
    if (rc != code || err.code != code || s != NULL) {
        printf("    eid_session_new: rc=%d message=%s\n", rc, err.message);
        if (rc == 0)
            tcf_session_free(s);
        return 0;
    }
    return 1;
}

TCFT_TEST(eid_session_new_rejects)
{
    const char *ok = "{\"EidToken\":\"t\"}";
    TCFT_CHECK(eid_session_new_fails("", "m", 0, TCF_EJSON));
    TCFT_CHECK(eid_session_new_fails("[1]", "m", 0, TCF_EJSON));
    /* a DetectAuth response is not a GetEidToken one */
    TCFT_CHECK(eid_session_new_fails("{\"BizToken\":\"t\"}", "m", 0, TCF_EJSON));
    TCFT_CHECK(eid_session_new_fails("{\"EidToken\":\"\"}", "m", 0, TCF_EJSON));
    TCFT_CHECK(eid_session_new_fails("{\"EidToken\":7}", "m", 0, TCF_EJSON));
    TCFT_CHECK(eid_session_new_fails("{\"EidToken\":\"t\",\"Url\":[]}", "m", 0, TCF_EJSON));
    TCFT_CHECK(eid_session_new_fails(NULL, "m", 0, TCF_EINVAL));
    TCFT_CHECK(eid_session_new_fails(ok, NULL, 0, TCF_EINVAL));
    TCFT_CHECK(eid_session_new_fails(ok, "", 0, TCF_EINVAL));
    TCFT_CHECK(eid_session_new_fails(ok, "m", -1, TCF_EINVAL));
    /* and a GetEidToken response is not a DetectAuth one */
    TCFT_CHECK(session_new_fails(ok, "1", NULL, 0, TCF_EJSON));
}

TCFT_TEST(eid_session_json_round_trip)
{
    tcf_session *s = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_session_from_json(&s, EID_JSON, strlen(EID_JSON), &err) == 0 && s != NULL);
    int ok = tcf_session_kind_of(s) == TCF_SESSION_EID && tcf_session_biz_token(s) == NULL &&
             tcf_session_eid_token(s) != NULL && strcmp(tcf_session_eid_token(s), EID_TOKEN) == 0 &&
             tcf_session_merchant_id(s) != NULL &&
             strcmp(tcf_session_merchant_id(s), MERCHANT) == 0 &&
             tcf_session_expires_at(s) == 1700000600 && tcf_session_results_until(s) == 1700259200;
    char *again = NULL;
    ok = ok && tcf_session_to_json(s, &again, NULL, &err) == 0 && strcmp(again, EID_JSON) == 0;
    tcf_string_free(again);
    tcf_session_free(s);
    TCFT_CHECK(ok);
}

#define EID_TAIL "\"created_at\":0,\"expires_at\":600,\"results_until\":259200}"
TCFT_TEST(eid_session_from_json_is_strict)
{
    /* the valid minimal form first */
    const char *good = "{\"v\":1,\"kind\":\"eid\",\"eid_token\":\"t\",\"merchant_id\":\"m\","
                       "\"url\":null,\"extra\":null," EID_TAIL;
    tcf_session *s = NULL;
    TCFT_CHECK(tcf_session_from_json(&s, good, strlen(good), NULL) == 0);
    tcf_session_free(s);

    /* members of the other kind */
    TCFT_CHECK(
        from_json_fails("{\"v\":1,\"kind\":\"eid\",\"eid_token\":\"t\",\"merchant_id\":\"m\","
                        "\"rule_id\":\"1\",\"url\":null,\"extra\":null," EID_TAIL,
                        TCF_EJSON, "unknown member"));
    TCFT_CHECK(
        from_json_fails("{\"v\":1,\"kind\":\"eid\",\"biz_token\":\"t\",\"merchant_id\":\"m\","
                        "\"url\":null,\"extra\":null," EID_TAIL,
                        TCF_EJSON, "unknown member"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"eid_token\":\"t\",\"merchant_id\":\"m\","
                               "\"url\":null,\"extra\":null," EID_TAIL,
                               TCF_EJSON, "unknown member"));
    TCFT_CHECK(
        from_json_fails("{\"v\":1,\"kind\":\"eid\",\"eid_token\":\"t\",\"merchant_id\":\"m\","
                        "\"url\":null,\"extra\":null,\"more\":0," EID_TAIL,
                        TCF_EJSON, "unknown member"));
    /* lifetimes: an EidToken lives 600 s, not 7200 */
    TCFT_CHECK(
        from_json_fails("{\"v\":1,\"kind\":\"eid\",\"eid_token\":\"t\",\"merchant_id\":\"m\","
                        "\"url\":null,\"extra\":null,\"created_at\":0,\"expires_at\":7200,"
                        "\"results_until\":259200}",
                        TCF_EJSON, "do not match"));
    TCFT_CHECK(
        from_json_fails("{\"v\":1,\"kind\":\"eid\",\"eid_token\":\"t\",\"merchant_id\":\"m\","
                        "\"url\":null,\"extra\":null,\"created_at\":0,\"expires_at\":600,"
                        "\"results_until\":259201}",
                        TCF_EJSON, "do not match"));
    /* a SaaS session claiming 600 s */
    TCFT_CHECK(from_json_fails("{\"v\":1,\"biz_token\":\"t\",\"rule_id\":\"1\",\"url\":null,"
                               "\"extra\":null," EID_TAIL,
                               TCF_EJSON, "do not match"));
    /* the kind */
    TCFT_CHECK(from_json_fails("{\"v\":1,\"kind\":\"saas\",\"eid_token\":\"t\",\"merchant_id\":"
                               "\"m\",\"url\":null,\"extra\":null," EID_TAIL,
                               TCF_EJSON, "kind"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"kind\":\"EID\",\"eid_token\":\"t\",\"merchant_id\":"
                               "\"m\",\"url\":null,\"extra\":null," EID_TAIL,
                               TCF_EJSON, "kind"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"kind\":2,\"eid_token\":\"t\",\"merchant_id\":"
                               "\"m\",\"url\":null,\"extra\":null," EID_TAIL,
                               TCF_EJSON, "kind"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"kind\":null,\"eid_token\":\"t\",\"merchant_id\":"
                               "\"m\",\"url\":null,\"extra\":null," EID_TAIL,
                               TCF_EJSON, "kind"));
    /* missing or wrong members */
    TCFT_CHECK(from_json_fails("{\"v\":1,\"kind\":\"eid\",\"merchant_id\":\"m\","
                               "\"url\":null,\"extra\":null," EID_TAIL,
                               TCF_EJSON, "eid_token"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"kind\":\"eid\",\"eid_token\":\"t\","
                               "\"url\":null,\"extra\":null," EID_TAIL,
                               TCF_EJSON, "merchant_id"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"kind\":\"eid\",\"eid_token\":\"\",\"merchant_id\":\"m\","
                               "\"url\":null,\"extra\":null," EID_TAIL,
                               TCF_EJSON, "eid_token"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"kind\":\"eid\",\"eid_token\":\"t\",\"merchant_id\":\"\","
                               "\"url\":null,\"extra\":null," EID_TAIL,
                               TCF_EJSON, "merchant_id"));
    TCFT_CHECK(from_json_fails("{\"v\":1,\"kind\":\"eid\",\"eid_token\":\"t\",\"merchant_id\":5,"
                               "\"url\":null,\"extra\":null," EID_TAIL,
                               TCF_EJSON, "merchant_id"));
    TCFT_CHECK(
        from_json_fails("{\"v\":2,\"kind\":\"eid\",\"eid_token\":\"t\",\"merchant_id\":\"m\","
                        "\"url\":null,\"extra\":null," EID_TAIL,
                        TCF_EJSON, "not 1"));
}

TCFT_TEST(eid_session_result_request_boundaries)
{
    tcf_session *s = eid_session();
    TCFT_CHECK(s != NULL);
    const long long c = 1700000000;
    tcf_error err;
    tcf_error_clear(&err);
    int ok = tcf_session_check_result_request(s, NULL, c, &err) == 0 &&
             tcf_session_check_result_request(s, NULL, c + 259200, &err) == 0 && err.code == 0;
    /* any RuleId is refused: an E-ID session has none */
    ok = ok && tcf_session_check_result_request(s, "1", c, &err) == TCF_EINVAL &&
         err.code == TCF_EINVAL && strstr(err.message, "RuleId") != NULL;
    tcf_error_clear(&err);
    ok = ok && tcf_session_check_result_request(s, "", c, &err) == TCF_EINVAL;
    tcf_error_clear(&err);
    ok = ok && tcf_session_check_result_request(s, MERCHANT, c, &err) == TCF_EINVAL;
    tcf_error_clear(&err);
    ok = ok && tcf_session_check_result_request(s, NULL, c + 259201, &err) == TCF_ETOKEN_EXPIRED &&
         err.code == TCF_ETOKEN_EXPIRED && strstr(err.message, "3 days") != NULL &&
         strstr(err.message, "EidToken") != NULL;
    ok = ok && tcf_session_can_start(s, c) == 1 && tcf_session_can_start(s, c + 600) == 1 &&
         tcf_session_can_start(s, c + 601) == 0;
    tcf_session_free(s);
    TCFT_CHECK(ok);
}

#ifdef TCF_ALLOC_FAILURE_INJECTION
TCFT_TEST(eid_allocation_failures)
{
    tcf_intention_question q = {"您是否本人办理？", yes_answers, 3};
    tcf_eid_token_params p = TCF_EID_TOKEN_PARAMS_INIT;
    p.merchant_id = MERCHANT;
    p.id_card = ID_OK;
    p.name = "张三";
    p.input_type = 4;
    p.intention_questions = &q;
    p.intention_question_count = 1;
    int succeeded = 0;
    for (long n = 1; n <= 20 && !succeeded; n++) {
        char *out = (char *)1;
        tcf_error err;
        tcf_error_clear(&err);
        tcfp_fail_allocations_after(n);
        int rc = tcf_eid_token_body(&out, NULL, &p, TODAY, &err);
        tcfp_fail_allocations_after(0);
        if (rc == 0) {
            succeeded = 1;
            tcf_string_free(out);
        } else {
            TCFT_CHECK(rc == TCF_ENOMEM && err.code == TCF_ENOMEM && out == NULL);
        }
    }
    TCFT_CHECK(succeeded);

    succeeded = 0;
    for (long n = 1; n <= 40 && !succeeded; n++) {
        tcf_session *s = (tcf_session *)1;
        tcf_error err;
        tcf_error_clear(&err);
        tcfp_fail_allocations_after(n);
        int rc =
            tcf_eid_session_new(&s, eid_response, strlen(eid_response), MERCHANT, "x", 5, &err);
        tcfp_fail_allocations_after(0);
        if (rc == 0) {
            succeeded = 1;
            TCFT_CHECK(tcf_session_kind_of(s) == TCF_SESSION_EID);
            tcf_session_free(s);
        } else {
            TCFT_CHECK(rc == TCF_ENOMEM && err.code == TCF_ENOMEM && s == NULL);
        }
    }
    TCFT_CHECK(succeeded);

    succeeded = 0;
    for (long n = 1; n <= 40 && !succeeded; n++) {
        tcf_session *s = (tcf_session *)1;
        tcfp_fail_allocations_after(n);
        int rc = tcf_session_from_json(&s, EID_JSON, strlen(EID_JSON), NULL);
        tcfp_fail_allocations_after(0);
        if (rc == 0) {
            succeeded = 1;
            tcf_session_free(s);
        } else {
            TCFT_CHECK(rc == TCF_ENOMEM && s == NULL);
        }
    }
    TCFT_CHECK(succeeded);
}
#endif

/* 1 when the DetectAuth body is rejected without the ID number or name in the message. */
static int detect_auth_rejected_quietly(const tcf_detect_auth_params *p)
{
    char *out = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_detect_auth_body(&out, NULL, p, TODAY, &err);
    int ok = rc == TCF_EINVAL && out == NULL && err.message[0] != '\0' &&
             (p->id_card == NULL || strstr(err.message, p->id_card) == NULL) &&
             (p->name == NULL || strstr(err.message, p->name) == NULL);
    if (!ok)
        printf("    rc=%d message=%s\n", rc, err.message);
    if (rc == 0)
        tcf_string_free(out);
    return ok;
}

/* Identity values never appear in an error message, whichever field fails. */
TCFT_TEST(intention_and_identity_errors_do_not_leak)
{
    static const char *const bad_ids[] = {"110101199003071234", "11010119900307123",
                                          "110101209003071238", "A10101199003071233"};
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    tcf_eid_token_params e = TCF_EID_TOKEN_PARAMS_INIT;
    p.rule_id = "1";
    e.merchant_id = MERCHANT;
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        p.id_card = bad_ids[i];
        e.id_card = bad_ids[i];
        TCFT_CHECK(detect_auth_rejected_quietly(&p));
        TCFT_CHECK(eid_rejected(&e, ""));
    }
    p.id_card = ID_OK;
    e.id_card = ID_OK;
    static const char *const bad_names[] = {"Zhang San", "张", "张三san", "张··三"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        e.name = bad_names[i];
        p.name = bad_names[i];
        TCFT_CHECK(eid_rejected(&e, ""));
        TCFT_CHECK(detect_auth_rejected_quietly(&p));
    }
    p.name = "张三";
    p.speed = 9;
    TCFT_CHECK(detect_auth_rejected_quietly(&p));
    /* a later field fails: the valid identity is not named either */
    e.name = "张三";
    e.speed = 9;
    TCFT_CHECK(eid_rejected(&e, "Config.Speed"));
    e.speed = -1;
    e.input_type = 4;
    e.name = NULL;
    TCFT_CHECK(eid_rejected(&e, "InputType 4"));
}

/* Found by fuzzing (tests/fuzz/crashes/session/kind-eid-nul): "kind" must be exactly "eid". */
TCFT_TEST(session_kind_with_nul_rejected)
{
    const char *text =
        "{\"v\":1,\"kind\":\"eid\\u0000x\",\"eid_token\":\"E\",\"merchant_id\":\"0\","
        "\"url\":null,\"extra\":null,\"created_at\":1700000000,\"expires_at\":"
        "1700000600,\"results_until\":1700259200}";
    tcf_session *s = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_session_from_json(&s, text, strlen(text), &err) == TCF_EJSON && s == NULL);
}
