/* Verdicts (flows layer, pure): PASSED / FAILED / PENDING from the Response object of
 * GetDetectInfoEnhanced or GetEidResult, the attempts of Text.LivenessDetail and whether the
 * flow was billed. Decides on codes only, never on message text (it changes without notice). */
#include "sansio.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

struct tcf_verdict {
    tcf_verdict_outcome status;
    int has_code;
    int code; /* Text.ErrCode */
    int has_intention_code;
    int intention_code;
    int billed;               /* 1, 0, -1 unknown */
    const char *missing_part; /* InfoType digit of an intention result needed but not fetched */
    size_t attempt_count;
    tcf_attempt *attempts;
    char reason[384];
};

/* ---- the billing column of the SaaS ErrCode table (Plus edition; faceid-api.md §4.3) ---- */

typedef struct billing_row {
    int lo, hi;
    int billed; /* 1 yes, 0 no, -1 unknown (not documented) */
} billing_row;

static const billing_row billing_table[] = {
    {0, 0, 1},       {1, 4, 0},       {8, 8, 0},        {10, 10, 0},      {12, 17, 0},
    {201, 204, 0},   {301, 303, 0},   {1001, 1001, 0},  {1002, 1002, 1},  {1003, 1008, 0},
    {1101, 1109, 0}, {1201, 1205, 0}, {1206, 1210, -1}, {1301, 1303, -1}, {2001, 2005, 0},
    {2006, 2006, 1}, {2007, 2015, 0}, {2016, 2016, 1},  {2017, 2017, 0},  {2018, 2018, -1},
};

/* 1, 0, or -1 for a code the table does not know (or marks unknown). */
static int code_billed(int code)
{
    for (size_t i = 0; i < sizeof billing_table / sizeof billing_table[0]; i++)
        if (code >= billing_table[i].lo && code <= billing_table[i].hi)
            return billing_table[i].billed;
    return -1;
}

/* ---- documented meanings (faceid-api.md §4.3 and §2.6), in English ---- */

typedef struct meaning_row {
    int lo, hi;
    const char *text;
} meaning_row;

static const meaning_row errcode_meanings[] = {
    {0, 0, "success"},
    {1, 3, "wrong call: see the DetectAuth documentation"},
    {4, 4, "service error: retry later"},
    {8, 8, "service error: retry later"},
    {10, 10, "service error: retry later"},
    {12, 13, "service error: retry later"},
    {14, 14, "this verification was already completed"},
    {15, 15, "the token expired"},
    {16, 16, "the retry limit was reached"},
    {17, 17, "the flow was not completed"},
    {201, 201, "fetching the image from WeChat failed"},
    {202, 202, "fetching the video failed"},
    {203, 203, "no permission for this API"},
    {204, 204, "the official account / mini program has not authorised FaceID"},
    {301, 301, "the scanned ID number differs from the one passed to the flow"},
    {302, 302, "the ID card has expired"},
    {303, 303, "scanning the ID card failed"},
    {1001, 1001, "liveness engine timeout"},
    {1002, 1002, "suspected non-live recording"},
    {1003, 1003, "face verification did not succeed"},
    {1004, 1005, "face verification failed"},
    {1006, 1006, "ID photo library error"},
    {1007, 1007, "no WeChat liveness result (risk control)"},
    {1008, 1008, "unstable network during liveness"},
    {1101, 1101, "the voice was not recognised"},
    {1102, 1102, "the face was not fully visible"},
    {1103, 1103, "the voice was not recognised"},
    {1104, 1104, "bad video format"},
    {1105, 1105, "fetching the video failed"},
    {1106, 1106, "the voice was too quiet"},
    {1107, 1107, "the video is empty or of the wrong length (record about 6 s)"},
    {1108, 1108, "the video resolution is too low"},
    {1109, 1109, "no lip movement detected"},
    {1201, 1202, "poor lighting"},
    {1203, 1205, "too close to or too far from the screen"},
    {1206, 1206, "the face is too far left"},
    {1207, 1207, "no eye closing detected"},
    {1208, 1208, "the first action was not detected"},
    {1209, 1209, "no mouth opening detected"},
    {1210, 1210, "no complete face detected"},
    {1301, 1301, "suspected non-live recording (silent liveness)"},
    {1302, 1302, "face verification failed (silent liveness)"},
    {1303, 1303, "the video is too short: record more than 2 s"},
    {2001, 2001, "comparison engine timeout"},
    {2002, 2002, "the name is wrong"},
    {2003, 2003, "the ID number is wrong"},
    {2004, 2004, "extracting a photo from the video failed"},
    {2005, 2005, "no identity record found"},
    {2006, 2006, "the name and ID number do not match"},
    {2007, 2008, "no photo found in the authoritative source"},
    {2009, 2009, "the authoritative photo's resolution is too low"},
    {2010, 2010, "the face was not fully visible"},
    {2011, 2011, "not the same person (suspected non-live)"},
    {2012, 2012, "several faces detected"},
    {2013, 2013, "the face was not fully visible"},
    {2014, 2014, "the video resolution is too low"},
    {2015, 2015, "not the same person (comparison failed)"},
    {2016, 2016, "not the same person (similarity below the threshold)"},
    {2017, 2017, "the authoritative data source is being upgraded: retry later"},
    {2018, 2018, "too many attempts for this identity today: retry after 00:00 (UTC+8)"},
};

