/* tcf-call: call any FaceID action from the command line.
 *   tcf-call [--endpoint URL] [--region R] [--language zh-CN|en-US] [--timeout MS]
 *            [--proxy URL] [--ca-bundle FILE] [--insecure] [--verbose] ACTION [JSON|@FILE|-]
 * Credentials come from the environment or the tccli profile file (tcf_credentials_new_chain).
 * Prints the Response object (without RequestId) on stdout; on failure the error on stderr. */
#include "tcfaceid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT (16 * 1024 * 1024)

static void usage(FILE *f)
{
    fputs("usage: tcf-call [--endpoint URL] [--region R] [--language zh-CN|en-US] [--timeout MS]\n"
          "                [--proxy URL] [--ca-bundle FILE] [--insecure] [--verbose]\n"
          "                ACTION [JSON | @FILE | -]\n"
          "Credentials: TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY (/ "
          "TENCENTCLOUD_SESSION_TOKEN),\n"
          "or ~/.tencentcloud/credentials ([default] secret_id, secret_key).\n"
          "Exit status: 0 success, 1 the service answered an error, 2 usage, 3 local or transport "
          "failure.\n",
          f);
}

static char *read_stream(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        if (n == cap) {
            if (cap >= MAX_INPUT) {
                free(buf);
                return NULL;
            }
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    *len = n;
    return buf;
}

static void log_line(void *user, int level, const char *line)
{
    (void)user;
    fprintf(stderr, "tcf-call: [%d] %s\n", level, line);
}

int main(int argc, char **argv)
{
    tcf_config_options config = TCF_CONFIG_OPTIONS_INIT;
    tcf_client_options options = TCF_CLIENT_OPTIONS_INIT;
    const char *action = NULL, *params_arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--endpoint") == 0 && has_value)
            config.endpoint = argv[++i];
        else if (strcmp(a, "--region") == 0 && has_value)
            config.region = argv[++i];
        else if (strcmp(a, "--language") == 0 && has_value)
            config.language = argv[++i];
        else if (strcmp(a, "--timeout") == 0 && has_value)
            options.timeout_ms = atol(argv[++i]);
        else if (strcmp(a, "--proxy") == 0 && has_value)
            options.proxy = argv[++i];
        else if (strcmp(a, "--ca-bundle") == 0 && has_value)
            options.ca_bundle = argv[++i];
        else if (strcmp(a, "--insecure") == 0)
            options.insecure_skip_tls_verify = 1;
        else if (strcmp(a, "--verbose") == 0)
            options.log = log_line;
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "tcf-call: unknown option or missing value: %s\n", a);
            usage(stderr);
            return 2;
        } else if (action == NULL)
            action = a;
        else if (params_arg == NULL)
            params_arg = a;
        else {
            usage(stderr);
            return 2;
        }
    }
    if (action == NULL) {
        usage(stderr);
        return 2;
    }
    char *params = NULL;
    size_t params_len = 0;
    if (params_arg == NULL || strcmp(params_arg, "-") == 0) {
        params = params_arg ? read_stream(stdin, &params_len) : NULL;
        if (params_arg && params == NULL) {
            fprintf(stderr, "tcf-call: cannot read the parameters from stdin\n");
            return 3;
        }
    } else if (params_arg[0] == '@') {
        FILE *f = fopen(params_arg + 1, "rb");
        if (f == NULL) {
            fprintf(stderr, "tcf-call: cannot open %s\n", params_arg + 1);
            return 2;
        }
        params = read_stream(f, &params_len);
        fclose(f);
        if (params == NULL) {
            fprintf(stderr, "tcf-call: cannot read %s\n", params_arg + 1);
            return 3;
        }
    } else {
        params = strdup(params_arg);
        params_len = params ? strlen(params) : 0;
    }
    tcf_error err;
    tcf_error_clear(&err);
    tcf_credentials *creds = NULL;
    tcf_client *client = NULL;
    tcf_response *resp = NULL;
    int status = 3;
    if (tcf_credentials_new_chain(&creds, &err) != 0)
        goto fail;
    config.credentials = creds;
    if (tcf_client_new(&client, &config, &options, &err) != 0)
        goto fail;
    if (tcf_client_call(client, action, params, params_len, &resp, &err) != 0)
        goto fail;
    size_t len = 0;
    const char *json = tcf_response_json(resp, &len);
    fwrite(json, 1, len, stdout);
    fputc('\n', stdout);
    status = 0;
    goto out;
fail:
    fprintf(stderr, "tcf-call: %s%s%s: %s\n", tcf_strerror(err.code), err.api_code[0] ? " " : "",
            err.api_code, err.message);
    if (err.request_id[0])
        fprintf(stderr, "tcf-call: RequestId %s\n", err.request_id);
    status = (err.code == TCF_EAPI || err.code == TCF_EAUTH || err.code == TCF_ETHROTTLED ||
              err.code == TCF_ETOKEN_EXPIRED)
                 ? 1
             : err.code == TCF_EINVAL ? 2
                                      : 3;
out:
    tcf_response_free(resp);
    tcf_client_free(client);
    tcf_credentials_free(creds);
    free(params);
    return status;
}
