/* Validators of identity inputs (ID number, name, phone, bank card, redirect URL, validity
 * date). Pure functions: no allocation, no clock, no global state. Error messages name the
 * rule that was broken and never contain the value, which is identity data. */
#include "internal.h"

#include <stdint.h>
#include <string.h>

/* ---- helpers ---- */

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)s[i]))
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

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* 8 ASCII digits at s form a real date with year in [1900, 9999]; *ymd receives YYYYMMDD. */
static int real_date(const char *s, long *ymd)
{
    if (!all_digits(s, 8))
        return 0;
    int y = num(s, 4), m = num(s + 4, 2), d = num(s + 6, 2);
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return 0;
    *ymd = (long)y * 10000 + m * 100 + d;
    return 1;
}

/* The civil date (proleptic Gregorian) of a day count since 1970-01-01, as YYYYMMDD. */
static long ymd_from_days(long long z)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = yoe + era * 400;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long d = doy - (153 * mp + 2) / 5 + 1;
    long long m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2)
        y++;
    return (long)(y * 10000 + m * 100 + d);
}

/* Decode one code point of strict UTF-8 (no overlong forms, surrogates or values above
 * U+10FFFF) from s[*i..n). Returns 0 and advances *i, or -1. */
static int utf8_next(const unsigned char *s, size_t n, size_t *i, uint32_t *cp)
{
    size_t k = *i;
    unsigned char c = s[k];
    uint32_t v;
    size_t len;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        *i = k + 1;
        return 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
        v = c & 0x1Fu;
        len = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        v = c & 0x0Fu;
        len = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        v = c & 0x07u;
        len = 4;
        min = 0x10000;
    } else {
        return -1;
    }
    if (n - k < len)
        return -1;
    for (size_t j = 1; j < len; j++) {
        unsigned char cc = s[k + j];
        if ((cc & 0xC0) != 0x80)
            return -1;
        v = (v << 6) | (cc & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return -1;
    *cp = v;
    *i = k + len;
    return 0;
}

static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    uint32_t cp;
    while (i < n)
        if (utf8_next(s, n, &i, &cp) != 0)
            return 0;
    return 1;
}

static size_t utf8_encode(unsigned char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    } else if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    } else if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- ID number ---- */

static int province_ok(int code)
{
    static const unsigned char codes[] = {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34,
                                          35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
                                          53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83};
    for (size_t i = 0; i < sizeof codes; i++)
        if (codes[i] == code)
            return 1;
    return 0;
}

#define TCFP_MAX_UNIX 253402300799LL /* 9999-12-31T23:59:59Z */

int tcf_check_id_card(const char *id, long long today_unix, tcf_error *err)
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char check_chars[] = "10X98765432";
    if (id == NULL)
        return tcfp_fail(err, TCF_EINVAL, "id_card is NULL");
    if (today_unix < 0 || today_unix > TCFP_MAX_UNIX)
        return tcfp_fail(err, TCF_EINVAL, "today_unix must be 0 (no check) or 0..253402300799");
    size_t n = strlen(id);
    if (n == 0)
        return tcfp_fail(err, TCF_EINVAL, "id_card is empty");
    if (n == 15 && all_digits(id, 15))
        return tcfp_fail(err, TCF_EINVAL,
                         "id_card: the 15-digit legacy format is not accepted; use the "
                         "18-character number");
    if (n != 18)
        return tcfp_fail(err, TCF_EINVAL, "id_card must be 18 characters");
    if (!all_digits(id, 17))
        return tcfp_fail(err, TCF_EINVAL, "id_card: the first 17 characters must be ASCII digits");
    char last = id[17];
    if (last == 'x')
        return tcfp_fail(err, TCF_EINVAL,
                         "id_card: the check character must be an uppercase X (convert x to X)");
    if (!is_digit((unsigned char)last) && last != 'X')
        return tcfp_fail(err, TCF_EINVAL,
                         "id_card: the check character must be a digit or an uppercase X");
    if (!province_ok(num(id, 2)))
        return tcfp_fail(err, TCF_EINVAL,
                         "id_card: unknown province code (first two digits, GB/T 2260)");
    long birth;
    if (!real_date(id + 6, &birth))
        return tcfp_fail(err, TCF_EINVAL,
                         "id_card: invalid birth date (YYYYMMDD at offset 6, year 1900 or later)");
    if (today_unix != 0) {
        long long local = today_unix + 8 * 3600; /* China Standard Time, UTC+8 */
        if (birth > ymd_from_days(local / 86400))
            return tcfp_fail(err, TCF_EINVAL, "id_card: the birth date is in the future");
    }
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (id[i] - '0') * weights[i];
    if (check_chars[sum % 11] != last)
        return tcfp_fail(err, TCF_EINVAL, "id_card: check character mismatch (GB 11643)");
    return 0;
}

