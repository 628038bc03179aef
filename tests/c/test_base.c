/* The base layer: errors, strerror, the buffer, allocation failure. */
#include "internal.h"
#include "tcft.h"

#include <stdio.h>

TCFT_TEST(base_version)
{
    TCFT_CHECK_STR(tcf_version(), TCF_VERSION_STRING);
}

TCFT_TEST(base_strerror_every_code)
{
    for (int code = 0; code >= TCF_ECANCELLED; code--) {
        const char *s = tcf_strerror(code);
        TCFT_CHECK(s != NULL && strcmp(s, "unknown error") != 0);
    }
    TCFT_CHECK_STR(tcf_strerror(TCF_ECANCELLED - 1), "unknown error");
    TCFT_CHECK_STR(tcf_strerror(1), "unknown error");
}

TCFT_TEST(base_first_error_wins)
{
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcfp_fail(&err, TCF_EINVAL, "first %d", 1) == TCF_EINVAL);
    TCFT_CHECK(tcfp_fail(&err, TCF_ENOMEM, "second") == TCF_ENOMEM);
    TCFT_CHECK(err.code == TCF_EINVAL);
    TCFT_CHECK_STR(err.message, "first 1");
    TCFT_CHECK(tcfp_fail(NULL, TCF_EJSON, "ignored") == TCF_EJSON);
}

TCFT_TEST(base_message_truncated_on_utf8_boundary)
{
    tcf_error err;
    tcf_error_clear(&err);
    char long_text[400];
    /* "张" is 3 bytes: 133 of them are 399 bytes, over the 255 a message holds */
    for (int i = 0; i < 133; i++)
        memcpy(long_text + 3 * i, "\xe5\xbc\xa0", 3);
    long_text[399] = '\0';
    tcfp_fail(&err, TCF_EINVAL, "%s", long_text);
    size_t n = strlen(err.message);
    TCFT_CHECK(n <= TCF_ERROR_MESSAGE_MAX - 1 && n % 3 == 0 && n > 0);
}

TCFT_TEST(base_buffer_grows_and_is_terminated)
{
    tcfp_buf b;
    tcfp_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        TCFT_CHECK(tcfp_buf_printf(&b, "%d,", i) == 0);
    TCFT_CHECK(b.len > 3000 && b.data[b.len] == 0);
    TCFT_CHECK(tcfp_buf_append(&b, "\0x", 2) == 0 && b.data[b.len - 2] == 0);
    size_t len = 0;
    char *s = tcfp_buf_steal(&b, &len);
    TCFT_CHECK(s != NULL && len > 3000 && b.data == NULL);
    tcfp_free(s);
    tcfp_buf_free(&b);
}

TCFT_TEST(base_hex_and_secret_check)
{
    char out[9];
    tcfp_hex(out, (const unsigned char *)"\x00\x01\xab\xff", 4);
    TCFT_CHECK_STR(out, "0001abff");
    TCFT_CHECK(tcfp_check_secret("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE") == 0);
    TCFT_CHECK(tcfp_check_secret("") != 0);
    TCFT_CHECK(tcfp_check_secret(" key") != 0);
    TCFT_CHECK(tcfp_check_secret("key\n") != 0);
    TCFT_CHECK(tcfp_check_secret("k\x7f") != 0);
    TCFT_CHECK(tcfp_check_secret(NULL) != 0);
}

#ifdef TCF_ALLOC_FAILURE_INJECTION
TCFT_TEST(base_buffer_allocation_failure)
{
    tcfp_buf b;
    tcfp_buf_init(&b);
    tcfp_fail_allocations_after(1);
    TCFT_CHECK(tcfp_buf_append_str(&b, "x") == TCF_ENOMEM);
    tcfp_fail_allocations_after(0);
    TCFT_CHECK(tcfp_buf_append_str(&b, "y") == TCF_ENOMEM); /* a failed buffer stays failed */
    TCFT_CHECK(tcfp_buf_steal(&b, NULL) == NULL);
    tcfp_buf_free(&b);
}
#endif
