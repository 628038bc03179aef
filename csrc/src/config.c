/* Configuration: endpoint, region, language, versions, RequestClient and static credentials,
 * validated once so that building a request cannot fail on them later. */
#include "crypto.h"
#include "sansio.h"

#include <string.h>

#define DEFAULT_SERVICE "faceid"
#define DEFAULT_API_VERSION "2018-03-01"
#define ROOT_DOMAIN "tencentcloudapi.com"
#define REQUEST_CLIENT_BASE "SDK_C_tcfaceid_"
#define REQUEST_CLIENT_MAX 128
#define NAME_MAX_LEN 64
#define HOST_MAX_LEN 253
#define CREDENTIAL_MAX_LEN 8192

static int is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* s[0..n) equals the lower-case ASCII word `want`, ignoring case. */
static int equal_ci(const char *s, size_t n, const char *want)
{
    if (strlen(want) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != want[i])
            return 0;
    return 1;
}

static int empty(const char *s)
{
    return s == NULL || *s == '\0';
}

/* A region: [a-z0-9-], starting and ending with a letter or digit, at most 64 bytes. */
static int valid_region(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return 0;
    return 1;
}

/* A service name: [a-z0-9], at most 64 bytes. */
static int valid_service(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum(s[i]))
            return 0;
    return 1;
}

/* An API version: YYYY-MM-DD. */
static int valid_api_version(const char *s)
{
    if (strlen(s) != 10)
        return 0;
    for (size_t i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-')
                return 0;
        } else if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* Credentials travel in headers: printable ASCII without spaces, bounded. */
static int valid_credential(const char *s)
{
    if (tcfp_check_secret(s) != 0 || strlen(s) > CREDENTIAL_MAX_LEN)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p > 0x7E)
            return 0;
    return 1;
}

static int valid_request_client_suffix(const char *s)
{
    for (; *s; s++)
        if (!is_alnum(*s) && strchr("-_,;.", *s) == NULL)
            return 0;
    return 1;
}

/* A DNS name ([A-Za-z0-9.-], no empty label, no label starting or ending with '-') or an IPv4
 * address; or, when bracketed, an IPv6 literal ([0-9A-Fa-f:.]). */
static int valid_host(const char *h, size_t n)
{
    if (n == 0 || n > HOST_MAX_LEN)
        return 0;
    if (h[0] == '[') {
        if (n < 3 || h[n - 1] != ']')
            return 0;
        for (size_t i = 1; i + 1 < n; i++) {
            char c = lower(h[i]);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == ':' || c == '.'))
                return 0;
        }
        return 1;
    }
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == '.') {
            if (label == 0 || h[i - 1] == '-')
                return 0;
            label = 0;
        } else if (is_alnum(c) || c == '-') {
            if (label == 0 && c == '-')
                return 0;
            label++;
        } else {
            return 0;
        }
    }
    return label > 0 && h[n - 1] != '-';
}

