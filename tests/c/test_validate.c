/* The validators: ID number, name normalisation, phone and carrier, bank card, redirect URL,
 * validity date. Every rejection must be TCF_EINVAL with a message that does not echo the
 * value. */
#include "tcfaceid.h"
#include "tcft.h"

#include <stdio.h>

/* rc is TCF_EINVAL, err holds it with a non-empty message that does not contain value (nor,
 * for values of 4 bytes or more, the value without its first or last byte). */
static int rejected(int rc, const tcf_error *err, const char *value)
{
    if (rc != TCF_EINVAL || err->code != TCF_EINVAL || err->message[0] == '\0')
        return 0;
    if (value == NULL || value[0] == '\0')
        return 1;
    if (strstr(err->message, value) != NULL)
        return 0;
    size_t n = strlen(value);
    if (n >= 4) {
        char part[2048];
        if (n - 1 >= sizeof part)
            return 0;
        memcpy(part, value + 1, n - 1);
        part[n - 1] = '\0';
        if (strstr(err->message, part) != NULL)
            return 0;
        memcpy(part, value, n - 1);
        part[n - 1] = '\0';
        if (strstr(err->message, part) != NULL)
            return 0;
    }
    return 1;
}

#define CHECK_OK(call)                                                                             \
    do {                                                                                           \
        tcf_error e_;                                                                              \
        tcf_error_clear(&e_);                                                                      \
        int rc_ = (call);                                                                          \
        if (rc_ != 0)                                                                              \
            printf("    unexpected error: %s\n", e_.message);                                      \
        TCFT_CHECK(rc_ == 0 && e_.code == 0);                                                      \
    } while (0)

/* call must use the tcf_error named e_; msg_part must occur in the message (NULL: any). */
#define CHECK_BAD(call, value, msg_part)                                                           \
    do {                                                                                           \
        tcf_error e_;                                                                              \
        tcf_error_clear(&e_);                                                                      \
        int rc_ = (call);                                                                          \
        const char *part_ = (msg_part);                                                            \
        TCFT_CHECK(rejected(rc_, &e_, (value)));                                                   \
        if (part_ != NULL && strstr(e_.message, part_) == NULL)                                    \
            printf("    message was: %s\n", e_.message);                                           \
        TCFT_CHECK(part_ == NULL || strstr(e_.message, part_) != NULL);                            \
    } while (0)

#define ID_OK(id, today) CHECK_OK(tcf_check_id_card((id), (today), &e_))
#define ID_BAD(id, today, part) CHECK_BAD(tcf_check_id_card((id), (today), &e_), (id), (part))

/* ---- ID numbers ---- */

TCFT_TEST(validate_id_card_emulator_people)
{
    ID_OK("110101199003071233", 0);
    ID_OK("440304198512010027", 0);
    ID_OK("650102197806154350", 0);
    ID_OK("310115199504308767", 0);
    ID_OK("81000019920101003X", 0);
    ID_OK("820000199201010015", 0);
    ID_OK("830000199201010025", 0);
}

TCFT_TEST(validate_id_card_format)
{
    ID_BAD(NULL, 0, "NULL");
    ID_BAD("", 0, "empty");
    ID_BAD("110101900307123", 0, "15-digit legacy");
    ID_BAD("11010119900307123", 0, "18 characters");
    ID_BAD("1101011990030712334", 0, "18 characters");
    ID_BAD("11010119900307123a", 0, "digit or an uppercase X");
    ID_BAD("1101011990030712X3", 0, "first 17");
    ID_BAD("11010119900307 233", 0, "first 17");
    ID_BAD("\xef\xbc\x91\x31\x30\x31\x30\x31\x31\x39\x39\x30\x30\x33\x30\x37\x31\x32", 0, NULL);
    /* lowercase x: asked to uppercase it */
    ID_BAD("81000019920101003x", 0, "uppercase X");
    ID_BAD("81000019920101003x", 0, "convert x to X");
}

