/* Response parsing (sans-IO): HTTP status + headers + body -> the Response object, or a
 * tcf_error carrying the error class, Error.Code/Message, RequestId, HTTP status and the
 * server's Date. Also the JSON helpers shared with request.c. */
#include "sansio.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- JSON helpers ---- */

#define TCFP_STR_(x) #x
#define TCFP_STR(x) TCFP_STR_(x)

static pthread_once_t json_once = PTHREAD_ONCE_INIT;

static void json_seed(void)
{
    json_object_seed(0);
}

void tcfp_json_init(void)
{
    pthread_once(&json_once, json_seed);
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const char *s, size_t i, size_t n)
{
    while (i < n && is_ws(s[i]))
        i++;
    return i;
}

/* One pass before jansson: raw NUL bytes and the nesting depth (outside strings). */
static tcfp_json_status prescan(const char *s, size_t n)
{
    size_t depth = 0;
    int in_string = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\0')
            return TCFP_JSON_NUL;
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped character cannot end the string */
            else if (c == '"')
                in_string = 0;
            /* a NUL right after a backslash is skipped above: check it here */
            if (i < n && s[i] == '\0')
                return TCFP_JSON_NUL;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > TCFP_JSON_MAX_DEPTH)
                return TCFP_JSON_TOO_DEEP;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return TCFP_JSON_OK;
}

/* Length of a valid UTF-8 prefix of s[0..n) that ends on a character boundary. */
size_t tcfp_utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else {
            return i;
        }
        if (need > n - i - 1)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += need + 1;
    }
    return i;
}

/* The text is valid UTF-8 up to a last character that was cut short. */
static int utf8_cut_short(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t valid = tcfp_utf8_valid_prefix(s, n);
    if (valid == n || n - valid > 3)
        return 0;
    unsigned char c = s[valid];
    size_t need = (c >= 0xC2 && c <= 0xDF)   ? 1
                  : (c >= 0xE0 && c <= 0xEF) ? 2
                  : (c >= 0xF0 && c <= 0xF4) ? 3
                                             : 0;
    if (need == 0 || n - valid - 1 >= need)
        return 0;
    for (size_t k = valid + 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    return 1;
}

json_t *tcfp_json_load(const char *text, size_t len, tcfp_json_status *status)
{
    tcfp_json_init();
    size_t first = text ? skip_ws(text, 0, len) : 0;
    if (text == NULL || first == len) {
        *status = TCFP_JSON_EMPTY;
        return NULL;
    }
    if (strchr("{[\"-0123456789tfn", text[first]) == NULL || text[first] == '\0') {
        *status = TCFP_JSON_NOT_JSON;
        return NULL;
    }
    tcfp_json_status pre = prescan(text, len);
    if (pre != TCFP_JSON_OK) {
        *status = pre;
        return NULL;
    }
    json_error_t e;
    json_t *v =
        json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (v) {
        *status = TCFP_JSON_OK;
        return v;
    }
    switch (json_error_code(&e)) {
    case json_error_out_of_memory:
        *status = TCFP_JSON_NOMEM;
        break;
    case json_error_invalid_utf8:
        *status = utf8_cut_short(text, len) ? TCFP_JSON_TRUNCATED : TCFP_JSON_BAD_UTF8;
        break;
    case json_error_premature_end_of_input:
        *status = TCFP_JSON_TRUNCATED;
        break;
    case json_error_duplicate_key:
        *status = TCFP_JSON_DUPLICATE;
        break;
    case json_error_numeric_overflow:
        *status = TCFP_JSON_NUMBER;
        break;
    case json_error_stack_overflow:
        *status = TCFP_JSON_TOO_DEEP;
        break;
    case json_error_null_character:
    case json_error_null_byte_in_key:
        *status = TCFP_JSON_NUL;
        break;
    case json_error_invalid_syntax:
        /* an error at the very end of the text: the text stops in the middle of a value */
        *status =
            (e.position >= 0 && (size_t)e.position >= len) ? TCFP_JSON_TRUNCATED : TCFP_JSON_SYNTAX;
        break;
    default:
        *status = TCFP_JSON_SYNTAX;
        break;
    }
    return NULL;
}

const char *tcfp_json_status_text(tcfp_json_status status)
{
    switch (status) {
    case TCFP_JSON_OK:
        return "is valid JSON";
    case TCFP_JSON_NOMEM:
        return "could not be parsed: out of memory";
    case TCFP_JSON_EMPTY:
        return "is empty";
    case TCFP_JSON_NOT_JSON:
        return "is not JSON";
    case TCFP_JSON_NUL:
        return "contains a NUL byte";
    case TCFP_JSON_TOO_DEEP:
        return "is nested too deeply (more than " TCFP_STR(TCFP_JSON_MAX_DEPTH) " levels)";
    case TCFP_JSON_TRUNCATED:
        return "is truncated JSON";
    case TCFP_JSON_BAD_UTF8:
        return "is not valid UTF-8";
    case TCFP_JSON_DUPLICATE:
        return "has an object with a duplicate key";
    case TCFP_JSON_NUMBER:
        return "has a number out of range";
    case TCFP_JSON_SYNTAX:
        return "is not valid JSON";
    }
    return "is not valid JSON";
}

/* ---- locating members in validated JSON text (for cutting RequestId out) ---- */

/* s[i] == '"': the index after the closing quote. */
static size_t string_end(const char *s, size_t i, size_t n)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

/* The index after the value starting at s[i]. */
static size_t value_end(const char *s, size_t i, size_t n)
{
    if (i >= n)
        return n;
    if (s[i] == '"')
        return string_end(s, i, n);
    if (s[i] == '{' || s[i] == '[') {
        size_t depth = 0;
        while (i < n) {
            char c = s[i];
            if (c == '"') {
                i = string_end(s, i, n);
                continue;
            }
            if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return i + 1;
            }
            i++;
        }
        return n;
    }
    while (i < n && !is_ws(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']')
        i++;
    return i;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Does the JSON string contents s[0..n) (escapes not decoded) equal the ASCII word want? */
static int key_equals(const char *s, size_t n, const char *want)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\\') {
            if (i + 1 >= n)
                return 0;
            char e = s[++i];
            if (e == 'u') {
                if (i + 4 >= n)
                    return 0;
                int cp = 0;
                for (int k = 1; k <= 4; k++) {
                    int d = hex_digit(s[i + (size_t)k]);
                    if (d < 0)
                        return 0;
                    cp = cp * 16 + d;
                }
                if (cp == 0 || cp >= 0x80)
                    return 0;
                c = (char)cp;
                i += 4;
            } else {
                static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
                const char *p = strchr(from, e);
                if (e == '\0' || p == NULL)
                    return 0;
                c = to[p - from];
            }
        }
        if (want[w] == '\0' || want[w] != c)
            return 0;
        w++;
    }
    return want[w] == '\0';
}

