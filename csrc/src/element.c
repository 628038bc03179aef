/* Element checks and PaaS comparisons (layer 5, pure): a typed outcome from the Result string of
 * an IdCardVerification, PhoneVerification, BankCard*Verification, ... or LivenessRecognition /
 * LivenessCompare / ImageRecognition(V2) response. The same number means different things in
 * different actions (faceid-api.md §4.6), so every action has its own table. Decides on codes
 * only, never on message text (Description changes without notice). */
#include "sansio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Shorter names for the table rows. */
#define MATCH TCF_CHECK_MATCHED
#define MISMATCH TCF_CHECK_MISMATCHED
#define ANSWER TCF_CHECK_ANSWERED
#define NOTFOUND TCF_CHECK_NOT_FOUND
#define INPUT TCF_CHECK_INVALID_INPUT
#define CARD TCF_CHECK_CARD_PROBLEM
#define UNSUP TCF_CHECK_UNSUPPORTED
#define BUSY TCF_CHECK_SERVICE_UNAVAILABLE
#define DAILY TCF_CHECK_DAILY_LIMIT
#define LIVE TCF_CHECK_LIVENESS_FAILED
#define MEDIA TCF_CHECK_MEDIA_PROBLEM

typedef struct code_row {
    const char *code;
    tcf_check_status status;
    int billed; /* 1 billed, 0 not billed, -1 not documented */
    const char *meaning;
} code_row;

#define ROWS(t) t, sizeof t / sizeof t[0]

/* ---- element checks (faceid-api.md §4.6 and Appendix A element_result_codes) ---- */

static const code_row id_card[] = {
    {"0", MATCH, 1, "the name and ID number match"},
    {"-1", MISMATCH, 1, "the name and ID number do not match"},
    {"-2", INPUT, 0, "invalid ID number (length, check digit, ...)"},
    {"-3", INPUT, 0, "invalid name (length, format, ...)"},
    {"-4", BUSY, 0, "the ID database service failed"},
    {"-5", NOTFOUND, 0, "no record of this ID number in the ID database"},
    {"-6", BUSY, 0, "the authoritative comparison system is being upgraded: retry later"},
    {"-7", DAILY, 0, "too many checks of this identity today"},
};

static const code_row id_name_date[] = {
    {"0", MATCH, 1, "the name, ID number and validity period match"},
    {"-1", MISMATCH, 1, "the name, ID number and validity period do not match"},
    {"-2", INPUT, 0, "invalid ID number"},
    {"-3", INPUT, 0, "invalid name"},
    {"-4", INPUT, 0, "invalid validity period"},
    {"-5", NOTFOUND, 0, "the identity information is not valid (e.g. a cancelled record)"},
    {"-6", BUSY, 0, "the ID database service failed"},
    {"-7", NOTFOUND, 0, "no record of this ID number in the ID database"},
    {"-8", DAILY, 0, "too many checks of this identity today: retry tomorrow"},
};

static const code_row phone[] = {
    {"0", MATCH, 1, "the phone number, name and ID number match"},
    {"-4", MISMATCH, 1, "the phone number, name and ID number do not match"},
    {"-6", INPUT, 0, "invalid phone number"},
    {"-7", INPUT, 0, "invalid ID number"},
    {"-8", INPUT, 0, "the name failed validation"},
    {"-9", NOTFOUND, 0, "no record"},
    {"-11", BUSY, 0, "the verification centre is busy"},
    {"-12", DAILY, 0, "too many checks today: retry tomorrow"},
    {"-13", UNSUP, 0, "this number range cannot be verified"},
};

static const code_row phone_carrier[] = {
    {"0", MATCH, 1, "verified: the phone number, name and ID number match"},
    {"-4", MISMATCH, 1,
     "the number is registered, but to a different name and ID number (mismatch)"},
    {"-6", INPUT, 0, "invalid phone number"},
    {"-7", INPUT, 0, "invalid ID number"},
    {"-8", INPUT, 0, "the name failed validation"},
    {"-9", NOTFOUND, 0, "no record"},
    {"-11", BUSY, 0, "the verification centre is busy"},
    {"-13", UNSUP, 0, "this number range cannot be verified"},
};