TCFT_TEST(validate_id_card_checksum_and_region)
{
    ID_BAD("110101199003071234", 0, "check character");
    ID_BAD("110101199003071230", 0, "check character");
    ID_BAD("440304198512010028", 0, "check character");
    ID_BAD("650102197806154351", 0, "check character");
    ID_BAD("810000199201010030", 0, "check character");
    ID_BAD("990101199003071237", 0, "province");
    ID_BAD("000101199003071230", 0, "province");
    ID_BAD("840000199201010030", 0, "province");
}

TCFT_TEST(validate_id_card_birth_dates)
{
    ID_OK("110101199202290017", 0);                /* 1992 is a leap year */
    ID_OK("110101200002290018", 0);                /* 2000 too (divisible by 400) */
    ID_BAD("110101199302290014", 0, "birth date"); /* 1993 is not */
    ID_BAD("110101190002290011", 0, "birth date"); /* nor 1900 */
    ID_BAD("11010118991231001X", 0, "birth date"); /* before 1900 */
    ID_BAD("110101199013010012", 0, "birth date"); /* month 13 */
    ID_BAD("110101199004310013", 0, "birth date"); /* April 31 */
}

TCFT_TEST(validate_id_card_future_birth)
{
    /* born 2030-01-01: fine without a today, in the future on 2023-11-14 */
    ID_OK("110101203001010014", 0);
    ID_BAD("110101203001010014", 1700000000, "future");
    ID_OK("110101199003071233", 1700000000);
    /* born 2000-01-02: today is that day from 2000-01-01T16:00:00Z (UTC+8) */
    ID_OK("110101200001020016", 946742400);
    ID_BAD("110101200001020016", 946742399, "future");
    ID_BAD("110101199003071233", -1, "today_unix");
    ID_BAD("110101199003071233", 253402300800LL, "today_unix");
}

TCFT_TEST(validate_first_error_wins)
{
    tcf_error e;
    tcf_error_clear(&e);
    TCFT_CHECK(tcf_check_phone("123", &e) == TCF_EINVAL);
    TCFT_CHECK(tcf_check_id_card("123", 0, &e) == TCF_EINVAL);
    TCFT_CHECK(strstr(e.message, "phone") != NULL);
    TCFT_CHECK(tcf_check_id_card("x", 0, NULL) == TCF_EINVAL);
    TCFT_CHECK(tcf_check_id_card("110101199003071233", 0, NULL) == 0);
}

/* ---- names ---- */

#define NAME_IS(in, expected)                                                                      \
    do {                                                                                           \
        char out_[160];                                                                            \
        CHECK_OK(tcf_normalize_name(out_, sizeof out_, (in), &e_));                                \
        TCFT_CHECK_STR(out_, (expected));                                                          \
    } while (0)

#define NAME_BAD(in, part)                                                                         \
    do {                                                                                           \
        char out_[160] = "junk";                                                                   \
        CHECK_BAD(tcf_normalize_name(out_, sizeof out_, (in), &e_), (in), (part));                 \
        TCFT_CHECK(out_[0] == '\0');                                                               \
    } while (0)

TCFT_TEST(validate_name_plain)
{
    NAME_IS("张三", "张三");
    NAME_IS("李四", "李四");
    NAME_IS("阿卜杜拉·买买提", "阿卜杜拉·买买提");
    NAME_IS("  \t陈大文\r\n ", "陈大文");
    NAME_IS("\xe3\x90\x80\xe4\xb8\x80", "\xe3\x90\x80\xe4\xb8\x80"); /* U+3400 U+4E00 */
    NAME_IS("\xf0\xa0\x80\x80\xf0\xaf\xbf\xbf",
            "\xf0\xa0\x80\x80\xf0\xaf\xbf\xbf"); /* U+20000 2FFFF */
    NAME_IS("\xe4\xb8\x80\xe9\xbf\xbf\xe4\xb6\xbf", "\xe4\xb8\x80\xe9\xbf\xbf\xe4\xb6\xbf");
}