/* ---- names ---- */

#define TCFP_INTERPUNCT 0xB7u
#define TCFP_NAME_MIN 2
#define TCFP_NAME_MAX 32

static int is_cjk(uint32_t cp)
{
    return (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
           (cp >= 0x20000 && cp <= 0x2FFFF);
}

static int is_lookalike_dot(uint32_t cp)
{
    return cp == 0x2022 || cp == 0x30FB || cp == 0xFF0E || cp == 0x2027 || cp == 0x22C5 ||
           cp == 0xFF65;
}

static int is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The code point at s[*i] after the dot normalisation; *prev is the previous original code
 * point (0 at the start) and receives this one. Advances *i. s[..n) is valid UTF-8. */
static uint32_t name_next(const unsigned char *s, size_t n, size_t *i, uint32_t *prev_io)
{
    uint32_t cp = 0, prev = *prev_io;
    (void)utf8_next(s, n, i, &cp);
    *prev_io = cp;
    if (is_lookalike_dot(cp))
        return TCFP_INTERPUNCT;
    if (cp == '.' && is_cjk(prev) && *i < n) {
        size_t j = *i;
        uint32_t next = 0;
        (void)utf8_next(s, n, &j, &next);
        if (is_cjk(next))
            return TCFP_INTERPUNCT;
    }
    return cp;
}

static int name_fail(char *out, size_t out_cap, tcf_error *err, const char *msg)
{
    if (out != NULL && out_cap > 0)
        out[0] = '\0';
    return tcfp_fail(err, TCF_EINVAL, "%s", msg);
}

int tcf_normalize_name(char *out, size_t out_cap, const char *name, tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    if (out_cap == 0)
        return tcfp_fail(err, TCF_EINVAL, "out_cap is 0");
    if (name == NULL)
        return name_fail(out, out_cap, err, "name is NULL");
    const unsigned char *s = (const unsigned char *)name;
    size_t end = strlen(name);
    if (!utf8_valid(s, end))
        return name_fail(out, out_cap, err, "name is not valid UTF-8");
    size_t start = 0;
    while (start < end && is_ascii_space(s[start]))
        start++;
    while (end > start && is_ascii_space(s[end - 1]))
        end--;
    if (start == end)
        return name_fail(out, out_cap, err, "name is empty");

    /* Pass 1: length in code points (the normalisation maps one code point to one). */
    size_t count = 0;
    for (size_t i = start; i < end;) {
        uint32_t cp;
        (void)utf8_next(s, end, &i, &cp);
        count++;
    }
    if (count > TCFP_NAME_MAX)
        return name_fail(out, out_cap, err, "name is longer than 32 characters");
    if (count < TCFP_NAME_MIN)
        return name_fail(out, out_cap, err, "name is shorter than 2 characters");

    /* Pass 2: the characters and the interpunct rules, and the size of the result. */
    size_t need = 1;
    uint32_t prev = 0, prev_norm = 0;
    size_t k = 0;
    for (size_t i = start; i < end; k++) {
        uint32_t c = name_next(s, end, &i, &prev);
        if ((c >= '0' && c <= '9') || (c >= 0xFF10 && c <= 0xFF19))
            return name_fail(out, out_cap, err, "name must not contain digits");
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= 0xFF21 && c <= 0xFF3A) ||
            (c >= 0xFF41 && c <= 0xFF5A))
            return name_fail(out, out_cap, err, "name must not contain Latin letters");
        if (c == TCFP_INTERPUNCT) {
            if (k == 0 || k == count - 1)
                return name_fail(out, out_cap, err,
                                 "name must not start or end with the interpunct U+00B7");
            if (prev_norm == TCFP_INTERPUNCT)
                return name_fail(out, out_cap, err,
                                 "name must not contain two interpuncts U+00B7 in a row");
            need += 2;
        } else if (is_cjk(c)) {
            need += c >= 0x10000 ? 4 : 3;
        } else {
            return name_fail(out, out_cap, err,
                             "name may only contain CJK ideographs, with the interpunct U+00B7 "
                             "between the parts of a minority name");
        }
        prev_norm = c;
    }
    if (need > out_cap)
        return name_fail(out, out_cap, err,
                         "out_cap is too small for the normalised name (at most 129 bytes are "
                         "needed)");

    /* Pass 3: write. */
    unsigned char *o = (unsigned char *)out;
    prev = 0;
    for (size_t i = start; i < end;)
        o += utf8_encode(o, name_next(s, end, &i, &prev));
    *o = '\0';
    return 0;
}

