/* tcf_check_body (element checks and PaaS helpers) with fuzzed fields and media.
 *
 * Input: 1 byte action index (% the actions below), 1 byte of flags (bit 0: video as raw bytes,
 * bit 1: image as raw bytes, bit 2: image as URL, bits 3-4: verify_mode - 1, bit 5: route),
 * 1 byte best_frame_num (% 12), then NUL-terminated strings: IdCard, Name, Phone, BankCard,
 * ValidityBegin, ValidityEnd, LivenessType, ValidateData, Extra, video, image.
 * Invariants: a body is one JSON object (duplicate keys rejected) whose members are the action's
 * documented parameters; IdCard passes tcf_check_id_card with X upper case, Name is its
 * normalised form, Phone/Mobile and BankCard pass their validators, media are strict base64
 * within their limits and decode to the bytes given (raw media); a failure is TCF_EINVAL with
 * no output. */
#include "fuzz_common.h"

#include <jansson.h>

static const char *const actions[] = {"IdCardVerification",     "IdCardOCRVerification",
                                      "CheckIdNameDate",        "PhoneVerification",
                                      "PhoneVerificationCMCC",  "PhoneVerificationCTCC",
                                      "PhoneVerificationCUCC",  "CheckPhoneAndName",
                                      "MobileStatus",           "MobileNetworkTimeVerification",
                                      "BankCard2EVerification", "BankCardVerification",
                                      "BankCard4EVerification", "CheckBankCardInformation",
                                      "LivenessRecognition",    "LivenessCompare",
                                      "ImageRecognitionV2",     "GetLiveCode",
                                      "GetActionSequence"};

static const char *const members[] = {
    "IdCard",      "Name",         "Phone",        "Mobile",   "BankCard",   "ValidityBegin",
    "ValidityEnd", "LivenessType", "ValidateData", "Optional", "VerifyMode", "Extra",
    "ImageBase64", "ImageUrl",     "VideoBase64",  "VideoUrl"};

static int empty(const char *s)
{
    return s == NULL || *s == '\0';
}

static const char *str_of(json_t *doc, const char *key)
{
    json_t *v = json_object_get(doc, key);
    if (v == NULL)
        return NULL;
    FUZZ_CHECK(json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v),
               "%s is not a plain string", key);
    return json_string_value(v);
}

static void check_media(json_t *doc, const char *key, size_t max, const uint8_t *raw,
                        size_t raw_len)
{
    const char *b64 = str_of(doc, key);
    if (b64 == NULL)
        return;
    size_t n = strlen(b64);
    FUZZ_CHECK(n > 0 && n % 4 == 0 && n <= max, "%s has a bad length %zu", key, n);
    for (size_t i = 0; i < n; i++) {
        char c = b64[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '+' || c == '/' || (c == '=' && i >= n - 2);
        FUZZ_CHECK(ok, "%s has a bad character", key);
    }
    if (raw != NULL) {
        static const char alphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        FUZZ_CHECK(n == (raw_len + 2) / 3 * 4, "%s does not encode the bytes given", key);
        for (size_t i = 0; i + 3 <= raw_len; i += 3) {
            unsigned v = (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | raw[i + 2];
            const char *g = b64 + i / 3 * 4;
            FUZZ_CHECK(g[0] == alphabet[v >> 18] && g[1] == alphabet[(v >> 12) & 63] &&
                           g[2] == alphabet[(v >> 6) & 63] && g[3] == alphabet[v & 63],
                       "%s does not encode the bytes given", key);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    const char *action = actions[fuzz_byte(&in) % (sizeof actions / sizeof *actions)];
    unsigned flags = fuzz_byte(&in);
    int frames = fuzz_byte(&in) % 12;
    char *s[11];
    for (int i = 0; i < 11; i++)
        s[i] = fuzz_str(&in);
    tcf_check_params p = TCF_CHECK_PARAMS_INIT;
    p.id_card = s[0];
    p.name = s[1];
    p.phone = s[2];
    p.bank_card = s[3];
    p.validity_begin = s[4];
    p.validity_end = s[5];
    p.liveness_type = s[6];
    p.validate_data = s[7];
    p.extra = s[8];
    p.best_frame_num = frames;
    p.verify_mode = (int)((flags >> 3) & 3) - 1;
    p.phone_route = (flags >> 5) & 1;
    if (!empty(s[9])) {
        if (flags & 1) {
            p.video.bytes = s[9];
            p.video.bytes_len = strlen(s[9]);
        } else {
            p.video.base64 = s[9];
        }
    }
    if (!empty(s[10])) {
        if (flags & 2) {
            p.image.bytes = s[10];
            p.image.bytes_len = strlen(s[10]);
        } else if (flags & 4) {
            p.image.url = s[10];
        } else {
            p.image.base64 = s[10];
        }
    }
    char *json = (char *)1;
    size_t len = 0;
    tcf_error err = {0};
    int rc = tcf_check_body(&json, &len, action, &p, 1735660800LL, &err);
    if (rc != 0) {
        FUZZ_CHECK(rc == TCF_EINVAL && json == NULL && err.code == TCF_EINVAL,
                   "failure %d with output", rc);
    } else {
        FUZZ_CHECK(json && json[len] == '\0' && strlen(json) == len, "bad body length");
        json_error_t e;
        json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e);
        FUZZ_CHECK(json_is_object(doc), "the body is not a JSON object: %s", e.text);
        const char *key;
        json_t *value;
        json_object_foreach(doc, key, value)
        {
            size_t i = 0;
            while (i < sizeof members / sizeof *members && strcmp(members[i], key) != 0)
                i++;
            FUZZ_CHECK(i < sizeof members / sizeof *members, "undocumented member %s", key);
        }
        const char *id = str_of(doc, "IdCard");
        FUZZ_CHECK(id == NULL || tcf_check_id_card(id, 1735660800LL, NULL) == 0, "bad IdCard");
        const char *name = str_of(doc, "Name");
        if (name != NULL) {
            char norm[129];
            FUZZ_CHECK(tcf_normalize_name(norm, sizeof norm, s[1], NULL) == 0 &&
                           strcmp(norm, name) == 0,
                       "Name is not the normalised name");
        }
        const char *phone = str_of(doc, "Phone");
        const char *mobile = str_of(doc, "Mobile");
        FUZZ_CHECK(phone == NULL || mobile == NULL, "both Phone and Mobile");
        FUZZ_CHECK((phone ? phone : mobile) == NULL ||
                       tcf_check_phone(phone ? phone : mobile, NULL) == 0,
                   "bad phone");
        const char *card = str_of(doc, "BankCard");
        FUZZ_CHECK(card == NULL || tcf_check_bank_card(card, NULL) == 0, "bad BankCard");
        check_media(doc, "VideoBase64", TCF_VIDEO_BASE64_MAX, (const uint8_t *)p.video.bytes,
                    p.video.bytes_len);
        check_media(doc, "ImageBase64", TCF_IMAGE_BASE64_MAX, (const uint8_t *)p.image.bytes,
                    p.image.bytes_len);
        json_decref(doc);
        tcf_string_free(json);
    }
    for (int i = 0; i < 11; i++)
        free(s[i]);
    return 0;
}