/* IntentionVerifyData.ErrorCode (read aloud) */
static const meaning_row read_aloud_meanings[] = {
    {0, 0, "success"},
    {-1, -1, "system error"},
    {-2, -2, "parameter error"},
    {-3, -3, "busy"},
    {-4, -4, "backend error"},
    {-5, -5, "entering the room failed"},
    {-6, -6, "recording error"},
    {-7, -7, "file storage error"},
    {-8, -8, "entered the room twice"},
    {-9, -9, "live stream error"},
    {-10, -10, "speech recognition failed"},
    {-11, -11, "the flow was interrupted"},
    {-12, -12, "the flow is not finished"},
    {-13, -13, "token check failed"},
    {-14, -14, "the flow has ended"},
    {-15, -15, "the retry limit was exceeded"},
    {-16, -16, "unknown error"},
    {-17, -17, "no voice"},
    {3001, 3001, "keep the face in the frame"},
    {3002, 3002, "several faces"},
    {3003, 3003, "face detection failed"},
    {3011, 3011, "low similarity"},
    {3012, 3012, "comparison failed"},
    {-800, -800, "the front end is not compatible"},
    {-801, -801, "camera or microphone not authorised"},
    {-802, -802, "the flow was interrupted (screen switch)"},
    {-803, -803, "the user closed the page or disconnected"},
};

/* IntentionQuestionResult / IntentionActionResult .FinalResultDetailCode (Q&A, nod) */
static const meaning_row answer_meanings[] = {
    {0, 0, "success"},
    {-1, -1, "parameter error"},
    {-2, -2, "system error"},
    {-101, -101, "keep the face in the frame"},
    {-102, -102, "several faces"},
    {-103, -103, "face detection failed"},
    {-104, -104, "the face is incomplete"},
    {-105, -105, "the eyes are covered"},
    {-106, -106, "the mouth is covered"},
    {-107, -107, "the nose is covered"},
    {-201, -201, "low similarity"},
    {-202, -202, "comparison failed"},
    {-301, -301, "the intention was not confirmed"},
    {-302, -302, "no mouth movement while answering"},
    {-800, -800, "the front end is not compatible"},
    {-801, -801, "no camera or microphone permission"},
    {-802, -802, "the flow was interrupted"},
    {-803, -803, "the user closed the page"},
    {-804, -804, "unstable network"},
    {-998, -998, "data error"},
    {-999, -999, "unknown error"},
};

static const char *lookup(const meaning_row *rows, size_t n, int code)
{
    for (size_t i = 0; i < n; i++)
        if (code >= rows[i].lo && code <= rows[i].hi)
            return rows[i].text;
    return NULL;
}

const char *tcf_errcode_meaning(int errcode)
{
    return lookup(errcode_meanings, sizeof errcode_meanings / sizeof errcode_meanings[0], errcode);
}

const char *tcf_intention_code_meaning(const char *intention_verify_type, int code)
{
    if (intention_verify_type == NULL)
        return NULL;
    if (strcmp(intention_verify_type, "2") == 0)
        return lookup(read_aloud_meanings,
                      sizeof read_aloud_meanings / sizeof read_aloud_meanings[0], code);
    if (strcmp(intention_verify_type, "0") == 0 ||
        (strcmp(intention_verify_type, "1") == 0 && code != -302))
        return lookup(answer_meanings, sizeof answer_meanings / sizeof answer_meanings[0], code);
    return NULL;
}