TCFT_TEST(validate_name_every_dot_normalised)
{
    static const char *const dots[] = {
        "\xe2\x80\xa2", /* U+2022 bullet */
        "\xe3\x83\xbb", /* U+30FB katakana middle dot */
        "\xef\xbc\x8e", /* U+FF0E fullwidth full stop */
        "\xe2\x80\xa7", /* U+2027 hyphenation point */
        "\xe2\x8b\x85", /* U+22C5 dot operator */
        "\xef\xbd\xa5", /* U+FF65 halfwidth katakana middle dot */
        ".",            /* ASCII, between two CJK ideographs */
        "\xc2\xb7",     /* U+00B7 itself */
    };
    for (size_t i = 0; i < sizeof dots / sizeof dots[0]; i++) {
        char in[64];
        snprintf(in, sizeof in, "阿卜杜拉%s买买提", dots[i]);
        NAME_IS(in, "阿卜杜拉·买买提");
        snprintf(in, sizeof in, "艾%s尼%s瓦", dots[i], dots[i]);
        NAME_IS(in, "艾·尼·瓦");
        snprintf(in, sizeof in, "%s张三", dots[i]);
        NAME_BAD(in, NULL);
        snprintf(in, sizeof in, "张三%s", dots[i]);
        NAME_BAD(in, NULL);
        snprintf(in, sizeof in, "张%s%s三", dots[i], dots[i]);
        NAME_BAD(in, NULL);
    }
    NAME_IS("\xf0\xa0\x80\x80.\xf0\xa0\x80\x81", "\xf0\xa0\x80\x80·\xf0\xa0\x80\x81");
}

TCFT_TEST(validate_name_interpunct_rules)
{
    NAME_BAD("·张三", "start or end");
    NAME_BAD("张三·", "start or end");
    NAME_BAD("张··三", "two interpuncts");
    NAME_BAD("张•·三", "two interpuncts");
    NAME_BAD("·", "shorter than 2");
    NAME_BAD("··", "start or end");
    /* ASCII '.' not between two ideographs stays a '.', which is not allowed */
    NAME_BAD(".张三", "may only contain");
    NAME_BAD("张三.", "may only contain");
    NAME_BAD("张..三", "may only contain");
    NAME_BAD("张 . 三", "may only contain");
    /* other dots are not look-alikes that get fixed */
    NAME_BAD("张\xe3\x80\x82三", "may only contain"); /* U+3002 ideographic full stop */
    NAME_BAD("张\xe2\x88\x99三", "may only contain"); /* U+2219 bullet operator */
}

TCFT_TEST(validate_name_rejections)
{
    NAME_BAD(NULL, "NULL");
    NAME_BAD("", "empty");
    NAME_BAD(" \t\n", "empty");
    NAME_BAD("张", "shorter than 2");
    NAME_BAD(" 张 ", "shorter than 2");
    NAME_BAD("张san", "Latin letters");
    NAME_BAD("Zhang San", "Latin letters");
    NAME_BAD("张\xef\xbc\xa1", "Latin letters"); /* fullwidth A */
    NAME_BAD("张三3", "digits");
    NAME_BAD("张\xef\xbc\x93", "digits");                 /* fullwidth 3 */
    NAME_BAD("张三\xf0\x9f\x98\x80", "may only contain"); /* emoji */
    NAME_BAD("张 三", "may only contain");
    NAME_BAD("张\xe3\x80\x80三", "may only contain");         /* ideographic space */
    NAME_BAD("김철수", "may only contain");                   /* Hangul */
    NAME_BAD("\xe3\x81\x82\xe3\x81\x84", "may only contain"); /* Hiragana */
    /* invalid UTF-8 */
    NAME_BAD("张\xff三", "UTF-8");
    NAME_BAD("张\xe5\xbc", "UTF-8");           /* truncated */
    NAME_BAD("张\x80三", "UTF-8");             /* lone continuation byte */
    NAME_BAD("张\xed\xa0\x80三", "UTF-8");     /* surrogate U+D800 */
    NAME_BAD("张\xf4\x90\x80\x80三", "UTF-8"); /* above U+10FFFF */
    /* overlong encodings */
    NAME_BAD("张\xc0\xae三", "UTF-8");                 /* '.' in 2 bytes */
    NAME_BAD("张\xc1\x81三", "UTF-8");                 /* 'A' */
    NAME_BAD("张\xe0\x82\xb7三", "UTF-8");             /* U+00B7 in 3 bytes */
    NAME_BAD("\xf0\x8e\xb8\x80\xe4\xb8\x80", "UTF-8"); /* U+E000 region in 4 bytes */
    NAME_BAD("\xf0\x84\xb8\x80\xe4\xb8\x80", "UTF-8"); /* U+4E00 in 4 bytes */
}

