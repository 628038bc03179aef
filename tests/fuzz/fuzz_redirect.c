/* tcf_parse_redirect on a fuzzed RedirectUrl landing (URL, path with query, bare query).
 *
 * Invariants: success gives a 1-128 byte token of A-Z a-z 0-9 . _ ~ - that parses back from
 * "?token=<t>", "https://h/cb?a=1&token=<t>#f" and "token=<t>"; failure is TCF_EINVAL with
 * *token_out NULL. */
#include "fuzz_common.h"

static int token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '~' || c == '-';
}

static void round_trip(const char *pre, const char *token, const char *post)
{
    size_t n = strlen(pre) + strlen(token) + strlen(post) + 1;
    char *url = malloc(n);
    if (url == NULL)
        abort();
    snprintf(url, n, "%s%s%s", pre, token, post);
    char *again = NULL;
    tcf_error err = {0};
    int rc = tcf_parse_redirect(&again, url, &err);
    FUZZ_CHECK(rc == 0 && strcmp(again, token) == 0, "\"%s\" does not give the token back: %s", url,
               err.message);
    tcf_string_free(again);
    free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_cstr(data, size);
    char *token = (char *)1;
    tcf_error err = {0};
    int rc = tcf_parse_redirect(&token, url, &err);
    if (rc != 0) {
        fuzz_check_error(&err, rc);
        FUZZ_CHECK(rc == TCF_EINVAL || rc == TCF_ENOMEM, "code %d", rc);
        FUZZ_CHECK(token == NULL, "*token_out set on failure");
    } else {
        size_t n = strlen(token);
        FUZZ_CHECK(n >= 1 && n <= 128, "token of %zu bytes", n);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(token_char(token[i]), "token character 0x%02x", (unsigned char)token[i]);
        round_trip("?token=", token, "");
        round_trip("https://h.example/cb?a=1&token=", token, "#token=x");
        round_trip("token=", token, "&b=2");
        tcf_string_free(token);
    }
    free(url);
    return 0;
}
