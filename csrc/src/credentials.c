/* Credentials: static, environment, the tccli profile file, a chain of those, and a
 * caller's callback for rotating credentials. Secrets are wiped before they are freed. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { STATIC, CALLBACK };

struct tcf_credentials {
    enum kind kind;
    char *secret_id;
    char *secret_key;
    char *token; /* NULL: long-term key */
    char source[300];
    tcf_credentials_fn fn;
    void *user;
};

static int check_triple(const char *id, const char *key, const char *token, tcf_error *err)
{
    if (tcfp_check_secret(id) != 0)
        return tcfp_fail(err, TCF_EINVAL,
                         "secret_id is empty or contains whitespace or control characters");
    if (tcfp_check_secret(key) != 0)
        return tcfp_fail(err, TCF_EINVAL,
                         "secret_key is empty or contains whitespace or control characters");
    if (token != NULL && *token != '\0' && tcfp_check_secret(token) != 0)
        return tcfp_fail(err, TCF_EINVAL, "token contains whitespace or control characters");
    return 0;
}

static int make_static(tcf_credentials **out, const char *id, const char *key, const char *token,
                       const char *source, tcf_error *err)
{
    *out = NULL;
    int rc = check_triple(id, key, token, err);
    if (rc != 0)
        return rc;
    tcf_credentials *c = tcfp_calloc(1, sizeof *c);
    if (c == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    c->kind = STATIC;
    c->secret_id = tcfp_strdup(id);
    c->secret_key = tcfp_strdup(key);
    c->token = (token && *token) ? tcfp_strdup(token) : NULL;
    if (c->secret_id == NULL || c->secret_key == NULL || (token && *token && c->token == NULL)) {
        tcf_credentials_free(c);
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    }
    tcfp_copy_field(c->source, sizeof c->source, source, strlen(source));
    *out = c;
    return 0;
}

int tcf_credentials_new_static(tcf_credentials **out, const char *secret_id, const char *secret_key,
                               const char *token, tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    return make_static(out, secret_id, secret_key, token, "static", err);
}

int tcf_credentials_new_env(tcf_credentials **out, tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    *out = NULL;
    const char *id = getenv("TENCENTCLOUD_SECRET_ID");
    const char *key = getenv("TENCENTCLOUD_SECRET_KEY");
    if (id == NULL || *id == '\0' || key == NULL || *key == '\0')
        return tcfp_fail(err, TCF_ENOCRED,
                         "TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY are not both set");
    return make_static(out, id, key, getenv("TENCENTCLOUD_SESSION_TOKEN"), "environment", err);
}

/* ---- the profile file: INI, [section] and key = value lines, # and ; comments ---- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static int profile_path(char *path, size_t cap, const char *given)
{
    const char *env = getenv("TENCENTCLOUD_CREDENTIALS_FILE");
    const char *home = getenv("HOME");
    int n;
    if (given != NULL)
        n = snprintf(path, cap, "%s", given);
    else if (env != NULL && *env != '\0')
        n = snprintf(path, cap, "%s", env);
    else if (home != NULL && *home != '\0') {
        n = snprintf(path, cap, "%s/.tencentcloud/credentials", home);
        FILE *f = (n > 0 && (size_t)n < cap) ? fopen(path, "r") : NULL;
        if (f != NULL) {
            fclose(f);
            return 0;
        }
        n = snprintf(path, cap, "/etc/tencentcloud/credentials");
    } else
        n = snprintf(path, cap, "/etc/tencentcloud/credentials");
    return (n > 0 && (size_t)n < cap) ? 0 : -1;
}

int tcf_credentials_new_profile(tcf_credentials **out, const char *path_or_null,
                                const char *profile_or_null, tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    *out = NULL;
    const char *profile = profile_or_null ? profile_or_null : "default";
    char path[256];
    if (profile_path(path, sizeof path, path_or_null) != 0)
        return tcfp_fail(err, TCF_EINVAL, "the credentials file path is too long");
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return tcfp_fail(err, TCF_ENOCRED, "cannot read the credentials file %s: %s", path,
                         strerror(errno));
    char line[1024];
    char *id = NULL, *key = NULL, *token = NULL;
    int in_section = 0, found_section = 0, rc = 0, lineno = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            rc = tcfp_fail(err, TCF_EINVAL, "%s:%d: line too long", path, lineno);
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *end = strchr(s, ']');
            if (end == NULL) {
                rc = tcfp_fail(err, TCF_EINVAL, "%s:%d: malformed section header", path, lineno);
                break;
            }
            *end = '\0';
            in_section = strcmp(trim(s + 1), profile) == 0;
            found_section |= in_section;
            continue;
        }
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            rc = tcfp_fail(err, TCF_EINVAL, "%s:%d: expected key = value", path, lineno);
            break;
        }
        if (!in_section)
            continue;
        *eq = '\0';
        char *name = trim(s), *value = trim(eq + 1);
        char **slot = strcmp(name, "secret_id") == 0    ? &id
                      : strcmp(name, "secret_key") == 0 ? &key
                      : strcmp(name, "token") == 0      ? &token
                                                        : NULL;
        if (slot == NULL)
            continue;
        tcfp_free_secret(*slot);
        *slot = tcfp_strdup(value);
        if (*slot == NULL)
            rc = tcfp_fail(err, TCF_ENOMEM, "out of memory");
    }
    tcfp_wipe(line, sizeof line);
    fclose(f);
    if (rc == 0 && !found_section)
        rc = tcfp_fail(err, TCF_ENOCRED, "%s has no [%s] section", path, profile);
    else if (rc == 0 && (id == NULL || key == NULL))
        rc = tcfp_fail(err, TCF_ENOCRED, "%s [%s] lacks secret_id or secret_key", path, profile);
    if (rc == 0) {
        char source[300];
        snprintf(source, sizeof source, "profile %s [%s]", path, profile);
        rc = make_static(out, id, key, token, source, err);
    }
    tcfp_free_secret(id);
    tcfp_free_secret(key);
    tcfp_free_secret(token);
    return rc;
}

int tcf_credentials_new_chain(tcf_credentials **out, tcf_error *err)
{
    if (out == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out is NULL");
    tcf_error local;
    tcf_error_clear(&local);
    int rc = tcf_credentials_new_env(out, &local);
    if (rc != TCF_ENOCRED) {
        if (rc != 0 && err != NULL && err->code == 0)
            *err = local;
        return rc;
    }
    tcf_error_clear(&local);
    rc = tcf_credentials_new_profile(out, NULL, NULL, &local);
    if (rc == TCF_ENOCRED)
        return tcfp_fail(err, TCF_ENOCRED,
                         "no credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, "
                         "or write ~/.tencentcloud/credentials");
    if (rc != 0 && err != NULL && err->code == 0)
        *err = local;
    return rc;
}

int tcf_credentials_new_callback(tcf_credentials **out, tcf_credentials_fn fn, void *user,
                                 tcf_error *err)
{
    if (out == NULL || fn == NULL)
        return tcfp_fail(err, TCF_EINVAL, "out and fn must not be NULL");
    *out = NULL;
    tcf_credentials *c = tcfp_calloc(1, sizeof *c);
    if (c == NULL)
        return tcfp_fail(err, TCF_ENOMEM, "out of memory");
    c->kind = CALLBACK;
    c->fn = fn;
    c->user = user;
    tcfp_copy_field(c->source, sizeof c->source, "callback", 8);
    *out = c;
    return 0;
}

const char *tcf_credentials_source(const tcf_credentials *c)
{
    return c ? c->source : "";
}

void tcf_credentials_free(tcf_credentials *c)
{
    if (c == NULL)
        return;
    tcfp_free_secret(c->secret_id);
    tcfp_free_secret(c->secret_key);
    tcfp_free_secret(c->token);
    tcfp_free(c);
}

int tcfp_credentials_get(const tcf_credentials *c, tcfp_secret_triple *t, tcf_error *err)
{
    memset(t, 0, sizeof *t);
    if (c == NULL)
        return tcfp_fail(err, TCF_ENOCRED, "no credentials");
    if (c->kind == STATIC) {
        tcfp_copy_field(t->secret_id, sizeof t->secret_id, c->secret_id, strlen(c->secret_id));
        tcfp_copy_field(t->secret_key, sizeof t->secret_key, c->secret_key, strlen(c->secret_key));
        if (c->token)
            tcfp_copy_field(t->token, sizeof t->token, c->token, strlen(c->token));
        return 0;
    }
    /* The callback fills the three fields at once, so they are always a consistent triple. */
    int rc = c->fn(c->user, t->secret_id, sizeof t->secret_id, t->secret_key, sizeof t->secret_key,
                   t->token, sizeof t->token);
    t->secret_id[sizeof t->secret_id - 1] = '\0';
    t->secret_key[sizeof t->secret_key - 1] = '\0';
    t->token[sizeof t->token - 1] = '\0';
    if (rc != 0) {
        tcfp_wipe(t, sizeof *t);
        return tcfp_fail(err, TCF_ENOCRED, "the credentials callback failed (%d)", rc);
    }
    rc = check_triple(t->secret_id, t->secret_key, t->token, err);
    if (rc != 0)
        tcfp_wipe(t, sizeof *t);
    return rc;
}

tcf_credentials *tcfp_credentials_copy(const tcf_credentials *c)
{
    tcf_credentials *d = tcfp_calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    *d = *c;
    d->secret_id = d->secret_key = d->token = NULL;
    if (c->kind == STATIC) {
        d->secret_id = tcfp_strdup(c->secret_id);
        d->secret_key = tcfp_strdup(c->secret_key);
        d->token = c->token ? tcfp_strdup(c->token) : NULL;
        if (d->secret_id == NULL || d->secret_key == NULL || (c->token && d->token == NULL)) {
            tcf_credentials_free(d);
            return NULL;
        }
    }
    return d;
}
