/* Internal declarations shared by the core's source files (prefix tcfp_). Not installed. */
#ifndef TCFACEID_INTERNAL_H
#define TCFACEID_INTERNAL_H

#include "tcfaceid.h"

#include <stdarg.h>
#include <stddef.h>

/* ---- allocation (malloc family only: the core runs with the Python GIL released) ---- */
void *tcfp_malloc(size_t n);
void *tcfp_calloc(size_t count, size_t size);
void *tcfp_realloc(void *p, size_t n);
void tcfp_free(void *p);
char *tcfp_strdup(const char *s);
char *tcfp_strndup(const char *s, size_t n);
/* Overwrite memory that held secrets; not optimised away. */
void tcfp_wipe(void *p, size_t n);
/* Wipe a NUL-terminated string and free it. */
void tcfp_free_secret(char *s);

/* Test hook: make the Nth following allocation (1-based) and every later one fail; 0 turns it off.
 * Only compiled in when TCF_ALLOC_FAILURE_INJECTION is defined (test builds). */
void tcfp_fail_allocations_after(long n);

/* ---- growable byte buffer ---- */
typedef struct tcfp_buf {
    unsigned char *data; /* always NUL-terminated when non-NULL (data[len] == 0) */
    size_t len;
    size_t cap;
    int failed; /* an append ran out of memory; later appends are no-ops */
} tcfp_buf;

void tcfp_buf_init(tcfp_buf *b);
int tcfp_buf_reserve(tcfp_buf *b, size_t extra);
int tcfp_buf_append(tcfp_buf *b, const void *data, size_t n);
int tcfp_buf_append_str(tcfp_buf *b, const char *s);
int tcfp_buf_append_char(tcfp_buf *b, char c);
int tcfp_buf_printf(tcfp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Give up ownership of the data (NUL-terminated); the buffer is reset. NULL if it failed. */
char *tcfp_buf_steal(tcfp_buf *b, size_t *len);
void tcfp_buf_free(tcfp_buf *b);
/* Wipe, then free (for buffers that held secrets). */
void tcfp_buf_free_secret(tcfp_buf *b);

/* ---- errors ---- */
/* Record an error unless one is already recorded (first error wins). Returns code. */
int tcfp_fail(tcf_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Copy src into a fixed-size field, truncating on a UTF-8 boundary. */
void tcfp_copy_field(char *dst, size_t cap, const char *src, size_t len);

/* ---- text helpers ---- */
void tcfp_hex(char *out, const unsigned char *in, size_t n); /* out: 2n+1 bytes, lower case */
/* 1 when s starts with prefix, ASCII letters of s compared case-insensitively (prefix is lower
 * case). */
int tcfp_starts_with_ci(const char *s, const char *prefix);
/* Length of the longest valid UTF-8 prefix of s[0..n) (no overlong forms, surrogates or code
 * points above U+10FFFF) that ends on a character boundary: n when all of it is valid. */
size_t tcfp_utf8_valid_prefix(const unsigned char *s, size_t n);
/* 0 when s is a usable secret: non-empty, no whitespace, no control characters. */
int tcfp_check_secret(const char *s);

/* ---- credentials ---- */
typedef struct tcfp_secret_triple {
    char secret_id[256];
    char secret_key[256];
    char token[8200]; /* "" for a long-term key */
} tcfp_secret_triple;
/* A consistent (id, key, token) triple for one request; wipe it after use. */
int tcfp_credentials_get(const tcf_credentials *c, tcfp_secret_triple *t, tcf_error *err);
/* A deep copy (NULL when out of memory). */
tcf_credentials *tcfp_credentials_copy(const tcf_credentials *c);

/* Base64 media text (check.c; DetectAuth's image too): *start skips a "data:<type>;base64,"
 * prefix; the rest, ASCII white space ignored, must be standard base64 with '=' padding.
 * *raw_len: the length from *start to the end (with white space); *clean_len: without it. max: the
 * limit of *clean_len (0: none). TCF_EINVAL messages name field, never the data. */
int tcfp_media_base64_clean(const char *field, const char *s, size_t n, size_t max,
                            const char **start, size_t *raw_len, size_t *clean_len, tcf_error *err);

/* The RequestId of a response whose text no longer carries it (tcf_response_json). */
void tcfp_check_outcome_set_request_id(tcf_check_outcome *o, const char *request_id);

#endif
