/* The flows layer (flow.c): which GetDetectInfoEnhanced / GetEidResult calls to make
 * (tcf_result_plan) and their exact bodies (tcf_result_body), CheckEidTokenStatus
 * (tcf_eid_status_from_json, tcf_eid_status_name), what a poller does after an error
 * (tcf_eid_poll_after_error) and the token of the RedirectUrl landing (tcf_parse_redirect). */
#include "internal.h"
#include "tcft.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- tcf_result_plan ---- */

static int plan_is(tcf_session_kind kind, const char *parts, const char *expected)
{
    char out[16];
    memset(out, 'z', sizeof out);
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_result_plan(out, 8, kind, parts, &err);
    if (rc != 0 || strcmp(out, expected) != 0) {
        printf("    plan(%d, \"%s\"): rc=%d out=\"%s\" message=%s, want \"%s\"\n", (int)kind, parts,
               rc, rc == 0 ? out : "", err.message, expected);
        return 0;
    }
    return 1;
}

static int plan_rejected(tcf_session_kind kind, const char *parts, const char *what)
{
    char out[16];
    memset(out, 'z', sizeof out);
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_result_plan(out, sizeof out, kind, parts, &err);
    if (rc != TCF_EINVAL || err.code != TCF_EINVAL || out[0] != '\0' ||
        strstr(err.message, what) == NULL) {
        printf("    plan(%d, \"%s\") should fail naming '%s': rc=%d message=%s\n", (int)kind,
               parts ? parts : "NULL", what, rc, err.message);
        return 0;
    }
    return 1;
}

TCFT_TEST(result_plan_saas)
{
    const tcf_session_kind k = TCF_SESSION_SAAS;
    TCFT_CHECK(plan_is(k, "text", "1"));
    TCFT_CHECK(plan_is(k, "1", "1"));
    TCFT_CHECK(plan_is(k, "text,best_frame", "13"));
    TCFT_CHECK(plan_is(k, "13", "13"));
    /* the text first, then each other part in ascending order */
    TCFT_CHECK(plan_is(k, "31", "13"));
    TCFT_CHECK(plan_is(k, "best_frame,text", "13"));
    TCFT_CHECK(plan_is(k, "video,id_card", "24"));
    TCFT_CHECK(plan_is(k, "6, text , 3", "136"));
    TCFT_CHECK(plan_is(k, " intention_result ,\tintention_verify\t", "56"));
    TCFT_CHECK(plan_is(k, "5,1,4", "145"));
    TCFT_CHECK(plan_is(k, "654321", "123456"));
    /* duplicates and empty items are harmless */
    TCFT_CHECK(plan_is(k, "1,text,11", "1"));
    TCFT_CHECK(plan_is(k, ",text,,3,", "13"));
    /* all: 1-6 one by one */
    TCFT_CHECK(plan_is(k, "all", "123456"));
    TCFT_CHECK(plan_is(k, "0", "123456"));
    TCFT_CHECK(plan_is(k, "all,text", "123456"));
    TCFT_CHECK(plan_is(k, "03", "123456"));
    TCFT_CHECK(
        plan_is(k, "text,id_card,best_frame,video,intention_verify,intention_result", "123456"));

    TCFT_CHECK(plan_rejected(k, "eid_info", "unknown result part"));
    TCFT_CHECK(plan_rejected(k, "texts", "unknown result part"));
    TCFT_CHECK(plan_rejected(k, "Text", "unknown result part"));
    TCFT_CHECK(plan_rejected(k, "tex", "unknown result part"));
    TCFT_CHECK(plan_rejected(k, "text best_frame", "unknown result part"));
    TCFT_CHECK(plan_rejected(k, "1a", "unknown result part"));
    TCFT_CHECK(plan_rejected(k, "text,bogus", "unknown result part"));
    TCFT_CHECK(plan_rejected(k, "7", "InfoType 7"));
    TCFT_CHECK(plan_rejected(k, "19", "InfoType 9"));
    TCFT_CHECK(plan_rejected(k, "", "no result part"));
    TCFT_CHECK(plan_rejected(k, " , ,", "no result part"));
    TCFT_CHECK(plan_rejected(k, ",", "no result part"));
}