static const code_row phone_encrypted[] = {
    {"0", MATCH, 1, "the phone number, name and ID number match"},
    {"-4", MISMATCH, 1, "the phone number, name and ID number do not match"},
    {"-7", INPUT, 0, "invalid ID number"},
    {"-8", INPUT, 0, "invalid parameter"},
    {"-9", NOTFOUND, 0, "no record"},
    {"-11", BUSY, 0, "the verification centre is busy"},
};

static const code_row phone_name[] = {
    {"0", MATCH, 1, "the phone number and name match"},
    {"1", MISMATCH, 1, "the phone number and name do not match"},
    {"-1", NOTFOUND, 0, "no record"},
    {"-2", BUSY, 0, "unknown engine error"},
    {"-3", BUSY, 0, "the engine service failed"},
    {"-4", INPUT, 0, "the name failed validation"},
    {"-5", INPUT, 0, "invalid phone number"},
    {"-6", DAILY, 0, "too many checks today: retry tomorrow"},
    {"-13", UNSUP, 0, "this number range cannot be verified"},
};

static const code_row mobile_status[] = {
    {"0", ANSWER, 1, "success: see StatusCode"},
    {"-1", NOTFOUND, 0, "no result found"},
    {"-2", INPUT, 0, "invalid phone number format"},
    {"-3", BUSY, 0, "the verification centre is busy"},
    {"-4", DAILY, 0, "too many checks today: retry tomorrow"},
    {"-13", UNSUP, 0, "this number range cannot be verified"},
};

static const code_row network_time[] = {
    {"0", ANSWER, 1, "success: see Range"},
    {"-0", ANSWER, 1, "success: see Range (\"-0\" as the documentation writes it)"},
    {"-2", NOTFOUND, 1, "the phone number does not exist"},
    {"-3", NOTFOUND, 1, "the phone number exists, but its time on the network is unknown"},
    {"-1", INPUT, 0, "invalid phone number format"},
    {"-4", BUSY, 0, "the verification centre is busy"},
    {"-5", DAILY, 0, "too many checks today: retry tomorrow"},
    {"-13", UNSUP, 0, "this number range cannot be verified"},
};

/* The card states shared by the three bank-card checks, in their documented order. */
#define CARD_STATES(a, b, c, d, e, f, g, h, i, j, k, l)                                            \
    {a, MISMATCH, 1, "the cardholder information is wrong"},                                       \
        {b, CARD, 1, "card-not-present payment is not enabled for this card"},                     \
        {c, CARD, 1, "the card has been confiscated"}, {d, CARD, 1, "invalid card number"},        \
        {e, CARD, 1, "no issuing bank for this card"},                                             \
        {f, CARD, 1, "the card is not initialised or dormant"},                                    \
        {g, CARD, 1, "fraudulent or retained card"}, {h, CARD, 1, "the card was reported lost"},   \
        {i, CARD, 1, "the card has expired"}, {j, CARD, 1, "restricted card"},                     \
        {k, CARD, 1, "too many wrong PIN entries"},                                                \
    {                                                                                              \
        l, CARD, 1, "the issuing bank does not support this transaction"                           \
    }

static const code_row bank_2e[] = {
    {"0", MATCH, 1, "verified: the name and card match"},
    {"-1", MISMATCH, 1, "not verified: the name and card do not match"},
    CARD_STATES("-4", "-5", "-6", "-7", "-8", "-9", "-10", "-11", "-12", "-13", "-14", "-15"),
    {"-18", CARD, 1, "abnormal card state or wrong card number"},
    {"-2", INPUT, 0, "the name failed validation"},
    {"-3", INPUT, 0, "invalid bank card number format"},
    {"-16", BUSY, 0, "the verification centre is busy"},
    {"-17", DAILY, 0, "too many checks today: retry tomorrow"},
};

