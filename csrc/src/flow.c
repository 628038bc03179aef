/* Fetching results and following the E-ID flow (flows layer, pure): which GetDetectInfoEnhanced /
 * GetEidResult calls to make for the parts wanted and their bodies, CheckEidTokenStatus' status
 * and what a poller does after an error, and the token of the RedirectUrl landing
 * (faceid-api.md §2.2, §2.9, §2.11, §6). */
#include "jsonw.h"
#include "sansio.h"

#include <string.h>

/* ---- result parts ---- */

typedef struct part_name {
    const char *name;
    char digit;
} part_name;

static const part_name part_names[] = {
    {"all", '0'},
    {"text", '1'},
    {"id_card", '2'},
    {"best_frame", '3'},
    {"video", '4'},
    {"intention_verify", '5'},
    {"intention_result", '6'},
    {"eid_info", '0'},
};

/* The InfoType digits an action accepts. */
static const char *allowed_digits(tcf_session_kind kind)
{
    return kind == TCF_SESSION_EID ? "012356" : "0123456";
}

static int kind_ok(tcf_session_kind kind, tcf_error *err)
{
    if (kind != TCF_SESSION_SAAS && kind != TCF_SESSION_EID)
        return tcfp_fail(err, TCF_EINVAL, "kind must be TCF_SESSION_SAAS or TCF_SESSION_EID");
    return 0;
}

/* Adds one part (a digit) to the set wanted[10]. */
static int want_digit(int *wanted, tcf_session_kind kind, char d, tcf_error *err)
{
    if (d < '0' || d > '9' || strchr(allowed_digits(kind), d) == NULL)
        return tcfp_fail(err, TCF_EINVAL, "InfoType %c is not a result part of %s", d,
                         kind == TCF_SESSION_EID ? "GetEidResult (0, 1, 2, 3, 5, 6)"
                                                 : "GetDetectInfoEnhanced (0-6)");
    wanted[d - '0'] = 1;
    return 0;
}

int tcf_result_plan(char *out, size_t out_cap, tcf_session_kind kind, const char *parts,
                    tcf_error *err)
{
    if (out && out_cap)
        out[0] = '\0';
    if (out == NULL || parts == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_result_plan: NULL argument");
    if (out_cap < 8)
        return tcfp_fail(err, TCF_EINVAL, "tcf_result_plan: out_cap must be at least 8");
    int rc = kind_ok(kind, err);
    if (rc != 0)
        return rc;
    int wanted[10] = {0};
    int any = 0;
    const char *p = parts;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && (*p == ' ' || *p == '\t'))
            p++, n--;
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 0) {
            if (!end)
                break;
            p = end + 1;
            continue;
        }
        size_t digits = 0;
        while (digits < n && p[digits] >= '0' && p[digits] <= '9')
            digits++;
        if (digits == n) {
            for (size_t i = 0; i < n; i++)
                if ((rc = want_digit(wanted, kind, p[i], err)) != 0)
                    return rc;
        } else {
            size_t i = 0, count = sizeof part_names / sizeof part_names[0];
            while (i < count &&
                   (strlen(part_names[i].name) != n || memcmp(part_names[i].name, p, n) != 0))
                i++;
            if (i == count || (kind == TCF_SESSION_SAAS && part_names[i].name[0] == 'e'))
                return tcfp_fail(err, TCF_EINVAL,
                                 "unknown result part (use text, id_card, best_frame, %sintention_"
                                 "verify, intention_result, all%s, or InfoType digits)",
                                 kind == TCF_SESSION_EID ? "" : "video, ",
                                 kind == TCF_SESSION_EID ? ", eid_info" : "");
            if ((rc = want_digit(wanted, kind, part_names[i].digit, err)) != 0)
                return rc;
        }
        any = 1;
        if (!end)
            break;
        p = end + 1;
    }
    if (!any)
        return tcfp_fail(err, TCF_EINVAL, "no result part asked for");
    if (wanted[0] && kind == TCF_SESSION_SAAS) {
        wanted[0] = 0;
        for (int d = 1; d <= 6; d++)
            wanted[d] = 1;
    }
    if (wanted[0]) /* E-ID: the text, then one call with everything (EidInfo comes only so) */
        for (int d = 1; d <= 6; d++)
            wanted[d] = d == 1;
    size_t k = 0;
    if (wanted[1])
        out[k++] = '1';
    for (int d = 2; d <= 6; d++)
        if (wanted[d])
            out[k++] = (char)('0' + d);
    if (wanted[0])
        out[k++] = '0'; /* E-ID: everything, with EidInfo, after the text */
    out[k] = '\0';
    return 0;
}

/* ---- result request bodies ---- */