typedef struct member {
    int found;
    size_t key_start, value_start, value_end;
    size_t prev_value_end; /* 0 when the member is the first one */
    size_t next_key;       /* 0 when the member is the last one */
} member;

/* Find the member named `want` of the object starting at s[obj]. */
static member find_member(const char *s, size_t obj, size_t n, const char *want)
{
    member m;
    memset(&m, 0, sizeof m);
    size_t prev_end = 0;
    size_t i = skip_ws(s, obj + 1, n);
    while (i < n && s[i] == '"') {
        if (m.found) {
            m.next_key = i;
            break;
        }
        size_t key_start = i;
        size_t key_end = string_end(s, i, n);
        i = skip_ws(s, key_end, n);
        if (i >= n || s[i] != ':')
            break;
        size_t vstart = skip_ws(s, i + 1, n);
        size_t vend = value_end(s, vstart, n);
        if (key_end >= key_start + 2 &&
            key_equals(s + key_start + 1, key_end - key_start - 2, want)) {
            m.found = 1;
            m.key_start = key_start;
            m.value_start = vstart;
            m.value_end = vend;
            m.prev_value_end = prev_end;
        }
        prev_end = vend;
        i = skip_ws(s, vend, n);
        if (i >= n || s[i] != ',')
            break;
        i = skip_ws(s, i + 1, n);
    }
    return m;
}