static const code_row bank_3e[] = {
    {"0", MATCH, 1, "verified: the name, ID number and card match"},
    {"-1", MISMATCH, 1, "not verified: the name, ID number and card do not match"},
    CARD_STATES("-5", "-6", "-7", "-8", "-9", "-10", "-11", "-12", "-13", "-14", "-15", "-16"),
    {"-20", CARD, 1, "abnormal card state or wrong card number"},
    {"-2", INPUT, 0, "the name failed validation"},
    {"-3", INPUT, 0, "invalid ID number"},
    {"-4", INPUT, 0, "invalid bank card number format"},
    {"-17", BUSY, 0, "the verification centre is busy"},
    {"-18", DAILY, 0, "too many checks today: retry tomorrow"},
    {"-19", UNSUP, 0, "this certificate type is not supported: only second-generation ID cards"},
};

static const code_row bank_4e[] = {
    {"0", MATCH, 1, "verified: the name, ID number, card and phone number match"},
    {"-1", MISMATCH, 1, "not verified: the name, ID number, card and phone number do not match"},
    CARD_STATES("-6", "-7", "-8", "-9", "-10", "-11", "-12", "-13", "-14", "-15", "-16", "-17"),
    {"-21", CARD, 1, "abnormal card state or wrong card number"},
    {"-2", INPUT, 0, "the name failed validation"},
    {"-3", INPUT, 0, "invalid ID number"},
    {"-4", INPUT, 0, "invalid bank card number format"},
    {"-5", INPUT, 0, "invalid phone number"},
    {"-18", BUSY, 0, "the verification centre is busy"},
    {"-19", DAILY, 0, "too many checks today: retry tomorrow"},
    {"-20", UNSUP, 0, "this certificate type is not supported: only second-generation ID cards"},
};

static const code_row bank_info[] = {
    {"0", ANSWER, 1, "success: see AccountBank and AccountType"},
    {"-1", NOTFOUND, 1, "no information found"},
    {"-5", CARD, 1, "invalid card number"},
    {"-2", BUSY, 0, "the verification centre is busy"},
    {"-3", NOTFOUND, 0, "the bank card does not exist"},
    {"-4", DAILY, 0, "too many checks today: retry tomorrow"},
    {"-6", UNSUP, 0, "this kind of bank card is not supported yet"},
};

static const code_row minors[] = {
    {"0", ANSWER, 1, "adult"},
    {"-1", ANSWER, 1, "minor"},
    {"-3", MISMATCH, 1, "the name and ID number do not match"},
    {"-2", NOTFOUND, 0, "no information found for the phone number"},
    {"-4", INPUT, 0, "invalid ID number"},
    {"-5", INPUT, 0, "invalid name"},
    {"-6", BUSY, 0, "the authoritative data source failed"},
    {"-7", NOTFOUND, 0, "no identity information found"},
    {"-8", BUSY, 0, "the authoritative data source is being upgraded: retry later"},
};

/* ---- PaaS liveness and comparison (faceid-api.md §2.13, §4.2 with its billing notes) ---- */

enum { LR = 1, LC = 2, IR1 = 4, IR2 = 8, ALL = LR | LC | IR1 | IR2, IRS = IR1 | IR2 };

typedef struct paas_row {
    const char *code; /* without the "FailedOperation." prefix, but "Success" */
    unsigned actions; /* the actions documenting it (Go SDK «可能返回的错误码») */
    tcf_check_status status;
    int billed;
    const char *meaning;
} paas_row;