/* Split an endpoint into "<scheme>://<authority>/" and the authority (lower-cased). */
static int parse_endpoint(tcf_config *cfg, const char *endpoint, tcf_error *err)
{
    for (const unsigned char *p = (const unsigned char *)endpoint; *p; p++)
        if (*p <= 0x20 || *p >= 0x7F)
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_config_new: endpoint contains white space, control or non-ASCII "
                             "characters");
    const char *scheme = "https";
    const char *rest = endpoint;
    const char *sep = strstr(endpoint, "://");
    if (sep) {
        size_t n = (size_t)(sep - endpoint);
        if (equal_ci(endpoint, n, "https"))
            scheme = "https";
        else if (equal_ci(endpoint, n, "http"))
            scheme = "http";
        else
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_config_new: endpoint must start with https:// or http:// (or be "
                             "a bare host name)");
        rest = sep + 3;
    }
    size_t alen = strcspn(rest, "/?#");
    const char *after = rest + alen;
    if (!(after[0] == '\0' || (after[0] == '/' && after[1] == '\0')))
        return tcfp_fail(err, TCF_EINVAL,
                         "tcf_config_new: endpoint must not have a path, query or fragment "
                         "(the API path is always \"/\")");
    if (memchr(rest, '@', alen))
        return tcfp_fail(err, TCF_EINVAL, "tcf_config_new: endpoint must not contain user info");
    /* host and optional port */
    size_t hlen = alen;
    const char *port = NULL;
    if (rest[0] == '[') {
        const char *close = memchr(rest, ']', alen);
        if (close == NULL)
            return tcfp_fail(err, TCF_EINVAL, "tcf_config_new: endpoint has an unclosed '['");
        hlen = (size_t)(close - rest) + 1;
        if (hlen < alen) {
            if (rest[hlen] != ':')
                return tcfp_fail(err, TCF_EINVAL, "tcf_config_new: endpoint has a bad port");
            port = rest + hlen + 1;
        }
    } else {
        const char *colon = memchr(rest, ':', alen);
        if (colon) {
            hlen = (size_t)(colon - rest);
            port = colon + 1;
        }
    }
    if (!valid_host(rest, hlen))
        return tcfp_fail(err, TCF_EINVAL, "tcf_config_new: endpoint has an invalid host name");
    if (port) {
        size_t plen = (size_t)(rest + alen - port);
        long value = 0;
        if (plen == 0 || plen > 5)
            return tcfp_fail(err, TCF_EINVAL, "tcf_config_new: endpoint has a bad port");
        for (size_t i = 0; i < plen; i++) {
            if (port[i] < '0' || port[i] > '9')
                return tcfp_fail(err, TCF_EINVAL, "tcf_config_new: endpoint has a bad port");
            value = value * 10 + (port[i] - '0');
        }
        if (value < 1 || value > 65535)
            return tcfp_fail(err, TCF_EINVAL, "tcf_config_new: endpoint port out of range");
    }
    cfg->host = tcfp_strndup(rest, alen);
    if (cfg->host == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    for (size_t i = 0; i < hlen; i++)
        cfg->host[i] = lower(cfg->host[i]);
    tcfp_buf url;
    tcfp_buf_init(&url);
    tcfp_buf_printf(&url, "%s://%s/", scheme, cfg->host);
    cfg->url = tcfp_buf_steal(&url, NULL);
    if (cfg->url == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    return 0;
}

static int copy_opt(char **dst, const char *src, tcf_error *err)
{
    if (src == NULL)
        return 0;
    *dst = tcfp_strdup(src);
    return *dst ? 0 : tcfp_fail(err, TCF_ENOMEM, "out of memory");
}

void tcf_config_free(tcf_config *cfg)
{
    if (cfg == NULL)
        return;
    tcfp_free(cfg->url);
    tcfp_free(cfg->host);
    tcfp_free(cfg->service);
    tcfp_free(cfg->api_version);
    tcfp_free(cfg->region);
    tcfp_free(cfg->language);
    tcfp_free(cfg->request_client);
    tcfp_free_secret(cfg->secret_id);
    tcfp_free_secret(cfg->secret_key);
    tcfp_free_secret(cfg->token);
    tcf_credentials_free(cfg->credentials);
    if (cfg->key_cache) {
        tcfp_sign_key_cache_destroy(cfg->key_cache);
        tcfp_wipe(cfg->key_cache, sizeof *cfg->key_cache);
        tcfp_free(cfg->key_cache);
    }
    tcfp_wipe(cfg, sizeof *cfg);
    tcfp_free(cfg);
}

static int validate(const tcf_config_options *o, tcf_error *err)
{
    if (o->version == 0 || o->version > TCF_CONFIG_OPTIONS_VERSION)
        return tcfp_fail(err, TCF_EINVAL,
                         "tcf_config_new: options.version must be TCF_CONFIG_OPTIONS_VERSION "
                         "(use TCF_CONFIG_OPTIONS_INIT)");
    if (o->service && !valid_service(o->service))
        return tcfp_fail(err, TCF_EINVAL,
                         "tcf_config_new: service must be 1-64 lower-case letters or digits");
    if (o->api_version && !valid_api_version(o->api_version))
        return tcfp_fail(err, TCF_EINVAL, "tcf_config_new: api_version must look like 2018-03-01");
    if (!empty(o->region) && !valid_region(o->region))
        return tcfp_fail(err, TCF_EINVAL,
                         "tcf_config_new: region must be 1-64 of [a-z0-9-], e.g. ap-guangzhou");
    if (!empty(o->language) && strcmp(o->language, "zh-CN") != 0 &&
        strcmp(o->language, "en-US") != 0)
        return tcfp_fail(err, TCF_EINVAL, "tcf_config_new: language must be zh-CN or en-US");
    if (!empty(o->request_client)) {
        if (!valid_request_client_suffix(o->request_client))
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_config_new: request_client may only contain [0-9a-zA-Z-_,;.]");
        if (strlen(REQUEST_CLIENT_BASE TCF_VERSION_STRING "; ") + strlen(o->request_client) >
            REQUEST_CLIENT_MAX)
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_config_new: request_client is too long (X-TC-RequestClient is "
                             "limited to %d bytes)",
                             REQUEST_CLIENT_MAX);
    }
    if (o->secret_id == NULL && o->secret_key == NULL) {
        if (!empty(o->token))
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_config_new: token given without secret_id and secret_key");
    } else {
        if (o->secret_id == NULL || !valid_credential(o->secret_id))
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_config_new: secret_id is missing, empty, too long or contains "
                             "white space, control or non-ASCII characters");
        if (o->secret_key == NULL || !valid_credential(o->secret_key))
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_config_new: secret_key is missing, empty, too long or contains "
                             "white space, control or non-ASCII characters");
        if (!empty(o->token) && !valid_credential(o->token))
            return tcfp_fail(err, TCF_EINVAL,
                             "tcf_config_new: token is too long or contains white space, control "
                             "or non-ASCII characters");
    }
    if (o->credentials && (o->secret_id || o->secret_key || !empty(o->token)))
        return tcfp_fail(err, TCF_EINVAL,
                         "tcf_config_new: give either credentials or secret_id/secret_key/token");
    if (o->endpoint && o->endpoint[0] == '\0')
        return tcfp_fail(err, TCF_EINVAL, "tcf_config_new: endpoint is empty (use NULL)");
    return 0;
}