TCFT_TEST(validate_name_length_limits)
{
    char name[256] = "";
    for (int i = 0; i < 32; i++)
        strcat(name, "张");
    char out[160];
    CHECK_OK(tcf_normalize_name(out, sizeof out, name, &e_));
    TCFT_CHECK_STR(out, name);
    strcat(name, "三"); /* 33 characters */
    NAME_BAD(name, "longer than 32");
    /* 32 characters including interpuncts, then 33 */
    name[0] = '\0';
    for (int i = 0; i < 16; i++)
        strcat(name, i == 0 ? "阿" : "·阿");
    strcat(name, "买");
    CHECK_OK(tcf_normalize_name(out, sizeof out, name, &e_));
    strcat(name, "·");
    NAME_BAD(name, "longer than 32");
    /* 32 supplementary-plane ideographs need 129 bytes of output */
    name[0] = '\0';
    for (int i = 0; i < 32; i++)
        strcat(name, "\xf0\xa0\x80\x80");
    CHECK_OK(tcf_normalize_name(out, 129, name, &e_));
    TCFT_CHECK(strlen(out) == 128);
    CHECK_BAD(tcf_normalize_name(out, 128, name, &e_), name, "out_cap");
}

TCFT_TEST(validate_name_output_buffer)
{
    char out[8];
    CHECK_OK(tcf_normalize_name(out, 7, "张三", &e_));
    TCFT_CHECK_STR(out, "张三");
    CHECK_BAD(tcf_normalize_name(out, 6, "张三", &e_), "张三", "out_cap");
    TCFT_CHECK(out[0] == '\0');
    CHECK_BAD(tcf_normalize_name(out, 1, "张三", &e_), "张三", "out_cap");
    CHECK_BAD(tcf_normalize_name(out, 0, "张三", &e_), "张三", "out_cap");
    CHECK_BAD(tcf_normalize_name(NULL, 8, "张三", &e_), "张三", "out");
    /* "张·三" is 8 bytes + NUL */
    char big[9];
    CHECK_OK(tcf_normalize_name(big, sizeof big, "张•三", &e_));
    TCFT_CHECK_STR(big, "张·三");
}

/* ---- phone numbers ---- */

TCFT_TEST(validate_phone)
{
    CHECK_OK(tcf_check_phone("13800138000", &e_));
    CHECK_OK(tcf_check_phone("18612345678", &e_));
    CHECK_OK(tcf_check_phone("10000000000", &e_));
    CHECK_BAD(tcf_check_phone(NULL, &e_), NULL, "NULL");
    CHECK_BAD(tcf_check_phone("", &e_), "", "11 digits");
    CHECK_BAD(tcf_check_phone("1380013800", &e_), "1380013800", "11 digits");
    CHECK_BAD(tcf_check_phone("138001380001", &e_), "138001380001", "11 digits");
    CHECK_BAD(tcf_check_phone("+8613800138", &e_), "+8613800138", "digits");
    CHECK_BAD(tcf_check_phone("1380013800a", &e_), "1380013800a", "digits");
    CHECK_BAD(tcf_check_phone("138 0013800", &e_), "138 0013800", "digits");
    CHECK_BAD(tcf_check_phone("23800138000", &e_), "23800138000", "start with 1");
}

