/* Verdicts (tcf_verdict_from_json): recorded emulator results for every scenario and
 * intention mode, then hand-written edge cases (nulls, wrong types, huge attempt lists) and
 * allocation failures. */
#include "internal.h"
#include "tcft.h"
#include "verdict_fixtures.h"

#include <stdio.h>
#include <stdlib.h>

/* Parse text that must give a verdict (NULL on failure, with the reason printed). */
static tcf_verdict *verdict_of(const char *text)
{
    tcf_verdict *v = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_verdict_from_json(&v, text, strlen(text), &err);
    if (rc != 0 || v == NULL) {
        printf("    verdict: rc=%d message=%s\n", rc, err.message);
        return NULL;
    }
    return v;
}

/* Parse text that must fail with TCF_EJSON and a message containing `path`. */
static int fails_json(const char *text, const char *path)
{
    tcf_verdict *v = (tcf_verdict *)1;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_verdict_from_json(&v, text, strlen(text), &err);
    int ok =
        rc == TCF_EJSON && err.code == TCF_EJSON && v == NULL && strstr(err.message, path) != NULL;
    if (!ok)
        printf("    expected TCF_EJSON naming %s for %s: rc=%d message=%s\n", path, text, rc,
               err.message);
    if (rc == 0)
        tcf_verdict_free(v);
    return ok;
}

static int code_of(const tcf_verdict *v)
{
    int code = -123456;
    return tcf_verdict_code(v, &code) == 0 ? code : -123456;
}

static int intention_code_of(const tcf_verdict *v)
{
    int code = -123456;
    return tcf_verdict_intention_code(v, &code) == 0 ? code : -123456;
}

static int reason_has(const tcf_verdict *v, const char *part)
{
    const char *r = tcf_verdict_reason(v);
    if (r != NULL && strstr(r, part) != NULL)
        return 1;
    printf("    reason \"%s\" lacks \"%s\"\n", r ? r : "(null)", part);
    return 0;
}

/* ---- recorded emulator results ---- */

TCFT_TEST(verdict_emulator_pass)
{
    tcf_verdict *v = verdict_of(fx_pass);
    TCFT_CHECK(v != NULL);
    tcf_attempt a;
    int ok = tcf_verdict_status(v) == TCF_VERDICT_PASSED && code_of(v) == 0 &&
             tcf_verdict_billed(v) == 1 && tcf_verdict_attempt_count(v) == 1 &&
             tcf_verdict_attempt(v, 0, &a) == 0 && a.has_errcode && a.errcode == 0 &&
             a.has_livestatus && a.livestatus == 0 && a.has_comparestatus && a.comparestatus == 0 &&
             a.has_sim && a.sim >= 70.0 && a.sim <= 100.0 && a.req_time_ms > 1000000000000LL &&
             a.is_need_charge == 1 && tcf_verdict_intention_code(v, &a.errcode) == TCF_ESTATE &&
             tcf_verdict_attempt(v, 1, &a) == TCF_EINVAL && reason_has(v, "passed");
    tcf_verdict_free(v);
    TCFT_CHECK(ok);
}

TCFT_TEST(verdict_emulator_fail_liveness)
{
    tcf_verdict *v = verdict_of(fx_fail_liveness);
    TCFT_CHECK(v != NULL);
    tcf_attempt a;
    int ok = tcf_verdict_status(v) == TCF_VERDICT_FAILED && code_of(v) == 1002 &&
             tcf_verdict_billed(v) == 1 && tcf_verdict_attempt_count(v) == 1 &&
             tcf_verdict_attempt(v, 0, &a) == 0 && a.has_errcode && a.errcode == 1002 &&
             a.has_livestatus && a.livestatus == 1002 && !a.has_comparestatus && !a.has_sim &&
             a.is_need_charge == 1 && reason_has(v, "1002");
    tcf_verdict_free(v);
    TCFT_CHECK(ok);
}

