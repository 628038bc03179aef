/* Shared helpers of the libFuzzer harnesses (tests/fuzz/fuzz_*.c).
 *
 * Inputs are cut into fields with a cursor: single bytes (flags, small numbers) and
 * NUL-terminated strings; every string is copied into a heap block of exactly its size, so that
 * AddressSanitizer catches a read one byte past it. FUZZ_CHECK aborts with a message when an
 * invariant does not hold: libFuzzer reports that as a crash and saves the input. */
#ifndef TCF_FUZZ_COMMON_H
#define TCF_FUZZ_COMMON_H

#include "tcfaceid.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "\nINVARIANT FAILED at %s:%d: %s\n  ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct fuzz_in {
    const uint8_t *p;
    size_t n;
} fuzz_in;

static inline uint8_t fuzz_byte(fuzz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

static inline unsigned fuzz_u16(fuzz_in *in)
{
    unsigned hi = fuzz_byte(in);
    return (hi << 8) | fuzz_byte(in);
}

/* n bytes (fewer at the end of the input) as a fresh heap block of exactly that size. */
static inline uint8_t *fuzz_bytes(fuzz_in *in, size_t n, size_t *len)
{
    if (n > in->n)
        n = in->n;
    uint8_t *b = malloc(n ? n : 1);
    if (b == NULL)
        abort();
    if (n)
        memcpy(b, in->p, n);
    in->p += n;
    in->n -= n;
    *len = n;
    return b;
}

/* The next NUL-terminated field as a heap string; NULL when the input is used up. */
static inline char *fuzz_str(fuzz_in *in)
{
    if (in->n == 0)
        return NULL;
    const uint8_t *z = memchr(in->p, 0, in->n);
    size_t len = z ? (size_t)(z - in->p) : in->n;
    char *s = malloc(len + 1);
    if (s == NULL)
        abort();
    memcpy(s, in->p, len);
    s[len] = '\0';
    in->p += len + (z ? 1 : 0);
    in->n -= len + (z ? 1 : 0);
    return s;
}

/* The whole input as a heap string (cut at its first NUL). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* 1 when TCF_FUZZ_TOLERATE_KNOWN_BUGS is set (by tests/fuzz/test_fuzz.py for its short runs):
 * the harnesses then let pass the core bugs already reproduced in tests/fuzz/crashes/ (each
 * place is marked KNOWN BUG), so that a short run does not fail on them again and again.
 * `make fuzz` and the replay of the reproducers keep them fatal. */
static inline int fuzz_tolerate_known_bugs(void)
{
    static int tolerate = -1;
    if (tolerate < 0)
        tolerate = getenv("TCF_FUZZ_TOLERATE_KNOWN_BUGS") != NULL;
    return tolerate;
}

/* The error was filled consistently: a known negative code and NUL-terminated texts. */
static inline void fuzz_check_error(const tcf_error *err, int rc)
{
    FUZZ_CHECK(rc < 0 && rc > -100, "unexpected return code %d", rc); /* codes are append-only */
    FUZZ_CHECK(err->code == rc, "err.code %d but returned %d", err->code, rc);
    FUZZ_CHECK(memchr(err->message, 0, sizeof err->message) != NULL, "message not terminated");
    FUZZ_CHECK(memchr(err->api_code, 0, sizeof err->api_code) != NULL, "api_code not terminated");
    FUZZ_CHECK(memchr(err->request_id, 0, sizeof err->request_id) != NULL,
               "request_id not terminated");
    FUZZ_CHECK(err->message[0] != '\0', "an error without a message (code %d)", rc);
}

/* 1 when s[0..n) is valid UTF-8 (no surrogates, no overlong forms, at most U+10FFFF). */
static inline int fuzz_utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], need, cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3, cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i - 1 < need)
            return 0;
        for (unsigned k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += need + 1;
    }
    return 1;
}

#endif