TCFT_TEST(validate_phone_carrier)
{
    TCFT_CHECK_STR(tcf_phone_carrier("13800138000"), "CMCC");
    TCFT_CHECK_STR(tcf_phone_carrier("18612345678"), "CUCC");
    TCFT_CHECK_STR(tcf_phone_carrier("13312345678"), "CTCC");
    TCFT_CHECK_STR(tcf_phone_carrier("13490000000"), "CTCC");
    TCFT_CHECK_STR(tcf_phone_carrier("13400000000"), "CMCC");
    TCFT_CHECK_STR(tcf_phone_carrier("13480000000"), "CMCC");
    TCFT_CHECK_STR(tcf_phone_carrier("15900001111"), "CMCC");
    TCFT_CHECK_STR(tcf_phone_carrier("17712345678"), "CTCC");
    TCFT_CHECK_STR(tcf_phone_carrier("19612345678"), "CUCC");
    TCFT_CHECK_STR(tcf_phone_carrier("19912345678"), "CTCC");
    TCFT_CHECK(tcf_phone_carrier("10000000000") == NULL);
    TCFT_CHECK(tcf_phone_carrier("19212345678") == NULL);
    TCFT_CHECK(tcf_phone_carrier("1380013800") == NULL);
    TCFT_CHECK(tcf_phone_carrier("1380013800x") == NULL);
    TCFT_CHECK(tcf_phone_carrier("") == NULL);
    TCFT_CHECK(tcf_phone_carrier(NULL) == NULL);
}

/* ---- bank cards ---- */

TCFT_TEST(validate_bank_card)
{
    CHECK_OK(tcf_check_bank_card("6212261000000000017", &e_));
    CHECK_OK(tcf_check_bank_card("6228480000000000026", &e_));
    CHECK_OK(tcf_check_bank_card("6216610000000000032", &e_));
    CHECK_OK(tcf_check_bank_card("4111111111111111", &e_));
    CHECK_OK(tcf_check_bank_card("000000000000", &e_)); /* 12 digits */
    CHECK_BAD(tcf_check_bank_card("6212261000000000018", &e_), "6212261000000000018", "Luhn");
    CHECK_BAD(tcf_check_bank_card("4111111111111112", &e_), "4111111111111112", "Luhn");
    CHECK_BAD(tcf_check_bank_card(NULL, &e_), NULL, "NULL");
    CHECK_BAD(tcf_check_bank_card("", &e_), "", "12 to 19");
    CHECK_BAD(tcf_check_bank_card("00000000000", &e_), "00000000000", "12 to 19");
    CHECK_BAD(tcf_check_bank_card("00000000000000000000", &e_), "00000000000000000000", "12 to 19");
    CHECK_BAD(tcf_check_bank_card("6212 2610000000000", &e_), "6212 2610000000000", "digits");
    CHECK_BAD(tcf_check_bank_card("621226100000000001X", &e_), "621226100000000001X", "digits");
}

/* ---- redirect URLs ---- */