TCFT_TEST(verdict_emulator_fail_compare)
{
    tcf_verdict *v = verdict_of(fx_fail_compare);
    TCFT_CHECK(v != NULL);
    tcf_attempt a;
    int ok = tcf_verdict_status(v) == TCF_VERDICT_FAILED && code_of(v) == 2016 &&
             tcf_verdict_billed(v) == 1 && tcf_verdict_attempt_count(v) == 1 &&
             tcf_verdict_attempt(v, 0, &a) == 0 && a.errcode == 2016 && a.livestatus == 0 &&
             a.has_comparestatus && a.comparestatus == 2016 && a.has_sim && a.sim < 70.0 &&
             reason_has(v, "2016");
    tcf_verdict_free(v);
    TCFT_CHECK(ok);
}

TCFT_TEST(verdict_emulator_retry_then_pass)
{
    tcf_verdict *v = verdict_of(fx_retry_then_pass);
    TCFT_CHECK(v != NULL);
    tcf_attempt a, b;
    int ok = tcf_verdict_status(v) == TCF_VERDICT_PASSED && code_of(v) == 0 &&
             tcf_verdict_billed(v) == 1 && tcf_verdict_attempt_count(v) == 2 &&
             tcf_verdict_attempt(v, 0, &a) == 0 && tcf_verdict_attempt(v, 1, &b) == 0 &&
             a.errcode == 1002 && !a.has_sim && b.has_errcode && b.errcode == 0 && b.has_sim &&
             b.sim >= 70.0 && b.req_time_ms >= a.req_time_ms && a.req_time_ms > 0;
    tcf_verdict_free(v);
    TCFT_CHECK(ok);
}

TCFT_TEST(verdict_emulator_abandon_is_pending)
{
    tcf_verdict *v = verdict_of(fx_abandon);
    TCFT_CHECK(v != NULL);
    int code;
    int ok = tcf_verdict_status(v) == TCF_VERDICT_PENDING &&
             tcf_verdict_code(v, &code) == TCF_ESTATE && tcf_verdict_billed(v) == -1 &&
             tcf_verdict_attempt_count(v) == 0 && reason_has(v, "not finished");
    tcf_verdict_free(v);
    TCFT_CHECK(ok);
}

TCFT_TEST(verdict_emulator_rate_limited_2018)
{
    tcf_verdict *v = verdict_of(fx_rate_limited);
    TCFT_CHECK(v != NULL);
    int ok = tcf_verdict_status(v) == TCF_VERDICT_FAILED && code_of(v) == 2018 &&
             tcf_verdict_billed(v) == -1 && tcf_verdict_attempt_count(v) == 0;
    tcf_verdict_free(v);
    TCFT_CHECK(ok);
}

typedef struct intention_case {
    const char *name;
    const char *pass, *fail, *fail_liveness, *text_only;
    int fail_code;
    const char *info_type; /* named in the PENDING reason */
} intention_case;

