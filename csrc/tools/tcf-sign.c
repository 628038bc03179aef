/* tcf-sign: compute a TC3-HMAC-SHA256 (or legacy v1) signature and every intermediate from one
 * JSON object on stdin, for debugging AuthFailure.SignatureFailure and checking vectors.
 * See docs/c-api.md, section "tcf-sign". */
#include "crypto.h"
#include "tcfaceid.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXIT_SIGN_ERROR 1 /* the input was JSON but could not be signed */
#define EXIT_BAD_INPUT 2  /* unreadable or invalid JSON, or a bad command line */

static const char usage[] =
    "usage: tcf-sign [--compact] [--field NAME] < request.json\n"
    "\n"
    "Reads ONE JSON object on stdin and prints the signature and every intermediate as a JSON\n"
    "object (TC3: hashed_payload, canonical_request, string_to_sign, signature, authorization;\n"
    "v1: string_to_sign, signature). Unknown keys are ignored, so a vector of\n"
    "shared/vectors/tc3.json can be piped in as it is.\n"
    "\n"
    "Input keys:\n"
    "  algorithm         \"TC3-HMAC-SHA256\" (default), \"HmacSHA1\" or \"HmacSHA256\" (v1)\n"
    "  secret_id, secret_key\n"
    "  service           credential-scope service, e.g. \"faceid\" (TC3)\n"
    "  host              the Host header value\n"
    "  method            \"POST\" or \"GET\"\n"
    "  path              default \"/\"\n"
    "  timestamp         X-TC-Timestamp, integer Unix seconds (TC3)\n"
    "  content_type      the Content-Type header value (TC3)\n"
    "  canonical_query   the exact query string after '?' (TC3; \"\" for POST)\n"
    "  unsigned_payload  true when X-TC-Content-SHA256: UNSIGNED-PAYLOAD is sent (TC3)\n"
    "  body_utf8         the exact body as text (encoded as UTF-8), or\n"
    "  body_base64       the exact body bytes in base64\n"
    "  signed_headers    optional, e.g. \"content-type;host;x-tc-action\": names signed besides\n"
    "                    content-type and host take their value from \"headers\" (an object\n"
    "                    name -> value) or, for x-tc-action/-region/-version/-language/-token/\n"
    "                    -timestamp, from action, region, version, language, token, timestamp\n"
    "  params_raw        v1: object of every parameter except Signature, raw values\n"
    "  token, region, action, version, language: accepted; not signed unless listed in\n"
    "                    signed_headers\n"
    "\n"
    "Options:\n"
    "  --compact         print the JSON on one line\n"
    "  --field NAME      print only the raw text of one output field (e.g. canonical_request)\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit status: 0 signed; 1 the input could not be signed (the output is\n"
    "{\"error\": {\"code\": ..., \"message\": ...}}); 2 unreadable or invalid JSON input, or a "
    "bad\n"
    "command line.\n";

static const char *code_name(int code)
{
    switch ((tcf_code)code) {
    case TCF_OK:
        return "TCF_OK";
    case TCF_EINVAL:
        return "TCF_EINVAL";
    case TCF_ENOMEM:
        return "TCF_ENOMEM";
    case TCF_EJSON:
        return "TCF_EJSON";
    case TCF_ETRANSPORT:
        return "TCF_ETRANSPORT";
    case TCF_ETIMEOUT:
        return "TCF_ETIMEOUT";
    case TCF_EHTTP:
        return "TCF_EHTTP";
    case TCF_EAPI:
        return "TCF_EAPI";
    case TCF_EAUTH:
        return "TCF_EAUTH";
    case TCF_ETHROTTLED:
        return "TCF_ETHROTTLED";
    case TCF_ETOKEN_EXPIRED:
        return "TCF_ETOKEN_EXPIRED";
    case TCF_ECRYPTO:
        return "TCF_ECRYPTO";
    case TCF_ESTATE:
        return "TCF_ESTATE";
    case TCF_ETLS:
        return "TCF_ETLS";
    case TCF_ENOCRED:
        return "TCF_ENOCRED";
    case TCF_EAMBIGUOUS:
        return "TCF_EAMBIGUOUS";
    case TCF_ERATE_LIMITED:
        return "TCF_ERATE_LIMITED";
    case TCF_ECANCELLED:
        return "TCF_ECANCELLED";
    }
    return "TCF_EUNKNOWN";
}