/* ---- phone ---- */

int tcf_check_phone(const char *phone, tcf_error *err)
{
    if (phone == NULL)
        return tcfp_fail(err, TCF_EINVAL, "phone is NULL");
    size_t n = strlen(phone);
    if (n != 11)
        return tcfp_fail(err, TCF_EINVAL, "phone must be 11 digits");
    if (!all_digits(phone, n))
        return tcfp_fail(err, TCF_EINVAL, "phone must contain only ASCII digits");
    if (phone[0] != '1')
        return tcfp_fail(err, TCF_EINVAL, "phone must start with 1");
    return 0;
}

const char *tcf_phone_carrier(const char *phone)
{
    /* faq-facts.md, "Mobile number ranges by carrier"; the 4-digit ranges win. */
    static const struct {
        short prefix;
        unsigned char carrier; /* 0 CMCC, 1 CUCC, 2 CTCC */
    } three[] = {
        {135, 0}, {136, 0}, {137, 0}, {138, 0}, {139, 0}, {147, 0}, {148, 0}, {150, 0}, {151, 0},
        {152, 0}, {157, 0}, {158, 0}, {159, 0}, {172, 0}, {178, 0}, {182, 0}, {183, 0}, {184, 0},
        {187, 0}, {188, 0}, {195, 0}, {197, 0}, {198, 0}, {130, 1}, {131, 1}, {132, 1}, {145, 1},
        {146, 1}, {155, 1}, {156, 1}, {166, 1}, {175, 1}, {176, 1}, {185, 1}, {186, 1}, {196, 1},
        {133, 2}, {141, 2}, {149, 2}, {153, 2}, {173, 2}, {174, 2}, {177, 2}, {180, 2}, {181, 2},
        {189, 2}, {190, 2}, {191, 2}, {193, 2}, {199, 2},
    };
    static const char *const names[3] = {"CMCC", "CUCC", "CTCC"};
    if (tcf_check_phone(phone, NULL) != 0)
        return NULL;
    int p4 = num(phone, 4);
    if (p4 >= 1340 && p4 <= 1348)
        return names[0];
    if (p4 == 1349)
        return names[2];
    int p3 = num(phone, 3);
    for (size_t i = 0; i < sizeof three / sizeof three[0]; i++)
        if (three[i].prefix == p3)
            return names[three[i].carrier];
    return NULL;
}

/* ---- bank card ---- */

int tcf_check_bank_card(const char *card, tcf_error *err)
{
    if (card == NULL)
        return tcfp_fail(err, TCF_EINVAL, "bank_card is NULL");
    size_t n = strlen(card);
    if (n < 12 || n > 19)
        return tcfp_fail(err, TCF_EINVAL, "bank_card must be 12 to 19 digits");
    if (!all_digits(card, n))
        return tcfp_fail(err, TCF_EINVAL, "bank_card must contain only ASCII digits");
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int d = card[n - 1 - i] - '0';
        if (i % 2 == 1)
            d = d > 4 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    if (sum % 10 != 0)
        return tcfp_fail(err, TCF_EINVAL, "bank_card: Luhn check digit mismatch");
    return 0;
}