TCFT_TEST(verdict_emulator_intention)
{
    static const intention_case cases[] = {
        {"qa", fx_intention_qa_pass, fx_intention_qa_fail_intention, fx_intention_qa_fail_liveness,
         fx_intention_qa_text_only, -301, "contains 6"},
        {"nod", fx_intention_nod_pass, fx_intention_nod_fail_intention,
         fx_intention_nod_fail_liveness, fx_intention_nod_text_only, -301, "contains 6"},
        {"read", fx_intention_read_pass, fx_intention_read_fail_intention,
         fx_intention_read_fail_liveness, fx_intention_read_text_only, -10, "contains 5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const intention_case *c = &cases[i];
        printf("    intention %s\n", c->name);
        tcf_verdict *v = verdict_of(c->pass);
        TCFT_CHECK(v != NULL);
        int ok = tcf_verdict_status(v) == TCF_VERDICT_PASSED && code_of(v) == 0 &&
                 intention_code_of(v) == 0 && reason_has(v, "intention");
        tcf_verdict_free(v);
        TCFT_CHECK(ok);

        v = verdict_of(c->fail);
        TCFT_CHECK(v != NULL);
        ok = tcf_verdict_status(v) == TCF_VERDICT_FAILED && code_of(v) == 0 &&
             intention_code_of(v) == c->fail_code && tcf_verdict_billed(v) == 1 &&
             reason_has(v, "intention check failed");
        tcf_verdict_free(v);
        TCFT_CHECK(ok);

        v = verdict_of(c->fail_liveness);
        TCFT_CHECK(v != NULL);
        int code;
        ok = tcf_verdict_status(v) == TCF_VERDICT_FAILED && code_of(v) == 1002 &&
             tcf_verdict_intention_code(v, &code) == TCF_ESTATE;
        tcf_verdict_free(v);
        TCFT_CHECK(ok);

        v = verdict_of(c->text_only);
        TCFT_CHECK(v != NULL);
        ok = tcf_verdict_status(v) == TCF_VERDICT_PENDING && code_of(v) == 0 &&
             tcf_verdict_intention_code(v, &code) == TCF_ESTATE && reason_has(v, "not fetched") &&
             reason_has(v, c->info_type);
        tcf_verdict_free(v);
        TCFT_CHECK(ok);
    }
}

/* ---- hand-written edge cases ---- */

TCFT_TEST(verdict_all_nulls_and_missing_parts)
{
    static const struct {
        const char *json;
        const char *reason;
    } cases[] = {
        {"{}", "no Text"},
        {"{\"Text\":null,\"IsVerifyIntention\":null,\"IntentionVerifyType\":null}", "no Text"},
        {"{\"Text\":{}}", "not finished"},
        {"{\"Text\":{\"ErrCode\":null,\"LivenessDetail\":null,\"Sim\":null},\"IdCardData\":null,"
         "\"BestFrame\":null,\"VideoData\":null,\"Encryption\":null,\"IntentionVerifyData\":null,"
         "\"IntentionQuestionResult\":null,\"IntentionActionResult\":null,\"EncryptedBody\":null,"
         "\"IsVerifyIntention\":null,\"IntentionVerifyType\":null,\"RequestId\":\"r\"}",
         "not finished"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcf_verdict *v = verdict_of(cases[i].json);
        TCFT_CHECK(v != NULL);
        int code;
        int ok = tcf_verdict_status(v) == TCF_VERDICT_PENDING &&
                 tcf_verdict_code(v, &code) == TCF_ESTATE &&
                 tcf_verdict_intention_code(v, &code) == TCF_ESTATE &&
                 tcf_verdict_billed(v) == -1 && tcf_verdict_attempt_count(v) == 0 &&
                 reason_has(v, cases[i].reason);
        tcf_verdict_free(v);
        TCFT_CHECK(ok);
    }
}

TCFT_TEST(verdict_null_attempt_fields)
{
    tcf_verdict *v = verdict_of(
        "{\"Text\":{\"ErrCode\":1001,\"LivenessDetail\":[null,{\"Errcode\":null,\"Livestatus\":"
        "null,\"Comparestatus\":null,\"Sim\":null,\"ReqTime\":null,\"IsNeedCharge\":null},{}]}}");
    TCFT_CHECK(v != NULL);
    int ok = tcf_verdict_status(v) == TCF_VERDICT_FAILED && code_of(v) == 1001 &&
             tcf_verdict_attempt_count(v) == 3 && tcf_verdict_billed(v) == -1;
    for (size_t i = 0; ok && i < 3; i++) {
        tcf_attempt a;
        memset(&a, 0x55, sizeof a);
        ok = tcf_verdict_attempt(v, i, &a) == 0 && !a.has_errcode && !a.has_livestatus &&
             !a.has_comparestatus && !a.has_sim && a.req_time_ms == -1 && a.is_need_charge == -1;
    }
    tcf_verdict_free(v);
    TCFT_CHECK(ok);
}

TCFT_TEST(verdict_billing_fallback_table)
{
    static const struct {
        const char *json;
        int billed;
    } cases[] = {
        /* IsNeedCharge wins over the table */
        {"{\"Text\":{\"ErrCode\":1001,\"LivenessDetail\":[{\"Errcode\":1001,\"IsNeedCharge\":true}]"
         "}}",
         1},
        {"{\"Text\":{\"ErrCode\":2016,\"LivenessDetail\":[{\"Errcode\":2016,\"IsNeedCharge\":false}"
         "]"
         "}}",
         0},
        /* flags null: the Plus edition's column */
        {"{\"Text\":{\"ErrCode\":1001,\"LivenessDetail\":[{\"Errcode\":1001}]}}", 0},
        {"{\"Text\":{\"ErrCode\":2016,\"LivenessDetail\":[{\"Errcode\":2016,\"IsNeedCharge\":null}]"
         "}"
         "}",
         1},
        {"{\"Text\":{\"ErrCode\":2006,\"LivenessDetail\":[{\"Errcode\":1001},{\"Errcode\":2006}]}}",
         1},
        {"{\"Text\":{\"ErrCode\":2011,\"LivenessDetail\":[{\"Errcode\":2011}]}}", 0},
        {"{\"Text\":{\"ErrCode\":1301,\"LivenessDetail\":[{\"Errcode\":1301}]}}", -1},
        {"{\"Text\":{\"ErrCode\":9999,\"LivenessDetail\":[{\"Errcode\":9999}]}}", -1},
        /* any billed attempt bills the flow, even after unknown ones */
        {"{\"Text\":{\"ErrCode\":0,\"LivenessDetail\":[{},{\"Errcode\":0}]}}", 1},
        {"{\"Text\":{\"ErrCode\":1001,\"LivenessDetail\":[{},{\"Errcode\":1001}]}}", -1},
        /* no attempts: Text.ErrCode */
        {"{\"Text\":{\"ErrCode\":0}}", 1},
        {"{\"Text\":{\"ErrCode\":15,\"LivenessDetail\":[]}}", 0},
        {"{\"Text\":{\"ErrCode\":2018}}", -1},
        {"{\"Text\":{\"ErrCode\":-5}}", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcf_verdict *v = verdict_of(cases[i].json);
        TCFT_CHECK(v != NULL);
        int billed = tcf_verdict_billed(v);
        tcf_verdict_free(v);
        if (billed != cases[i].billed)
            printf("    case %zu: billed %d, expected %d\n", i, billed, cases[i].billed);
        TCFT_CHECK(billed == cases[i].billed);
    }
}

TCFT_TEST(verdict_sim_and_req_time_strings)
{
    static const struct {
        const char *sim;
        int has;
        double value;
    } sims[] = {
        {"95.51", 1, 95.51}, {"100", 1, 100.0},    {"0.00", 1, 0.0},
        {"70", 1, 70.0},     {"abc", 0, 0},        {"", 0, 0},
        {"95.", 0, 0},       {".5", 0, 0},         {"1e2", 0, 0},
        {"-1", 0, 0},        {" 95", 0, 0},        {"95 ", 0, 0},
        {"9.5.1", 0, 0},     {"95,51", 0, 0},      {"1234567890123456", 0, 0},
        {"NaN", 0, 0},       {"95\\u00001", 0, 0},
    };
    char json[256];
    for (size_t i = 0; i < sizeof sims / sizeof sims[0]; i++) {
        snprintf(json, sizeof json,
                 "{\"Text\":{\"ErrCode\":0,\"LivenessDetail\":[{\"Sim\":\"%s\"}]}}", sims[i].sim);
        tcf_verdict *v = verdict_of(json);
        TCFT_CHECK(v != NULL);
        tcf_attempt a;
        int ok = tcf_verdict_attempt(v, 0, &a) == 0 && a.has_sim == sims[i].has &&
                 (!a.has_sim || a.sim == sims[i].value) &&
                 tcf_verdict_status(v) == TCF_VERDICT_PASSED;
        tcf_verdict_free(v);
        if (!ok)
            printf("    Sim \"%s\"\n", sims[i].sim);
        TCFT_CHECK(ok);
    }
    static const struct {
        const char *text;
        long long ms;
    } times[] = {
        {"1753091765496", 1753091765496LL},
        {"0", 0},
        {"999999999999999999", 999999999999999999LL},
        {"1000000000000000000", -1},
        {"", -1},
        {"abc", -1},
        {"-1753091765496", -1},
        {"1753091765496.0", -1},
    };
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        snprintf(json, sizeof json,
                 "{\"Text\":{\"ErrCode\":0,\"LivenessDetail\":[{\"ReqTime\":\"%s\"}]}}",
                 times[i].text);
        tcf_verdict *v = verdict_of(json);
        TCFT_CHECK(v != NULL);
        tcf_attempt a;
        int ok = tcf_verdict_attempt(v, 0, &a) == 0 && a.req_time_ms == times[i].ms;
        tcf_verdict_free(v);
        if (!ok)
            printf("    ReqTime \"%s\"\n", times[i].text);
        TCFT_CHECK(ok);
    }
}

TCFT_TEST(verdict_wrong_types_name_the_field)
{
    static const struct {
        const char *json;
        const char *path;
    } cases[] = {
        {"[]", "not an object"},
        {"null", "not an object"},
        {"\"x\"", "not an object"},
        {"{\"Text\":[]}", "Text"},
        {"{\"Text\":\"ok\"}", "Text"},
        {"{\"Text\":{\"ErrCode\":\"0\"}}", "Text.ErrCode"},
        {"{\"Text\":{\"ErrCode\":0.0}}", "Text.ErrCode"},
        {"{\"Text\":{\"ErrCode\":true}}", "Text.ErrCode"},
        {"{\"Text\":{\"ErrCode\":2147483648}}", "Text.ErrCode"},
        {"{\"Text\":{\"ErrCode\":-2147483649}}", "Text.ErrCode"},
        {"{\"Text\":{\"ErrCode\":0,\"LivenessDetail\":{}}}", "Text.LivenessDetail"},
        {"{\"Text\":{\"ErrCode\":0,\"LivenessDetail\":[{},1]}}", "Text.LivenessDetail[1]"},
        {"{\"Text\":{\"ErrCode\":0,\"LivenessDetail\":[{},{\"Errcode\":\"0\"}]}}",
         "Text.LivenessDetail[1].Errcode"},
        {"{\"Text\":{\"ErrCode\":0,\"LivenessDetail\":[{\"Livestatus\":[]}]}}",
         "Text.LivenessDetail[0].Livestatus"},
        {"{\"Text\":{\"ErrCode\":0,\"LivenessDetail\":[{\"Comparestatus\":1.5}]}}",
         "Text.LivenessDetail[0].Comparestatus"},
        {"{\"Text\":{\"ErrCode\":0,\"LivenessDetail\":[{\"Sim\":95.51}]}}",
         "Text.LivenessDetail[0].Sim"},
        {"{\"Text\":{\"ErrCode\":0,\"LivenessDetail\":[{\"ReqTime\":1753091765496}]}}",
         "Text.LivenessDetail[0].ReqTime"},
        {"{\"Text\":{\"ErrCode\":0,\"LivenessDetail\":[{\"IsNeedCharge\":\"true\"}]}}",
         "Text.LivenessDetail[0].IsNeedCharge"},
        {"{\"Text\":{\"ErrCode\":0,\"LivenessDetail\":[{\"IsNeedCharge\":1}]}}",
         "Text.LivenessDetail[0].IsNeedCharge"},
        {"{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":\"true\"}", "IsVerifyIntention"},
        {"{\"Text\":{\"ErrCode\":0},\"IntentionVerifyType\":0}", "IntentionVerifyType"},
        {"{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"7\"}",
         "IntentionVerifyType"},
        {"{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"00\"}",
         "IntentionVerifyType"},
        {"{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"0\","
         "\"IntentionQuestionResult\":[]}",
         "IntentionQuestionResult"},
        {"{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"1\","
         "\"IntentionActionResult\":{\"FinalResultDetailCode\":\"0\"}}",
         "IntentionActionResult.FinalResultDetailCode"},
        {"{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"2\","
         "\"IntentionVerifyData\":{\"ErrorCode\":false}}",
         "IntentionVerifyData.ErrorCode"},
        /* not JSON at all */
        {"", "result JSON"},
        {"{", "result JSON"},
        {"{\"Text\":null,\"Text\":null}", "result JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        TCFT_CHECK(fails_json(cases[i].json, cases[i].path));
}

TCFT_TEST(verdict_intention_edge_cases)
{
    static const struct {
        const char *json;
        tcf_verdict_outcome status;
        int intention_code; /* -123456: none */
        const char *reason;
    } cases[] = {
        /* type null: cannot be checked yet */
        {"{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,\"IntentionVerifyType\":null}",
         TCF_VERDICT_PENDING, -123456, "IntentionVerifyType is null"},
        /* the result object is there but carries no code */
        {"{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"0\","
         "\"IntentionQuestionResult\":{\"FinalResultDetailCode\":null}}",
         TCF_VERDICT_PENDING, -123456, "no FinalResultDetailCode"},
        /* only the result object that IntentionVerifyType names counts */
        {"{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"1\","
         "\"IntentionQuestionResult\":{\"FinalResultDetailCode\":0}}",
         TCF_VERDICT_PENDING, -123456, "contains 6"},
        {"{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"2\","
         "\"IntentionVerifyData\":{\"ErrorCode\":-17},\"IntentionQuestionResult\":{"
         "\"FinalResultDetailCode\":0}}",
         TCF_VERDICT_FAILED, -17, "-17"},
        /* intention not configured: its objects are ignored */
        {"{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":false,\"IntentionVerifyType\":\"0\","
         "\"IntentionQuestionResult\":{\"FinalResultDetailCode\":-301}}",
         TCF_VERDICT_PASSED, -123456, "passed"},
        {"{\"Text\":{\"ErrCode\":0},\"IntentionVerifyType\":\"0\","
         "\"IntentionQuestionResult\":{\"FinalResultDetailCode\":-301}}",
         TCF_VERDICT_PASSED, -123456, "passed"},
        /* Text.ErrCode decides first; an unknown type then does not matter */
        {"{\"Text\":{\"ErrCode\":1002},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"9\"}",
         TCF_VERDICT_FAILED, -123456, "1002"},
        {"{\"Text\":{\"ErrCode\":2016},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"1\","
         "\"IntentionActionResult\":{\"FinalResultDetailCode\":-201}}",
         TCF_VERDICT_FAILED, -201, "2016"},
        /* pending flow with intention */
        {"{\"Text\":{\"ErrCode\":null},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"2\"}",
         TCF_VERDICT_PENDING, -123456, "not finished"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcf_verdict *v = verdict_of(cases[i].json);
        TCFT_CHECK(v != NULL);
        int ok = tcf_verdict_status(v) == cases[i].status &&
                 intention_code_of(v) == cases[i].intention_code && reason_has(v, cases[i].reason);
        tcf_verdict_free(v);
        if (!ok)
            printf("    case %zu\n", i);
        TCFT_CHECK(ok);
    }
}

/* {"Text":{"ErrCode":1003,"LivenessDetail":[n attempts]}}; the last one billed or not. */
static char *many_attempts(size_t n, int last_billed, size_t *len)
{
    const char *item = "{\"Errcode\":1003,\"Livestatus\":1003,\"Sim\":\"12.5\",\"ReqTime\":"
                       "\"1753091765496\",\"IsNeedCharge\":false}";
    size_t item_len = strlen(item), cap = 128 + n * (item_len + 1);
    char *json = malloc(cap);
    if (json == NULL)
        return NULL;
    size_t at = (size_t)snprintf(json, cap, "{\"Text\":{\"ErrCode\":1003,\"LivenessDetail\":[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            json[at++] = ',';
        memcpy(json + at, item, item_len);
        at += item_len;
    }
    if (last_billed && n > 0)
        at += (size_t)snprintf(json + at - strlen("false}"), cap - at, "true}") - strlen("false}");
    at += (size_t)snprintf(json + at, cap - at, "]}}");
    *len = at;
    return json;
}

TCFT_TEST(verdict_huge_attempt_list)
{
    const size_t n = 100000;
    for (int last_billed = 0; last_billed < 2; last_billed++) {
        size_t len = 0;
        char *json = many_attempts(n, last_billed, &len);
        TCFT_CHECK(json != NULL);
        tcf_verdict *v = NULL;
        tcf_error err;
        tcf_error_clear(&err);
        int rc = tcf_verdict_from_json(&v, json, len, &err);
        free(json);
        if (rc != 0)
            printf("    rc=%d message=%s\n", rc, err.message);
        tcf_attempt a, z;
        int ok = rc == 0 && tcf_verdict_status(v) == TCF_VERDICT_FAILED && code_of(v) == 1003 &&
                 tcf_verdict_attempt_count(v) == n && tcf_verdict_billed(v) == last_billed &&
                 tcf_verdict_attempt(v, 0, &z) == 0 && z.is_need_charge == 0 &&
                 tcf_verdict_attempt(v, n - 1, &a) == 0 && a.errcode == 1003 && a.sim == 12.5 &&
                 a.req_time_ms == 1753091765496LL && a.is_need_charge == last_billed &&
                 tcf_verdict_attempt(v, n, &a) == TCF_EINVAL;
        tcf_verdict_free(v);
        TCFT_CHECK(ok);
    }
}

TCFT_TEST(verdict_arguments)
{
    tcf_verdict *v = (tcf_verdict *)1;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_verdict_from_json(&v, NULL, 0, &err) == TCF_EINVAL && v == NULL);
    TCFT_CHECK(err.code == TCF_EINVAL && strstr(err.message, "response_json") != NULL);
    TCFT_CHECK(tcf_verdict_from_json(NULL, "{}", 2, NULL) == TCF_EINVAL);
    /* the first error wins */
    tcf_error_clear(&err);
    err.code = TCF_EAPI;
    strcpy(err.message, "earlier");
    v = (tcf_verdict *)1;
    TCFT_CHECK(tcf_verdict_from_json(&v, "[]", 2, &err) == TCF_EJSON && v == NULL);
    TCFT_CHECK(err.code == TCF_EAPI && strcmp(err.message, "earlier") == 0);
    /* len is honoured: the text need not be NUL-terminated */
    const char text[] = "{\"Text\":{\"ErrCode\":0}}garbage";
    v = NULL;
    TCFT_CHECK(tcf_verdict_from_json(&v, text, sizeof text - 1 - 7, NULL) == 0);
    TCFT_CHECK(tcf_verdict_status(v) == TCF_VERDICT_PASSED);
    tcf_verdict_free(v);
    /* accessors accept NULL */
    int code;
    tcf_attempt a;
    TCFT_CHECK(tcf_verdict_status(NULL) == 0);
    TCFT_CHECK(tcf_verdict_code(NULL, &code) == TCF_EINVAL);
    TCFT_CHECK(tcf_verdict_intention_code(NULL, &code) == TCF_EINVAL);
    TCFT_CHECK(tcf_verdict_billed(NULL) == -1);
    TCFT_CHECK(tcf_verdict_attempt_count(NULL) == 0);
    TCFT_CHECK(tcf_verdict_attempt(NULL, 0, &a) == TCF_EINVAL);
    TCFT_CHECK(tcf_verdict_reason(NULL) != NULL);
    tcf_verdict_free(NULL);
    /* EXPIRED is never decided from a body; it is a distinct value for the flows layer */
    TCFT_CHECK(TCF_VERDICT_EXPIRED != TCF_VERDICT_PENDING &&
               TCF_VERDICT_EXPIRED != TCF_VERDICT_FAILED);
}

#ifdef TCF_ALLOC_FAILURE_INJECTION
TCFT_TEST(verdict_allocation_failures)
{
    const char *inputs[] = {fx_retry_then_pass, fx_intention_qa_fail_intention, fx_abandon};
    for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
        int succeeded = 0;
        for (long n = 1; n < 1000 && !succeeded; n++) {
            tcf_verdict *v = (tcf_verdict *)1;
            tcf_error err;
            tcf_error_clear(&err);
            tcfp_fail_allocations_after(n);
            int rc = tcf_verdict_from_json(&v, inputs[k], strlen(inputs[k]), &err);
            tcfp_fail_allocations_after(0);
            if (rc == 0) {
                succeeded = 1;
                TCFT_CHECK(v != NULL && tcf_verdict_status(v) != 0);
                tcf_verdict_free(v);
            } else {
                TCFT_CHECK(rc == TCF_ENOMEM && err.code == TCF_ENOMEM && v == NULL);
            }
        }
        TCFT_CHECK(succeeded);
    }
}
#endif

/* ---- tcf_verdict_missing_part ---- */

static const char *missing_of(const char *json)
{
    tcf_verdict *v = verdict_of(json);
    if (v == NULL)
        return "(no verdict)";
    const char *m = tcf_verdict_missing_part(v);
    tcf_verdict_free(v);
    return m;
}

static int missing_is(const char *json, const char *expected)
{
    const char *m = missing_of(json);
    int ok = expected == NULL ? m == NULL : m != NULL && strcmp(m, expected) == 0;
    if (!ok)
        printf("    missing part of %.80s...: %s, want %s\n", json, m ? m : "NULL",
               expected ? expected : "NULL");
    return ok;
}

TCFT_TEST(verdict_missing_part_recorded)
{
    /* the intention result object is null: Q&A and nod need InfoType 6, read-aloud 5 */
    TCFT_CHECK(missing_is(fx_intention_qa_text_only, "6"));
    TCFT_CHECK(missing_is(fx_intention_nod_text_only, "6"));
    TCFT_CHECK(missing_is(fx_intention_read_text_only, "5"));
    /* present, or not needed */
    TCFT_CHECK(missing_is(fx_intention_qa_pass, NULL));
    TCFT_CHECK(missing_is(fx_intention_qa_fail_intention, NULL));
    TCFT_CHECK(missing_is(fx_intention_nod_pass, NULL));
    TCFT_CHECK(missing_is(fx_intention_read_pass, NULL));
    TCFT_CHECK(missing_is(fx_intention_read_fail_intention, NULL));
    TCFT_CHECK(missing_is(fx_pass, NULL));
    TCFT_CHECK(missing_is(fx_abandon, NULL));
    /* the text failed: the intention result does not matter */
    TCFT_CHECK(missing_is(fx_intention_qa_fail_liveness, NULL));
    TCFT_CHECK(missing_is(fx_intention_nod_fail_liveness, NULL));
    TCFT_CHECK(missing_is(fx_intention_read_fail_liveness, NULL));
    TCFT_CHECK(tcf_verdict_missing_part(NULL) == NULL);
}

TCFT_TEST(verdict_missing_part_edge_cases)
{
    /* the result member absent rather than null */
    TCFT_CHECK(missing_is(
        "{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"0\"}",
        "6"));
    TCFT_CHECK(missing_is(
        "{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"1\"}",
        "6"));
    TCFT_CHECK(missing_is(
        "{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"2\"}",
        "5"));
    /* only the object IntentionVerifyType names counts */
    TCFT_CHECK(missing_is("{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,"
                          "\"IntentionVerifyType\":\"1\",\"IntentionQuestionResult\":{"
                          "\"FinalResultDetailCode\":0}}",
                          "6"));
    TCFT_CHECK(missing_is("{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,"
                          "\"IntentionVerifyType\":\"2\",\"IntentionActionResult\":{"
                          "\"FinalResultDetailCode\":0},\"IntentionVerifyData\":null}",
                          "5"));
    /* present (even without its code yet) */
    TCFT_CHECK(missing_is("{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,"
                          "\"IntentionVerifyType\":\"0\",\"IntentionQuestionResult\":{"
                          "\"FinalResultDetailCode\":null}}",
                          NULL));
    TCFT_CHECK(missing_is("{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,"
                          "\"IntentionVerifyType\":\"1\",\"IntentionActionResult\":{"
                          "\"FinalResultDetailCode\":-301}}",
                          NULL));
    /* the text failed or is not finished, or no Text at all */
    TCFT_CHECK(missing_is(
        "{\"Text\":{\"ErrCode\":1002},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"0\"}",
        NULL));
    TCFT_CHECK(missing_is(
        "{\"Text\":{\"ErrCode\":null},\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"2\"}",
        NULL));
    TCFT_CHECK(missing_is("{\"IsVerifyIntention\":true,\"IntentionVerifyType\":\"0\"}", NULL));
    /* the type not known yet, or intention not configured */
    TCFT_CHECK(missing_is(
        "{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":true,\"IntentionVerifyType\":null}",
        NULL));
    TCFT_CHECK(missing_is(
        "{\"Text\":{\"ErrCode\":0},\"IsVerifyIntention\":false,\"IntentionVerifyType\":\"0\"}",
        NULL));
    TCFT_CHECK(missing_is("{\"Text\":{\"ErrCode\":0}}", NULL));
}