static const paas_row paas[] = {
    {"Success", ALL, MATCH, 1, "success"},
    {"ActionCloseEye", LR | LC, LIVE, -1, "no eye closing detected"},
    {"ActionFaceClose", LR | LC, MEDIA, -1, "the face is too close to the screen"},
    {"ActionFaceFar", LR | LC, MEDIA, -1, "the face is too far from the screen"},
    {"ActionFaceLeft", LR | LC, MEDIA, -1, "the face is too far left"},
    {"ActionFaceRight", LR | LC, MEDIA, -1, "the face is too far right"},
    {"ActionFirstAction", LR | LC, LIVE, -1, "the action was not performed"},
    {"ActionLightDark", LR | LC, MEDIA, -1, "the light is too dark"},
    {"ActionLightStrong", LR | LC, MEDIA, -1, "the light is too strong"},
    {"ActionNodetectFace", LR | LC, MEDIA, -1, "no complete face detected"},
    {"ActionOpenMouth", LR | LC, LIVE, -1, "no mouth opening detected"},
    {"CompareFail", ALL, MISMATCH, 0, "the comparison failed"},
    {"CompareLibServiceUnavailable", LR | IRS, BUSY, -1,
     "the comparison source is under maintenance"},
    {"CompareLowSimilarity", ALL, MISMATCH, 1, "the similarity is below the threshold"},
    {"CompareSystemError", ALL, BUSY, -1, "the comparison engine failed"},
    {"CompressVideoError", LC, MEDIA, -1, "compressing the video failed: send a smaller video"},
    {"DecryptSystemError", LR | IRS, INPUT, -1, "decrypting the request failed"},
    {"DownLoadError", LR | LC, MEDIA, -1, "downloading the file failed"},
    {"DownLoadTimeoutError", LR | LC, MEDIA, -1, "downloading the file timed out"},
    {"IdFormatError", LR | IRS, INPUT, -1, "invalid ID number"},
    {"IdNameMisMatch", LR | IRS, MISMATCH, 1, "the name and ID number do not match"},
    {"IdNoExistSystem", LR | IRS, NOTFOUND, -1, "no record of this ID number"},
    {"IdPhotoNoExist", LR | IRS, NOTFOUND, -1, "no photo of this ID number in the source"},
    {"IdPhotoPoorQuality", LR | IRS, NOTFOUND, 0,
     "the authoritative photo is of poor quality: update it and retry"},
    {"IdPhotoSystemNoanswer", IRS, BUSY, -1,
     "the photo source did not return a photo: retry later"},
    {"IdentityAuthLimitExceeded", LR | IRS, DAILY, -1,
     "too many checks of this name / ID number today: retry tomorrow"},
    {"LifePhotoDetectFaces", ALL, MEDIA, 0, "several faces detected"},
    {"LifePhotoDetectFake", ALL, LIVE, 0, "the real-person comparison did not pass"},
    {"LifePhotoDetectNoFaces", ALL, MEDIA, 0, "no complete face detected"},
    {"LifePhotoPoorQuality", LC | IRS, MEDIA, -1, "the image resolution is too low"},
    {"LifePhotoSizeError", ALL, MEDIA, -1, "the image is too large or too small"},
    {"LipFaceIncomplete", LR | LC, MEDIA, -1, "the face is not fully visible"},
    {"LipMoveSmall", LR | LC, LIVE, -1, "the lip movement is too small"},
    {"LipNetFailed", LR | LC, MEDIA, -1, "fetching the video failed: retry"},
    {"LipSizeError", LR | LC, MEDIA, -1,
     "the video is empty or of the wrong size (record about 6 s)"},
    {"LipVideoInvalid", LR | LC, MEDIA, -1, "bad video format"},
    {"LipVideoQuaility", LR | LC, MEDIA, -1, "the video resolution is too low"},
    {"LipVoiceDetect", LR | LC, MEDIA, -1, "no voice detected"},
    {"LipVoiceLow", LR | LC, MEDIA, -1, "the voice is too quiet"},
    {"LipVoiceRecognize", LR | LC, LIVE, -1, "the voice was not recognised"},
    {"LivessBestFrameError", LR | LC, MEDIA, -1,
     "face detection failed: no frame to compare could be extracted"},
    {"LivessDetectFail", LR | LC, LIVE, -1, "the liveness check did not pass"},
    {"LivessDetectFake", LR | LC, LIVE, -1, "suspected non-live recording"},
    {"LivessSystemError", LR | LC, BUSY, -1, "the liveness engine failed"},
    {"LivessUnknownError", LR | LC, LIVE, -1, "the video real-person check did not pass"},
    {"NameFormatError", LR | IRS, INPUT, -1, "invalid name"},
    {"SilentDetectFail", LR | LC, LIVE, -1, "the real-person check failed"},
    {"SilentEyeLiveFail", LC, LIVE, -1, "the eye check failed"},
    {"SilentFaceDetectFail", LC, MEDIA, -1, "no face detected in the video"},
    {"SilentFaceQualityFail", LC, MEDIA, -1, "the face quality in the video is low"},
    {"SilentFaceWithMaskFail", LC, MEDIA, -1, "a mask was detected"},
    {"SilentMouthLiveFail", LC, LIVE, -1, "the mouth check failed"},
    {"SilentMultiFaceFail", LC, MEDIA, -1, "several faces in the video"},
    {"SilentPictureLiveFail", LC, LIVE, -1, "suspected re-shoot of a picture"},
    {"SilentThreshold", LR | LC, LIVE, -1, "the real-person check is below the threshold"},
    {"SilentTooShort", LR | LC, MEDIA, -1, "the video is too short: record more than 2 s"},
    {"StsUnAuthErrError", LR | IRS, BUSY, -1, "STS is not authorised"},
    {"UnKnown", ALL, BUSY, -1, "unknown internal error"},
};

