/* Credentials: static, environment, profile file, chain, callback. */
#include "internal.h"
#include "tcft.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE";
static const char *KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE";

static void clear_env(void)
{
    unsetenv("TENCENTCLOUD_SECRET_ID");
    unsetenv("TENCENTCLOUD_SECRET_KEY");
    unsetenv("TENCENTCLOUD_SESSION_TOKEN");
    unsetenv("TENCENTCLOUD_CREDENTIALS_FILE");
}

/* Writes text into a fresh temporary file; returns its path in buf. */
static int write_file(char *buf, size_t cap, const char *text)
{
    snprintf(buf, cap, "/tmp/tcft-cred-XXXXXX");
    int fd = mkstemp(buf);
    if (fd < 0)
        return -1;
    size_t n = strlen(text);
    int ok = write(fd, text, n) == (ssize_t)n;
    close(fd);
    return ok ? 0 : -1;
}

TCFT_TEST(credentials_static)
{
    tcf_credentials *c = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_credentials_new_static(&c, ID, KEY, NULL, &err) == 0);
    tcfp_secret_triple t;
    TCFT_CHECK(tcfp_credentials_get(c, &t, &err) == 0);
    TCFT_CHECK_STR(t.secret_id, ID);
    TCFT_CHECK_STR(t.secret_key, KEY);
    TCFT_CHECK_STR(t.token, "");
    TCFT_CHECK_STR(tcf_credentials_source(c), "static");
    tcf_credentials_free(c);
    tcf_credentials_free(NULL);
}

TCFT_TEST(credentials_reject_bad_secrets)
{
    const char *bad[][2] = {
        {"", KEY}, {ID, ""}, {" AKIDz8kr", KEY}, {ID, "Gu5t9xGA RNpq"}, {ID, "Gu5t\nxGA"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tcf_credentials *c = (tcf_credentials *)1;
        tcf_error err;
        tcf_error_clear(&err);
        TCFT_CHECK(tcf_credentials_new_static(&c, bad[i][0], bad[i][1], NULL, &err) == TCF_EINVAL);
        TCFT_CHECK(c == NULL);
        TCFT_CHECK(strstr(err.message, "Gu5t") == NULL && strstr(err.message, "AKIDz8") == NULL);
    }
    tcf_credentials *c = NULL;
    TCFT_CHECK(tcf_credentials_new_static(&c, ID, KEY, "tok en", NULL) == TCF_EINVAL);
}

TCFT_TEST(credentials_env)
{
    clear_env();
    tcf_credentials *c = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_credentials_new_env(&c, &err) == TCF_ENOCRED && c == NULL);
    setenv("TENCENTCLOUD_SECRET_ID", ID, 1);
    setenv("TENCENTCLOUD_SECRET_KEY", KEY, 1);
    setenv("TENCENTCLOUD_SESSION_TOKEN", "sts-token", 1);
    TCFT_CHECK(tcf_credentials_new_env(&c, NULL) == 0);
    tcfp_secret_triple t;
    TCFT_CHECK(tcfp_credentials_get(c, &t, NULL) == 0);
    TCFT_CHECK_STR(t.token, "sts-token");
    TCFT_CHECK_STR(tcf_credentials_source(c), "environment");
    tcf_credentials_free(c);
    clear_env();
}

