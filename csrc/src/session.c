/* DetectAuth parameters and sessions (flows layer, pure: no clock, no network; time is a
 * parameter). tcf_detect_auth_body validates every DetectAuth input with the public validators
 * and writes the exact JSON body in one allocation (identity data is never copied around by a
 * growing buffer, and the result is wiped when freed). tcf_session keeps what a BizToken needs
 * afterwards: the token, its RuleId, the Url, Extra and its two lifetimes (faceid-api.md §5). */
#include "crypto.h"
#include "jsonw.h"
#include "sansio.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define IMAGE_BASE64_MAX ((size_t)3 * 1024 * 1024)
#define EXTRA_MAX_BYTES 1024
#define MERCHANT_ID_MAX_CHARS 50
#define INTENTION_MAX_CHARS 120
#define SESSION_TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

/* ---- intention options (DetectAuth and GetEidToken) ---- */

#define ROUNDS_MAX 10
#define QUESTION_MAX_CHARS 250
#define ANSWERS_MAX 50
#define ANSWER_MAX_CHARS 10

static int check_round_count(const char *field, const void *list, size_t n, tcf_error *err)
{
    if (list == NULL)
        return tcfp_fail(err, TCF_EINVAL, "%s: NULL with a count of %zu", field, n);
    if (n == 0 || n > ROUNDS_MAX)
        return tcfp_fail(err, TCF_EINVAL, "%s: 1 to %d rounds (%zu given)", field, ROUNDS_MAX, n);
    return 0;
}

/* A required text of 1..max_chars characters. */
static int check_item(const char *field, const char *s, size_t max_chars, tcf_error *err)
{
    if (!optional(s))
        return tcfp_fail(err, TCF_EINVAL, "%s is required (non-empty)", field);
    return check_text(field, s, 0, max_chars, err);
}

static int check_questions(const tcf_intention_question *q, size_t n, tcf_error *err)
{
    int rc = check_round_count("IntentionQuestions", q, n, err);
    char field[80];
    for (size_t i = 0; rc == 0 && i < n; i++) {
        snprintf(field, sizeof field, "IntentionQuestions[%zu].Question", i);
        rc = check_item(field, q[i].question, QUESTION_MAX_CHARS, err);
        if (rc == 0 &&
            (q[i].answers == NULL || q[i].answer_count == 0 || q[i].answer_count > ANSWERS_MAX))
            rc = tcfp_fail(err, TCF_EINVAL, "IntentionQuestions[%zu].Answers: 1 to %d answers", i,
                           ANSWERS_MAX);
        for (size_t k = 0; rc == 0 && k < q[i].answer_count; k++) {
            snprintf(field, sizeof field, "IntentionQuestions[%zu].Answers[%zu]", i, k);
            rc = check_item(field, q[i].answers[k], ANSWER_MAX_CHARS, err);
        }
    }
    return rc;
}

static int check_actions(const char *const *a, size_t n, tcf_error *err)
{
    int rc = check_round_count("IntentionActions", a, n, err);
    char field[48];
    for (size_t i = 0; rc == 0 && i < n; i++) {
        snprintf(field, sizeof field, "IntentionActions[%zu].Text", i);
        rc = check_item(field, a[i], QUESTION_MAX_CHARS, err);
    }
    return rc;
}

/* -1 (left out) or lo..hi */
static int check_option(const char *field, int v, int lo, int hi, tcf_error *err)
{
    if (v == -1 || (v >= lo && v <= hi))
        return 0;
    return tcfp_fail(err, TCF_EINVAL, "%s must be %d to %d, not %d", field, lo, hi, v);
}

static void write_questions(writer *w, const tcf_intention_question *q, size_t n)
{
    put_str(w, "\"IntentionQuestions\":[");
    for (size_t i = 0; i < n; i++) {
        put_str(w, i ? ",{\"Question\":" : "{\"Question\":");
        put_json_string(w, q[i].question);
        put_str(w, ",\"Answers\":[");
        for (size_t k = 0; k < q[i].answer_count; k++) {
            if (k)
                put(w, ",", 1);
            put_json_string(w, q[i].answers[k]);
        }
        put_str(w, "]}");
    }
    put(w, "]", 1);
}

static void write_actions(writer *w, const char *const *a, size_t n)
{
    put_str(w, "\"IntentionActions\":[");
    for (size_t i = 0; i < n; i++) {
        put_str(w, i ? ",{\"Text\":" : "{\"Text\":");
        put_json_string(w, a[i]);
        put(w, "}", 1);
    }
    put(w, "]", 1);
}