/* ---- the actions ---- */

typedef enum action_kind {
    KIND_COMPARE = 1, /* consistent / inconsistent: matched is 1 / 0 */
    KIND_QUERY = 2,   /* a lookup (status, tenure, card information, age): matched is always -1 */
    KIND_PAAS = 3     /* Result "Success" / "FailedOperation.*", Sim */
} action_kind;

typedef struct action_def {
    const char *action;
    action_kind kind;
    const code_row *rows; /* element checks */
    size_t n;
    unsigned paas_bit; /* PaaS */
} action_def;

/* Sorted by name (binary search). */
static const action_def action_defs[] = {
    {"BankCard2EVerification", KIND_COMPARE, ROWS(bank_2e), 0},
    {"BankCard4EVerification", KIND_COMPARE, ROWS(bank_4e), 0},
    {"BankCardVerification", KIND_COMPARE, ROWS(bank_3e), 0},
    {"CheckBankCardInformation", KIND_QUERY, ROWS(bank_info), 0},
    {"CheckIdNameDate", KIND_COMPARE, ROWS(id_name_date), 0},
    {"CheckPhoneAndName", KIND_COMPARE, ROWS(phone_name), 0},
    {"EncryptedPhoneVerification", KIND_COMPARE, ROWS(phone_encrypted), 0},
    {"IdCardOCRVerification", KIND_COMPARE, ROWS(id_card), 0},
    {"IdCardVerification", KIND_COMPARE, ROWS(id_card), 0},
    {"ImageRecognition", KIND_PAAS, NULL, 0, IR1},
    {"ImageRecognitionV2", KIND_PAAS, NULL, 0, IR2},
    {"LivenessCompare", KIND_PAAS, NULL, 0, LC},
    {"LivenessRecognition", KIND_PAAS, NULL, 0, LR},
    {"MinorsVerification", KIND_QUERY, ROWS(minors), 0},
    {"MobileNetworkTimeVerification", KIND_QUERY, ROWS(network_time), 0},
    {"MobileStatus", KIND_QUERY, ROWS(mobile_status), 0},
    {"PhoneVerification", KIND_COMPARE, ROWS(phone), 0},
    {"PhoneVerificationCMCC", KIND_COMPARE, ROWS(phone_carrier), 0},
    {"PhoneVerificationCTCC", KIND_COMPARE, ROWS(phone_carrier), 0},
    {"PhoneVerificationCUCC", KIND_COMPARE, ROWS(phone_carrier), 0},
};