TCFT_TEST(credentials_profile_file)
{
    clear_env();
    char path[64];
    TCFT_CHECK(write_file(path, sizeof path,
                          "# comment\n; another\n[other]\nsecret_id = AKIDother\nsecret_key = x\n"
                          "[default]\n  secret_id =  AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE  \r\n"
                          "secret_key=Gu5t9xGARNpq86cd98joQYCN3EXAMPLE\nrole_arn = ignored\n") ==
               0);
    tcf_credentials *c = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_credentials_new_profile(&c, path, NULL, &err) == 0);
    tcfp_secret_triple t;
    TCFT_CHECK(tcfp_credentials_get(c, &t, NULL) == 0);
    TCFT_CHECK_STR(t.secret_id, ID);
    TCFT_CHECK_STR(t.secret_key, KEY);
    tcf_credentials_free(c);
    TCFT_CHECK(tcf_credentials_new_profile(&c, path, "other", NULL) == 0);
    TCFT_CHECK(tcfp_credentials_get(c, &t, NULL) == 0);
    TCFT_CHECK_STR(t.secret_id, "AKIDother");
    tcf_credentials_free(c);
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_credentials_new_profile(&c, path, "missing", &err) == TCF_ENOCRED);
    TCFT_CHECK(strstr(err.message, "[missing]") != NULL);
    /* TENCENTCLOUD_CREDENTIALS_FILE names the file when no path is given */
    setenv("TENCENTCLOUD_CREDENTIALS_FILE", path, 1);
    TCFT_CHECK(tcf_credentials_new_profile(&c, NULL, NULL, NULL) == 0);
    tcf_credentials_free(c);
    clear_env();
    unlink(path);
}

TCFT_TEST(credentials_profile_errors)
{
    const char *bad[] = {"[default\nsecret_id=a\n", "[default]\nsecret_id\n",
                         "[default]\nsecret_id=AKID\n", "secret_id=a\nsecret_key=b\n",
                         "[default]\nsecret_id=AK ID\nsecret_key=k\n"};
    int expected[] = {TCF_EINVAL, TCF_EINVAL, TCF_ENOCRED, TCF_ENOCRED, TCF_EINVAL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[64];
        TCFT_CHECK(write_file(path, sizeof path, bad[i]) == 0);
        tcf_credentials *c = NULL;
        tcf_error err;
        tcf_error_clear(&err);
        int rc = tcf_credentials_new_profile(&c, path, NULL, &err);
        unlink(path);
        TCFT_CHECK(rc == expected[i] && c == NULL && err.code == rc);
    }
    tcf_credentials *c = NULL;
    TCFT_CHECK(tcf_credentials_new_profile(&c, "/nonexistent/tcfaceid", NULL, NULL) == TCF_ENOCRED);
}

TCFT_TEST(credentials_chain_order)
{
    clear_env();
    char path[64];
    TCFT_CHECK(write_file(path, sizeof path, "[default]\nsecret_id=AKIDfile\nsecret_key=kf\n") ==
               0);
    setenv("TENCENTCLOUD_CREDENTIALS_FILE", path, 1);
    tcf_credentials *c = NULL;
    TCFT_CHECK(tcf_credentials_new_chain(&c, NULL) == 0);
    tcfp_secret_triple t;
    TCFT_CHECK(tcfp_credentials_get(c, &t, NULL) == 0);
    TCFT_CHECK_STR(t.secret_id, "AKIDfile");
    tcf_credentials_free(c);
    setenv("TENCENTCLOUD_SECRET_ID", "AKIDenv", 1);
    setenv("TENCENTCLOUD_SECRET_KEY", "ke", 1);
    TCFT_CHECK(tcf_credentials_new_chain(&c, NULL) == 0);
    TCFT_CHECK(tcfp_credentials_get(c, &t, NULL) == 0);
    TCFT_CHECK_STR(t.secret_id, "AKIDenv");
    tcf_credentials_free(c);
    clear_env();
    unlink(path);
    const char *home = getenv("HOME");
    char *saved = home ? strdup(home) : NULL;
    setenv("HOME", "/nonexistent-home", 1);
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_credentials_new_chain(&c, &err);
    if (saved) {
        setenv("HOME", saved, 1);
        free(saved);
    } else
        unsetenv("HOME");
    /* /etc/tencentcloud/credentials may exist on a developer's machine */
    TCFT_CHECK(rc == TCF_ENOCRED || rc == 0);
    tcf_credentials_free(c);
}

