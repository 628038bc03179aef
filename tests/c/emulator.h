/* The emulator's control API for the C tests that talk to it (TCF_TEST_ENDPOINT, started by
 * tests/c/test_c_core.py). Static: each test file gets its own copy. */
#ifndef TCFT_EMULATOR_H
#define TCFT_EMULATOR_H

#include "internal.h"
#include "tcft.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

static inline size_t discard(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

static inline size_t collect(char *data, size_t size, size_t n, void *user)
{
    tcfp_buf_append(user, data, size * n);
    return size * n;
}

/* A control-API exchange with the emulator: POST json (or GET when NULL); the answer in *out. */
static inline int emulator_control(const char *what, const char *json, char **out)
{
    const char *endpoint = getenv("TCF_TEST_ENDPOINT");
    if (endpoint == NULL)
        return -1;
    char url[512];
    snprintf(url, sizeof url, "%s/_emulator/%s", endpoint, what);
    CURL *h = curl_easy_init();
    if (h == NULL)
        return -1;
    tcfp_buf buf;
    tcfp_buf_init(&buf);
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (json)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, out ? collect : discard);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    tcfp_buf_append_char(&buf, '\0');
    if (out)
        *out = tcfp_buf_steal(&buf, NULL);
    else
        tcfp_buf_free(&buf);
    return rc == CURLE_OK && status == 200 ? 0 : -1;
}

/* A client of the emulator (TCF_TEST_ENDPOINT) with key as its SecretKey: no proxy, no client-side
 * QPS limit, at most attempts attempts with a 5 ms backoff base. */
static inline tcf_client *emulator_client(const char *key, int attempts)
{
    const char *endpoint = getenv("TCF_TEST_ENDPOINT");
    if (endpoint == NULL || *endpoint == '\0') {
        tcft_fail(__FILE__, __LINE__, "TCF_TEST_ENDPOINT");
        return NULL;
    }
    tcf_credentials *creds = NULL;
    if (tcf_credentials_new_static(&creds, "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", key, NULL,
                                   NULL) != 0)
        return NULL;
    tcf_config_options config = TCF_CONFIG_OPTIONS_INIT;
    config.endpoint = endpoint;
    config.credentials = creds;
    tcf_client_options o = TCF_CLIENT_OPTIONS_INIT;
    o.proxy = "";
    tcf_retry_options retry = TCF_RETRY_OPTIONS_INIT;
    retry.max_attempts = attempts;
    retry.base_delay_ms = 5;
    o.retry = &retry;
    o.qps_off = 1;
    tcf_client *c = NULL;
    tcf_client_new(&c, &config, &o, NULL);
    tcf_credentials_free(creds);
    return c;
}

#endif
