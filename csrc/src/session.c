/* DetectAuth parameters and sessions (flows layer, pure: no clock, no network; time is a
 * parameter). tcf_detect_auth_body validates every DetectAuth input with the public validators
 * and writes the exact JSON body in one allocation (identity data is never copied around by a
 * growing buffer, and the result is wiped when freed). tcf_session keeps what a BizToken needs
 * afterwards: the token, its RuleId, the Url, Extra and its two lifetimes (faceid-api.md §5). */
#include "crypto.h"
#include "sansio.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define IMAGE_BASE64_MAX ((size_t)3 * 1024 * 1024)
#define EXTRA_MAX_BYTES 1024
#define INTENTION_MAX_CHARS 120
#define SESSION_TIME_MAX 253402300799LL /* 9999-12-31T23:59:59Z */

/* ---- UTF-8 ---- */

/* The number of code points of a valid UTF-8 string (no overlong forms, surrogates or code
 * points above U+10FFFF), or SIZE_MAX when it is not valid. */
static size_t utf8_count(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t count = 0;
    for (size_t i = 0; i < n; count++) {
        unsigned char c = s[i];
        size_t extra;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            extra = 1, cp = c & 0x1Fu, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            extra = 2, cp = c & 0x0Fu, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            extra = 3, cp = c & 0x07u, min = 0x10000;
        } else {
            return SIZE_MAX;
        }
        if (n - i <= extra)
            return SIZE_MAX;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return SIZE_MAX;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return SIZE_MAX;
        i += extra + 1;
    }
    return count;
}

/* ---- a two-pass writer: out NULL measures, otherwise writes ---- */

typedef struct writer {
    char *out;
    size_t len;
} writer;

static void put(writer *w, const char *s, size_t n)
{
    if (w->out)
        memcpy(w->out + w->len, s, n);
    w->len += n;
}

static void put_str(writer *w, const char *s)
{
    put(w, s, strlen(s));
}

/* A JSON string literal, escaped as jansson's json_dumps does (\" \\ \b \f \n \r \t, other
 * control characters as \u00XX; UTF-8 written as is). s must be valid UTF-8. */
static void put_json_string(writer *w, const char *s)
{
    put(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"':
            put(w, "\\\"", 2);
            break;
        case '\\':
            put(w, "\\\\", 2);
            break;
        case '\b':
            put(w, "\\b", 2);
            break;
        case '\f':
            put(w, "\\f", 2);
            break;
        case '\n':
            put(w, "\\n", 2);
            break;
        case '\r':
            put(w, "\\r", 2);
            break;
        case '\t':
            put(w, "\\t", 2);
            break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04X", (unsigned)*p);
                put(w, esc, 6);
            } else {
                put(w, (const char *)p, 1);
            }
        }
    }
    put(w, "\"", 1);
}

static void put_member(writer *w, int *first, const char *key, const char *value)
{
    put_str(w, *first ? "{\"" : ",\"");
    *first = 0;
    put_str(w, key);
    put(w, "\":", 2);
    put_json_string(w, value);
}

static int is_ascii_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int is_b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Where the base64 text of image_base64 starts: after a "data:…;base64," prefix, if any. */
static int image_base64_start(const char *s, const char **start, tcf_error *err)
{
    *start = s;
    if (!tcfp_starts_with_ci(s, "data:"))
        return 0;
    const char *comma = strchr(s, ',');
    if (comma == NULL || comma - s < 12 || !tcfp_starts_with_ci(comma - 7, ";base64"))
        return tcfp_fail(err, TCF_EINVAL,
                         "image_base64: a data: URI must have the form data:<type>;base64,<data>");
    *start = comma + 1;
    return 0;
}

/* Checks the base64 text (ASCII white space ignored) and returns its length without the white
 * space in *len: standard alphabet, '=' padding only at the end, a multiple of 4 characters. */