/* ,"Key":true|false|N inside an object being written (*first: no member yet) */
static void put_open(writer *w, int *first, const char *key)
{
    put_str(w, *first ? "\"" : ",\"");
    *first = 0;
    put_str(w, key);
    put(w, "\":", 2);
}

static void put_flag(writer *w, int *first, const char *key, int v)
{
    if (v < 0)
        return;
    put_open(w, first, key);
    put_str(w, v ? "true" : "false");
}

static void put_int(writer *w, int *first, const char *key, int v)
{
    char num[16];
    if (v < 0)
        return;
    put_open(w, first, key);
    int n = snprintf(num, sizeof num, "%d", v);
    put(w, num, (size_t)n);
}

/* ---- identity fields (DetectAuth and GetEidToken) ---- */

typedef struct identity {
    char id_card[20];
    char name[4 * 32 + 1];
    const char *id; /* id_card, or NULL: not given */
    const char *nm; /* name, or NULL: not given */
} identity;

static int identity_check(identity *out, const char *id_card, const char *name,
                          long long today_unix, tcf_error *err)
{
    memset(out, 0, sizeof *out);
    if (optional(id_card)) {
        size_t n = strlen(id_card);
        const char *checked = id_card;
        if (n == 18) {
            memcpy(out->id_card, id_card, 18);
            if (out->id_card[17] == 'x')
                out->id_card[17] = 'X';
            checked = out->id_card;
        }
        int rc = tcf_check_id_card(checked, today_unix, err);
        if (rc != 0)
            return rc;
        out->id = out->id_card;
    }
    if (optional(name)) {
        int rc = tcf_normalize_name(out->name, sizeof out->name, name, err);
        if (rc != 0)
            return rc;
        out->nm = out->name;
    }
    return 0;
}

static void identity_wipe(identity *id)
{
    tcfp_wipe(id, sizeof *id);
}

/* ---- DetectAuth body ---- */

typedef struct detect_auth_ctx {
    const tcf_detect_auth_params *p;
    const identity *who;
    const char *image_b64;
    int intention_type; /* Config.IntentionType to send, -1: none */
} detect_auth_ctx;

/* Writes (or measures, when w->out is NULL) the body. */
static void write_detect_auth(writer *w, const void *ctx)
{
    const detect_auth_ctx *c = ctx;
    const tcf_detect_auth_params *p = c->p;
    int first = 1;
    put_member(w, &first, "RuleId", p->rule_id);
    if (c->who->id)
        put_member(w, &first, "IdCard", c->who->id);
    if (c->who->nm)
        put_member(w, &first, "Name", c->who->nm);
    if (optional(p->redirect_url))
        put_member(w, &first, "RedirectUrl", p->redirect_url);
    if (optional(p->extra))
        put_member(w, &first, "Extra", p->extra);
    if (p->image != NULL) {
        put_str(w, ",\"ImageBase64\":\"");
        size_t n = tcfp_base64_encoded_len(p->image_len);
        if (w->out) /* writes n characters and a NUL, overwritten by what follows */
            (void)tcfp_base64_encode(w->out + w->len, p->image, p->image_len);
        w->len += n;
        put(w, "\"", 1);
    } else if (c->image_b64) {
        put_str(w, ",\"ImageBase64\":\"");
        for (const char *ch = c->image_b64; *ch; ch++)
            if (!is_ascii_space(*ch))
                put(w, ch, 1);
        put(w, "\"", 1);
    }
    if (optional(p->intention_verify_text))
        put_member(w, &first, "IntentionVerifyText", p->intention_verify_text);
    if (p->intention_question_count) {
        put(w, ",", 1);
        write_questions(w, p->intention_questions, p->intention_question_count);
    }
    if (p->intention_action_count) {
        put(w, ",", 1);
        write_actions(w, p->intention_actions, p->intention_action_count);
    }
    if (p->intention_recognition >= 0 || c->intention_type >= 0 || p->mouth_open_recognition >= 0 ||
        p->speed >= 0) {
        int cf = 1;
        put_str(w, ",\"Config\":{");
        put_flag(w, &cf, "IntentionRecognition", p->intention_recognition);
        put_int(w, &cf, "IntentionType", c->intention_type);
        put_flag(w, &cf, "MouthOpenRecognition", p->mouth_open_recognition);
        put_int(w, &cf, "Speed", p->speed);
        put(w, "}", 1);
    }
    put(w, "}", 1);
}

