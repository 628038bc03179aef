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
