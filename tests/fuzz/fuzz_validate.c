/* The validators on one fuzzed string each run: tcf_check_id_card, tcf_normalize_name,
 * tcf_check_phone / tcf_phone_carrier, tcf_check_bank_card, tcf_check_redirect_url and
 * tcf_check_validity_date.
 *
 * Invariants, checked against independent implementations of the documented rules: the phone,
 * bank card and validity date answers match exactly; an accepted ID number has a valid province
 * digit range, a real birth date and the right GB 11643 check character; an accepted URL has the
 * scheme, a host, at most 1024 bytes of valid UTF-8 without spaces or control characters;
 * normalize_name's output is valid UTF-8 of at most 128 bytes and idempotent, fits an out_cap of
 * exactly its size and fails with "" in one byte less; error messages never contain the value. */
#include "fuzz_common.h"

#include <strings.h>

#define TODAY 1735660800LL /* 2025-01-01 00:00 UTC+8 */

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* A real YYYYMMDD date, year 1900-9999. */
static int real_date(const char *s)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!all_digits(s, 8))
        return 0;
    int y = num(s, 4), m = num(s + 4, 2), d = num(s + 6, 2);
    if (y < 1900 || m < 1 || m > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap);
}

static int luhn_ok(const char *s, size_t n)
{
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int d = s[n - 1 - i] - '0';
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

/* The message of a failed check must not repeat the value (only tested for long digit runs,
 * which no message contains by itself). */
static void no_echo(const tcf_error *err, const char *value)
{
    size_t n = strlen(value);
    if (n >= 6 && all_digits(value, n))
        FUZZ_CHECK(strstr(err->message, value) == NULL, "the message echoes the value: %s",
                   err->message);
}

static void check_id_card(const char *s)
{
    tcf_error err = {0};
    int rc = tcf_check_id_card(s, TODAY, &err);
    int rc0 = tcf_check_id_card(s, 0, NULL);
    if (rc != 0) {
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc == TCF_EINVAL, "code %d", rc);
        no_echo(&err, s);
        return;
    }
    FUZZ_CHECK(rc0 == 0, "accepted with today but not without");
    FUZZ_CHECK(strlen(s) == 18 && all_digits(s, 17) &&
                   ((s[17] >= '0' && s[17] <= '9') || s[17] == 'X'),
               "accepted ID number of a bad shape");
    FUZZ_CHECK(s[0] >= '1' && s[0] <= '8' && s[1] >= '0', "province %c%c", s[0], s[1]);
    FUZZ_CHECK(real_date(s + 6), "birth date %.8s", s + 6);
    FUZZ_CHECK(memcmp(s + 6, "20250101", 8) <= 0, "birth date after today");
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (s[i] - '0') * w[i];
    FUZZ_CHECK(s[17] == "10X98765432"[sum % 11], "check character");
}

static void check_name(const char *s)
{
    char out[129];
    memset(out, 'z', sizeof out);
    tcf_error err = {0};
    int rc = tcf_normalize_name(out, sizeof out, s, &err);
    if (rc != 0) {
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc == TCF_EINVAL, "code %d", rc);
        FUZZ_CHECK(out[0] == '\0', "out not emptied on failure");
        return;
    }
    size_t n = strnlen(out, sizeof out);
    FUZZ_CHECK(n >= 6 && n < sizeof out, "name of %zu bytes", n); /* 2 ideographs at least */
    FUZZ_CHECK(fuzz_utf8_ok((const unsigned char *)out, n), "not UTF-8");
    FUZZ_CHECK(out[0] != ' ' && out[n - 1] != ' ', "not trimmed");
    char again[129];
    rc = tcf_normalize_name(again, sizeof again, out, &err);
    FUZZ_CHECK(rc == 0 && strcmp(again, out) == 0, "not idempotent: %s -> %s", out, again);
    char *exact = malloc(n + 1);
    if (exact == NULL)
        abort();
    FUZZ_CHECK(tcf_normalize_name(exact, n + 1, s, NULL) == 0 && strcmp(exact, out) == 0,
               "does not fit out_cap %zu", n + 1);
    exact[0] = 'z';
    FUZZ_CHECK(tcf_normalize_name(exact, n, s, NULL) == TCF_EINVAL && exact[0] == '\0',
               "out_cap %zu one byte short accepted", n);
    free(exact);
}

static void check_phone(const char *s)
{
    size_t n = strlen(s);
    int want = n == 11 && all_digits(s, n) && s[0] == '1';
    tcf_error err = {0};
    int rc = tcf_check_phone(s, &err);
    FUZZ_CHECK((rc == 0) == want, "tcf_check_phone says %d", rc);
    if (rc != 0) {
        fuzz_check_error(&err, rc);
        no_echo(&err, s);
    }
    const char *carrier = tcf_phone_carrier(s);
    if (carrier)
        FUZZ_CHECK(want && (!strcmp(carrier, "CMCC") || !strcmp(carrier, "CUCC") ||
                            !strcmp(carrier, "CTCC")),
                   "carrier %s", carrier);
}

static void check_bank_card(const char *s)
{
    size_t n = strlen(s);
    int want = n >= 12 && n <= 19 && all_digits(s, n) && luhn_ok(s, n);
    tcf_error err = {0};
    int rc = tcf_check_bank_card(s, &err);
    FUZZ_CHECK((rc == 0) == want, "tcf_check_bank_card says %d", rc);
    if (rc != 0) {
        fuzz_check_error(&err, rc);
        no_echo(&err, s);
    }
}

static void check_url(const char *s)
{
    tcf_error err = {0};
    int rc = tcf_check_redirect_url(s, &err);
    if (rc != 0) {
        fuzz_check_error(&err, rc);
        return;
    }
    size_t n = strlen(s), scheme = 0;
    if (n >= 7 && strncasecmp(s, "http://", 7) == 0)
        scheme = 7;
    else if (n >= 8 && strncasecmp(s, "https://", 8) == 0)
        scheme = 8;
    FUZZ_CHECK(scheme > 0, "a URL without http(s)://");
    FUZZ_CHECK(n <= 1024, "a URL of %zu bytes", n);
    FUZZ_CHECK(n > scheme && s[scheme] != '/' && s[scheme] != '?' && s[scheme] != '#',
               "a URL without a host");
    FUZZ_CHECK(fuzz_utf8_ok((const unsigned char *)s, n), "a URL that is not UTF-8");
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)s[i] > 0x20 && s[i] != 0x7f, "a space or control character");
}

static void check_date(const char *s)
{
    for (int allow = 0; allow <= 1; allow++) {
        int want = strlen(s) == 8 && (real_date(s) || (allow && strcmp(s, "00000000") == 0));
        tcf_error err = {0};
        int rc = tcf_check_validity_date(s, allow, &err);
        FUZZ_CHECK((rc == 0) == want, "tcf_check_validity_date(allow %d) says %d", allow, rc);
        if (rc != 0)
            fuzz_check_error(&err, rc);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    check_id_card(s);
    check_name(s);
    check_phone(s);
    check_bank_card(s);
    check_url(s);
    check_date(s);
    free(s);
    return 0;
}
