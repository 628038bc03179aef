/* tcf_parse with a fuzzed HTTP status, headers and body.
 *
 * Input: 2 bytes status (100 + value % 510: 100-609, so 600-609 are invalid), 1 byte header
 * count (% 8), that many NUL-terminated name and value strings, then the body (the rest, raw).
 *
 * Invariants: failure leaves *out NULL and fills err consistently (http_status, code class);
 * success gives a Response JSON text that jansson parses to the body's Response object without
 * RequestId, and re-parsing {"Response":<that text>} gives the very same text. */
#include "fuzz_common.h"

#include <jansson.h>

static void check_success(const tcf_response *r, int status, const uint8_t *body, size_t body_len)
{
    FUZZ_CHECK(status == 200, "a success for HTTP %d", status);
    size_t len = 0;
    const char *text = tcf_response_json(r, &len);
    FUZZ_CHECK(text != NULL, "no Response JSON");
    FUZZ_CHECK(text[len] == '\0' && strlen(text) == len, "bad length %zu", len);
    FUZZ_CHECK(tcf_response_server_time(r) >= 0, "negative server time");

    json_error_t e;
    json_t *mine = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
    FUZZ_CHECK(json_is_object(mine), "response_json is not a JSON object: %s", e.text);
    FUZZ_CHECK(json_object_get(mine, "RequestId") == NULL, "RequestId left in");
    json_t *doc = json_loadb((const char *)body, body_len,
                             JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &e);
    FUZZ_CHECK(doc != NULL, "tcf_parse accepted a body jansson rejects: %s", e.text);
    json_t *resp = json_object_get(doc, "Response");
    FUZZ_CHECK(json_is_object(resp), "success without a Response object");
    json_t *rid = json_object_get(resp, "RequestId");
    const char *got_rid = tcf_response_request_id(r);
    if (json_is_string(rid))
        FUZZ_CHECK(got_rid && strcmp(got_rid, json_string_value(rid)) == 0, "RequestId differs");
    else
        FUZZ_CHECK(got_rid == NULL, "a RequestId that was not a string");
    json_object_del(resp, "RequestId");
    FUZZ_CHECK(json_equal(mine, resp), "response_json differs from the body's Response object");
    json_decref(doc);
    json_decref(mine);

    /* {"Response": text} parses to the same text. */
    size_t blen = len + 14;
    char *body2 = malloc(blen);
    if (body2 == NULL)
        abort();
    memcpy(body2, "{\"Response\":", 12);
    memcpy(body2 + 12, text, len);
    body2[12 + len] = '}';
    body2[13 + len] = '\n';
    tcf_response *r2 = NULL;
    tcf_error err2 = {0};
    int rc = tcf_parse(&r2, 200, NULL, 0, body2, blen, &err2);
    FUZZ_CHECK(rc == 0, "re-parsing the Response text failed: %s", err2.message);
    size_t len2 = 0;
    const char *text2 = tcf_response_json(r2, &len2);
    FUZZ_CHECK(len2 == len && memcmp(text, text2, len) == 0, "re-parsed text differs");
    FUZZ_CHECK(tcf_response_request_id(r2) == NULL, "a RequestId from nowhere");
    tcf_response_free(r2);
    free(body2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    int status = 100 + (int)(fuzz_u16(&in) % 510);
    size_t n = fuzz_byte(&in) % 8;
    tcf_header headers[8];
    char *strings[16] = {0};
    for (size_t i = 0; i < n; i++) {
        strings[2 * i] = fuzz_str(&in);
        strings[2 * i + 1] = fuzz_str(&in);
        headers[i].name = strings[2 * i];
        headers[i].value = strings[2 * i + 1];
    }
    size_t body_len;
    uint8_t *body = fuzz_bytes(&in, in.n, &body_len); /* no terminator: a body is bytes */

    tcf_response *r = (tcf_response *)1;
    tcf_error err = {0};
    int rc = tcf_parse(&r, status, n ? headers : NULL, n, body, body_len, &err);
    if (rc == 0) {
        FUZZ_CHECK(r != NULL && err.code == 0, "success without a response");
        check_success(r, status, body, body_len);
    } else {
        FUZZ_CHECK(r == NULL, "*out set on failure");
        fuzz_check_error(&err, rc);
        if (status > 599) {
            FUZZ_CHECK(rc == TCF_EINVAL, "HTTP %d accepted", status);
        } else {
            FUZZ_CHECK(rc == TCF_EAUTH || rc == TCF_ETHROTTLED || rc == TCF_ETOKEN_EXPIRED ||
                           rc == TCF_EAPI || rc == TCF_ERATE_LIMITED || rc == TCF_EHTTP ||
                           rc == TCF_EJSON || rc == TCF_ENOMEM,
                       "unexpected class %d", rc);
            FUZZ_CHECK(err.http_status == status, "http_status %d, sent %d", err.http_status,
                       status);
            FUZZ_CHECK(err.server_time >= 0, "negative server time");
            if (rc == TCF_EAPI || rc == TCF_EAUTH || rc == TCF_ETHROTTLED ||
                rc == TCF_ERATE_LIMITED || rc == TCF_ETOKEN_EXPIRED)
                FUZZ_CHECK(err.api_code[0] != '\0', "an API error without api_code");
        }
    }
    tcf_response_free(rc == 0 ? r : NULL);
    free(body);
    for (size_t i = 0; i < 16; i++)
        free(strings[i]);
    return 0;
}
