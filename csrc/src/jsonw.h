/* Private: a two-pass JSON text writer and UTF-8 text checks for the flows layer (session.c,
 * flow.c). Static inline: each file gets its own copy of what it uses. */
#ifndef TCFACEID_JSONW_H
#define TCFACEID_JSONW_H

#include "internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- UTF-8 ---- */

/* The number of code points of a valid UTF-8 string (no overlong forms, surrogates or code
 * points above U+10FFFF), or SIZE_MAX when it is not valid. */
static inline size_t utf8_count(const char *text, size_t n)
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

#endif