/* Copy the Response object's text out of body, without its RequestId member. */
static char *response_text(const char *s, size_t n, size_t *out_len)
{
    size_t top = skip_ws(s, 0, n);
    member resp = find_member(s, top, n, "Response");
    if (!resp.found || resp.value_start >= n || s[resp.value_start] != '{')
        return NULL;
    size_t a = resp.value_start, b = resp.value_end;
    member rid = find_member(s, a, b, "RequestId");
    size_t cut_from = 0, cut_to = 0;
    if (rid.found) {
        if (rid.prev_value_end) {
            cut_from = rid.prev_value_end; /* ", "RequestId": "..." */
            cut_to = rid.value_end;
        } else if (rid.next_key) {
            cut_from = rid.key_start; /* "RequestId": "...", */
            cut_to = rid.next_key;
        } else {
            cut_from = rid.key_start;
            cut_to = rid.value_end;
        }
    }
    tcfp_buf out;
    tcfp_buf_init(&out);
    if (rid.found) {
        tcfp_buf_append(&out, s + a, cut_from - a);
        tcfp_buf_append(&out, s + cut_to, b - cut_to);
    } else {
        tcfp_buf_append(&out, s + a, b - a);
    }
    return tcfp_buf_steal(&out, out_len);
}

/* ---- the Date header (RFC 7231 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT") ---- */

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_http_date(const char *v, long long *out)
{
    static const char *const wkdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    /* "Sun, 06 Nov 1994 08:49:37 GMT" is 29 bytes */
    if (n != 29 || v[3] != ',' || v[4] != ' ' || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
        v[19] != ':' || v[22] != ':' || v[25] != ' ' || memcmp(v + 26, "GMT", 3) != 0)
        return -1;
    int ok = 0;
    for (size_t i = 0; i < 7; i++)
        ok |= memcmp(v, wkdays[i], 3) == 0;
    if (!ok)
        return -1;
    int month = 0;
    for (int i = 0; i < 12; i++)
        if (memcmp(v + 8, months[i], 3) == 0)
            month = i + 1;
    int day, year, hour, minute, second;
    if (month == 0 || digits(v + 5, 2, &day) || digits(v + 12, 4, &year) ||
        digits(v + 17, 2, &hour) || digits(v + 20, 2, &minute) || digits(v + 23, 2, &second))
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1970 || day < 1 || day > mdays[month - 1] || (month == 2 && day == 29 && !leap) ||
        hour > 23 || minute > 59 || second > 60)
        return -1;
    *out = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    return 0;
}

static int name_is(const char *name, const char *want)
{
    for (; *name && *want; name++, want++) {
        char c = *name;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *want)
            return 0;
    }
    return *name == '\0' && *want == '\0';
}

static long long server_time(const tcf_header *headers, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        long long t;
        if (headers[i].name && headers[i].value && name_is(headers[i].name, "date") &&
            parse_http_date(headers[i].value, &t) == 0)
            return t;
    }
    return 0;
}

/* ---- parse ---- */

struct tcf_response {
    char *request_id; /* NULL when absent */
    char *json;       /* the Response object without RequestId */
    size_t json_len;
    long long server_time;
    json_t *object; /* the parsed Response object without RequestId */
    int wipe;       /* identity data: the text and the tree are wiped when freed */
};

typedef struct parse_ctx {
    int http_status;
    long long server_time;
    const char *request_id; /* borrowed from the parsed document, or NULL */
} parse_ctx;

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A "family" of codes: "X" itself or "X.<anything>". */
static int in_family(const char *code, const char *family)
{
    size_t n = strlen(family);
    return strncmp(code, family, n) == 0 && (code[n] == '\0' || code[n] == '.');
}

/* Record a failure with the response's context (only when no error is recorded yet). */
static int fail_with(tcf_error *err, const parse_ctx *ctx, int code, int retryable,
                     const char *api_code, const char *message)
{
    if (err == NULL || err->code != 0)
        return code;
    char text[TCF_ERROR_MESSAGE_MAX];
    tcfp_copy_field(text, sizeof text, message, strlen(message));
    tcfp_fail(err, code, "%s", text);
    err->http_status = ctx->http_status;
    err->retryable = retryable;
    err->server_time = ctx->server_time;
    if (api_code)
        tcfp_copy_field(err->api_code, sizeof err->api_code, api_code, strlen(api_code));
    if (ctx->request_id)
        tcfp_copy_field(err->request_id, sizeof err->request_id, ctx->request_id,
                        strlen(ctx->request_id));
    return code;
}

/* The body is not a usable envelope: TCF_EHTTP for a status other than 200, else TCF_EJSON. */
static int fail_body(tcf_error *err, const parse_ctx *ctx, const char *what, int truncated)
{
    char text[TCF_ERROR_MESSAGE_MAX];
    int status = ctx->http_status;
    if (status != 200) {
        snprintf(text, sizeof text, "HTTP %d; the response body %s", status, what);
        /* 5xx and 429 from a gateway are transient; whether to retry depends on the action */
        return fail_with(err, ctx, TCF_EHTTP, status >= 500 || status == 429, NULL, text);
    }
    snprintf(text, sizeof text, "the response body %s", what);
    return fail_with(err, ctx, TCF_EJSON, truncated, NULL, text);
}