int tcf_config_new(tcf_config **out, const tcf_config_options *opts, tcf_error *err)
{
    static const tcf_config_options defaults = TCF_CONFIG_OPTIONS_INIT;
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "tcf_config_new: out is NULL");
    *out = NULL;
    const tcf_config_options *o = opts ? opts : &defaults;
    int rc = validate(o, err);
    if (rc != 0)
        return rc;
    tcfp_json_init();

    tcf_config *cfg = tcfp_calloc(1, sizeof *cfg);
    if (cfg == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    const char *service = o->service ? o->service : DEFAULT_SERVICE;
    if ((rc = copy_opt(&cfg->service, service, err)) != 0 ||
        (rc = copy_opt(&cfg->api_version, o->api_version ? o->api_version : DEFAULT_API_VERSION,
                       err)) != 0 ||
        (rc = copy_opt(&cfg->region, empty(o->region) ? NULL : o->region, err)) != 0 ||
        (rc = copy_opt(&cfg->language, empty(o->language) ? NULL : o->language, err)) != 0)
        goto fail;

    tcfp_buf b;
    tcfp_buf_init(&b);
    tcfp_buf_append_str(&b, REQUEST_CLIENT_BASE);
    tcfp_buf_append_str(&b, tcf_version());
    if (!empty(o->request_client)) {
        tcfp_buf_append_str(&b, "; ");
        tcfp_buf_append_str(&b, o->request_client);
    }
    cfg->request_client = tcfp_buf_steal(&b, NULL);
    if (cfg->request_client == NULL) {
        rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
        goto fail;
    }

    if (o->endpoint) {
        rc = parse_endpoint(cfg, o->endpoint, err);
    } else {
        tcfp_buf_init(&b);
        if (cfg->region)
            tcfp_buf_printf(&b, "%s.%s.%s", service, cfg->region, ROOT_DOMAIN);
        else
            tcfp_buf_printf(&b, "%s.%s", service, ROOT_DOMAIN);
        char *host = tcfp_buf_steal(&b, NULL);
        if (host == NULL) {
            rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
            goto fail;
        }
        rc = parse_endpoint(cfg, host, err);
        tcfp_free(host);
    }
    if (rc != 0)
        goto fail;

    if (o->secret_id) {
        if ((rc = copy_opt(&cfg->secret_id, o->secret_id, err)) != 0 ||
            (rc = copy_opt(&cfg->secret_key, o->secret_key, err)) != 0 ||
            (rc = copy_opt(&cfg->token, empty(o->token) ? NULL : o->token, err)) != 0)
            goto fail;
    }
    if (o->credentials && (cfg->credentials = tcfp_credentials_copy(o->credentials)) == NULL) {
        rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
        goto fail;
    }
    cfg->key_cache = tcfp_calloc(1, sizeof *cfg->key_cache);
    if (cfg->key_cache == NULL || tcfp_sign_key_cache_init(cfg->key_cache) != 0) {
        tcfp_free(cfg->key_cache);
        cfg->key_cache = NULL;
        rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
        goto fail;
    }
    *out = cfg;
    return 0;
fail:
    tcf_config_free(cfg);
    return rc;
}