/* Prints {"error": {...}} on stdout and returns the exit status. */
static int print_error(int code, const char *message, int status)
{
    json_t *doc = json_pack("{s:{s:s,s:s}}", "error", "code", code_name(code), "message",
                            message ? message : tcf_strerror(code));
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        printf("%s\n", text);
    else
        printf("{\"error\": {\"code\": \"%s\", \"message\": \"out of memory\"}}\n",
               code_name(code));
    free(text);
    json_decref(doc);
    return status;
}

/* Everything read from the input; freed by input_free. */
typedef struct input {
    tcf_sign_input in;
    unsigned char *body;
    tcf_header *extra;
    size_t extra_count;
    char *signed_headers_copy;
    char timestamp_text[24];
    tcf_header *params;
    char **param_numbers; /* decimal text of integer parameter values */
    size_t param_count;
} input;

static void input_free(input *x)
{
    free(x->body);
    free(x->extra);
    free(x->signed_headers_copy);
    for (size_t i = 0; i < x->param_count; i++)
        free(x->param_numbers ? x->param_numbers[i] : NULL);
    free(x->param_numbers);
    free(x->params);
}

/* A string field: absent or null -> *out = NULL. 0 or -1 with msg filled. */
static int get_string(json_t *obj, const char *key, const char **out, char *msg, size_t cap)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        snprintf(msg, cap, "\"%s\" must be a string", key);
        return -1;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(msg, cap, "\"%s\" contains a NUL character", key);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int get_body(json_t *obj, input *x, char *msg, size_t cap)
{
    json_t *utf8 = json_object_get(obj, "body_utf8"), *b64 = json_object_get(obj, "body_base64");
    if (utf8 && json_is_null(utf8))
        utf8 = NULL;
    if (b64 && json_is_null(b64))
        b64 = NULL;
    if (utf8 && b64) {
        snprintf(msg, cap, "give either \"body_utf8\" or \"body_base64\", not both");
        return -1;
    }
    if (utf8) {
        if (!json_is_string(utf8)) {
            snprintf(msg, cap, "\"body_utf8\" must be a string");
            return -1;
        }
        x->in.body = (const unsigned char *)json_string_value(utf8);
        x->in.body_len = json_string_length(utf8);
    } else if (b64) {
        if (!json_is_string(b64)) {
            snprintf(msg, cap, "\"body_base64\" must be a string");
            return -1;
        }
        size_t n = json_string_length(b64);
        x->body = malloc(n / 4 * 3 + 1);
        if (x->body == NULL) {
            snprintf(msg, cap, "out of memory");
            return -1;
        }
        if (tcfp_base64_decode(x->body, &x->in.body_len, json_string_value(b64), n) != 0) {
            snprintf(msg, cap, "\"body_base64\" is not valid base64 (RFC 4648, padded)");
            return -1;
        }
        x->in.body = x->body;
    }
    return 0;
}

/* The value of a signed header other than content-type and host. */
static const char *header_value(json_t *obj, input *x, const char *name)
{
    json_t *headers = json_object_get(obj, "headers");
    if (json_is_object(headers)) {
        const char *key;
        json_t *v;
        json_object_foreach(headers, key, v)
        {
            if (strcasecmp(key, name) == 0 && json_is_string(v) &&
                strlen(json_string_value(v)) == json_string_length(v))
                return json_string_value(v);
        }
    }
    static const char *const mapped[][2] = {
        {"x-tc-action", "action"},     {"x-tc-region", "region"}, {"x-tc-version", "version"},
        {"x-tc-language", "language"}, {"x-tc-token", "token"},
    };
    for (size_t i = 0; i < sizeof mapped / sizeof mapped[0]; i++) {
        json_t *v = json_object_get(obj, mapped[i][1]);
        if (strcasecmp(name, mapped[i][0]) == 0 && json_is_string(v) &&
            strlen(json_string_value(v)) == json_string_length(v))
            return json_string_value(v);
    }
    if (strcasecmp(name, "x-tc-timestamp") == 0 &&
        json_is_integer(json_object_get(obj, "timestamp")))
        return x->timestamp_text;
    return NULL;
}