TCFT_TEST(result_plan_eid)
{
    const tcf_session_kind k = TCF_SESSION_EID;
    TCFT_CHECK(plan_is(k, "text", "1"));
    TCFT_CHECK(plan_is(k, "best_frame,text,id_card", "123"));
    TCFT_CHECK(plan_is(k, "intention_result,intention_verify", "56"));
    /* EidInfo only comes with InfoType 0: one "0" call, after the text, replacing the other
     * parts (it returns them all) */
    TCFT_CHECK(plan_is(k, "text,eid_info", "10"));
    TCFT_CHECK(plan_is(k, "eid_info,text", "10"));
    TCFT_CHECK(plan_is(k, "all", "10"));
    TCFT_CHECK(plan_is(k, "0", "10"));
    TCFT_CHECK(plan_is(k, "01", "10"));
    TCFT_CHECK(plan_is(k, "eid_info", "10"));
    TCFT_CHECK(plan_is(k, "all,eid_info", "10"));
    TCFT_CHECK(plan_is(k, "text,best_frame,eid_info", "10"));

    TCFT_CHECK(plan_rejected(k, "video", "GetEidResult"));
    TCFT_CHECK(plan_rejected(k, "text,video", "GetEidResult"));
    TCFT_CHECK(plan_rejected(k, "4", "InfoType 4"));
    TCFT_CHECK(plan_rejected(k, "14", "InfoType 4"));
    TCFT_CHECK(plan_rejected(k, "eid", "unknown result part"));
    TCFT_CHECK(plan_rejected(k, "", "no result part"));
}