/* ---- typed field access: null or missing is "absent", a wrong type is TCF_EJSON ---- */

/* The member, or NULL when it is missing or null. */
static json_t *member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

static int wrong_type(tcf_error *err, const char *path, const char *what)
{
    return tcfp_fail(err, TCF_EJSON, "the result's %s is not %s", path, what);
}

static int get_int(json_t *obj, const char *key, const char *path, int *has, int *value,
                   tcf_error *err)
{
    json_t *v = member(obj, key);
    *has = 0;
    *value = 0;
    if (v == NULL)
        return 0;
    if (!json_is_integer(v))
        return wrong_type(err, path, "an integer");
    json_int_t n = json_integer_value(v);
    if (n < INT_MIN || n > INT_MAX)
        return tcfp_fail(err, TCF_EJSON, "the result's %s is out of range", path);
    *has = 1;
    *value = (int)n;
    return 0;
}

/* 1, 0, or -1 when absent. */
static int get_bool(json_t *obj, const char *key, const char *path, int *value, tcf_error *err)
{
    json_t *v = member(obj, key);
    *value = -1;
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v))
        return wrong_type(err, path, "a boolean");
    *value = json_is_true(v) ? 1 : 0;
    return 0;
}

static int get_string(json_t *obj, const char *key, const char *path, json_t **value,
                      tcf_error *err)
{
    *value = member(obj, key);
    if (*value != NULL && !json_is_string(*value)) {
        *value = NULL;
        return wrong_type(err, path, "a string");
    }
    return 0;
}

static int get_object(json_t *obj, const char *key, const char *path, json_t **value,
                      tcf_error *err)
{
    *value = member(obj, key);
    if (*value != NULL && !json_is_object(*value)) {
        *value = NULL;
        return wrong_type(err, path, "an object");
    }
    return 0;
}

/* "95.51" -> 95.51: digits with an optional fraction, at most 15 significant digits, so the
 * value is one correctly rounded division of two exact doubles (no locale, no strtod). */
static int parse_sim(json_t *s, double *out)
{
    static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const char *p = json_string_value(s);
    size_t len = json_string_length(s), i = 0, digits = 0, frac = 0;
    long long mant = 0;
    int dot = 0;
    if (len == 0)
        return 0;
    for (; i < len; i++) {
        if (p[i] >= '0' && p[i] <= '9') {
            if (++digits > 15)
                return 0;
            mant = mant * 10 + (p[i] - '0');
            frac += (size_t)dot;
        } else if (p[i] == '.' && !dot && digits > 0 && i + 1 < len) {
            dot = 1;
        } else {
            return 0;
        }
    }
    *out = (double)mant / pow10[frac];
    return 1;
}

/* "1753091765496" -> milliseconds; -1 unless it is 1 to 18 digits. */
static long long parse_req_time(json_t *s)
{
    const char *p = json_string_value(s);
    size_t len = json_string_length(s);
    long long ms = 0;
    if (len == 0 || len > 18)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        ms = ms * 10 + (p[i] - '0');
    }
    return ms;
}

static int read_attempt(json_t *item, size_t i, tcf_attempt *a, tcf_error *err)
{
    char path[96];
    a->req_time_ms = -1;
    a->is_need_charge = -1;
    if (json_is_null(item))
        return 0;
    if (!json_is_object(item)) {
        snprintf(path, sizeof path, "Text.LivenessDetail[%zu]", i);
        return wrong_type(err, path, "an object");
    }
#define PATH(field) (snprintf(path, sizeof path, "Text.LivenessDetail[%zu]." field, i), path)
    if (get_int(item, "Errcode", PATH("Errcode"), &a->has_errcode, &a->errcode, err) ||
        get_int(item, "Livestatus", PATH("Livestatus"), &a->has_livestatus, &a->livestatus, err) ||
        get_int(item, "Comparestatus", PATH("Comparestatus"), &a->has_comparestatus,
                &a->comparestatus, err) ||
        get_bool(item, "IsNeedCharge", PATH("IsNeedCharge"), &a->is_need_charge, err))
        return TCF_EJSON;
    json_t *sim, *req_time;
    if (get_string(item, "Sim", PATH("Sim"), &sim, err) ||
        get_string(item, "ReqTime", PATH("ReqTime"), &req_time, err))
        return TCF_EJSON;
#undef PATH
    if (sim != NULL)
        a->has_sim = parse_sim(sim, &a->sim);
    if (req_time != NULL)
        a->req_time_ms = parse_req_time(req_time);
    return 0;
}

