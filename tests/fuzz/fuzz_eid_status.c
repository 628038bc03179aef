/* tcf_eid_status_from_json on a fuzzed CheckEidTokenStatus Response (or its envelope), and
 * tcf_eid_poll_after_error on the first bytes.
 *
 * Invariants: success gives one of the four statuses, whose name is exactly the Status string
 * jansson finds in the text; failure is TCF_EJSON (or TCF_ENOMEM) and leaves *out 0. */
#include "fuzz_common.h"

#include <jansson.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 3) {
        int code = -(int)(data[0] % 16);
        tcf_poll_action act = tcf_eid_poll_after_error(code, data[1] & 1, (int)data[2] - 8);
        FUZZ_CHECK(act == TCF_POLL_CONTINUE || act == TCF_POLL_TIMEOUT || act == TCF_POLL_FAIL,
                   "poll action %d", (int)act);
        if (data[2] - 8 >= 3)
            FUZZ_CHECK(act != TCF_POLL_CONTINUE, "continues after %d errors", data[2] - 8);
    }
    uint8_t *text = malloc(size ? size : 1);
    if (text == NULL)
        abort();
    if (size)
        memcpy(text, data, size);
    tcf_eid_status st = TCF_EID_DOING;
    tcf_error err = {0};
    int rc = tcf_eid_status_from_json(&st, text, size, &err);
    if (rc != 0) {
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc == TCF_EJSON || rc == TCF_ENOMEM, "code %d", rc);
        FUZZ_CHECK((int)st == 0, "*out %d on failure", (int)st);
    } else {
        const char *name = tcf_eid_status_name(st);
        FUZZ_CHECK(name != NULL, "status %d has no name", (int)st);
        json_t *doc = json_loadb((const char *)text, size,
                                 JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, NULL);
        FUZZ_CHECK(json_is_object(doc), "a status from a text that is not a JSON object");
        json_t *s = json_object_get(doc, "Status");
        if (s == NULL)
            s = json_object_get(json_object_get(doc, "Response"), "Status");
        FUZZ_CHECK(json_is_string(s) && json_string_length(s) == strlen(name) &&
                       memcmp(json_string_value(s), name, strlen(name)) == 0,
                   "status %s is not the text's Status", name);
        json_decref(doc);
    }
    free(text);
    return 0;
}
