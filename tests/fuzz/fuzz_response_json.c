/* tcf_response_json: the Response object's own text with RequestId cut out.
 *
 * Input: 1 byte choosing an envelope around the object, then the text of the Response value.
 * Invariants: on success the text is a subsequence of the input's bytes and a JSON object without
 * RequestId; when the input is one JSON object, the text parses (jansson) to it without
 * RequestId and equals the trimmed input if it had no RequestId; re-parsing {"Response":<text>}
 * gives the same text. */
#include "fuzz_common.h"

#include <jansson.h>

static const char *const prefixes[] = {
    "{\"Response\":", " \r\n{ \"Response\" :\t",
    "{\"RequestId\":\"outer\",\"Response\":", "{\"A\":[{\"Response\":{}}],\"Response\":"};
static const char *const suffixes[] = {"}", " }\n", "}", ",\"Z\":\"}\"}"};

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned which = data[0] % 4;
    const char *obj = (const char *)data + 1;
    size_t obj_len = size - 1;
    size_t pl = strlen(prefixes[which]), sl = strlen(suffixes[which]);
    size_t blen = pl + obj_len + sl;
    char *body = malloc(blen);
    if (body == NULL)
        abort();
    memcpy(body, prefixes[which], pl);
    memcpy(body + pl, obj, obj_len);
    memcpy(body + pl + obj_len, suffixes[which], sl);

    tcf_response *r = NULL;
    tcf_error err = {0};
    int rc = tcf_parse(&r, 200, NULL, 0, body, blen, &err);
    if (rc != 0) {
        FUZZ_CHECK(r == NULL, "*out set on failure");
        fuzz_check_error(&err, rc);
        free(body);
        return 0;
    }
    size_t len = 0;
    const char *text = tcf_response_json(r, &len);
    FUZZ_CHECK(text && text[len] == '\0' && strlen(text) == len, "bad text");

    /* a subsequence of the input object's bytes */
    size_t j = 0;
    for (size_t i = 0; i < obj_len && j < len; i++)
        if (obj[i] == text[j])
            j++;
    FUZZ_CHECK(j == len, "the text is not cut from the input (%zu of %zu bytes matched)", j, len);

    /* when the input is one JSON object (not text spilling into the envelope) */
    json_error_t e;
    json_t *want = json_loadb(obj, obj_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
    json_t *got = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
    FUZZ_CHECK(json_is_object(got), "response_json is not a JSON object: %s\n%s", e.text, text);
    FUZZ_CHECK(json_object_get(got, "RequestId") == NULL, "RequestId left in");
    if (json_is_object(want)) {
        int had_rid = json_object_get(want, "RequestId") != NULL;
        json_object_del(want, "RequestId");
        FUZZ_CHECK(json_equal(want, got), "response_json is not the object without RequestId:\n%s",
                   text);
        if (!had_rid) {
            size_t a = 0, b = obj_len;
            while (a < b && is_ws(obj[a]))
                a++;
            while (b > a && is_ws(obj[b - 1]))
                b--;
            FUZZ_CHECK(b - a == len && memcmp(obj + a, text, len) == 0,
                       "without RequestId the text must be the input's own text");
        } else {
            FUZZ_CHECK(len < obj_len, "RequestId not cut out of the text");
        }
    }
    json_decref(want);
    json_decref(got);

    char *body2 = malloc(len + 13);
    if (body2 == NULL)
        abort();
    memcpy(body2, "{\"Response\":", 12);
    memcpy(body2 + 12, text, len);
    body2[12 + len] = '}';
    tcf_response *r2 = NULL;
    tcf_error err2 = {0};
    rc = tcf_parse(&r2, 200, NULL, 0, body2, len + 13, &err2);
    FUZZ_CHECK(rc == 0, "re-parsing the text failed: %s", err2.message);
    size_t len2 = 0;
    const char *text2 = tcf_response_json(r2, &len2);
    FUZZ_CHECK(len2 == len && memcmp(text2, text, len) == 0, "re-parsed text differs");
    tcf_response_free(r2);
    tcf_response_free(r);
    free(body2);
    free(body);
    return 0;
}