static int check_image(const tcf_detect_auth_params *p, const char **image_b64, tcf_error *err)
{
    *image_b64 = NULL;
    if (p->image != NULL || p->image_len != 0) {
        if (optional(p->image_base64))
            return tcfp_fail(err, TCF_EINVAL, "give either image or image_base64, not both");
        if (p->image == NULL || p->image_len == 0)
            return tcfp_fail(err, TCF_EINVAL, "image: %s",
                             p->image == NULL ? "NULL with a non-zero image_len" : "no bytes");
        if (tcfp_base64_encoded_len(p->image_len) > IMAGE_BASE64_MAX)
            return tcfp_fail(err, TCF_EINVAL, "the image is over 3 MiB after base64");
    } else if (optional(p->image_base64)) {
        size_t raw = 0, n = 0;
        int rc = tcfp_media_base64_clean("image_base64", p->image_base64, strlen(p->image_base64),
                                         0, image_b64, &raw, &n, err);
        if (rc == 0 && n > IMAGE_BASE64_MAX)
            rc = tcfp_fail(err, TCF_EINVAL, "the image is over 3 MiB (%zu bytes) after base64", n);
        return rc;
    }
    return 0;
}

/* IntentionQuestions / IntentionActions / Config of DetectAuth; *type: the IntentionType to send */
static int check_detect_auth_intention(const tcf_detect_auth_params *p, int *type, tcf_error *err)
{
    int rc = 0;
    *type = p->intention_type;
    if (p->intention_question_count || p->intention_questions)
        rc = check_questions(p->intention_questions, p->intention_question_count, err);
    if (rc == 0 && (p->intention_action_count || p->intention_actions))
        rc = check_actions(p->intention_actions, p->intention_action_count, err);
    if (rc != 0)
        return rc;
    if ((rc = check_option("Config.IntentionType", p->intention_type, 0, 1, err)) != 0 ||
        (rc = check_option("Config.IntentionRecognition", p->intention_recognition, 0, 1, err)) ||
        (rc = check_option("Config.MouthOpenRecognition", p->mouth_open_recognition, 0, 1, err)) ||
        (rc = check_option("Config.Speed", p->speed, 0, 3, err)))
        return rc;
    if (p->intention_question_count && p->intention_action_count)
        return tcfp_fail(err, TCF_EINVAL,
                         "give IntentionQuestions (Q&A) or IntentionActions (nod), not both");
    if (p->intention_question_count && p->intention_type == 1)
        return tcfp_fail(err, TCF_EINVAL,
                         "IntentionQuestions are for Config.IntentionType 0 (Q&A), not 1 (nod)");
    if (p->intention_action_count && p->intention_type == 0)
        return tcfp_fail(err, TCF_EINVAL,
                         "IntentionActions are for Config.IntentionType 1 (nod), not 0 (Q&A)");
    if (p->intention_action_count && p->intention_type == -1)
        *type = 1; /* the service's default is 0 (Q&A), which would ignore the actions */
    return 0;
}