typedef struct header_source {
    json_t *obj;
    input *x;
} header_source;

static const char *value_of(void *user, const char *name)
{
    header_source *src = user;
    return header_value(src->obj, src->x, name);
}

static int get_signed_headers(json_t *obj, input *x, char *msg, size_t cap)
{
    const char *list;
    if (get_string(obj, "signed_headers", &list, msg, cap) != 0)
        return -1;
    if (list == NULL)
        return 0;
    x->signed_headers_copy = strdup(list);
    x->extra = calloc(strlen(list) / 2 + 1, sizeof *x->extra);
    if (x->signed_headers_copy == NULL || x->extra == NULL) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    header_source src = {obj, x};
    tcf_error err;
    tcf_error_clear(&err);
    if (tcf_sign_split_signed_headers(x->extra, &x->extra_count, x->signed_headers_copy, value_of,
                                      &src, &err) != 0) {
        snprintf(msg, cap, "%s", err.message);
        return -1;
    }
    x->in.extra_signed_headers = x->extra;
    x->in.extra_signed_header_count = x->extra_count;
    return 0;
}

static int get_params(json_t *obj, input *x, char *msg, size_t cap)
{
    json_t *params = json_object_get(obj, "params_raw");
    if (params == NULL || json_is_null(params))
        return 0;
    if (!json_is_object(params)) {
        snprintf(msg, cap, "\"params_raw\" must be an object");
        return -1;
    }
    size_t n = json_object_size(params);
    x->params = calloc(n + 1, sizeof *x->params);
    x->param_numbers = calloc(n + 1, sizeof *x->param_numbers);
    if (x->params == NULL || x->param_numbers == NULL) {
        snprintf(msg, cap, "out of memory");
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(params, key, v)
    {
        const char *value = NULL;
        if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v)) {
            value = json_string_value(v);
        } else if (json_is_integer(v)) {
            char text[24];
            snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            value = x->param_numbers[x->param_count] = strdup(text);
            if (value == NULL) {
                snprintf(msg, cap, "out of memory");
                return -1;
            }
        } else {
            snprintf(msg, cap,
                     "\"params_raw\".\"%.64s\" must be a string (without NUL) or an integer", key);
            return -1;
        }
        x->params[x->param_count].name = key;
        x->params[x->param_count].value = value;
        x->param_count++;
    }
    x->in.params = x->params;
    x->in.param_count = x->param_count;
    return 0;
}