TCFT_TEST(result_plan_arguments)
{
    char out[8];
    tcf_error err;
    tcf_error_clear(&err);
    /* 8 bytes are enough for the longest plan ("123456") */
    TCFT_CHECK(tcf_result_plan(out, 8, TCF_SESSION_SAAS, "0", &err) == 0);
    TCFT_CHECK_STR(out, "123456");
    TCFT_CHECK(tcf_result_plan(out, 8, TCF_SESSION_EID, "6,5,3,2,1", &err) == 0);
    TCFT_CHECK_STR(out, "12356");
    TCFT_CHECK(tcf_result_plan(out, 8, TCF_SESSION_EID, "6,5,3,2,1,0", &err) == 0);
    TCFT_CHECK_STR(out, "10");
    out[0] = 'z';
    TCFT_CHECK(tcf_result_plan(out, 7, TCF_SESSION_SAAS, "1", &err) == TCF_EINVAL);
    TCFT_CHECK(out[0] == '\0' && strstr(err.message, "out_cap") != NULL);
    TCFT_CHECK(tcf_result_plan(out, 1, TCF_SESSION_SAAS, "1", NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_result_plan(out, 0, TCF_SESSION_SAAS, "1", NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_result_plan(NULL, 8, TCF_SESSION_SAAS, "1", NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_result_plan(out, 8, TCF_SESSION_SAAS, NULL, NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_result_plan(out, 8, (tcf_session_kind)0, "1", NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_result_plan(out, 8, (tcf_session_kind)3, "1", NULL) == TCF_EINVAL);
}

/* ---- tcf_result_body ---- */

static int result_body_is(const tcf_result_request *r, const char *expected)
{
    char *out = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_result_body(&out, &len, r, &err);
    int ok = rc == 0 && out != NULL && strlen(out) == len && strcmp(out, expected) == 0;
    if (!ok)
        printf("    result body rc=%d message=%s\n    body %s\n    want %s\n", rc, err.message,
               out ? out : "(null)", expected);
    tcf_string_free(out);
    return ok;
}

static int result_rejected(const tcf_result_request *r, const char *what)
{
    char *out = (char *)1;
    size_t len = 9;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_result_body(&out, &len, r, &err);
    if (rc != TCF_EINVAL || err.code != TCF_EINVAL || out != NULL || len != 0 ||
        strstr(err.message, what) == NULL) {
        printf("    expected result body rejection '%s': rc=%d message=%s\n", what, rc,
               err.message);
        if (rc == 0)
            tcf_string_free(out);
        return 0;
    }
    return 1;
}

#define BIZ "7ECD8E0D-F2F6-4F52-8E5B-3E3C13F0A8E1"
#define EIDT "E1B2C3D4-5E6F-4A8B-9C0D-112233445566"

TCFT_TEST(result_body_saas_exact)
{
    tcf_result_request r = TCF_RESULT_REQUEST_INIT;
    r.token = BIZ;
    r.rule_id = "1";
    TCFT_CHECK(result_body_is(&r, "{\"BizToken\":\"" BIZ "\",\"RuleId\":\"1\"}"));
    r.info_type = "1";
    TCFT_CHECK(
        result_body_is(&r, "{\"BizToken\":\"" BIZ "\",\"RuleId\":\"1\",\"InfoType\":\"1\"}"));
    r.info_type = "3";
    r.best_frames_count = 10;
    TCFT_CHECK(result_body_is(&r,
                              "{\"BizToken\":\"" BIZ
                              "\",\"RuleId\":\"1\",\"InfoType\":\"3\",\"BestFramesCount\":10}"));
    r.best_frames_count = 0;
    TCFT_CHECK(result_body_is(&r, "{\"BizToken\":\"" BIZ
                                  "\",\"RuleId\":\"1\",\"InfoType\":\"3\",\"BestFramesCount\":0}"));
    r.info_type = "2";
    r.best_frames_count = -1;
    r.cut_id_card_image = 1;
    r.need_id_card_avatar = 0;
    TCFT_CHECK(result_body_is(&r, "{\"BizToken\":\"" BIZ "\",\"RuleId\":\"1\",\"InfoType\":\"2\","
                                  "\"IsCutIdCardImage\":true,\"IsNeedIdCardAvatar\":false}"));
    r.cut_id_card_image = -1;
    r.need_id_card_avatar = 1;
    TCFT_CHECK(result_body_is(&r, "{\"BizToken\":\"" BIZ "\",\"RuleId\":\"1\",\"InfoType\":\"2\","
                                  "\"IsNeedIdCardAvatar\":true}"));
    /* every field; NULL info_type (the service's "0") allows the options */
    r.info_type = "1234";
    r.best_frames_count = 5;
    r.cut_id_card_image = 0;
    TCFT_CHECK(result_body_is(&r,
                              "{\"BizToken\":\"" BIZ "\",\"RuleId\":\"1\",\"InfoType\":\"1234\","
                              "\"BestFramesCount\":5,\"IsCutIdCardImage\":false,"
                              "\"IsNeedIdCardAvatar\":true}"));
    r.info_type = NULL;
    TCFT_CHECK(result_body_is(&r, "{\"BizToken\":\"" BIZ "\",\"RuleId\":\"1\","
                                  "\"BestFramesCount\":5,\"IsCutIdCardImage\":false,"
                                  "\"IsNeedIdCardAvatar\":true}"));
    r.info_type = "0";
    r.best_frames_count = -1;
    r.cut_id_card_image = -1;
    r.need_id_card_avatar = -1;
    TCFT_CHECK(
        result_body_is(&r, "{\"BizToken\":\"" BIZ "\",\"RuleId\":\"1\",\"InfoType\":\"0\"}"));
    r.info_type = "456";
    TCFT_CHECK(
        result_body_is(&r, "{\"BizToken\":\"" BIZ "\",\"RuleId\":\"1\",\"InfoType\":\"456\"}"));
    /* escaping */
    r.info_type = NULL;
    r.token = "a\"b\\c";
    r.rule_id = "规则";
    TCFT_CHECK(result_body_is(&r, "{\"BizToken\":\"a\\\"b\\\\c\",\"RuleId\":\"规则\"}"));
}

TCFT_TEST(result_body_eid_exact)
{
    tcf_result_request r = TCF_RESULT_REQUEST_INIT;
    r.kind = TCF_SESSION_EID;
    r.token = EIDT;
    TCFT_CHECK(result_body_is(&r, "{\"EidToken\":\"" EIDT "\"}"));
    r.info_type = "0";
    TCFT_CHECK(result_body_is(&r, "{\"EidToken\":\"" EIDT "\",\"InfoType\":\"0\"}"));
    r.info_type = "13";
    r.best_frames_count = 3;
    TCFT_CHECK(result_body_is(&r, "{\"EidToken\":\"" EIDT
                                  "\",\"InfoType\":\"13\",\"BestFramesCount\":3}"));
    r.info_type = "2";
    r.best_frames_count = -1;
    r.cut_id_card_image = 0;
    r.need_id_card_avatar = 1;
    TCFT_CHECK(result_body_is(&r, "{\"EidToken\":\"" EIDT "\",\"InfoType\":\"2\","
                                  "\"IsCutIdCardImage\":false,\"IsNeedIdCardAvatar\":true}"));
    r.info_type = NULL;
    r.best_frames_count = 1;
    r.cut_id_card_image = -1;
    r.need_id_card_avatar = -1;
    TCFT_CHECK(result_body_is(&r, "{\"EidToken\":\"" EIDT "\",\"BestFramesCount\":1}"));
    r.best_frames_count = -1;
    r.info_type = "56";
    TCFT_CHECK(result_body_is(&r, "{\"EidToken\":\"" EIDT "\",\"InfoType\":\"56\"}"));
}

TCFT_TEST(result_body_rejects)
{
    tcf_result_request r = TCF_RESULT_REQUEST_INIT;
    r.rule_id = "1";
    TCFT_CHECK(result_rejected(&r, "BizToken is required"));
    r.token = "";
    TCFT_CHECK(result_rejected(&r, "BizToken is required"));
    r.token = "a\nb";
    TCFT_CHECK(result_rejected(&r, "BizToken"));
    r.token = "\xff";
    TCFT_CHECK(result_rejected(&r, "BizToken"));
    r.token = BIZ;
    /* SaaS needs its RuleId */
    r.rule_id = NULL;
    TCFT_CHECK(result_rejected(&r, "RuleId is required"));
    r.rule_id = "";
    TCFT_CHECK(result_rejected(&r, "RuleId is required"));
    r.rule_id = "1";

    /* InfoType */
    r.info_type = "";
    TCFT_CHECK(result_rejected(&r, "InfoType"));
    r.info_type = "7";
    TCFT_CHECK(result_rejected(&r, "InfoType 7"));
    r.info_type = "1a";
    TCFT_CHECK(result_rejected(&r, "InfoType"));
    r.info_type = "1,3";
    TCFT_CHECK(result_rejected(&r, "InfoType"));

    /* BestFramesCount: 0-10, needs 3 */
    r.info_type = "3";
    r.best_frames_count = 11;
    TCFT_CHECK(result_rejected(&r, "BestFramesCount must be 0 to 10"));
    r.best_frames_count = -2;
    TCFT_CHECK(result_rejected(&r, "BestFramesCount"));
    r.info_type = "1";
    r.best_frames_count = 2;
    TCFT_CHECK(result_rejected(&r, "BestFramesCount needs InfoType 3"));
    r.info_type = "12456";
    TCFT_CHECK(result_rejected(&r, "BestFramesCount needs InfoType 3"));
    r.best_frames_count = 0;
    TCFT_CHECK(result_rejected(&r, "BestFramesCount needs InfoType 3"));
    r.best_frames_count = -1;

    /* IsCutIdCardImage / IsNeedIdCardAvatar: 0, 1, need 2 */
    r.info_type = "13";
    r.cut_id_card_image = 1;
    TCFT_CHECK(result_rejected(&r, "need InfoType 2"));
    r.cut_id_card_image = -1;
    r.need_id_card_avatar = 0;
    TCFT_CHECK(result_rejected(&r, "need InfoType 2"));
    r.info_type = "2";
    r.need_id_card_avatar = 2;
    TCFT_CHECK(result_rejected(&r, "IsNeedIdCardAvatar"));
    r.need_id_card_avatar = -1;
    r.cut_id_card_image = -2;
    TCFT_CHECK(result_rejected(&r, "IsCutIdCardImage"));
    r.cut_id_card_image = -1;

    /* E-ID: no RuleId, no video, at most 3 frames */
    r.kind = TCF_SESSION_EID;
    r.token = EIDT;
    r.info_type = NULL;
    TCFT_CHECK(result_rejected(&r, "RuleId"));
    r.rule_id = "";
    TCFT_CHECK(result_rejected(&r, "RuleId"));
    r.rule_id = NULL;
    r.token = NULL;
    TCFT_CHECK(result_rejected(&r, "EidToken is required"));
    r.token = EIDT;
    r.info_type = "4";
    TCFT_CHECK(result_rejected(&r, "InfoType 4"));
    r.info_type = "14";
    TCFT_CHECK(result_rejected(&r, "InfoType 4"));
    r.info_type = "3";
    r.best_frames_count = 4;
    TCFT_CHECK(result_rejected(&r, "BestFramesCount must be 0 to 3"));
    r.info_type = NULL;
    TCFT_CHECK(result_rejected(&r, "BestFramesCount must be 0 to 3"));
    r.best_frames_count = 3;
    r.info_type = "1";
    TCFT_CHECK(result_rejected(&r, "BestFramesCount needs InfoType 3"));
    r.best_frames_count = -1;

    /* the request itself */
    r.kind = (tcf_session_kind)0;
    TCFT_CHECK(result_rejected(&r, "kind"));
    r.kind = TCF_SESSION_EID;
    r.version = 2;
    TCFT_CHECK(result_rejected(&r, "version"));
    r.version = TCF_RESULT_REQUEST_VERSION;
    char *out = (char *)1;
    TCFT_CHECK(tcf_result_body(&out, NULL, NULL, NULL) == TCF_EINVAL && out == NULL);
    TCFT_CHECK(tcf_result_body(NULL, NULL, &r, NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_result_body(&out, NULL, &r, NULL) == 0 && out != NULL);
    TCFT_CHECK_STR(out, "{\"EidToken\":\"" EIDT "\",\"InfoType\":\"1\"}");
    tcf_string_free(out);
}

/* ---- CheckEidTokenStatus ---- */

static int status_is(const char *json, tcf_eid_status expected)
{
    tcf_eid_status st = (tcf_eid_status)99;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_eid_status_from_json(&st, json, strlen(json), &err);
    if (rc != 0 || st != expected) {
        printf("    status of %s: rc=%d status=%d message=%s\n", json, rc, (int)st, err.message);
        return 0;
    }
    return 1;
}

static int status_fails(const char *json, int code)
{
    tcf_eid_status st = TCF_EID_DOING;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_eid_status_from_json(&st, json, json ? strlen(json) : 0, &err);
    if (rc != code || err.code != code || st != 0) {
        printf("    status of %s should fail %d: rc=%d status=%d message=%s\n",
               json ? json : "NULL", code, rc, (int)st, err.message);
        return 0;
    }
    return 1;
}

TCFT_TEST(eid_status_values)
{
    TCFT_CHECK(status_is("{\"Status\":\"init\",\"RequestId\":\"r\"}", TCF_EID_INIT));
    TCFT_CHECK(status_is("{\"Status\":\"doing\"}", TCF_EID_DOING));
    TCFT_CHECK(status_is("{\"Status\":\"finished\"}", TCF_EID_FINISHED));
    TCFT_CHECK(status_is("{\"Status\":\"timeout\"}", TCF_EID_TIMEOUT));
    TCFT_CHECK(status_is("{\"Response\":{\"Status\":\"finished\",\"RequestId\":\"r\"}}",
                         TCF_EID_FINISHED));
    TCFT_CHECK(status_is("{\"Response\":{\"Status\":\"doing\"}}", TCF_EID_DOING));

    TCFT_CHECK(status_fails("{\"Status\":\"done\"}", TCF_EJSON));
    TCFT_CHECK(status_fails("{\"Status\":\"INIT\"}", TCF_EJSON));
    TCFT_CHECK(status_fails("{\"Status\":\"\"}", TCF_EJSON));
    TCFT_CHECK(status_fails("{\"Status\":\"init \"}", TCF_EJSON));
    TCFT_CHECK(status_fails("{\"Status\":\"init\\u0000x\"}", TCF_EJSON));
    TCFT_CHECK(status_fails("{\"Status\":1}", TCF_EJSON));
    TCFT_CHECK(status_fails("{\"Status\":null}", TCF_EJSON));
    TCFT_CHECK(status_fails("{\"Status\":[\"init\"]}", TCF_EJSON));
    TCFT_CHECK(status_fails("{}", TCF_EJSON));
    TCFT_CHECK(status_fails("{\"RequestId\":\"r\"}", TCF_EJSON));
    TCFT_CHECK(status_fails("{\"Response\":{}}", TCF_EJSON));
    TCFT_CHECK(status_fails("{\"Response\":{\"Status\":\"later\"}}", TCF_EJSON));
    TCFT_CHECK(status_fails("[\"init\"]", TCF_EJSON));
    TCFT_CHECK(status_fails("\"init\"", TCF_EJSON));
    TCFT_CHECK(status_fails("", TCF_EJSON));
    TCFT_CHECK(status_fails("{\"Status\":\"init\"", TCF_EJSON));
    TCFT_CHECK(status_fails(NULL, TCF_EINVAL));
    TCFT_CHECK(tcf_eid_status_from_json(NULL, "{}", 2, NULL) == TCF_EINVAL);
    /* len is honoured */
    const char text[] = "{\"Status\":\"init\"}trailing";
    tcf_eid_status st = (tcf_eid_status)0;
    TCFT_CHECK(tcf_eid_status_from_json(&st, text, sizeof text - 1 - 8, NULL) == 0 &&
               st == TCF_EID_INIT);
}

TCFT_TEST(eid_status_names)
{
    TCFT_CHECK_STR(tcf_eid_status_name(TCF_EID_INIT), "init");
    TCFT_CHECK_STR(tcf_eid_status_name(TCF_EID_DOING), "doing");
    TCFT_CHECK_STR(tcf_eid_status_name(TCF_EID_FINISHED), "finished");
    TCFT_CHECK_STR(tcf_eid_status_name(TCF_EID_TIMEOUT), "timeout");
    TCFT_CHECK(tcf_eid_status_name((tcf_eid_status)0) == NULL);
    TCFT_CHECK(tcf_eid_status_name((tcf_eid_status)5) == NULL);
    TCFT_CHECK(tcf_eid_status_name((tcf_eid_status)-1) == NULL);
}

/* ---- tcf_eid_poll_after_error ---- */

TCFT_TEST(eid_poll_after_error)
{
    /* transient failures: the first and second in a row continue, the third fails */
    static const struct {
        int code, retryable;
    } transient[] = {
        {TCF_ETRANSPORT, 1}, {TCF_ETRANSPORT, 0}, {TCF_ETIMEOUT, 1}, {TCF_ETIMEOUT, 0},
        {TCF_ETHROTTLED, 1}, {TCF_ETHROTTLED, 0}, {TCF_EHTTP, 1},    {TCF_EAPI, 1},
    };
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++) {
        int c = transient[i].code, r = transient[i].retryable;
        if (tcf_eid_poll_after_error(c, r, 1) != TCF_POLL_CONTINUE ||
            tcf_eid_poll_after_error(c, r, 2) != TCF_POLL_CONTINUE ||
            tcf_eid_poll_after_error(c, r, 3) != TCF_POLL_FAIL ||
            tcf_eid_poll_after_error(c, r, 4) != TCF_POLL_FAIL)
            printf("    transient case %zu (code %d retryable %d)\n", i, c, r);
        TCFT_CHECK(tcf_eid_poll_after_error(c, r, 1) == TCF_POLL_CONTINUE);
        TCFT_CHECK(tcf_eid_poll_after_error(c, r, 2) == TCF_POLL_CONTINUE);
        TCFT_CHECK(tcf_eid_poll_after_error(c, r, 3) == TCF_POLL_FAIL);
        TCFT_CHECK(tcf_eid_poll_after_error(c, r, 4) == TCF_POLL_FAIL);
    }
    /* failures that will not go away: at once */
    static const int permanent[] = {TCF_EAPI,   TCF_EAUTH,   TCF_EHTTP,   TCF_EINVAL, TCF_EJSON,
                                    TCF_ENOMEM, TCF_ECRYPTO, TCF_ENOCRED, TCF_ETLS};
    for (size_t i = 0; i < sizeof permanent / sizeof permanent[0]; i++) {
        if (tcf_eid_poll_after_error(permanent[i], 0, 1) != TCF_POLL_FAIL)
            printf("    permanent case %zu (code %d)\n", i, permanent[i]);
        TCFT_CHECK(tcf_eid_poll_after_error(permanent[i], 0, 1) == TCF_POLL_FAIL);
        TCFT_CHECK(tcf_eid_poll_after_error(permanent[i], 0, 2) == TCF_POLL_FAIL);
    }
    /* the token expired: the status is "timeout", however many errors came before */
    TCFT_CHECK(tcf_eid_poll_after_error(TCF_ETOKEN_EXPIRED, 0, 1) == TCF_POLL_TIMEOUT);
    TCFT_CHECK(tcf_eid_poll_after_error(TCF_ETOKEN_EXPIRED, 0, 3) == TCF_POLL_TIMEOUT);
    TCFT_CHECK(tcf_eid_poll_after_error(TCF_ETOKEN_EXPIRED, 1, 7) == TCF_POLL_TIMEOUT);
    /* no failure counted: nothing to tolerate */
    TCFT_CHECK(tcf_eid_poll_after_error(TCF_ETRANSPORT, 1, 0) == TCF_POLL_FAIL);
    TCFT_CHECK(tcf_eid_poll_after_error(TCF_ETRANSPORT, 1, -1) == TCF_POLL_FAIL);
}

/* ---- tcf_parse_redirect ---- */

static int token_is(const char *url, const char *expected)
{
    char *tok = (char *)1;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_parse_redirect(&tok, url, &err);
    int ok = rc == 0 && tok != NULL && strcmp(tok, expected) == 0;
    if (!ok)
        printf("    parse_redirect(%s): rc=%d token=%s message=%s, want %s\n", url, rc,
               rc == 0 && tok ? tok : "(none)", err.message, expected);
    if (rc == 0)
        tcf_string_free(tok);
    return ok;
}

static int redirect_rejected(const char *url, const char *what)
{
    char *tok = (char *)1;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_parse_redirect(&tok, url, &err);
    if (rc != TCF_EINVAL || err.code != TCF_EINVAL || tok != NULL ||
        strstr(err.message, what) == NULL) {
        printf("    parse_redirect(%s) should fail naming '%s': rc=%d token=%s message=%s\n",
               url ? url : "NULL", what, rc, rc == 0 && tok ? tok : "(none)", err.message);
        if (rc == 0)
            tcf_string_free(tok);
        return 0;
    }
    return 1;
}

TCFT_TEST(parse_redirect_finds_the_token)
{
    TCFT_CHECK(token_is("https://example.com/done?token=" BIZ, BIZ));
    TCFT_CHECK(token_is("https://example.com/done?a=1&token=" EIDT "&b=2", EIDT));
    TCFT_CHECK(token_is("https://example.com:8443/a/b/?x=&token=t-1", "t-1"));
    TCFT_CHECK(token_is("https://example.com?token=abc", "abc"));
    TCFT_CHECK(token_is("/landing?token=abc", "abc"));
    TCFT_CHECK(token_is("/landing?state=s&token=abc", "abc"));
    TCFT_CHECK(token_is("?token=abc", "abc"));
    TCFT_CHECK(token_is("token=abc", "abc"));
    TCFT_CHECK(token_is("a=1&token=abc&b", "abc"));
    TCFT_CHECK(token_is("token=A.b_c~d-0", "A.b_c~d-0"));
    /* the fragment is not part of the query */
    TCFT_CHECK(token_is("https://example.com/done?token=abc#token=zzz", "abc"));
    TCFT_CHECK(token_is("https://example.com/done?token=abc#frag", "abc"));
    TCFT_CHECK(token_is("token=abc#x", "abc"));
    /* percent-decoding */
    TCFT_CHECK(token_is("/r?token=%41%62c%2d%2E%5f%7E", "Abc-._~"));
    TCFT_CHECK(token_is("/r?token=%7e", "~"));
    /* empty items and a repeated equal value */
    TCFT_CHECK(token_is("/r?&&token=abc&&", "abc"));
    TCFT_CHECK(token_is("/r?token=abc&token=abc", "abc"));
    TCFT_CHECK(token_is("/r?token=abc&x=1&token=%61bc", "abc"));
    /* "token" only as a whole name */
    TCFT_CHECK(token_is("/r?tokens=x&xtoken=y&token=abc&token_=z", "abc"));
    /* the value may hold '=' only when percent-encoded, and '=' is not a token character */
    TCFT_CHECK(redirect_rejected("/r?token=a=b", "characters"));
}

TCFT_TEST(parse_redirect_length_limit)
{
    char url[512];
    strcpy(url, "https://example.com/r?token=");
    size_t off = strlen(url);
    memset(url + off, 'A', 128);
    url[off + 128] = '\0';
    TCFT_CHECK(token_is(url, url + off));
    url[off + 128] = 'A';
    url[off + 129] = '\0';
    TCFT_CHECK(redirect_rejected(url, "longer than 128"));
    /* the limit counts decoded bytes: 127 + "%41" is 128 */
    memcpy(url + off + 127, "%41", 4);
    char want[129];
    memset(want, 'A', 128);
    want[128] = '\0';
    TCFT_CHECK(token_is(url, want));
    memcpy(url + off + 127, "A%41", 5);
    TCFT_CHECK(redirect_rejected(url, "longer than 128"));
}

TCFT_TEST(parse_redirect_rejects)
{
    /* missing */
    TCFT_CHECK(redirect_rejected("https://example.com/done", "token"));
    TCFT_CHECK(redirect_rejected("https://example.com/done?a=1&b=2", "no token parameter"));
    TCFT_CHECK(redirect_rejected("https://example.com/done?", "no token parameter"));
    TCFT_CHECK(redirect_rejected("https://example.com/done?tokens=abc", "no token parameter"));
    TCFT_CHECK(redirect_rejected("https://example.com/done?xtoken=abc", "no token parameter"));
    TCFT_CHECK(redirect_rejected("https://example.com/done?Token=abc", "no token parameter"));
    TCFT_CHECK(redirect_rejected("https://example.com/done#token=abc", "token"));
    TCFT_CHECK(redirect_rejected("https://example.com/done?a=1#token=abc", "no token parameter"));
    TCFT_CHECK(redirect_rejected("tokens=abc", "no token parameter"));
    TCFT_CHECK(redirect_rejected("xtoken=abc&a=1", "no token parameter"));
    TCFT_CHECK(redirect_rejected("abc", "token"));
    TCFT_CHECK(redirect_rejected("", "token"));
    /* empty */
    TCFT_CHECK(redirect_rejected("/r?token=", "empty"));
    TCFT_CHECK(redirect_rejected("/r?token=&a=1", "empty"));
    TCFT_CHECK(redirect_rejected("/r?token", "empty"));
    TCFT_CHECK(redirect_rejected("/r?token=#abc", "empty"));
    /* two different values */
    TCFT_CHECK(redirect_rejected("/r?token=abc&token=abd", "two different"));
    TCFT_CHECK(redirect_rejected("/r?token=abc&token=ABC", "two different"));
    TCFT_CHECK(redirect_rejected("/r?token=abc&token=", "empty"));
    /* '+' is a space, not a token character; nor are others, raw or decoded */
    TCFT_CHECK(redirect_rejected("/r?token=ab+c", "characters"));
    TCFT_CHECK(redirect_rejected("/r?token=ab%2Bc", "characters"));
    TCFT_CHECK(redirect_rejected("/r?token=ab%20c", "characters"));
    TCFT_CHECK(redirect_rejected("/r?token=ab%00c", "characters"));
    TCFT_CHECK(redirect_rejected("/r?token=ab%2Fc", "characters"));
    TCFT_CHECK(redirect_rejected("/r?token=ab/c", "characters"));
    TCFT_CHECK(redirect_rejected("/r?token=ab*c", "characters"));
    TCFT_CHECK(redirect_rejected("/r?token=ab\"c", "characters"));
    TCFT_CHECK(redirect_rejected("/r?token=\xe4\xb8\xad", "characters"));
    TCFT_CHECK(redirect_rejected("/r?token=%E4%B8%AD", "characters"));
    /* bad escapes */
    TCFT_CHECK(redirect_rejected("/r?token=ab%", "percent"));
    TCFT_CHECK(redirect_rejected("/r?token=ab%4", "percent"));
    TCFT_CHECK(redirect_rejected("/r?token=ab%4&x=1", "percent"));
    TCFT_CHECK(redirect_rejected("/r?token=ab%zz", "percent"));
    TCFT_CHECK(redirect_rejected("/r?token=ab%g1", "percent"));
    /* arguments */
    TCFT_CHECK(redirect_rejected(NULL, "NULL"));
    TCFT_CHECK(tcf_parse_redirect(NULL, "/r?token=abc", NULL) == TCF_EINVAL);
}

/* The token is a query parameter: a '?' inside the fragment (a hash-routed page,
 * "https://host/#/page?token=...") does not start a query, and the browser never sends the
 * fragment to the server. */
TCFT_TEST(parse_redirect_query_only_before_the_fragment)
{
    TCFT_CHECK(redirect_rejected("https://example.com/#/done?token=abc", "token"));
    TCFT_CHECK(redirect_rejected("https://example.com/done#x?token=abc", "token"));
    TCFT_CHECK(token_is("https://example.com/done?token=abc#/x?token=zzz", "abc"));
}

#ifdef TCF_ALLOC_FAILURE_INJECTION
TCFT_TEST(flow_allocation_failures)
{
    tcf_result_request r = TCF_RESULT_REQUEST_INIT;
    r.token = BIZ;
    r.rule_id = "1";
    r.info_type = "23";
    r.best_frames_count = 2;
    r.cut_id_card_image = 1;
    int succeeded = 0;
    for (long n = 1; n <= 10 && !succeeded; n++) {
        char *out = (char *)1;
        tcf_error err;
        tcf_error_clear(&err);
        tcfp_fail_allocations_after(n);
        int rc = tcf_result_body(&out, NULL, &r, &err);
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
    for (long n = 1; n <= 10 && !succeeded; n++) {
        char *out = (char *)1;
        tcf_error err;
        tcf_error_clear(&err);
        tcfp_fail_allocations_after(n);
        int rc = tcf_parse_redirect(&out, "https://example.com/r?token=abc", &err);
        tcfp_fail_allocations_after(0);
        if (rc == 0) {
            succeeded = 1;
            TCFT_CHECK_STR(out, "abc");
            tcf_string_free(out);
        } else {
            TCFT_CHECK(rc == TCF_ENOMEM && err.code == TCF_ENOMEM && out == NULL);
        }
    }
    TCFT_CHECK(succeeded);

    succeeded = 0;
    const char *json = "{\"Response\":{\"Status\":\"finished\",\"RequestId\":\"r\"}}";
    for (long n = 1; n <= 40 && !succeeded; n++) {
        tcf_eid_status st = TCF_EID_DOING;
        tcf_error err;
        tcf_error_clear(&err);
        tcfp_fail_allocations_after(n);
        int rc = tcf_eid_status_from_json(&st, json, strlen(json), &err);
        tcfp_fail_allocations_after(0);
        if (rc == 0) {
            succeeded = 1;
            TCFT_CHECK(st == TCF_EID_FINISHED);
        } else {
            TCFT_CHECK(rc == TCF_ENOMEM && err.code == TCF_ENOMEM && st == 0);
        }
    }
    TCFT_CHECK(succeeded);
}
#endif

/* A bare query is any text without '?' that is not a URL or a path: '/' may appear in values. */
TCFT_TEST(parse_redirect_bare_query_with_slashes)
{
    char *tok = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_parse_redirect(&tok, "next=/orders/7&token=T-1", &err) == 0);
    TCFT_CHECK_STR(tok, "T-1");
    tcf_string_free(tok);
    tok = NULL;
    TCFT_CHECK(tcf_parse_redirect(&tok, "/orders/7&token=T-1", &err) == TCF_EINVAL);
    TCFT_CHECK(tcf_parse_redirect(&tok, "https://x.example/token=T-1", NULL) == TCF_EINVAL);
    TCFT_CHECK(tok == NULL);
}