int tcf_detect_auth_body(char **json_out, size_t *len, const tcf_detect_auth_params *p,
                         long long today_unix, tcf_error *err)
{
    if (json_out)
        *json_out = NULL;
    if (len)
        *len = 0;
    if (json_out == NULL || p == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_detect_auth_body: NULL argument");
    if (p->version != TCF_DETECT_AUTH_PARAMS_VERSION)
        return tcfp_fail(err, TCF_EINVAL, "tcf_detect_auth_params: unknown version %u", p->version);
    if (!optional(p->rule_id))
        return tcfp_fail(err, TCF_EINVAL, "RuleId is required");
    int rc = check_text("RuleId", p->rule_id, 0, 0, err);
    if (rc != 0)
        return rc;

    identity who;
    detect_auth_ctx ctx = {p, &who, NULL, -1};
    if ((rc = identity_check(&who, p->id_card, p->name, today_unix, err)) != 0)
        goto done;
    if (optional(p->redirect_url) && (rc = tcf_check_redirect_url(p->redirect_url, err)) != 0)
        goto done;
    if (optional(p->extra) && (rc = check_text("Extra", p->extra, EXTRA_MAX_BYTES, 0, err)) != 0)
        goto done;
    if (optional(p->intention_verify_text) &&
        (rc = check_text("IntentionVerifyText", p->intention_verify_text, 0, INTENTION_MAX_CHARS,
                         err)) != 0)
        goto done;
    if ((rc = check_detect_auth_intention(p, &ctx.intention_type, err)) != 0 ||
        (rc = check_image(p, &ctx.image_b64, err)) != 0)
        goto done;
    rc = write_alloc(json_out, len, write_detect_auth, &ctx, err);
done:
    identity_wipe(&who);
    return rc;
}

/* ---- GetEidToken body ---- */

typedef struct eid_token_ctx {
    const tcf_eid_token_params *p;
    const identity *who;
    int use_intention; /* UseIntentionVerify to send, -1: none */
    int mode;          /* IntentionMode to send, 0: none */
} eid_token_ctx;

static void write_eid_token(writer *w, const void *ctx)
{
    const eid_token_ctx *c = ctx;
    const tcf_eid_token_params *p = c->p;
    int first = 1;
    put_member(w, &first, "MerchantId", p->merchant_id);
    if (c->who->id)
        put_member(w, &first, "IdCard", c->who->id);
    if (c->who->nm)
        put_member(w, &first, "Name", c->who->nm);
    if (optional(p->extra))
        put_member(w, &first, "Extra", p->extra);
    if (p->input_type > 0 || c->use_intention >= 0 || c->mode > 0 ||
        optional(p->intention_verify_text) || p->intention_question_count ||
        p->intention_action_count || p->intention_recognition >= 0 ||
        p->is_support_hmt_resident_permit_ocr >= 0 || p->mouth_open_recognition >= 0 ||
        p->speed >= 0) {
        int cf = 1;
        char num[2] = {0, 0};
        put_str(w, ",\"Config\":{");
        if (p->input_type > 0) {
            num[0] = (char)('0' + p->input_type);
            put_open(w, &cf, "InputType");
            put_json_string(w, num);
        }
        put_flag(w, &cf, "UseIntentionVerify", c->use_intention);
        if (c->mode > 0) {
            num[0] = (char)('0' + c->mode);
            put_open(w, &cf, "IntentionMode");
            put_json_string(w, num);
        }
        if (optional(p->intention_verify_text)) {
            put_open(w, &cf, "IntentionVerifyText");
            put_json_string(w, p->intention_verify_text);
        }
        if (p->intention_question_count) {
            put_str(w, cf ? "" : ",");
            cf = 0;
            write_questions(w, p->intention_questions, p->intention_question_count);
        }
        if (p->intention_action_count) {
            put_str(w, cf ? "" : ",");
            cf = 0;
            write_actions(w, p->intention_actions, p->intention_action_count);
        }
        put_flag(w, &cf, "IntentionRecognition", p->intention_recognition);
        put_flag(w, &cf, "IsSupportHMTResidentPermitOCR", p->is_support_hmt_resident_permit_ocr);
        put_flag(w, &cf, "MouthOpenRecognition", p->mouth_open_recognition);
        put_int(w, &cf, "Speed", p->speed);
        put(w, "}", 1);
    }
    if (optional(p->redirect_url))
        put_member(w, &first, "RedirectUrl", p->redirect_url);
    put(w, "}", 1);
}

static int check_eid_intention(const tcf_eid_token_params *p, int *use, int *mode, tcf_error *err)
{
    int rc = 0;
    *use = p->use_intention_verify;
    *mode = p->intention_mode;
    if (optional(p->intention_verify_text))
        rc = check_text("Config.IntentionVerifyText", p->intention_verify_text, 0,
                        INTENTION_MAX_CHARS, err);
    if (rc == 0 && (p->intention_question_count || p->intention_questions))
        rc = check_questions(p->intention_questions, p->intention_question_count, err);
    if (rc == 0 && (p->intention_action_count || p->intention_actions))
        rc = check_actions(p->intention_actions, p->intention_action_count, err);
    if (rc != 0 ||
        (rc = check_option("Config.UseIntentionVerify", p->use_intention_verify, 0, 1, err)) ||
        (rc = check_option("Config.IntentionRecognition", p->intention_recognition, 0, 1, err)) ||
        (rc = check_option("Config.IsSupportHMTResidentPermitOCR",
                           p->is_support_hmt_resident_permit_ocr, 0, 1, err)) ||
        (rc = check_option("Config.MouthOpenRecognition", p->mouth_open_recognition, 0, 1, err)) ||
        (rc = check_option("Config.Speed", p->speed, 0, 3, err)))
        return rc;
    if (p->intention_mode != 0 && (p->intention_mode < 1 || p->intention_mode > 3))
        return tcfp_fail(err, TCF_EINVAL,
                         "Config.IntentionMode must be 1 (read aloud), 2 (Q&A) or 3 (nod), not %d",
                         p->intention_mode);
    int kinds = optional(p->intention_verify_text) + (p->intention_question_count > 0) +
                (p->intention_action_count > 0);
    if (kinds > 1)
        return tcfp_fail(err, TCF_EINVAL,
                         "give one of IntentionVerifyText (read aloud), IntentionQuestions (Q&A) "
                         "or IntentionActions (nod)");
    int implied = optional(p->intention_verify_text) ? 1
                  : p->intention_question_count      ? 2
                  : p->intention_action_count        ? 3
                                                     : 0;
    if (implied && p->intention_mode && implied != p->intention_mode)
        return tcfp_fail(err, TCF_EINVAL,
                         "Config.IntentionMode %d does not match the intention content given "
                         "(%s needs IntentionMode %d)",
                         p->intention_mode,
                         implied == 1   ? "IntentionVerifyText"
                         : implied == 2 ? "IntentionQuestions"
                                        : "IntentionActions",
                         implied);
    if (implied && !p->intention_mode)
        *mode = implied;
    if ((implied || p->intention_mode) && p->use_intention_verify == 0)
        return tcfp_fail(err, TCF_EINVAL,
                         "intention options are given but Config.UseIntentionVerify is false");
    if ((implied || p->intention_mode) && p->use_intention_verify == -1)
        *use = 1;
    return 0;
}

int tcf_eid_token_body(char **json_out, size_t *len, const tcf_eid_token_params *p,
                       long long today_unix, tcf_error *err)
{
    if (json_out)
        *json_out = NULL;
    if (len)
        *len = 0;
    if (json_out == NULL || p == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_eid_token_body: NULL argument");
    if (p->version != TCF_EID_TOKEN_PARAMS_VERSION)
        return tcfp_fail(err, TCF_EINVAL, "tcf_eid_token_params: unknown version %u", p->version);
    if (!optional(p->merchant_id))
        return tcfp_fail(err, TCF_EINVAL, "MerchantId is required");
    int rc = check_text("MerchantId", p->merchant_id, 0, MERCHANT_ID_MAX_CHARS, err);
    if (rc != 0)
        return rc;
    for (const char *c = p->merchant_id; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f)
            return tcfp_fail(err, TCF_EINVAL, "MerchantId has white space or control characters");
    if (p->input_type != 0 && (p->input_type < 1 || p->input_type > 4))
        return tcfp_fail(err, TCF_EINVAL,
                         "Config.InputType must be 1 (OCR front and back), 2 (OCR front), 3 "
                         "(typed by the user) or 4 (passed by you), not %d",
                         p->input_type);
    if (p->input_type == 4 && (!optional(p->id_card) || !optional(p->name)))
        return tcfp_fail(err, TCF_EINVAL,
                         "Config.InputType 4 (passed by you) needs both IdCard and Name");

    identity who;
    eid_token_ctx ctx = {p, &who, -1, 0};
    if ((rc = identity_check(&who, p->id_card, p->name, today_unix, err)) != 0)
        goto done;
    if (optional(p->redirect_url) && (rc = tcf_check_redirect_url(p->redirect_url, err)) != 0)
        goto done;
    if (optional(p->extra) && (rc = check_text("Extra", p->extra, EXTRA_MAX_BYTES, 0, err)) != 0)
        goto done;
    if ((rc = check_eid_intention(p, &ctx.use_intention, &ctx.mode, err)) != 0)
        goto done;
    rc = write_alloc(json_out, len, write_eid_token, &ctx, err);
done:
    identity_wipe(&who);
    return rc;
}

void tcf_string_free(char *s)
{
    tcfp_free_secret(s);
}

/* ---- sessions ---- */

struct tcf_session {
    tcf_session_kind kind;
    char *token; /* BizToken / EidToken */
    char *owner; /* RuleId / MerchantId */
    char *url;   /* NULL: the response had none */
    char *extra; /* NULL: none */
    long long created_at;
    long long expires_at;
    long long results_until;
};

void tcf_session_free(tcf_session *s)
{
    if (s == NULL)
        return;
    tcfp_free_secret(s->token);
    tcfp_free(s->owner);
    tcfp_free(s->url);
    tcfp_free(s->extra);
    tcfp_free(s);
}

static const char *token_name(tcf_session_kind kind)
{
    return kind == TCF_SESSION_EID ? "EidToken" : "BizToken";
}

/* Builds a session from already-validated parts (copies them). */
static int session_make(tcf_session **out, tcf_session_kind kind, const char *token,
                        const char *owner, const char *url, const char *extra, long long created_at,
                        tcf_error *err)
{
    tcf_session *s = tcfp_calloc(1, sizeof *s);
    if (s == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    s->kind = kind;
    s->token = tcfp_strdup(token);
    s->owner = tcfp_strdup(owner);
    s->url = url ? tcfp_strdup(url) : NULL;
    s->extra = extra ? tcfp_strdup(extra) : NULL;
    if (s->token == NULL || s->owner == NULL || (url && s->url == NULL) ||
        (extra && s->extra == NULL)) {
        tcf_session_free(s);
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    }
    s->created_at = created_at;
    s->expires_at =
        created_at + (kind == TCF_SESSION_EID ? TCF_EID_TOKEN_LIFETIME : TCF_BIZ_TOKEN_LIFETIME);
    s->results_until = created_at + TCF_RESULTS_LIFETIME;
    *out = s;
    return 0;
}

static int check_session_parts(tcf_session_kind kind, const char *owner, const char *extra,
                               long long created_at, tcf_error *err)
{
    const char *what = kind == TCF_SESSION_EID ? "merchant_id" : "rule_id";
    if (!plain_text(owner))
        return tcfp_fail(err, TCF_EINVAL, "%s must be non-empty, without control characters", what);
    int rc = check_text(what, owner, 0, kind == TCF_SESSION_EID ? MERCHANT_ID_MAX_CHARS : 0, err);
    if (rc == 0 && kind == TCF_SESSION_EID && strpbrk(owner, " \t") != NULL)
        rc = tcfp_fail(err, TCF_EINVAL, "merchant_id has white space");
    if (rc == 0 && extra)
        rc = check_text("extra", extra, EXTRA_MAX_BYTES, 0, err);
    if (rc == 0 && (created_at < 0 || created_at > SESSION_TIME_MAX))
        rc = tcfp_fail(err, TCF_EINVAL, "created_at must be Unix seconds in 1970-9999");
    return rc;
}

static int load_object(json_t **root, const char *json, size_t len, const char *what,
                       tcf_error *err)
{
    tcfp_json_init();
    tcfp_json_status st;
    *root = tcfp_json_load(json, len, &st);
    if (*root == NULL)
        return st == TCFP_JSON_NOMEM
                   ? tcfp_fail(err, TCF_ENOMEM, "out of memory")
                   : tcfp_fail(err, TCF_EJSON, "the %s %s", what, tcfp_json_status_text(st));
    if (!json_is_object(*root)) {
        json_decref(*root);
        *root = NULL;
        return tcfp_fail(err, TCF_EJSON, "the %s is not a JSON object", what);
    }
    return 0;
}

static int session_from_response(tcf_session **out, tcf_session_kind kind, const char *json,
                                 size_t len, const char *owner, const char *extra,
                                 long long created_at, tcf_error *err)
{
    const char *action = kind == TCF_SESSION_EID ? "GetEidToken" : "DetectAuth";
    const char *tname = token_name(kind);
    if (out)
        *out = NULL;
    if (out == NULL || json == NULL)
        return tcfp_fail(err, TCF_EINVAL, "%s: NULL argument",
                         kind == TCF_SESSION_EID ? "tcf_eid_session_new" : "tcf_session_new");
    if (extra && *extra == '\0')
        extra = NULL;
    int rc = check_session_parts(kind, owner, extra, created_at, err);
    if (rc != 0)
        return rc;
    json_t *root;
    char what[40];
    snprintf(what, sizeof what, "%s response", action);
    rc = load_object(&root, json, len, what, err);
    if (rc != 0)
        return rc;
    json_t *obj = root;
    json_t *inner = json_object_get(root, "Response");
    if (json_object_get(root, tname) == NULL && json_is_object(inner))
        obj = inner; /* the whole envelope {"Response": {...}} */
    json_t *tok = json_object_get(obj, tname);
    json_t *url = json_object_get(obj, "Url");
    if (!json_is_string(tok) || !plain_text(json_string_value(tok)) ||
        strlen(json_string_value(tok)) != json_string_length(tok)) {
        rc = tcfp_fail(err, TCF_EJSON, "the %s response has no %s (a non-empty string)", action,
                       tname);
    } else if (url != NULL && !json_is_null(url) && !json_is_string(url)) {
        rc = tcfp_fail(err, TCF_EJSON, "the %s response's Url is not a string", action);
    } else {
        const char *u = json_is_string(url) ? json_string_value(url) : NULL;
        if (u && strlen(u) != json_string_length(url))
            rc = tcfp_fail(err, TCF_EJSON, "the %s response's Url contains a NUL", action);
        else
            rc = session_make(out, kind, json_string_value(tok), owner, u, extra, created_at, err);
    }
    json_decref(root);
    return rc;
}

int tcf_session_new(tcf_session **out, const char *detect_auth_response_json, size_t len,
                    const char *rule_id, const char *extra, long long created_at, tcf_error *err)
{
    return session_from_response(out, TCF_SESSION_SAAS, detect_auth_response_json, len, rule_id,
                                 extra, created_at, err);
}

int tcf_eid_session_new(tcf_session **out, const char *get_eid_token_response_json, size_t len,
                        const char *merchant_id, const char *extra, long long created_at,
                        tcf_error *err)
{
    return session_from_response(out, TCF_SESSION_EID, get_eid_token_response_json, len,
                                 merchant_id, extra, created_at, err);
}

tcf_session_kind tcf_session_kind_of(const tcf_session *s)
{
    return s ? s->kind : (tcf_session_kind)0;
}

const char *tcf_session_token(const tcf_session *s)
{
    return s ? s->token : NULL;
}

const char *tcf_session_biz_token(const tcf_session *s)
{
    return s && s->kind == TCF_SESSION_SAAS ? s->token : NULL;
}

const char *tcf_session_rule_id(const tcf_session *s)
{
    return s && s->kind == TCF_SESSION_SAAS ? s->owner : NULL;
}

const char *tcf_session_eid_token(const tcf_session *s)
{
    return s && s->kind == TCF_SESSION_EID ? s->token : NULL;
}

const char *tcf_session_merchant_id(const tcf_session *s)
{
    return s && s->kind == TCF_SESSION_EID ? s->owner : NULL;
}

const char *tcf_session_url(const tcf_session *s)
{
    return s ? s->url : NULL;
}

const char *tcf_session_extra(const tcf_session *s)
{
    return s ? s->extra : NULL;
}

long long tcf_session_created_at(const tcf_session *s)
{
    return s ? s->created_at : 0;
}

long long tcf_session_expires_at(const tcf_session *s)
{
    return s ? s->expires_at : 0;
}

long long tcf_session_results_until(const tcf_session *s)
{
    return s ? s->results_until : 0;
}

static void write_session(writer *w, const void *ctx)
{
    const tcf_session *s = ctx;
    char num[96];
    if (s->kind == TCF_SESSION_EID) {
        put_str(w, "{\"v\":1,\"kind\":\"eid\",\"eid_token\":");
        put_json_string(w, s->token);
        put_str(w, ",\"merchant_id\":");
    } else {
        put_str(w, "{\"v\":1,\"biz_token\":");
        put_json_string(w, s->token);
        put_str(w, ",\"rule_id\":");
    }
    put_json_string(w, s->owner);
    put_str(w, ",\"url\":");
    if (s->url)
        put_json_string(w, s->url);
    else
        put_str(w, "null");
    put_str(w, ",\"extra\":");
    if (s->extra)
        put_json_string(w, s->extra);
    else
        put_str(w, "null");
    int n = snprintf(num, sizeof num,
                     ",\"created_at\":%lld,\"expires_at\":%lld,\"results_until\":%lld}",
                     s->created_at, s->expires_at, s->results_until);
    put(w, num, (size_t)n);
}

int tcf_session_to_json(const tcf_session *s, char **json_out, size_t *len, tcf_error *err)
{
    if (json_out)
        *json_out = NULL;
    if (len)
        *len = 0;
    if (s == NULL || json_out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_session_to_json: NULL argument");
    return write_alloc(json_out, len, write_session, s, err);
}

static const char *const saas_keys[] = {"v",     "biz_token",  "rule_id",    "url",
                                        "extra", "created_at", "expires_at", "results_until"};
static const char *const eid_keys[] = {"v",     "kind",       "eid_token",  "merchant_id",  "url",
                                       "extra", "created_at", "expires_at", "results_until"};

/* A required string member (nullable: null allowed, *out NULL). */
static int get_string(json_t *obj, const char *key, int nullable, const char **out, tcf_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL)
        return tcfp_fail(err, TCF_EJSON, "the session has no \"%s\"", key);
    if (nullable && json_is_null(v))
        return 0;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return tcfp_fail(err, TCF_EJSON, "the session's \"%s\" is not a string%s", key,
                         nullable ? " or null" : "");
    *out = json_string_value(v);
    return 0;
}

static int get_time(json_t *obj, const char *key, long long *out, tcf_error *err)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return tcfp_fail(err, TCF_EJSON, "the session has no \"%s\"", key);
    if (!json_is_integer(v))
        return tcfp_fail(err, TCF_EJSON, "the session's \"%s\" is not an integer", key);
    *out = (long long)json_integer_value(v);
    return 0;
}

static int session_from_object(tcf_session **out, json_t *root, tcf_error *err)
{
    json_t *v = json_object_get(root, "v");
    if (v == NULL)
        return tcfp_fail(err, TCF_EJSON, "the session has no version \"v\"");
    if (!json_is_integer(v) || json_integer_value(v) != 1)
        return tcfp_fail(err, TCF_EJSON, "the session's version \"v\" is not 1 (unsupported)");
    tcf_session_kind kind = TCF_SESSION_SAAS;
    json_t *k = json_object_get(root, "kind");
    if (k != NULL) {
        if (!json_is_string(k) || json_string_length(k) != 3 ||
            memcmp(json_string_value(k), "eid", 3) != 0)
            return tcfp_fail(err, TCF_EJSON, "the session's \"kind\" is not \"eid\"");
        kind = TCF_SESSION_EID;
    }
    const char *const *keys = kind == TCF_SESSION_EID ? eid_keys : saas_keys;
    size_t nkeys = kind == TCF_SESSION_EID ? sizeof eid_keys / sizeof eid_keys[0]
                                           : sizeof saas_keys / sizeof saas_keys[0];
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        size_t i = 0;
        while (i < nkeys && strcmp(keys[i], key))
            i++;
        if (i == nkeys)
            return tcfp_fail(err, TCF_EJSON, "the session has an unknown member");
    }
    const char *tok_key = kind == TCF_SESSION_EID ? "eid_token" : "biz_token";
    const char *tok, *owner, *url, *extra;
    long long created = 0, expires = 0, until = 0;
    int rc;
    if ((rc = get_string(root, tok_key, 0, &tok, err)) != 0 ||
        (rc = get_string(root, kind == TCF_SESSION_EID ? "merchant_id" : "rule_id", 0, &owner,
                         err)) != 0 ||
        (rc = get_string(root, "url", 1, &url, err)) != 0 ||
        (rc = get_string(root, "extra", 1, &extra, err)) != 0 ||
        (rc = get_time(root, "created_at", &created, err)) != 0 ||
        (rc = get_time(root, "expires_at", &expires, err)) != 0 ||
        (rc = get_time(root, "results_until", &until, err)) != 0)
        return rc;
    if (!plain_text(tok))
        return tcfp_fail(err, TCF_EJSON, "the session's \"%s\" is empty or has control characters",
                         tok_key);
    tcf_error local = {0};
    if (check_session_parts(kind, owner, extra, created, &local) != 0)
        return tcfp_fail(err, TCF_EJSON, "the session is invalid: %s", local.message);
    long long life = kind == TCF_SESSION_EID ? TCF_EID_TOKEN_LIFETIME : TCF_BIZ_TOKEN_LIFETIME;
    if (expires != created + life || until != created + TCF_RESULTS_LIFETIME)
        return tcfp_fail(err, TCF_EJSON,
                         "the session's expires_at / results_until do not match created_at");
    return session_make(out, kind, tok, owner, url, extra, created, err);
}

int tcf_session_from_json(tcf_session **out, const char *json, size_t len, tcf_error *err)
{
    if (out)
        *out = NULL;
    if (out == NULL || json == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_session_from_json: NULL argument");
    json_t *root;
    int rc = load_object(&root, json, len, "session", err);
    if (rc != 0)
        return rc;
    rc = session_from_object(out, root, err);
    json_decref(root);
    return rc;
}

int tcf_session_check_result_request(const tcf_session *s, const char *rule_id_or_null,
                                     long long now, tcf_error *err)
{
    if (s == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_session_check_result_request: NULL session");
    if (rule_id_or_null != NULL && s->kind == TCF_SESSION_EID)
        return tcfp_fail(err, TCF_EINVAL, "an E-ID session has no RuleId: pass none");
    if (rule_id_or_null != NULL && strcmp(rule_id_or_null, s->owner) != 0)
        return tcfp_fail(err, TCF_EINVAL,
                         "the RuleId differs from the one the BizToken was created with (the "
                         "service would answer 非法BizToken)");
    if (now > s->results_until)
        return tcfp_fail(err, TCF_ETOKEN_EXPIRED,
                         "the results of this %s are gone: they are kept 3 days after it was "
                         "created (%lld s past the limit); do not make the call",
                         token_name(s->kind), now - s->results_until);
    return 0;
}

int tcf_session_can_start(const tcf_session *s, long long now)
{
    return s != NULL && now <= s->expires_at;
}