static int image_base64_check(const char *s, size_t *len, tcf_error *err)
{
    size_t n = 0, pad = 0;
    for (; *s; s++) {
        if (is_ascii_space(*s))
            continue;
        if (*s == '=') {
            pad++;
        } else if (pad > 0 || !is_b64_char((unsigned char)*s)) {
            return tcfp_fail(err, TCF_EINVAL,
                             "image_base64 is not standard base64 (A-Z a-z 0-9 + /, '=' padding "
                             "only at the end)");
        }
        n++;
    }
    if (n == 0)
        return tcfp_fail(err, TCF_EINVAL, "image_base64 is empty");
    if (n % 4 != 0 || pad > 2)
        return tcfp_fail(err, TCF_EINVAL,
                         "image_base64 is not padded base64 (its length without white space must "
                         "be a multiple of 4, with at most two '=')");
    if (n > IMAGE_BASE64_MAX)
        return tcfp_fail(err, TCF_EINVAL, "the image is over 3 MiB (%zu bytes) after base64", n);
    *len = n;
    return 0;
}

/* ---- DetectAuth body ---- */

static int optional(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static int check_text(const char *field, const char *s, size_t max_bytes, size_t max_chars,
                      tcf_error *err)
{
    size_t n = strlen(s);
    size_t chars = utf8_count(s, n);
    if (chars == SIZE_MAX)
        return tcfp_fail(err, TCF_EINVAL, "%s is not valid UTF-8", field);
    if (max_bytes && n > max_bytes)
        return tcfp_fail(err, TCF_EINVAL, "%s is longer than %zu bytes", field, max_bytes);
    if (max_chars && chars > max_chars)
        return tcfp_fail(err, TCF_EINVAL, "%s is longer than %zu characters", field, max_chars);
    return 0;
}

/* Writes (or measures, when w->out is NULL) the body. */
static void write_body(writer *w, const tcf_detect_auth_params *p, const char *id_card,
                       const char *name, const char *image_b64)
{
    int first = 1;
    put_member(w, &first, "RuleId", p->rule_id);
    if (id_card)
        put_member(w, &first, "IdCard", id_card);
    if (name)
        put_member(w, &first, "Name", name);
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
    } else if (image_b64) {
        put_str(w, ",\"ImageBase64\":\"");
        for (const char *c = image_b64; *c; c++)
            if (!is_ascii_space(*c))
                put(w, c, 1);
        put(w, "\"", 1);
    }
    if (optional(p->intention_verify_text))
        put_member(w, &first, "IntentionVerifyText", p->intention_verify_text);
    put(w, "}", 1);
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

    char id_card[20] = {0};
    const char *id = NULL;
    if (optional(p->id_card)) {
        size_t n = strlen(p->id_card);
        const char *checked = p->id_card;
        if (n == 18) {
            memcpy(id_card, p->id_card, 18);
            if (id_card[17] == 'x')
                id_card[17] = 'X';
            checked = id_card;
        }
        rc = tcf_check_id_card(checked, today_unix, err);
        if (rc != 0) {
            tcfp_wipe(id_card, sizeof id_card);
            return rc;
        }
        id = id_card;
    }

    char name[4 * 32 + 1] = {0};
    const char *nm = NULL;
    if (optional(p->name)) {
        rc = tcf_normalize_name(name, sizeof name, p->name, err);
        if (rc != 0)
            goto done;
        nm = name;
    }
    if (optional(p->redirect_url) && (rc = tcf_check_redirect_url(p->redirect_url, err)) != 0)
        goto done;
    if (optional(p->extra) && (rc = check_text("Extra", p->extra, EXTRA_MAX_BYTES, 0, err)) != 0)
        goto done;
    if (optional(p->intention_verify_text) &&
        (rc = check_text("IntentionVerifyText", p->intention_verify_text, 0, INTENTION_MAX_CHARS,
                         err)) != 0)
        goto done;

    const char *image_b64 = NULL;
    if (p->image != NULL || p->image_len != 0) {
        if (optional(p->image_base64)) {
            rc = tcfp_fail(err, TCF_EINVAL, "give either image or image_base64, not both");
            goto done;
        }
        if (p->image == NULL || p->image_len == 0) {
            rc = tcfp_fail(err, TCF_EINVAL, "image: %s",
                           p->image == NULL ? "NULL with a non-zero image_len" : "no bytes");
            goto done;
        }
        size_t enc = tcfp_base64_encoded_len(p->image_len);
        if (enc > IMAGE_BASE64_MAX) {
            rc = tcfp_fail(err, TCF_EINVAL, "the image is over 3 MiB after base64");
            goto done;
        }
    } else if (optional(p->image_base64)) {
        size_t n = 0;
        if ((rc = image_base64_start(p->image_base64, &image_b64, err)) != 0 ||
            (rc = image_base64_check(image_b64, &n, err)) != 0)
            goto done;
    }

    writer w = {NULL, 0};
    write_body(&w, p, id, nm, image_b64);
    size_t total = w.len;
    w.out = tcfp_malloc(total + 1);
    if (w.out == NULL) {
        rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
        goto done;
    }
    w.len = 0;
    write_body(&w, p, id, nm, image_b64);
    w.out[w.len] = '\0';
    *json_out = w.out;
    if (len)
        *len = w.len;
    rc = 0;
done:
    tcfp_wipe(id_card, sizeof id_card);
    tcfp_wipe(name, sizeof name);
    return rc;
}