TCFT_TEST(validate_redirect_url)
{
    CHECK_OK(tcf_check_redirect_url("https://example.com/cb?a=1&b=2", &e_));
    CHECK_OK(tcf_check_redirect_url("http://example.com", &e_));
    CHECK_OK(tcf_check_redirect_url("HTTPS://Example.COM:8443/x#frag", &e_));
    CHECK_OK(tcf_check_redirect_url("HtTp://user:pw@host/", &e_));
    CHECK_OK(tcf_check_redirect_url("https://[::1]:8080/", &e_));
    CHECK_OK(tcf_check_redirect_url("https://例子.测试/回调", &e_));
    CHECK_BAD(tcf_check_redirect_url(NULL, &e_), NULL, "NULL");
    CHECK_BAD(tcf_check_redirect_url("", &e_), "", "empty");
    CHECK_BAD(tcf_check_redirect_url("example.com/cb", &e_), "example.com/cb", "http://");
    CHECK_BAD(tcf_check_redirect_url("ftp://example.com/", &e_), "ftp://example.com/", "http://");
    CHECK_BAD(tcf_check_redirect_url("https:/example.com", &e_), "https:/example.com", "http://");
    CHECK_BAD(tcf_check_redirect_url("javascript:alert(1)", &e_), "javascript:alert(1)", "http://");
    CHECK_BAD(tcf_check_redirect_url("https://", &e_), "https://", "empty host");
    CHECK_BAD(tcf_check_redirect_url("https:///path", &e_), "https:///path", "empty host");
    CHECK_BAD(tcf_check_redirect_url("https://:443/", &e_), "https://:443/", "empty host");
    CHECK_BAD(tcf_check_redirect_url("https://user@/", &e_), "https://user@/", "empty host");
    CHECK_BAD(tcf_check_redirect_url("https://?q", &e_), "https://?q", "empty host");
    CHECK_BAD(tcf_check_redirect_url("https://[]/", &e_), "https://[]/", "host");
    CHECK_BAD(tcf_check_redirect_url("https://[::1/", &e_), "https://[::1/", "host");
    CHECK_BAD(tcf_check_redirect_url("https://a.com/x y", &e_), "https://a.com/x y", "spaces");
    CHECK_BAD(tcf_check_redirect_url("https://a.com/\r\nX: y", &e_), "https://a.com/\r\nX: y",
              "control");
    CHECK_BAD(tcf_check_redirect_url("https://a.com/\t", &e_), "https://a.com/\t", "control");
    CHECK_BAD(tcf_check_redirect_url("https://a.com/\x7f", &e_), "https://a.com/\x7f", "control");
    CHECK_BAD(tcf_check_redirect_url("https://a.com/\xff", &e_), "https://a.com/\xff", "UTF-8");

    char url[1100] = "https://example.com/";
    size_t n = strlen(url);
    memset(url + n, 'a', 1024 - n);
    url[1024] = '\0';
    CHECK_OK(tcf_check_redirect_url(url, &e_));
    url[1024] = 'a';
    url[1025] = '\0';
    CHECK_BAD(tcf_check_redirect_url(url, &e_), url, "1024");
}

/* ---- validity dates ---- */

TCFT_TEST(validate_validity_date)
{
    CHECK_OK(tcf_check_validity_date("20350101", 0, &e_));
    CHECK_OK(tcf_check_validity_date("20240229", 0, &e_));
    CHECK_OK(tcf_check_validity_date("20001231", 1, &e_));
    CHECK_OK(tcf_check_validity_date("00000000", 1, &e_));
    CHECK_BAD(tcf_check_validity_date("00000000", 0, &e_), "00000000", "long term");
    CHECK_BAD(tcf_check_validity_date("20230229", 0, &e_), "20230229", "real date");
    CHECK_BAD(tcf_check_validity_date("21000229", 1, &e_), "21000229", "real date");
    CHECK_BAD(tcf_check_validity_date("20231301", 0, &e_), "20231301", "real date");
    CHECK_BAD(tcf_check_validity_date("20230100", 0, &e_), "20230100", "real date");
    CHECK_BAD(tcf_check_validity_date("20230631", 0, &e_), "20230631", "real date");
    CHECK_BAD(tcf_check_validity_date("18991231", 0, &e_), "18991231", "real date");
    CHECK_BAD(tcf_check_validity_date("2023-01-01", 0, &e_), "2023-01-01", "8 ASCII digits");
    CHECK_BAD(tcf_check_validity_date("2023011", 0, &e_), "2023011", "8 ASCII digits");
    CHECK_BAD(tcf_check_validity_date("", 1, &e_), "", "8 ASCII digits");
    CHECK_BAD(tcf_check_validity_date("长期", 1, &e_), "长期", "8 ASCII digits");
    CHECK_BAD(tcf_check_validity_date(NULL, 1, &e_), NULL, "NULL");
}