static int looks_like_html(const char *s, size_t n)
{
    size_t i = skip_ws(s, 0, n);
    return i < n && s[i] == '<';
}

/* Copy a server message for the error struct: control characters become spaces. */
static void clean_message(char *dst, size_t cap, const char *src, size_t len)
{
    if (cap == 0)
        return;
    size_t n = len;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) /* not in a UTF-8 sequence */
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    /* over the copied length, not strlen: a NUL inside the message (\u0000) becomes a space */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7F)
            dst[i] = ' ';
}

static int api_error(tcf_error *err, const parse_ctx *ctx, json_t *error)
{
    json_t *jcode = json_object_get(error, "Code");
    const char *code = json_string_value(jcode);
    if (!json_is_object(error) || code == NULL || code[0] == '\0')
        return fail_body(err, ctx, "has a malformed Response.Error (no Error.Code)", 0);
    int cls = TCF_EAPI, retryable = 0;
    if (in_family(code, "AuthFailure")) {
        cls = TCF_EAUTH;
    } else if (starts_with(code, "RequestLimitExceeded") || starts_with(code, "LimitExceeded") ||
               in_family(code, "FailedOperation.RequestLimitExceeded")) {
        cls = TCF_ETHROTTLED;
        retryable = 1;
    } else if (strcmp(code, "FailedOperation.IdentityAuthLimitExceeded") == 0) {
        cls = TCF_ERATE_LIMITED; /* never retried: it resets at 00:00 Asia/Shanghai */
    } else if (strcmp(code, "InvalidParameterValue.BizTokenExpired") == 0) {
        cls = TCF_ETOKEN_EXPIRED;
    } else if (starts_with(code, "InternalError")) {
        retryable = 1;
    }
    json_t *jmsg = json_object_get(error, "Message");
    char text[TCF_ERROR_MESSAGE_MAX];
    if (json_is_string(jmsg) && json_string_length(jmsg) > 0)
        clean_message(text, sizeof text, json_string_value(jmsg), json_string_length(jmsg));
    else
        snprintf(text, sizeof text, "the service returned an error without a message");
    int rc = fail_with(err, ctx, cls, retryable, code, text);
    if (err != NULL && err->code == TCF_ERATE_LIMITED && ctx->server_time > 0)
        err->retry_at = tcf_next_shanghai_midnight(ctx->server_time);
    return rc;
}

int tcf_parse(tcf_response **out, int http_status, const tcf_header *headers, size_t header_count,
              const void *body, size_t body_len, tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_parse: out is NULL");
    *out = NULL;
    if (http_status < 100 || http_status > 599)
        return tcfp_fail(err, TCF_EINVAL, "tcf_parse: http_status %d is not an HTTP status",
                         http_status);
    if (headers == NULL && header_count > 0)
        return tcfp_fail(err, TCF_EINVAL, "tcf_parse: headers is NULL but header_count is not 0");
    if (body == NULL && body_len > 0)
        return tcfp_fail(err, TCF_EINVAL, "tcf_parse: body is NULL but body_len is not 0");

    parse_ctx ctx = {http_status, server_time(headers, header_count), NULL};
    const char *text = body ? (const char *)body : "";
    tcfp_json_status st;
    json_t *doc = tcfp_json_load(text, body_len, &st);
    if (doc == NULL) {
        if (st == TCFP_JSON_NOMEM)
            return tcfp_fail(err, TCF_ENOMEM, "out of memory");
        if (st == TCFP_JSON_NOT_JSON && looks_like_html(text, body_len))
            return fail_body(err, &ctx, "is not JSON (an HTML page, perhaps from a proxy)", 0);
        return fail_body(err, &ctx, tcfp_json_status_text(st), st == TCFP_JSON_TRUNCATED);
    }
    int rc;
    json_t *resp = json_object_get(doc, "Response");
    if (!json_is_object(doc)) {
        rc = fail_body(err, &ctx, "is JSON but not an object", 0);
        goto done;
    }
    if (resp == NULL) {
        rc = fail_body(err, &ctx, "has no Response member", 0);
        goto done;
    }
    if (!json_is_object(resp)) {
        rc = fail_body(err, &ctx, "has a Response member that is not an object", 0);
        goto done;
    }
    ctx.request_id = json_string_value(json_object_get(resp, "RequestId"));
    json_t *error = json_object_get(resp, "Error");
    if (error) {
        rc = api_error(err, &ctx, error);
        goto done;
    }
    if (http_status != 200) {
        rc = fail_body(err, &ctx, "is a success envelope (expected HTTP 200)", 0);
        goto done;
    }

    tcf_response *r = tcfp_calloc(1, sizeof *r);
    if (r == NULL) {
        rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
        goto done;
    }
    r->server_time = ctx.server_time;
    r->wipe = 1; /* results carry identity data (Text.Name, IdCard, ...): wiped when freed */
    if (ctx.request_id) {
        r->request_id = tcfp_strdup(ctx.request_id);
        if (r->request_id == NULL)
            goto nomem;
    }
    r->json = response_text(text, body_len, &r->json_len);
    if (r->json == NULL)
        goto nomem;
    json_object_del(resp, "RequestId"); /* -1 when there was none: nothing to do */
    r->object = json_incref(resp);
    *out = r;
    rc = 0;
    goto done;
nomem:
    tcf_response_free(r);
    rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
done:
    json_decref(doc);
    return rc;
}