/* ---- redirect URL ---- */

#define TCFP_URL_MAX 1024

int tcf_check_redirect_url(const char *url, tcf_error *err)
{
    if (url == NULL)
        return tcfp_fail(err, TCF_EINVAL, "redirect_url is NULL");
    size_t n = strlen(url);
    if (n == 0)
        return tcfp_fail(err, TCF_EINVAL, "redirect_url is empty");
    if (n > TCFP_URL_MAX)
        return tcfp_fail(err, TCF_EINVAL, "redirect_url is longer than 1024 bytes");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c == 0x7F)
            return tcfp_fail(err, TCF_EINVAL,
                             "redirect_url must not contain spaces or control characters");
    }
    if (!utf8_valid((const unsigned char *)url, n))
        return tcfp_fail(err, TCF_EINVAL, "redirect_url is not valid UTF-8");
    size_t at;
    if (tcfp_starts_with_ci(url, "https://"))
        at = 8;
    else if (tcfp_starts_with_ci(url, "http://"))
        at = 7;
    else
        return tcfp_fail(err, TCF_EINVAL, "redirect_url must start with http:// or https://");
    /* The authority runs to the first '/', '?' or '#'; the host follows any userinfo and
     * precedes any port. */
    size_t auth_end = at;
    while (auth_end < n && url[auth_end] != '/' && url[auth_end] != '?' && url[auth_end] != '#')
        auth_end++;
    size_t host = at;
    for (size_t i = at; i < auth_end; i++)
        if (url[i] == '@')
            host = i + 1;
    size_t host_end = host;
    if (host < auth_end && url[host] == '[') {
        while (host_end < auth_end && url[host_end] != ']')
            host_end++;
        if (host_end == auth_end || host_end == host + 1)
            return tcfp_fail(err, TCF_EINVAL, "redirect_url has an empty or unterminated host");
    } else {
        while (host_end < auth_end && url[host_end] != ':')
            host_end++;
        if (host_end == host)
            return tcfp_fail(err, TCF_EINVAL, "redirect_url has an empty host");
    }
    return 0;
}

/* ---- validity date ---- */

int tcf_check_validity_date(const char *yyyymmdd, int allow_long_term, tcf_error *err)
{
    if (yyyymmdd == NULL)
        return tcfp_fail(err, TCF_EINVAL, "validity date is NULL");
    size_t n = strlen(yyyymmdd);
    if (n != 8 || !all_digits(yyyymmdd, 8))
        return tcfp_fail(err, TCF_EINVAL, "validity date must be 8 ASCII digits (YYYYMMDD)");
    if (strcmp(yyyymmdd, "00000000") == 0) {
        if (allow_long_term)
            return 0;
        return tcfp_fail(err, TCF_EINVAL,
                         "validity date: long term (all zeros) is not allowed here");
    }
    long ymd;
    if (!real_date(yyyymmdd, &ymd))
        return tcfp_fail(err, TCF_EINVAL,
                         "validity date is not a real date (YYYYMMDD, year 1900 to 9999)");
    return 0;
}

int tcf_normalize_id_card(char out[19], const char *id, long long today_unix, tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "id_card: out is NULL");
    out[0] = '\0';
    if (id == NULL)
        return tcfp_fail(err, TCF_EINVAL, "id_card is NULL");
    size_t n = strlen(id);
    if (n != 18)
        return tcf_check_id_card(id, today_unix, err); /* its length messages */
    char copy[19];
    memcpy(copy, id, 19);
    if (copy[17] == 'x')
        copy[17] = 'X';
    int rc = tcf_check_id_card(copy, today_unix, err);
    if (rc == 0)
        memcpy(out, copy, 19);
    return rc;
}