/* Billed if any attempt says so; an attempt without IsNeedCharge counts by its Errcode in the
 * table; without attempts, Text.ErrCode in the table. */
static int billed_of(const tcf_verdict *v)
{
    int unknown = 0;
    for (size_t i = 0; i < v->attempt_count; i++) {
        const tcf_attempt *a = &v->attempts[i];
        int b = a->is_need_charge >= 0 ? a->is_need_charge
                                       : (a->has_errcode ? code_billed(a->errcode) : -1);
        if (b == 1)
            return 1;
        if (b < 0)
            unknown = 1;
    }
    if (v->attempt_count > 0)
        return unknown ? -1 : 0;
    return v->has_code ? code_billed(v->code) : -1;
}

typedef struct intention_kind {
    const char *type;   /* IntentionVerifyType */
    const char *object; /* the result object */
    const char *field;  /* its code */
    const char *info_type;
    const char *name;
} intention_kind;

static const intention_kind intention_kinds[] = {
    {"0", "IntentionQuestionResult", "FinalResultDetailCode", "6", "question-and-answer"},
    {"1", "IntentionActionResult", "FinalResultDetailCode", "6", "nod"},
    {"2", "IntentionVerifyData", "ErrorCode", "5", "read-aloud"},
};

static int decide(tcf_verdict *v, json_t *resp, tcf_error *err)
{
    json_t *text, *type;
    int verify_intention;
    if (get_object(resp, "Text", "Text", &text, err) ||
        get_bool(resp, "IsVerifyIntention", "IsVerifyIntention", &verify_intention, err) ||
        get_string(resp, "IntentionVerifyType", "IntentionVerifyType", &type, err))
        return TCF_EJSON;

    size_t n = 0;
    json_t *details = NULL;
    if (text != NULL) {
        if (get_int(text, "ErrCode", "Text.ErrCode", &v->has_code, &v->code, err))
            return TCF_EJSON;
        details = member(text, "LivenessDetail");
        if (details != NULL && !json_is_array(details))
            return wrong_type(err, "Text.LivenessDetail", "an array");
        n = details ? json_array_size(details) : 0;
    }
    if (n > 0) {
        v->attempts = tcfp_calloc(n, sizeof *v->attempts);
        if (v->attempts == NULL)
            return tcfp_fail(err, TCF_ENOMEM, "out of memory");
        v->attempt_count = n;
        for (size_t i = 0; i < n; i++)
            if (read_attempt(json_array_get(details, i), i, &v->attempts[i], err) != 0)
                return TCF_EJSON;
    }
    v->billed = billed_of(v);

    /* The intention result named by IntentionVerifyType, when intention was configured. */
    const intention_kind *kind = NULL;
    json_t *intention = NULL;
    if (verify_intention == 1 && type != NULL) {
        for (size_t i = 0; i < sizeof intention_kinds / sizeof intention_kinds[0]; i++)
            if (strcmp(json_string_value(type), intention_kinds[i].type) == 0 &&
                json_string_length(type) == 1)
                kind = &intention_kinds[i];
        if (kind == NULL && v->has_code && v->code == 0)
            return tcfp_fail(err, TCF_EJSON,
                             "the result's IntentionVerifyType is not \"0\", \"1\" or \"2\"");
        if (kind != NULL) {
            char path[64];
            snprintf(path, sizeof path, "%s.%s", kind->object, kind->field);
            if (get_object(resp, kind->object, kind->object, &intention, err) ||
                (intention != NULL && get_int(intention, kind->field, path, &v->has_intention_code,
                                              &v->intention_code, err)))
                return TCF_EJSON;
        }
    }

    char *r = v->reason;
    size_t cap = sizeof v->reason;
    if (text == NULL) {
        v->status = TCF_VERDICT_PENDING;
        snprintf(r, cap,
                 "The result has no Text part: request InfoType 0, or one that contains 1.");
    } else if (!v->has_code) {
        v->status = TCF_VERDICT_PENDING;
        snprintf(r, cap, "The flow is not finished yet (Text.ErrCode is null).");
    } else if (v->code != 0) {
        v->status = TCF_VERDICT_FAILED;
        const char *m = tcf_errcode_meaning(v->code);
        snprintf(r, cap, "The verification failed with ErrCode %d (%s).", v->code,
                 m ? m : "not in the documented table");
    } else if (verify_intention != 1) {
        v->status = TCF_VERDICT_PASSED;
        snprintf(r, cap, "The verification passed (ErrCode 0).");
    } else if (kind == NULL) {
        v->status = TCF_VERDICT_PENDING;
        snprintf(r, cap,
                 "Liveness and comparison passed, but IntentionVerifyType is null, so the "
                 "intention result cannot be checked yet.");
    } else if (intention == NULL) {
        v->status = TCF_VERDICT_PENDING;
        v->missing_part = kind->info_type;
        snprintf(r, cap,
                 "Liveness and comparison passed; the %s intention result (%s) was not fetched: "
                 "request InfoType 0, or one that contains %s.",
                 kind->name, kind->object, kind->info_type);
    } else if (!v->has_intention_code) {
        v->status = TCF_VERDICT_PENDING;
        snprintf(r, cap, "Liveness and comparison passed; the %s intention result has no %s yet.",
                 kind->name, kind->field);
    } else if (v->intention_code != 0) {
        v->status = TCF_VERDICT_FAILED;
        const char *m = tcf_intention_code_meaning(kind->type, v->intention_code);
        snprintf(r, cap,
                 "Liveness and comparison passed, but the %s intention check failed with %s %d "
                 "(%s).",
                 kind->name, kind->field, v->intention_code, m ? m : "not in the documented table");
    } else {
        v->status = TCF_VERDICT_PASSED;
        snprintf(r, cap, "The verification passed, including the %s intention check.", kind->name);
    }
    return 0;
}