const char *tcf_response_request_id(const tcf_response *resp)
{
    return resp ? resp->request_id : NULL;
}

const char *tcf_response_json(const tcf_response *resp, size_t *len)
{
    if (resp == NULL) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = resp->json_len;
    return resp->json;
}

long long tcf_response_server_time(const tcf_response *resp)
{
    return resp ? resp->server_time : 0;
}

json_t *tcfp_response_object(const tcf_response *resp)
{
    return resp ? resp->object : NULL;
}

/* Overwrites every string value of a jansson tree before it is freed. */
void tcfp_json_wipe_strings(json_t *j)
{
    if (json_is_string(j)) {
        tcfp_wipe((char *)json_string_value(j), json_string_length(j));
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) tcfp_json_wipe_strings(v);
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) tcfp_json_wipe_strings(v);
    }
}

static void free_object(json_t *j, int wipe)
{
    if (j != NULL && wipe && j->refcount == 1)
        tcfp_json_wipe_strings(j);
    json_decref(j);
}

int tcfp_response_replace_json(tcf_response *resp, const char *json, size_t len, tcf_error *err)
{
    if (resp == NULL || json == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcfp_response_replace_json: NULL argument");
    tcfp_json_status st;
    json_t *obj = tcfp_json_load(json, len, &st);
    if (obj == NULL)
        return st == TCFP_JSON_NOMEM ? tcfp_fail(err, TCF_ENOMEM, "out of memory")
                                     : tcfp_fail(err, TCF_EJSON, "the new Response text %s",
                                                 tcfp_json_status_text(st));
    if (!json_is_object(obj)) {
        free_object(obj, 1);
        return tcfp_fail(err, TCF_EJSON, "the new Response text is not a JSON object");
    }
    char *text = NULL;
    size_t text_len = 0;
    if (json_object_get(obj, "RequestId") != NULL) {
        json_object_del(obj, "RequestId");
        text_len = json_dumpb(obj, NULL, 0, JSON_COMPACT);
        text = text_len ? tcfp_malloc(text_len + 1) : NULL;
        if (text != NULL && json_dumpb(obj, text, text_len, JSON_COMPACT) != text_len) {
            tcfp_wipe(text, text_len);
            tcfp_free(text);
            text = NULL;
        }
    } else {
        text = tcfp_malloc(len + 1);
        text_len = len;
        if (text != NULL)
            memcpy(text, json, len);
    }
    if (text == NULL) {
        free_object(obj, 1);
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    }
    text[text_len] = '\0';
    if (resp->wipe)
        tcfp_wipe(resp->json, resp->json_len);
    tcfp_free(resp->json);
    free_object(resp->object, resp->wipe);
    resp->json = text;
    resp->json_len = text_len;
    resp->object = obj;
    resp->wipe = 1;
    return 0;
}

void tcf_response_free(tcf_response *resp)
{
    if (resp == NULL)
        return;
    tcfp_free(resp->request_id);
    if (resp->wipe && resp->json)
        tcfp_wipe(resp->json, resp->json_len);
    tcfp_free(resp->json);
    free_object(resp->object, resp->wipe);
    tcfp_free(resp);
}