static const action_def *find_action(const char *action)
{
    size_t lo = 0, hi = sizeof action_defs / sizeof action_defs[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(action, action_defs[mid].action);
        if (c == 0)
            return &action_defs[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

#define PAAS_PREFIX "FailedOperation."

/* The documented row of result for the action: status, billed and meaning; 0 when the action's
 * table does not know it. */
static int lookup(const action_def *a, const char *result, size_t result_len,
                  tcf_check_status *status, int *billed, const char **meaning)
{
    if (strlen(result) != result_len) /* an embedded NUL ("\u0000") */
        return 0;
    if (a->kind != KIND_PAAS) {
        for (size_t i = 0; i < a->n; i++)
            if (strcmp(a->rows[i].code, result) == 0) {
                *status = a->rows[i].status;
                *billed = a->rows[i].billed;
                *meaning = a->rows[i].meaning;
                return 1;
            }
        return 0;
    }
    const char *name = result;
    if (strcmp(result, "Success") != 0) {
        if (strncmp(result, PAAS_PREFIX, strlen(PAAS_PREFIX)) != 0)
            return 0;
        name = result + strlen(PAAS_PREFIX);
        if (strcmp(name, "Success") == 0)
            return 0;
    }
    for (size_t i = 0; i < sizeof paas / sizeof paas[0]; i++)
        if (strcmp(paas[i].code, name) == 0 && (paas[i].actions & a->paas_bit) != 0) {
            *status = paas[i].status;
            *billed = paas[i].billed;
            *meaning = paas[i].meaning;
            return 1;
        }
    return 0;
}

struct tcf_check_outcome {
    const action_def *def;
    tcf_check_status status;
    int billed;
    int matched;
    const char *meaning; /* static */
    int has_sim;
    double sim;
    char *result; /* the Result string */
    char request_id[TCF_ERROR_REQUEST_ID_MAX];
    char *json; /* the text as given */
    size_t json_len;
};

const char *tcf_check_status_name(tcf_check_status status)
{
    switch (status) {
    case TCF_CHECK_UNKNOWN:
        return "unknown";
    case TCF_CHECK_MATCHED:
        return "matched";
    case TCF_CHECK_MISMATCHED:
        return "mismatched";
    case TCF_CHECK_ANSWERED:
        return "answered";
    case TCF_CHECK_NOT_FOUND:
        return "not_found";
    case TCF_CHECK_INVALID_INPUT:
        return "invalid_input";
    case TCF_CHECK_CARD_PROBLEM:
        return "card_problem";
    case TCF_CHECK_UNSUPPORTED:
        return "unsupported";
    case TCF_CHECK_SERVICE_UNAVAILABLE:
        return "service_unavailable";
    case TCF_CHECK_DAILY_LIMIT:
        return "daily_limit";
    case TCF_CHECK_LIVENESS_FAILED:
        return "liveness_failed";
    case TCF_CHECK_MEDIA_PROBLEM:
        return "media_problem";
    }
    return NULL;
}

int tcf_check_action_known(const char *action)
{
    return action != NULL && find_action(action) != NULL;
}

/* Reads Sim: a JSON number, or a string holding a finite decimal number; null or missing: none. */
static int read_sim(tcf_check_outcome *o, json_t *resp, tcf_error *err)
{
    json_t *sim = json_object_get(resp, "Sim");
    if (sim == NULL || json_is_null(sim))
        return 0;
    if (json_is_number(sim)) {
        o->sim = json_number_value(sim);
        o->has_sim = 1;
        return 0;
    }
    if (json_is_string(sim)) {
        const char *s = json_string_value(sim);
        char *end = NULL;
        double d = strtod(s, &end);
        if (*s != '\0' && end != NULL && end != s && (size_t)(end - s) == json_string_length(sim) &&
            isfinite(d)) {
            o->sim = d;
            o->has_sim = 1;
        }
        return 0; /* an unparsable string: no Sim */
    }
    return tcfp_fail(err, TCF_EJSON, "the response's Sim is not a number");
}

static int decide(tcf_check_outcome *o, json_t *resp, tcf_error *err)
{
    json_t *error = json_object_get(resp, "Error");
    if (error != NULL && !json_is_null(error)) {
        json_t *code = json_is_object(error) ? json_object_get(error, "Code") : NULL;
        const char *c = json_is_string(code) ? json_string_value(code) : "";
        int limit = strcmp(c, "FailedOperation.IdentityAuthLimitExceeded") == 0;
        int code_rc = limit ? TCF_ERATE_LIMITED : TCF_EAPI;
        int rc = tcfp_fail(err, code_rc,
                           limit ? "the response is the daily identity limit (resets 00:00 "
                                   "Asia/Shanghai)%s%s"
                                 : "the response is an API error, not a check result%s%s",
                           *c ? ": " : "", *c ? c : "");
        if (err != NULL && err->code == code_rc && err->api_code[0] == '\0') {
            json_t *rid = json_object_get(resp, "RequestId");
            tcfp_copy_field(err->api_code, sizeof err->api_code, c, strlen(c));
            if (json_is_string(rid))
                tcfp_copy_field(err->request_id, sizeof err->request_id, json_string_value(rid),
                                json_string_length(rid));
        }
        return rc;
    }
    json_t *result = json_object_get(resp, "Result");
    if (result == NULL || json_is_null(result))
        return tcfp_fail(err, TCF_EJSON, "the response has no Result (null or missing)");
    if (!json_is_string(result))
        return tcfp_fail(err, TCF_EJSON, "the response's Result is not a string");
    json_t *rid = json_object_get(resp, "RequestId");
    if (json_is_string(rid))
        tcfp_copy_field(o->request_id, sizeof o->request_id, json_string_value(rid),
                        json_string_length(rid));
    size_t rlen = json_string_length(result);
    o->result = tcfp_strndup(json_string_value(result), rlen);
    if (o->result == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    if (!lookup(o->def, json_string_value(result), rlen, &o->status, &o->billed, &o->meaning)) {
        o->status = TCF_CHECK_UNKNOWN;
        o->billed = -1;
        o->meaning = "not in the action's documented Result table";
    }
    o->matched = -1;
    if (o->def->kind != KIND_QUERY) {
        if (o->status == TCF_CHECK_MATCHED)
            o->matched = 1;
        else if (o->status == TCF_CHECK_MISMATCHED)
            o->matched = 0;
    }
    if (o->def->kind == KIND_PAAS)
        return read_sim(o, resp, err);
    return 0;
}

int tcf_check_outcome_from_json(tcf_check_outcome **out, const char *action,
                                const void *response_json, size_t len, tcf_error *err)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    if (action == NULL)
        return tcfp_fail(err, TCF_EINVAL, "action is NULL");
    if (response_json == NULL)
        return tcfp_fail(err, TCF_EINVAL, "response_json is NULL");
    const action_def *def = find_action(action);
    if (def == NULL)
        return tcfp_fail(err, TCF_EINVAL,
                         "the action has no typed check outcome (not an element check, "
                         "LivenessRecognition, LivenessCompare or ImageRecognition(V2))");
    tcfp_json_status st;
    json_t *root = tcfp_json_load(response_json, len, &st);
    if (root == NULL) {
        if (st == TCFP_JSON_NOMEM)
            return tcfp_fail(err, TCF_ENOMEM, "out of memory");
        return tcfp_fail(err, TCF_EJSON, "the response JSON %s", tcfp_json_status_text(st));
    }
    int rc;
    tcf_check_outcome *o = NULL;
    json_t *resp = root;
    if (!json_is_object(root)) {
        rc = tcfp_fail(err, TCF_EJSON, "the response JSON is not an object");
        goto done;
    }
    /* The whole envelope {"Response": {...}} is accepted too. */
    json_t *inner = json_object_get(root, "Response");
    if (inner != NULL && json_object_get(root, "Result") == NULL) {
        if (!json_is_object(inner)) {
            rc = tcfp_fail(err, TCF_EJSON, "the envelope's Response is not an object");
            goto done;
        }
        resp = inner;
    }
    o = tcfp_calloc(1, sizeof *o);
    if (o == NULL) {
        rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
        goto done;
    }
    o->def = def;
    o->billed = -1;
    o->matched = -1;
    o->json = tcfp_strndup(response_json, len);
    if (o->json == NULL) {
        rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
        goto done;
    }
    o->json_len = len;
    rc = decide(o, resp, err);
done:
    tcfp_json_wipe_strings(root); /* Isp, AgeRange, AccountBank, BestFrameBase64, ... */
    json_decref(root);
    if (rc != 0) {
        tcf_check_outcome_free(o);
        return rc;
    }
    *out = o;
    return 0;
}

int tcf_check_outcome_from_api_error(tcf_check_outcome **out, const char *action,
                                     const char *api_code, const char *request_id, tcf_error *err)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL || action == NULL || api_code == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out, action and api_code must not be NULL");
    const action_def *def = find_action(action);
    if (def == NULL || def->kind != KIND_PAAS || strcmp(api_code, "Success") == 0)
        return 0;
    tcf_check_status status;
    int billed;
    const char *meaning;
    if (!lookup(def, api_code, strlen(api_code), &status, &billed, &meaning) ||
        status == TCF_CHECK_DAILY_LIMIT)
        return 0;
    /* {"Result":"<code>","RequestId":"<id>"} */
    json_t *code = json_string(api_code);
    json_t *rid = json_string(request_id ? request_id : "");
    json_t *obj = json_object();
    if (code == NULL || rid == NULL || obj == NULL || json_object_set(obj, "Result", code) != 0 ||
        json_object_set(obj, "RequestId", rid) != 0) {
        json_decref(code);
        json_decref(rid);
        json_decref(obj);
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    }
    json_decref(code);
    json_decref(rid);
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    if (text == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    int rc = tcf_check_outcome_from_json(out, action, text, strlen(text), err);
    free(text); /* jansson's allocator is malloc */
    return rc;
}

void tcfp_check_outcome_set_request_id(tcf_check_outcome *o, const char *request_id)
{
    if (o != NULL && request_id != NULL)
        tcfp_copy_field(o->request_id, sizeof o->request_id, request_id, strlen(request_id));
}

const char *tcf_check_outcome_request_id(const tcf_check_outcome *o)
{
    return o ? o->request_id : "";
}

const char *tcf_check_outcome_action(const tcf_check_outcome *o)
{
    return o ? o->def->action : NULL;
}

tcf_check_status tcf_check_outcome_status(const tcf_check_outcome *o)
{
    return o ? o->status : TCF_CHECK_UNKNOWN;
}

const char *tcf_check_outcome_result(const tcf_check_outcome *o)
{
    return o ? o->result : NULL;
}

int tcf_check_outcome_billed(const tcf_check_outcome *o)
{
    return o ? o->billed : -1;
}

int tcf_check_outcome_matched(const tcf_check_outcome *o)
{
    return o ? o->matched : -1;
}

const char *tcf_check_outcome_meaning(const tcf_check_outcome *o)
{
    return o ? o->meaning : "no outcome";
}

int tcf_check_outcome_sim(const tcf_check_outcome *o, double *sim)
{
    if (o == NULL || sim == NULL)
        return TCF_EINVAL;
    if (!o->has_sim)
        return TCF_ESTATE;
    *sim = o->sim;
    return 0;
}

double tcf_check_outcome_sim_threshold(const tcf_check_outcome *o)
{
    if (o == NULL || o->def->kind != KIND_PAAS)
        return -1;
    return o->def->paas_bit == IR1 ? TCF_SIM_V1_FAR_1E3 : TCF_SIM_THRESHOLD;
}

const char *tcf_check_outcome_json(const tcf_check_outcome *o, size_t *len)
{
    if (len != NULL)
        *len = o ? o->json_len : 0;
    return o ? o->json : NULL;
}

void tcf_check_outcome_free(tcf_check_outcome *o)
{
    if (o == NULL)
        return;
    if (o->json != NULL) {
        tcfp_wipe(o->json, o->json_len);
        tcfp_free(o->json);
    }
    tcfp_free(o->result);
    tcfp_free(o);
}
