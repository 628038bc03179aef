/* tcf_verdict_from_json on a fuzzed GetDetectInfoEnhanced / GetEidResult Response object.
 *
 * Invariants: failure leaves *out NULL with TCF_EJSON (or TCF_ENOMEM); success gives a status
 * in 1-3 (EXPIRED never comes from a body), a non-empty reason, a billed flag in -1..1, a
 * missing part NULL / "5" / "6", attempts readable up to the count and TCF_EINVAL past it, and
 * the same answers when the same text is decided twice. */
#include "fuzz_common.h"

static void check_attempt(const tcf_attempt *a)
{
    FUZZ_CHECK(a->has_errcode == 0 || a->has_errcode == 1, "has_errcode %d", a->has_errcode);
    FUZZ_CHECK(a->has_livestatus == 0 || a->has_livestatus == 1, "has_livestatus");
    FUZZ_CHECK(a->has_comparestatus == 0 || a->has_comparestatus == 1, "has_comparestatus");
    FUZZ_CHECK(a->has_sim == 0 || a->has_sim == 1, "has_sim");
    FUZZ_CHECK(a->req_time_ms >= -1, "req_time_ms %lld", a->req_time_ms);
    FUZZ_CHECK(a->is_need_charge >= -1 && a->is_need_charge <= 1, "is_need_charge %d",
               a->is_need_charge);
    if (a->has_sim)
        FUZZ_CHECK(a->sim == a->sim, "Sim is NaN");
    if (a->has_errcode)
        (void)tcf_errcode_meaning(a->errcode);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy without terminator: the length is the API's */
    uint8_t *text = malloc(size ? size : 1);
    if (text == NULL)
        abort();
    if (size)
        memcpy(text, data, size);

    tcf_verdict *v = (tcf_verdict *)1;
    tcf_error err = {0};
    int rc = tcf_verdict_from_json(&v, text, size, &err);
    if (rc != 0) {
        FUZZ_CHECK(v == NULL, "*out set on failure");
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc == TCF_EJSON || rc == TCF_ENOMEM, "unexpected code %d", rc);
        free(text);
        return 0;
    }
    FUZZ_CHECK(v != NULL, "success without a verdict");
    tcf_verdict_outcome st = tcf_verdict_status(v);
    FUZZ_CHECK(st == TCF_VERDICT_PASSED || st == TCF_VERDICT_FAILED || st == TCF_VERDICT_PENDING,
               "status %d", (int)st);
    const char *reason = tcf_verdict_reason(v);
    FUZZ_CHECK(reason && reason[0], "no reason");
    int billed = tcf_verdict_billed(v);
    FUZZ_CHECK(billed >= -1 && billed <= 1, "billed %d", billed);
    const char *missing = tcf_verdict_missing_part(v);
    FUZZ_CHECK(missing == NULL || strcmp(missing, "5") == 0 || strcmp(missing, "6") == 0,
               "missing part \"%s\"", missing);
    int code = 12345, icode = 12345;
    int crc = tcf_verdict_code(v, &code);
    FUZZ_CHECK(crc == 0 || crc == TCF_ESTATE, "tcf_verdict_code %d", crc);
    if (crc == 0) {
        (void)tcf_errcode_meaning(code);
        if (code != 0)
            FUZZ_CHECK(st != TCF_VERDICT_PASSED, "passed with ErrCode %d", code);
    } else {
        FUZZ_CHECK(st != TCF_VERDICT_PASSED, "passed without Text.ErrCode");
    }
    int irc = tcf_verdict_intention_code(v, &icode);
    FUZZ_CHECK(irc == 0 || irc == TCF_ESTATE, "tcf_verdict_intention_code %d", irc);
    if (irc == 0) {
        static const char *const types[] = {"0", "1", "2", "3", NULL};
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            (void)tcf_intention_code_meaning(types[i], icode);
    }
    if (missing)
        FUZZ_CHECK(st != TCF_VERDICT_PASSED, "passed with a part missing");
    size_t n = tcf_verdict_attempt_count(v);
    tcf_attempt a;
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(tcf_verdict_attempt(v, i, &a) == 0, "attempt %zu of %zu unreadable", i, n);
        check_attempt(&a);
    }
    FUZZ_CHECK(tcf_verdict_attempt(v, n, &a) == TCF_EINVAL, "attempt past the end");

    tcf_verdict *v2 = NULL;
    FUZZ_CHECK(tcf_verdict_from_json(&v2, text, size, NULL) == 0, "not deterministic");
    int code2 = 12345;
    FUZZ_CHECK(tcf_verdict_status(v2) == st && tcf_verdict_billed(v2) == billed &&
                   tcf_verdict_attempt_count(v2) == n && tcf_verdict_code(v2, &code2) == crc &&
                   (crc != 0 || code2 == code) && strcmp(tcf_verdict_reason(v2), reason) == 0,
               "a second decision differs");
    tcf_verdict_free(v2);
    tcf_verdict_free(v);
    free(text);
    return 0;
}
