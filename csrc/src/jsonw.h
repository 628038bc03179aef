/* Private: a two-pass JSON text writer and UTF-8 text checks for the flows layer (session.c,
 * flow.c). Static inline: each file gets its own copy of what it uses. */
#ifndef TCFACEID_JSONW_H
#define TCFACEID_JSONW_H

#include "internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- UTF-8 ---- */

/* The number of code points of a valid UTF-8 string (the core's rules:
 * tcfp_utf8_valid_prefix), or SIZE_MAX when it is not valid. */
static inline size_t utf8_count(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    if (tcfp_utf8_valid_prefix(s, n) != n)
        return SIZE_MAX;
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += (s[i] & 0xC0) != 0x80; /* every byte but continuation bytes starts one */
    return count;
}

/* A usable token / RuleId / MerchantId: non-empty, no control characters (UTF-8 validity is
 * checked separately). */
static inline int plain_text(const char *s)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* ---- a two-pass writer: out NULL measures, otherwise writes ---- */

typedef struct writer {
    char *out;
    size_t len;
} writer;

static inline void put(writer *w, const char *s, size_t n)
{
    if (w->out)
        memcpy(w->out + w->len, s, n);
    w->len += n;
}

static inline void put_str(writer *w, const char *s)
{
    put(w, s, strlen(s));
}

/* A JSON string literal, escaped as jansson's json_dumps does (\" \\ \b \f \n \r \t, other
 * control characters as \u00XX; UTF-8 written as is). s must be valid UTF-8. */
static inline void put_json_string(writer *w, const char *s)
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

static inline void put_member(writer *w, int *first, const char *key, const char *value)
{
    put_str(w, *first ? "{\"" : ",\"");
    *first = 0;
    put_str(w, key);
    put(w, "\":", 2);
    put_json_string(w, value);
}

static inline int is_ascii_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static inline int optional(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static inline int check_text(const char *field, const char *s, size_t max_bytes, size_t max_chars,
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

/* Allocates and writes a text with the two-pass writer fn(w, ctx): *json_out NUL-terminated,
 * *len (optional) its length. */
static inline int write_alloc(char **json_out, size_t *len, void (*fn)(writer *, const void *),
                              const void *ctx, tcf_error *err)
{
    writer w = {NULL, 0};
    fn(&w, ctx);
    size_t total = w.len;
    w.out = tcfp_malloc(total + 1);
    if (w.out == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    w.len = 0;
    fn(&w, ctx);
    w.out[w.len] = '\0';
    *json_out = w.out;
    if (len)
        *len = w.len;
    return 0;
}

#endif