static int read_input(json_t *obj, input *x, char *msg, size_t cap)
{
    static const struct {
        const char *key;
        size_t offset;
    } strings[] = {
        {"algorithm", offsetof(tcf_sign_input, algorithm)},
        {"secret_id", offsetof(tcf_sign_input, secret_id)},
        {"secret_key", offsetof(tcf_sign_input, secret_key)},
        {"service", offsetof(tcf_sign_input, service)},
        {"host", offsetof(tcf_sign_input, host)},
        {"method", offsetof(tcf_sign_input, method)},
        {"path", offsetof(tcf_sign_input, path)},
        {"content_type", offsetof(tcf_sign_input, content_type)},
        {"canonical_query", offsetof(tcf_sign_input, canonical_query)},
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        const char **field = (const char **)((char *)&x->in + strings[i].offset);
        if (get_string(obj, strings[i].key, field, msg, cap) != 0)
            return -1;
    }
    json_t *ts = json_object_get(obj, "timestamp");
    if (ts != NULL && !json_is_null(ts)) {
        if (!json_is_integer(ts)) {
            snprintf(msg, cap, "\"timestamp\" must be an integer (Unix seconds)");
            return -1;
        }
        x->in.timestamp = json_integer_value(ts);
        snprintf(x->timestamp_text, sizeof x->timestamp_text, "%lld", x->in.timestamp);
    } else if (x->in.algorithm == NULL || strcmp(x->in.algorithm, "TC3-HMAC-SHA256") == 0) {
        snprintf(msg, cap, "\"timestamp\" is missing");
        return -1;
    }
    json_t *unsigned_payload = json_object_get(obj, "unsigned_payload");
    if (unsigned_payload != NULL && !json_is_null(unsigned_payload)) {
        if (!json_is_boolean(unsigned_payload)) {
            snprintf(msg, cap, "\"unsigned_payload\" must be true or false");
            return -1;
        }
        x->in.unsigned_payload = json_is_true(unsigned_payload);
    }
    if (get_body(obj, x, msg, cap) != 0 || get_signed_headers(obj, x, msg, cap) != 0 ||
        get_params(obj, x, msg, cap) != 0)
        return -1;
    return 0;
}

static int print_result(const tcf_signature *sig, int compact, const char *only)
{
    static const char *const fields[] = {"hashed_payload", "canonical_request", "string_to_sign",
                                         "signature", "authorization"};
    if (only != NULL) {
        const char *value = tcf_signature_get(sig, only);
        if (value == NULL)
            return print_error(TCF_EINVAL, "--field: no such field for this algorithm",
                               EXIT_SIGN_ERROR);
        printf("%s\n", value);
        return 0;
    }
    json_t *doc = json_object();
    for (size_t i = 0; doc && i < sizeof fields / sizeof fields[0]; i++) {
        const char *value = tcf_signature_get(sig, fields[i]);
        if (value && json_object_set_new(doc, fields[i], json_stringn(value, strlen(value))) != 0) {
            json_decref(doc);
            doc = NULL;
        }
    }
    char *text =
        doc ? json_dumps(doc, (compact ? JSON_COMPACT : JSON_INDENT(2)) | JSON_PRESERVE_ORDER)
            : NULL;
    json_decref(doc);
    if (text == NULL)
        return print_error(TCF_ENOMEM, NULL, EXIT_SIGN_ERROR);
    printf("%s\n", text);
    free(text);
    return 0;
}

int main(int argc, char **argv)
{
    int compact = 0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(argv[i], "--compact") == 0) {
            compact = 1;
        } else if (strcmp(argv[i], "--field") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else {
            fprintf(stderr, "tcf-sign: unknown argument \"%s\"\n\n%s", argv[i], usage);
            return EXIT_BAD_INPUT;
        }
    }

    json_error_t jerr;
    json_t *obj = json_loadf(stdin, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
    if (obj == NULL) {
        char msg[320];
        snprintf(msg, sizeof msg, "the input is not valid JSON: %s (line %d, column %d)", jerr.text,
                 jerr.line, jerr.column);
        return print_error(TCF_EJSON, msg, EXIT_BAD_INPUT);
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        return print_error(TCF_EJSON, "the input must be one JSON object", EXIT_BAD_INPUT);
    }

    input x;
    memset(&x, 0, sizeof x);
    tcf_sign_input init = TCF_SIGN_INPUT_INIT;
    x.in = init;
    char msg[256] = "";
    int status;
    if (read_input(obj, &x, msg, sizeof msg) != 0) {
        status = print_error(TCF_EINVAL, msg, EXIT_SIGN_ERROR);
    } else {
        tcf_error err;
        tcf_error_clear(&err);
        tcf_signature *sig = NULL;
        if (tcf_sign(&sig, &x.in, &err) != 0)
            status = print_error(err.code, err.message, EXIT_SIGN_ERROR);
        else
            status = print_result(sig, compact, only);
        tcf_signature_free(sig);
    }
    input_free(&x);
    json_decref(obj);
    return status;
}