static void write_result(writer *w, const void *ctx)
{
    const tcf_result_request *r = ctx;
    int first = 1;
    char num[24];
    if (r->kind == TCF_SESSION_EID) {
        put_member(w, &first, "EidToken", r->token);
    } else {
        put_member(w, &first, "BizToken", r->token);
        put_member(w, &first, "RuleId", r->rule_id);
    }
    if (r->info_type)
        put_member(w, &first, "InfoType", r->info_type);
    if (r->best_frames_count >= 0) {
        int n = snprintf(num, sizeof num, ",\"BestFramesCount\":%d", r->best_frames_count);
        put(w, num, (size_t)n);
    }
    if (r->cut_id_card_image >= 0)
        put_str(w, r->cut_id_card_image ? ",\"IsCutIdCardImage\":true"
                                        : ",\"IsCutIdCardImage\":false");
    if (r->need_id_card_avatar >= 0)
        put_str(w, r->need_id_card_avatar ? ",\"IsNeedIdCardAvatar\":true"
                                          : ",\"IsNeedIdCardAvatar\":false");
    put(w, "}", 1);
}

int tcf_result_body(char **json_out, size_t *len, const tcf_result_request *r, tcf_error *err)
{
    if (json_out)
        *json_out = NULL;
    if (len)
        *len = 0;
    if (json_out == NULL || r == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_result_body: NULL argument");
    if (r->version != TCF_RESULT_REQUEST_VERSION)
        return tcfp_fail(err, TCF_EINVAL, "tcf_result_request: unknown version %u", r->version);
    int rc = kind_ok(r->kind, err);
    if (rc != 0)
        return rc;
    int eid = r->kind == TCF_SESSION_EID;
    const char *tname = eid ? "EidToken" : "BizToken";
    if (!plain_text(r->token) || check_text(tname, r->token, 0, 0, NULL) != 0)
        return tcfp_fail(err, TCF_EINVAL, "%s is required (non-empty UTF-8 text)", tname);
    if (eid && r->rule_id != NULL)
        return tcfp_fail(err, TCF_EINVAL, "GetEidResult takes no RuleId");
    if (!eid && (!plain_text(r->rule_id) || check_text("RuleId", r->rule_id, 0, 0, NULL) != 0))
        return tcfp_fail(err, TCF_EINVAL,
                         "RuleId is required (the one the BizToken was created with)");
    int has[10] = {0};
    if (r->info_type != NULL) {
        if (r->info_type[0] == '\0')
            return tcfp_fail(err, TCF_EINVAL, "InfoType is empty");
        for (const char *c = r->info_type; *c; c++)
            if ((rc = want_digit(has, r->kind, *c, err)) != 0)
                return rc;
    } else {
        has[0] = 1;
    }
    int everything = has[0];
    int max_frames = eid ? 3 : 10;
    if (r->best_frames_count != -1) {
        if (r->best_frames_count < 0 || r->best_frames_count > max_frames)
            return tcfp_fail(err, TCF_EINVAL, "BestFramesCount must be 0 to %d for %s", max_frames,
                             eid ? "GetEidResult" : "GetDetectInfoEnhanced");
        if (!everything && !has[3])
            return tcfp_fail(err, TCF_EINVAL, "BestFramesCount needs InfoType 3 (best frames)");
    }
    if (r->cut_id_card_image < -1 || r->cut_id_card_image > 1 || r->need_id_card_avatar < -1 ||
        r->need_id_card_avatar > 1)
        return tcfp_fail(err, TCF_EINVAL,
                         "IsCutIdCardImage / IsNeedIdCardAvatar must be 0, 1 or -1 (left out)");
    if ((r->cut_id_card_image >= 0 || r->need_id_card_avatar >= 0) && !everything && !has[2])
        return tcfp_fail(err, TCF_EINVAL,
                         "IsCutIdCardImage / IsNeedIdCardAvatar need InfoType 2 (ID card)");
    return write_alloc(json_out, len, write_result, r, err);
}

/* ---- CheckEidTokenStatus ---- */

static const char *const eid_status_names[] = {NULL, "init", "doing", "finished", "timeout"};

const char *tcf_eid_status_name(tcf_eid_status status)
{
    if ((int)status < 1 || (int)status > 4)
        return NULL;
    return eid_status_names[status];
}

int tcf_eid_status_from_json(tcf_eid_status *out, const void *response_json, size_t len,
                             tcf_error *err)
{
    if (out)
        *out = (tcf_eid_status)0;
    if (out == NULL || response_json == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_eid_status_from_json: NULL argument");
    tcfp_json_init();
    tcfp_json_status st;
    json_t *root = tcfp_json_load(response_json, len, &st);
    if (root == NULL)
        return st == TCFP_JSON_NOMEM
                   ? tcfp_fail(err, TCF_ENOMEM, "out of memory")
                   : tcfp_fail(err, TCF_EJSON, "the CheckEidTokenStatus result %s",
                               tcfp_json_status_text(st));
    json_t *obj = root;
    if (json_is_object(root) && json_object_get(root, "Status") == NULL &&
        json_is_object(json_object_get(root, "Response")))
        obj = json_object_get(root, "Response");
    json_t *s = json_is_object(obj) ? json_object_get(obj, "Status") : NULL;
    int rc = 0;
    if (!json_is_string(s)) {
        rc = tcfp_fail(err, TCF_EJSON, "the CheckEidTokenStatus result has no Status string");
    } else {
        int found = 0;
        for (int i = 1; i <= 4; i++)
            if (strcmp(json_string_value(s), eid_status_names[i]) == 0 &&
                json_string_length(s) == strlen(eid_status_names[i])) {
                *out = (tcf_eid_status)i;
                found = 1;
            }
        if (!found)
            rc = tcfp_fail(err, TCF_EJSON,
                           "the CheckEidTokenStatus Status is not init, doing, finished or "
                           "timeout");
    }
    json_decref(root);
    return rc;
}

#define POLL_TOLERATED_ERRORS 2

tcf_poll_action tcf_eid_poll_after_error(int error_code, int retryable, int consecutive_errors)
{
    if (error_code == TCF_ETOKEN_EXPIRED)
        return TCF_POLL_TIMEOUT;
    /* CheckEidTokenStatus is a read: a failure is transient when the read retry rule says so */
    tcf_error e;
    tcf_error_clear(&e);
    e.code = error_code;
    e.retryable = retryable;
    int transient = tcf_retry_decide(TCF_RETRY_READ, &e, 0) == TCF_RETRY_YES;
    if (transient && consecutive_errors >= 1 && consecutive_errors <= POLL_TOLERATED_ERRORS)
        return TCF_POLL_CONTINUE;
    return TCF_POLL_FAIL;
}

/* ---- the RedirectUrl landing ---- */

#define TOKEN_MAX 128

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '~' || c == '-';
}

/* Decodes the value [v, v+n) into out (cap TOKEN_MAX + 1). */
static int decode_token(char *out, const char *v, size_t n, tcf_error *err)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval(v[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(v[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return tcfp_fail(err, TCF_EINVAL, "the token has a bad percent-escape");
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (!token_char(c))
            return tcfp_fail(err, TCF_EINVAL,
                             "the token has characters other than A-Z a-z 0-9 . _ ~ -");
        if (k == TOKEN_MAX)
            return tcfp_fail(err, TCF_EINVAL, "the token is longer than %d characters", TOKEN_MAX);
        out[k++] = c;
    }
    out[k] = '\0';
    if (k == 0)
        return tcfp_fail(err, TCF_EINVAL, "the token is empty");
    return 0;
}

int tcf_parse_redirect(char **token_out, const char *url, tcf_error *err)
{
    if (token_out)
        *token_out = NULL;
    if (token_out == NULL || url == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_parse_redirect: NULL argument");
    /* the query: between the first '?' and the fragment, or the whole text when it looks like
     * a bare query (no '?', no "://", not a path) */
    size_t before_fragment = strcspn(url, "#");
    const char *q = memchr(url, '?', before_fragment);
    size_t qlen;
    if (q != NULL) {
        q++;
        qlen = before_fragment - (size_t)(q - url);
    } else if (strstr(url, "://") == NULL && url[0] != '/' && memchr(url, '=', before_fragment)) {
        q = url;
        qlen = before_fragment;
    } else {
        return tcfp_fail(err, TCF_EINVAL, "the redirect URL has no query (no token parameter)");
    }
    char found[TOKEN_MAX + 1] = {0}, cur[TOKEN_MAX + 1];
    int have = 0;
    const char *p = q, *end = q + qlen;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        if (eq != NULL && eq - p == 5 && memcmp(p, "token", 5) == 0) {
            int rc = decode_token(cur, eq + 1, (size_t)(stop - eq - 1), err);
            if (rc != 0)
                return rc;
            if (have && strcmp(found, cur) != 0)
                return tcfp_fail(err, TCF_EINVAL,
                                 "the redirect URL has two different token parameters");
            memcpy(found, cur, sizeof found);
            have = 1;
        } else if (eq == NULL && stop - p == 5 && memcmp(p, "token", 5) == 0) {
            return tcfp_fail(err, TCF_EINVAL, "the token is empty");
        }
        p = stop + 1;
    }
    if (!have)
        return tcfp_fail(err, TCF_EINVAL, "the redirect URL has no token parameter");
    *token_out = tcfp_strdup(found);
    if (*token_out == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    return 0;
}