const char *tcf_verdict_missing_part(const tcf_verdict *v)
{
    return v ? v->missing_part : NULL;
}

int tcf_verdict_from_json(tcf_verdict **out, const void *response_json, size_t len, tcf_error *err)
{
    if (out != NULL)
        *out = NULL;
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    if (response_json == NULL)
        return tcfp_fail(err, TCF_EINVAL, "response_json is NULL");
    tcfp_json_status st;
    json_t *resp = tcfp_json_load(response_json, len, &st);
    if (resp == NULL) {
        if (st == TCFP_JSON_NOMEM)
            return tcfp_fail(err, TCF_ENOMEM, "out of memory");
        return tcfp_fail(err, TCF_EJSON, "the result JSON %s", tcfp_json_status_text(st));
    }
    int rc;
    tcf_verdict *v = NULL;
    if (!json_is_object(resp)) {
        rc = tcfp_fail(err, TCF_EJSON, "the result JSON is not an object");
        goto done;
    }
    v = tcfp_calloc(1, sizeof *v);
    if (v == NULL) {
        rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
        goto done;
    }
    v->billed = -1;
    rc = decide(v, resp, err);
done:
    tcfp_json_wipe_strings(resp); /* Text.Name, IdCard, ... */
    json_decref(resp);
    if (rc != 0) {
        tcf_verdict_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

tcf_verdict_outcome tcf_verdict_status(const tcf_verdict *v)
{
    return v ? v->status : (tcf_verdict_outcome)0;
}

int tcf_verdict_code(const tcf_verdict *v, int *code)
{
    if (v == NULL || code == NULL)
        return TCF_EINVAL;
    if (!v->has_code)
        return TCF_ESTATE;
    *code = v->code;
    return 0;
}

int tcf_verdict_intention_code(const tcf_verdict *v, int *code)
{
    if (v == NULL || code == NULL)
        return TCF_EINVAL;
    if (!v->has_intention_code)
        return TCF_ESTATE;
    *code = v->intention_code;
    return 0;
}

int tcf_verdict_billed(const tcf_verdict *v)
{
    return v ? v->billed : -1;
}

size_t tcf_verdict_attempt_count(const tcf_verdict *v)
{
    return v ? v->attempt_count : 0;
}

int tcf_verdict_attempt(const tcf_verdict *v, size_t i, tcf_attempt *out)
{
    if (v == NULL || out == NULL || i >= v->attempt_count)
        return TCF_EINVAL;
    *out = v->attempts[i];
    return 0;
}

const char *tcf_verdict_reason(const tcf_verdict *v)
{
    return v ? v->reason : "No verdict.";
}

void tcf_verdict_free(tcf_verdict *v)
{
    if (v == NULL)
        return;
    tcfp_free(v->attempts);
    tcfp_free(v);
}