void tcf_string_free(char *s)
{
    tcfp_free_secret(s);
}

/* ---- sessions ---- */

struct tcf_session {
    char *biz_token;
    char *rule_id;
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
    tcfp_free_secret(s->biz_token);
    tcfp_free(s->rule_id);
    tcfp_free(s->url);
    tcfp_free(s->extra);
    tcfp_free(s);
}

/* A usable token / RuleId: non-empty, no control characters (UTF-8 validity is jansson's or the
 * caller's concern). */
static int plain_text(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* Builds a session from already-validated parts (copies them). */
static int session_make(tcf_session **out, const char *biz_token, const char *rule_id,
                        const char *url, const char *extra, long long created_at, tcf_error *err)
{
    tcf_session *s = tcfp_calloc(1, sizeof *s);
    if (s == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    s->biz_token = tcfp_strdup(biz_token);
    s->rule_id = tcfp_strdup(rule_id);
    s->url = url ? tcfp_strdup(url) : NULL;
    s->extra = extra ? tcfp_strdup(extra) : NULL;
    if (s->biz_token == NULL || s->rule_id == NULL || (url && s->url == NULL) ||
        (extra && s->extra == NULL)) {
        tcf_session_free(s);
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    }
    s->created_at = created_at;
    s->expires_at = created_at + TCF_BIZ_TOKEN_LIFETIME;
    s->results_until = created_at + TCF_RESULTS_LIFETIME;
    *out = s;
    return 0;
}

static int check_session_parts(const char *rule_id, const char *extra, long long created_at,
                               tcf_error *err)
{
    if (!plain_text(rule_id))
        return tcfp_fail(err, TCF_EINVAL, "rule_id must be non-empty, without control characters");
    int rc = check_text("rule_id", rule_id, 0, 0, err);
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

int tcf_session_new(tcf_session **out, const char *detect_auth_response_json, size_t len,
                    const char *rule_id, const char *extra, long long created_at, tcf_error *err)
{
    if (out)
        *out = NULL;
    if (out == NULL || detect_auth_response_json == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_session_new: NULL argument");
    if (extra && *extra == '\0')
        extra = NULL;
    int rc = check_session_parts(rule_id, extra, created_at, err);
    if (rc != 0)
        return rc;
    json_t *root;
    rc = load_object(&root, detect_auth_response_json, len, "DetectAuth response", err);
    if (rc != 0)
        return rc;
    json_t *obj = root;
    json_t *inner = json_object_get(root, "Response");
    if (json_object_get(root, "BizToken") == NULL && json_is_object(inner))
        obj = inner; /* the whole envelope {"Response": {...}} */
    json_t *tok = json_object_get(obj, "BizToken");
    json_t *url = json_object_get(obj, "Url");
    if (!json_is_string(tok) || !plain_text(json_string_value(tok)) ||
        strlen(json_string_value(tok)) != json_string_length(tok)) {
        rc = tcfp_fail(err, TCF_EJSON,
                       "the DetectAuth response has no BizToken (a non-empty string)");
    } else if (url != NULL && !json_is_null(url) && !json_is_string(url)) {
        rc = tcfp_fail(err, TCF_EJSON, "the DetectAuth response's Url is not a string");
    } else {
        const char *u = json_is_string(url) ? json_string_value(url) : NULL;
        if (u && strlen(u) != json_string_length(url))
            rc = tcfp_fail(err, TCF_EJSON, "the DetectAuth response's Url contains a NUL");
        else
            rc = session_make(out, json_string_value(tok), rule_id, u, extra, created_at, err);
    }
    json_decref(root);
    return rc;
}

const char *tcf_session_biz_token(const tcf_session *s)
{
    return s ? s->biz_token : NULL;
}

const char *tcf_session_rule_id(const tcf_session *s)
{
    return s ? s->rule_id : NULL;
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

static void write_session(writer *w, const tcf_session *s)
{
    char num[96];
    put_str(w, "{\"v\":1,\"biz_token\":");
    put_json_string(w, s->biz_token);
    put_str(w, ",\"rule_id\":");
    put_json_string(w, s->rule_id);
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
    writer w = {NULL, 0};
    write_session(&w, s);
    w.out = tcfp_malloc(w.len + 1);
    if (w.out == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    w.len = 0;
    write_session(&w, s);
    w.out[w.len] = '\0';
    *json_out = w.out;
    if (len)
        *len = w.len;
    return 0;
}

static const char *const session_keys[] = {"v",     "biz_token",  "rule_id",    "url",
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
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        size_t i = 0;
        while (i < sizeof session_keys / sizeof session_keys[0] && strcmp(session_keys[i], key))
            i++;
        if (i == sizeof session_keys / sizeof session_keys[0])
            return tcfp_fail(err, TCF_EJSON, "the session has an unknown member");
    }
    const char *tok, *rule, *url, *extra;
    long long created = 0, expires = 0, until = 0;
    int rc;
    if ((rc = get_string(root, "biz_token", 0, &tok, err)) != 0 ||
        (rc = get_string(root, "rule_id", 0, &rule, err)) != 0 ||
        (rc = get_string(root, "url", 1, &url, err)) != 0 ||
        (rc = get_string(root, "extra", 1, &extra, err)) != 0 ||
        (rc = get_time(root, "created_at", &created, err)) != 0 ||
        (rc = get_time(root, "expires_at", &expires, err)) != 0 ||
        (rc = get_time(root, "results_until", &until, err)) != 0)
        return rc;
    if (!plain_text(tok))
        return tcfp_fail(err, TCF_EJSON,
                         "the session's \"biz_token\" is empty or has control "
                         "characters");
    tcf_error local = {0};
    if (check_session_parts(rule, extra, created, &local) != 0)
        return tcfp_fail(err, TCF_EJSON, "the session is invalid: %s", local.message);
    if (expires != created + TCF_BIZ_TOKEN_LIFETIME || until != created + TCF_RESULTS_LIFETIME)
        return tcfp_fail(err, TCF_EJSON,
                         "the session's expires_at / results_until do not match created_at");
    return session_make(out, tok, rule, url, extra, created, err);
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
    if (rule_id_or_null != NULL && strcmp(rule_id_or_null, s->rule_id) != 0)
        return tcfp_fail(err, TCF_EINVAL,
                         "the RuleId differs from the one the BizToken was created with (the "
                         "service would answer 非法BizToken)");
    if (now > s->results_until)
        return tcfp_fail(err, TCF_ETOKEN_EXPIRED,
                         "the results of this BizToken are gone: they are kept 3 days after "
                         "DetectAuth (%lld s past the limit); do not make the call",
                         now - s->results_until);
    return 0;
}

int tcf_session_can_start(const tcf_session *s, long long now)
{
    return s != NULL && now <= s->expires_at;
}
