/* The DetectAuth and GetEidToken body builders with fuzzed strings and numbers.
 *
 * Input: 1 byte of flags (bit 0: GetEidToken, bit 1: image bytes instead of base64 text),
 * 4 bytes of small numbers (intention type / mode, recognition flags, speed, input type:
 * byte % 6 - 1), 1 byte question count (% 4) and 1 byte action count (% 4), then NUL-terminated
 * strings: owner (RuleId / MerchantId), IdCard, Name, RedirectUrl, Extra, image, intention text,
 * per question the question and up to 2 answers, the actions.
 * Invariants: a built body is valid JSON (jansson, duplicate keys rejected) with only the
 * documented members, and carries the owner, the normalised name, the ID number with X upper
 * case, the RedirectUrl and the Extra exactly; a failure is TCF_EINVAL with no output. */
#include "fuzz_common.h"

#include <jansson.h>

#define TODAY 1735660800LL

static const char *const da_keys[] = {"RuleId",
                                      "IdCard",
                                      "Name",
                                      "RedirectUrl",
                                      "Extra",
                                      "ImageBase64",
                                      "IntentionVerifyText",
                                      "IntentionQuestions",
                                      "IntentionActions",
                                      "Config"};
static const char *const eid_keys[] = {"MerchantId",  "IdCard", "Name",
                                       "RedirectUrl", "Extra",  "Config"};

static int empty(const char *s)
{
    return s == NULL || *s == '\0';
}

static void check_member(json_t *doc, const char *key, const char *want)
{
    json_t *v = json_object_get(doc, key);
    if (empty(want)) {
        FUZZ_CHECK(v == NULL, "%s present though not given", key);
        return;
    }
    FUZZ_CHECK(json_is_string(v) && json_string_length(v) == strlen(want) &&
                   strcmp(json_string_value(v), want) == 0,
               "%s is not what was given", key);
}

static void check_body(const char *json, size_t len, int eid, const char *owner,
                       const char *id_card, const char *name, const char *url, const char *extra)
{
    FUZZ_CHECK(json && json[len] == '\0' && strlen(json) == len, "bad body length");
    json_error_t e;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e);
    FUZZ_CHECK(json_is_object(doc), "the body is not a JSON object: %s\n%s", e.text, json);
    const char *const *keys = eid ? eid_keys : da_keys;
    size_t nkeys = eid ? sizeof eid_keys / sizeof *eid_keys : sizeof da_keys / sizeof *da_keys;
    const char *key;
    json_t *value;
    json_object_foreach(doc, key, value)
    {
        size_t i = 0;
        while (i < nkeys && strcmp(keys[i], key) != 0)
            i++;
        FUZZ_CHECK(i < nkeys, "undocumented member %s", key);
    }
    check_member(doc, eid ? "MerchantId" : "RuleId", owner);
    check_member(doc, "RedirectUrl", url);
    check_member(doc, "Extra", extra);
    if (!empty(id_card)) {
        char up[19];
        size_t n = strlen(id_card);
        FUZZ_CHECK(n == 18, "an IdCard of %zu bytes accepted", n);
        memcpy(up, id_card, n + 1);
        if (up[17] == 'x')
            up[17] = 'X';
        check_member(doc, "IdCard", up);
    } else {
        check_member(doc, "IdCard", NULL);
    }
    if (!empty(name)) {
        char norm[129];
        FUZZ_CHECK(tcf_normalize_name(norm, sizeof norm, name, NULL) == 0, "a bad Name accepted");
        check_member(doc, "Name", norm);
    } else {
        check_member(doc, "Name", NULL);
    }
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    unsigned flags = fuzz_byte(&in);
    int nums[4];
    for (int i = 0; i < 4; i++)
        nums[i] = fuzz_byte(&in) % 6 - 1;
    size_t nq = fuzz_byte(&in) % 4, na = fuzz_byte(&in) % 4;
    char *owner = fuzz_str(&in), *id_card = fuzz_str(&in), *name = fuzz_str(&in);
    char *url = fuzz_str(&in), *extra = fuzz_str(&in), *image = fuzz_str(&in);
    char *text = fuzz_str(&in);
    tcf_intention_question questions[3];
    char *qstrings[9] = {0};
    const char *answers[3][2];
    for (size_t i = 0; i < nq; i++) {
        qstrings[3 * i] = fuzz_str(&in);
        qstrings[3 * i + 1] = fuzz_str(&in);
        qstrings[3 * i + 2] = fuzz_str(&in);
        answers[i][0] = qstrings[3 * i + 1];
        answers[i][1] = qstrings[3 * i + 2];
        questions[i].question = qstrings[3 * i];
        questions[i].answers = answers[i];
        questions[i].answer_count = answers[i][1] ? 2 : answers[i][0] ? 1 : 0;
    }
    char *actions[3] = {0};
    for (size_t i = 0; i < na; i++)
        actions[i] = fuzz_str(&in);
    int eid = flags & 1;
    char *json = (char *)1;
    size_t len = 0;
    tcf_error err = {0};
    int rc;
    if (!eid) {
        tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
        p.rule_id = owner;
        p.id_card = id_card;
        p.name = name;
        p.redirect_url = url;
        p.extra = extra;
        if ((flags & 2) && image) {
            p.image = (const unsigned char *)image;
            p.image_len = strlen(image);
        } else {
            p.image_base64 = image;
        }
        p.intention_verify_text = text;
        p.intention_questions = nq ? questions : NULL;
        p.intention_question_count = nq;
        p.intention_actions = na ? (const char *const *)actions : NULL;
        p.intention_action_count = na;
        p.intention_type = nums[0];
        p.intention_recognition = nums[1];
        p.mouth_open_recognition = nums[2];
        p.speed = nums[3];
        rc = tcf_detect_auth_body(&json, &len, &p, TODAY, &err);
    } else {
        tcf_eid_token_params p = TCF_EID_TOKEN_PARAMS_INIT;
        p.merchant_id = owner;
        p.id_card = id_card;
        p.name = name;
        p.redirect_url = url;
        p.extra = extra;
        p.input_type = nums[0] + 1;
        p.use_intention_verify = nums[1];
        p.intention_mode = (flags >> 2) % 4;
        p.intention_verify_text = text;
        p.intention_questions = nq ? questions : NULL;
        p.intention_question_count = nq;
        p.intention_actions = na ? (const char *const *)actions : NULL;
        p.intention_action_count = na;
        p.intention_recognition = nums[2];
        p.is_support_hmt_resident_permit_ocr = (flags >> 4) % 3 - 1;
        p.mouth_open_recognition = (flags >> 6) % 3 - 1;
        p.speed = nums[3];
        rc = tcf_eid_token_body(&json, &len, &p, TODAY, &err);
    }
    if (rc == 0) {
        check_body(json, len, eid, owner, id_card, name, url, extra);
        tcf_string_free(json);
    } else {
        FUZZ_CHECK(json == NULL, "*json_out set on failure");
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc == TCF_EINVAL || rc == TCF_ENOMEM, "code %d", rc);
    }
    free(owner), free(id_card), free(name), free(url), free(extra), free(image), free(text);
    for (size_t i = 0; i < 9; i++)
        free(qstrings[i]);
    for (size_t i = 0; i < 3; i++)
        free(actions[i]);
    return 0;
}
