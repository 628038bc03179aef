/* tcf_result_plan (and tcf_result_body for each call of the plan) with fuzzed parts.
 *
 * Input: 1 byte kind (0: invalid, 1: SaaS, 2: E-ID, 3: 99), 1 byte out_cap (% 17), then the
 * parts text. The output buffer is a heap block of exactly out_cap bytes.
 * Invariants: success needs out_cap >= 8 and gives 1-7 distinct InfoType digits: "1" first when
 * present, then ascending, with E-ID's "0" last and never "4" for E-ID nor "0" for SaaS;
 * planning the plan's own digits gives the same plan; each call's body is valid JSON. */
#include "fuzz_common.h"

#include <jansson.h>

static void check_body(tcf_session_kind kind, char digit)
{
    char info[2] = {digit, '\0'};
    tcf_result_request r = TCF_RESULT_REQUEST_INIT;
    r.kind = kind;
    r.token = "0A1B2C3D-4E5F-6789-ABCD-EF0123456789";
    r.rule_id = kind == TCF_SESSION_SAAS ? "1" : NULL;
    r.info_type = info;
    char *json = NULL;
    size_t len = 0;
    tcf_error err = {0};
    int rc = tcf_result_body(&json, &len, &r, &err);
    FUZZ_CHECK(rc == 0, "no body for InfoType %c: %s", digit, err.message);
    json_error_t e;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e);
    FUZZ_CHECK(json_is_object(doc), "the result body is not a JSON object: %s", e.text);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(doc, "InfoType")), info) == 0,
               "InfoType differs");
    json_decref(doc);
    tcf_string_free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    static const tcf_session_kind kinds[] = {(tcf_session_kind)0, TCF_SESSION_SAAS, TCF_SESSION_EID,
                                             (tcf_session_kind)99};
    tcf_session_kind kind = kinds[fuzz_byte(&in) % 4];
    size_t cap = fuzz_byte(&in) % 17;
    char *parts = fuzz_cstr(in.p, in.n);
    char *out = cap ? malloc(cap) : NULL;
    tcf_error err = {0};
    int rc = tcf_result_plan(out, cap, kind, parts, &err);
    if (rc != 0) {
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc == TCF_EINVAL, "code %d", rc);
        if (cap)
            FUZZ_CHECK(out[0] == '\0', "output left on failure");
    } else {
        FUZZ_CHECK(cap >= 8 && (kind == TCF_SESSION_SAAS || kind == TCF_SESSION_EID),
                   "planned with cap %zu kind %d", cap, (int)kind);
        size_t n = strnlen(out, cap);
        FUZZ_CHECK(n >= 1 && n < cap && n <= 7, "plan of %zu digits", n);
        int seen[10] = {0};
        for (size_t i = 0; i < n; i++) {
            char d = out[i];
            FUZZ_CHECK(d >= '0' && d <= '6', "digit %c", d);
            FUZZ_CHECK(!seen[d - '0'], "digit %c twice in %s", d, out);
            seen[d - '0'] = 1;
            if (d == '0')
                FUZZ_CHECK(kind == TCF_SESSION_EID && i == n - 1, "0 in %s", out);
            if (d == '4')
                FUZZ_CHECK(kind == TCF_SESSION_SAAS, "video for E-ID");
            if (d == '1')
                FUZZ_CHECK(i == 0, "the text is not first in %s", out);
            if (i > 0 && d != '0' && out[i - 1] != '1')
                FUZZ_CHECK(out[i - 1] < d, "not ascending: %s", out);
        }
        if (seen[0])
            FUZZ_CHECK(strcmp(out, "10") == 0, "E-ID all must be \"10\", got %s", out);
        char again[8];
        FUZZ_CHECK(tcf_result_plan(again, sizeof again, kind, out, NULL) == 0 &&
                       strcmp(again, out) == 0,
                   "planning %s again gives %s", out, again);
        for (size_t i = 0; i < n; i++)
            check_body(kind, out[i]);
    }
    free(out);
    free(parts);
    return 0;
}
