/* Base layer: version, errors, allocation, the growable buffer. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tcf_version(void)
{
    return TCF_VERSION_STRING;
}

const char *tcf_strerror(int code)
{
    switch ((tcf_code)code) {
    case TCF_OK:
        return "success";
    case TCF_EINVAL:
        return "invalid argument";
    case TCF_ENOMEM:
        return "out of memory";
    case TCF_EJSON:
        return "bad JSON";
    case TCF_ETRANSPORT:
        return "transport error";
    case TCF_ETIMEOUT:
        return "timed out";
    case TCF_EHTTP:
        return "unexpected HTTP status";
    case TCF_EAPI:
        return "the service returned an error";
    case TCF_EAUTH:
        return "authentication failed";
    case TCF_ETHROTTLED:
        return "rate limited";
    case TCF_ETOKEN_EXPIRED:
        return "token expired";
    case TCF_ECRYPTO:
        return "cryptographic failure";
    case TCF_ESTATE:
        return "invalid state";
    case TCF_ETLS:
        return "TLS failure";
    case TCF_ENOCRED:
        return "no credentials";
    case TCF_EAMBIGUOUS:
        return "ambiguous: the request may have been executed";
    case TCF_ERATE_LIMITED:
        return "daily identity limit reached";
    case TCF_ECANCELLED:
        return "cancelled";
    }
    return "unknown error";
}

void tcf_error_clear(tcf_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

void tcfp_copy_field(char *dst, size_t cap, const char *src, size_t len)
{
    if (cap == 0)
        return;
    if (len >= cap) {
        len = cap - 1;
        /* do not cut a UTF-8 sequence in half */
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

int tcfp_fail(tcf_error *err, int code, const char *fmt, ...)
{
    if (err == NULL || err->code != 0)
        return code;
    err->code = code;
    char text[TCF_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0)
        text[0] = '\0';
    tcfp_copy_field(err->message, sizeof err->message, text, strlen(text));
    return code;
}

/* ---- allocation ---- */
#ifdef TCF_ALLOC_FAILURE_INJECTION
#include <stdatomic.h>
static _Atomic long fail_countdown;

void tcfp_fail_allocations_after(long n)
{
    atomic_store(&fail_countdown, n);
}

static int allocation_fails(void)
{
    long left = atomic_load(&fail_countdown);
    if (left <= 0)
        return 0;
    if (left == 1)
        return 1; /* stays at 1: every later allocation fails too */
    atomic_fetch_sub(&fail_countdown, 1);
    return 0;
}
#else
void tcfp_fail_allocations_after(long n)
{
    (void)n;
}

static int allocation_fails(void)
{
    return 0;
}
#endif

void *tcfp_malloc(size_t n)
{
    return allocation_fails() ? NULL : malloc(n ? n : 1);
}

void *tcfp_calloc(size_t count, size_t size)
{
    return allocation_fails() ? NULL : calloc(count ? count : 1, size ? size : 1);
}

void *tcfp_realloc(void *p, size_t n)
{
    return allocation_fails() ? NULL : realloc(p, n ? n : 1);
}

void tcfp_free(void *p)
{
    free(p);
}

char *tcfp_strndup(const char *s, size_t n)
{
    char *d = tcfp_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *tcfp_strdup(const char *s)
{
    return tcfp_strndup(s, strlen(s));
}

void tcfp_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

void tcfp_free_secret(char *s)
{
    if (s) {
        tcfp_wipe(s, strlen(s));
        free(s);
    }
}

/* ---- buffer ---- */
void tcfp_buf_init(tcfp_buf *b)
{
    memset(b, 0, sizeof *b);
}

int tcfp_buf_reserve(tcfp_buf *b, size_t extra)
{
    if (b->failed)
        return TCF_ENOMEM;
    if (extra > (size_t)-1 / 2 - b->len) {
        b->failed = 1;
        return TCF_ENOMEM;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    unsigned char *p = tcfp_realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return TCF_ENOMEM;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

int tcfp_buf_append(tcfp_buf *b, const void *data, size_t n)
{
    if (tcfp_buf_reserve(b, n) != 0)
        return TCF_ENOMEM;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int tcfp_buf_append_str(tcfp_buf *b, const char *s)
{
    return tcfp_buf_append(b, s, strlen(s));
}

int tcfp_buf_append_char(tcfp_buf *b, char c)
{
    return tcfp_buf_append(b, &c, 1);
}

int tcfp_buf_printf(tcfp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || tcfp_buf_reserve(b, (size_t)n) != 0)
        return TCF_ENOMEM;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *tcfp_buf_steal(tcfp_buf *b, size_t *len)
{
    if (b->failed || (b->data == NULL && tcfp_buf_reserve(b, 0) != 0)) {
        tcfp_buf_free(b);
        return NULL;
    }
    char *p = (char *)b->data;
    if (len)
        *len = b->len;
    tcfp_buf_init(b);
    return p;
}

void tcfp_buf_free(tcfp_buf *b)
{
    free(b->data);
    tcfp_buf_init(b);
}

void tcfp_buf_free_secret(tcfp_buf *b)
{
    if (b->data)
        tcfp_wipe(b->data, b->cap);
    tcfp_buf_free(b);
}

/* ---- text ---- */
void tcfp_hex(char *out, const unsigned char *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int tcfp_check_secret(const char *s)
{
    if (s == NULL || *s == '\0')
        return -1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7F)
            return -1;
    return 0;
}

int tcfp_starts_with_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *prefix)
            return 0;
    }
    return 1;
}
