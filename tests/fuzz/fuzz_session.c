/* Sessions: tcf_session_from_json on the fuzzed text, and tcf_session_new /
 * tcf_eid_session_new on it as a DetectAuth / GetEidToken Response.
 *
 * Input: 1 byte of flags (bit 0: pass an Extra, bit 1: created_at 0 instead of 1700000000,
 * bit 2: a 50-character MerchantId), then the JSON text.
 * Invariants: every session made re-serialises to JSON (valid per jansson) that parses back to
 * a session serialising to the very same text, with the same accessors; the token comes from
 * the text; the lifetimes follow created_at; failure leaves *out NULL. */
#include "fuzz_common.h"

#include <jansson.h>

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* s serialises, parses back, and serialises to the same text; returns the text. */
static char *round_trip(const tcf_session *s)
{
    char *t1 = NULL, *t2 = NULL;
    size_t l1 = 0, l2 = 0;
    tcf_error err = {0};
    FUZZ_CHECK(tcf_session_to_json(s, &t1, &l1, &err) == 0, "to_json: %s", err.message);
    FUZZ_CHECK(strlen(t1) == l1, "to_json length");
    json_error_t e;
    json_t *doc = json_loadb(t1, l1, JSON_REJECT_DUPLICATES, &e);
    FUZZ_CHECK(json_is_object(doc), "to_json is not a JSON object: %s\n%s", e.text, t1);
    json_decref(doc);
    tcf_session *s2 = NULL;
    int rc = tcf_session_from_json(&s2, t1, l1, &err);
    FUZZ_CHECK(rc == 0, "from_json(to_json(s)) failed: %s\n%s", err.message, t1);
    FUZZ_CHECK(tcf_session_to_json(s2, &t2, &l2, &err) == 0, "to_json again");
    FUZZ_CHECK(l1 == l2 && memcmp(t1, t2, l1) == 0, "round trip differs:\n%s\n%s", t1, t2);
    FUZZ_CHECK(tcf_session_kind_of(s2) == tcf_session_kind_of(s) &&
                   same(tcf_session_token(s2), tcf_session_token(s)) &&
                   same(tcf_session_rule_id(s2), tcf_session_rule_id(s)) &&
                   same(tcf_session_merchant_id(s2), tcf_session_merchant_id(s)) &&
                   same(tcf_session_url(s2), tcf_session_url(s)) &&
                   same(tcf_session_extra(s2), tcf_session_extra(s)) &&
                   tcf_session_created_at(s2) == tcf_session_created_at(s) &&
                   tcf_session_expires_at(s2) == tcf_session_expires_at(s) &&
                   tcf_session_results_until(s2) == tcf_session_results_until(s),
               "accessors differ after a round trip");
    tcf_session_free(s2);
    tcf_string_free(t2);
    return t1;
}

static void check_session(const tcf_session *s)
{
    tcf_session_kind k = tcf_session_kind_of(s);
    FUZZ_CHECK(k == TCF_SESSION_SAAS || k == TCF_SESSION_EID, "kind %d", (int)k);
    const char *tok = tcf_session_token(s);
    FUZZ_CHECK(tok && tok[0], "no token");
    long long c = tcf_session_created_at(s);
    FUZZ_CHECK(tcf_session_expires_at(s) == c + (k == TCF_SESSION_EID ? TCF_EID_TOKEN_LIFETIME
                                                                      : TCF_BIZ_TOKEN_LIFETIME) &&
                   tcf_session_results_until(s) == c + TCF_RESULTS_LIFETIME,
               "lifetimes do not follow created_at");
    if (k == TCF_SESSION_SAAS)
        FUZZ_CHECK(same(tcf_session_biz_token(s), tok) && tcf_session_eid_token(s) == NULL &&
                       tcf_session_merchant_id(s) == NULL && tcf_session_rule_id(s) != NULL,
                   "SaaS accessors");
    else
        FUZZ_CHECK(same(tcf_session_eid_token(s), tok) && tcf_session_biz_token(s) == NULL &&
                       tcf_session_rule_id(s) == NULL && tcf_session_merchant_id(s) != NULL,
                   "E-ID accessors");
    FUZZ_CHECK(tcf_session_can_start(s, c) == 1, "cannot start when created");
    FUZZ_CHECK(tcf_session_check_result_request(s, NULL, tcf_session_results_until(s) + 1, NULL) ==
                   TCF_ETOKEN_EXPIRED,
               "results past their lifetime");
    tcf_string_free(round_trip(s));
}

/* The token member the service's response carried (directly or in the envelope). */
static void check_token_from(const tcf_session *s, const char *text, size_t len, const char *key)
{
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    FUZZ_CHECK(json_is_object(doc), "a session from a text that is not a JSON object");
    json_t *tok = json_object_get(doc, key);
    if (tok == NULL)
        tok = json_object_get(json_object_get(doc, "Response"), key);
    FUZZ_CHECK(json_is_string(tok) && strcmp(json_string_value(tok), tcf_session_token(s)) == 0,
               "the session's token is not the response's %s", key);
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0];
    size_t len = size - 1;
    char *text = malloc(len ? len : 1); /* not terminated: the length is the API's */
    if (text == NULL)
        abort();
    if (len)
        memcpy(text, data + 1, len);
    const char *extra = (flags & 1) ? "{\"order\":\"A-1\",\"note\":\"\xe5\xbc\xa0\"}" : NULL;
    long long created = (flags & 2) ? 0 : 1700000000;
    const char *merchant =
        (flags & 4) ? "01234567890123456789012345678901234567890123456789" : "0NSJ2203151011";

    tcf_session *s = (tcf_session *)1;
    tcf_error err = {0};
    int rc = tcf_session_from_json(&s, text, len, &err);
    if (rc == 0) {
        check_session(s);
        /* a session text that parses serialises to itself when it is in canonical form */
        char *t = round_trip(s);
        json_t *mine = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
        json_t *canon = json_loads(t, 0, NULL);
        FUZZ_CHECK(json_equal(mine, canon), "the session's JSON is not the text it came from");
        json_decref(mine);
        json_decref(canon);
        tcf_string_free(t);
        tcf_session_free(s);
    } else {
        FUZZ_CHECK(s == NULL, "*out set on failure");
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc == TCF_EJSON || rc == TCF_ENOMEM, "from_json code %d", rc);
    }

    s = (tcf_session *)1;
    memset(&err, 0, sizeof err);
    rc = tcf_session_new(&s, text, len, "1", extra, created, &err);
    if (rc == 0) {
        FUZZ_CHECK(same(tcf_session_extra(s), extra) && same(tcf_session_rule_id(s), "1") &&
                       tcf_session_created_at(s) == created,
                   "tcf_session_new lost an argument");
        check_token_from(s, text, len, "BizToken");
        check_session(s);
        tcf_session_free(s);
    } else {
        FUZZ_CHECK(s == NULL, "*out set on failure");
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc == TCF_EJSON || rc == TCF_ENOMEM, "session_new code %d", rc);
    }

    s = (tcf_session *)1;
    memset(&err, 0, sizeof err);
    rc = tcf_eid_session_new(&s, text, len, merchant, extra, created, &err);
    if (rc == 0) {
        FUZZ_CHECK(same(tcf_session_merchant_id(s), merchant), "merchant lost");
        check_token_from(s, text, len, "EidToken");
        check_session(s);
        tcf_session_free(s);
    } else {
        FUZZ_CHECK(s == NULL, "*out set on failure");
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc == TCF_EJSON || rc == TCF_ENOMEM, "eid_session_new code %d", rc);
    }
    free(text);
    return 0;
}