static int rotating(void *user, char *id, size_t id_cap, char *key, size_t key_cap, char *token,
                    size_t token_cap)
{
    int *calls = user;
    (*calls)++;
    if (*calls == 3)
        return -5;
    snprintf(id, id_cap, "AKIDrot%d", *calls);
    snprintf(key, key_cap, "key%d", *calls);
    snprintf(token, token_cap, "tok%d", *calls);
    return 0;
}

TCFT_TEST(credentials_callback_rotates)
{
    int calls = 0;
    tcf_credentials *c = NULL;
    TCFT_CHECK(tcf_credentials_new_callback(&c, rotating, &calls, NULL) == 0);
    tcfp_secret_triple t;
    TCFT_CHECK(tcfp_credentials_get(c, &t, NULL) == 0);
    TCFT_CHECK_STR(t.secret_id, "AKIDrot1");
    TCFT_CHECK(tcfp_credentials_get(c, &t, NULL) == 0);
    TCFT_CHECK_STR(t.token, "tok2");
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcfp_credentials_get(c, &t, &err) == TCF_ENOCRED);
    TCFT_CHECK(t.secret_key[0] == '\0');
    tcf_credentials_free(c);
    TCFT_CHECK(tcf_credentials_new_callback(&c, NULL, NULL, NULL) == TCF_EINVAL);
}

#ifdef TCF_ALLOC_FAILURE_INJECTION
TCFT_TEST(credentials_allocation_failures)
{
    for (long n = 1; n < 50; n++) {
        tcf_credentials *c = NULL;
        tcfp_fail_allocations_after(n);
        int rc = tcf_credentials_new_static(&c, ID, KEY, "token", NULL);
        tcfp_fail_allocations_after(0);
        TCFT_CHECK(rc == 0 || rc == TCF_ENOMEM);
        TCFT_CHECK((rc == 0) == (c != NULL));
        tcf_credentials_free(c);
        if (rc == 0)
            break;
    }
}
#endif

static const char *header_of(const tcf_request *req, const char *name)
{
    for (size_t i = 0; i < tcf_request_header_count(req); i++)
        if (strcmp(tcf_request_header_name(req, i), name) == 0)
            return tcf_request_header_value(req, i);
    return NULL;
}

TCFT_TEST(credentials_provider_in_config_rotates_per_request)
{
    int calls = 0;
    tcf_credentials *creds = NULL;
    TCFT_CHECK(tcf_credentials_new_callback(&creds, rotating, &calls, NULL) == 0);
    tcf_config_options o = TCF_CONFIG_OPTIONS_INIT;
    o.credentials = creds;
    tcf_config *cfg = NULL;
    TCFT_CHECK(tcf_config_new(&cfg, &o, NULL) == 0);
    tcf_credentials_free(creds); /* the config keeps its own copy */
    tcf_request *req = NULL;
    TCFT_CHECK(tcf_build(&req, cfg, "GetLiveCode", "{}", 2, 1700000000, NULL) == 0);
    TCFT_CHECK(strstr(header_of(req, "Authorization"), "Credential=AKIDrot1/") != NULL);
    TCFT_CHECK_STR(header_of(req, "X-TC-Token"), "tok1");
    tcf_request_free(req);
    TCFT_CHECK(tcf_build(&req, cfg, "GetLiveCode", "{}", 2, 1700000000, NULL) == 0);
    TCFT_CHECK(strstr(header_of(req, "Authorization"), "Credential=AKIDrot2/") != NULL);
    tcf_request_free(req);
    tcf_error err;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_build(&req, cfg, "GetLiveCode", "{}", 2, 1700000000, &err) == TCF_ENOCRED);
    TCFT_CHECK(req == NULL);
    tcf_config_free(cfg);

    TCFT_CHECK(tcf_credentials_new_static(&creds, ID, KEY, NULL, NULL) == 0);
    o.credentials = creds;
    o.secret_id = ID;
    o.secret_key = KEY;
    TCFT_CHECK(tcf_config_new(&cfg, &o, NULL) == TCF_EINVAL && cfg == NULL);
    tcf_credentials_free(creds);
}
