/* tcfaceid._core: the CPython binding of the C core (csrc/, docs/c-api.md).
 *
 * Rules (shared/DESIGN.md §4): multi-phase initialisation; the Client type and the exception
 * classes live in module state (no static PyObject globals); the C core allocates with malloc
 * only and runs with the GIL released around every network call and every sign/build/parse of a
 * large input; bytes-like inputs go through the buffer protocol without copies.
 *
 * Client.close() and concurrent calls: every call()/prepare() registers itself as a reader
 * (in_flight, under a pthread mutex) after checking that the client is open. close() marks the
 * client closed -- later calls raise StateError -- then WAITS, with the GIL released, until the
 * calls in flight have finished, and frees the native client. The one exception is close()
 * called from inside a call on the same thread (from the log callback): waiting would deadlock,
 * so the client is marked closed and the last call in flight frees it when it returns. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include "tcfaceid.h"
#ifdef TCF_ALLOC_FAILURE_INJECTION
#include "internal.h" /* tcfp_fail_allocations_after */
#endif

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Inputs at least this large are signed/built/parsed with the GIL released. Below it the work
 * takes a few microseconds, less than getting the GIL back from a busy thread can cost. */
#define NOGIL_MIN_BYTES ((size_t)16 * 1024)

#if PY_VERSION_HEX < 0x030A0000 /* Python 3.9 */
static inline PyObject *compat_new_ref(PyObject *obj)
{
    Py_INCREF(obj);
    return obj;
}
static inline PyObject *compat_xnew_ref(PyObject *obj)
{
    Py_XINCREF(obj);
    return obj;
}
#define Py_NewRef(obj) compat_new_ref((PyObject *)(obj))
#define Py_XNewRef(obj) compat_xnew_ref((PyObject *)(obj))
#endif

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
/* The default suffix of X-TC-RequestClient ("SDK_C_tcfaceid_<version>; python-3.11"). */
#define DEFAULT_REQUEST_CLIENT "python-" STRINGIFY(PY_MAJOR_VERSION) "." STRINGIFY(PY_MINOR_VERSION)

/* ---------------------------------------------------------------------------------------------
 * Module state: the exception classes and the Client type
 * ------------------------------------------------------------------------------------------- */

enum {
    E_ERROR,
    E_INVALID_ARGUMENT,
    E_JSON,
    E_CREDENTIALS,
    E_AUTH,
    E_CLOCK_SKEW,
    E_THROTTLED,
    E_SERVICE,
    E_INVALID_PARAMETER,
    E_TOKEN_EXPIRED,
    E_TRANSPORT,
    E_TIMEOUT,
    E_TLS,
    E_HTTP,
    E_CRYPTO,
    E_STATE,
    E_AMBIGUOUS,
    E_RATE_LIMITED,
    E_COUNT
};

enum { BUILTIN_NONE, BUILTIN_VALUE_ERROR, BUILTIN_TIMEOUT_ERROR };

static const struct exception_spec {
    const char *name; /* attribute name in the module */
    int base;         /* index of the tcfaceid base class, -1: builtins.Exception */
    int builtin;      /* a second, built-in base */
    const char *code; /* class default of .code; NULL: None */
    const char *doc;
} exception_specs[E_COUNT] = {
    [E_ERROR] = {"Error", -1, BUILTIN_NONE, NULL,
                 "Base class of every tcfaceid error. Attributes: code, message, request_id, "
                 "http_status, retryable, attempts, server_time, retry_at."},
    [E_INVALID_ARGUMENT] = {"InvalidArgumentError", E_ERROR, BUILTIN_VALUE_ERROR,
                            "invalid_argument",
                            "An invalid argument, caught locally: nothing was sent."},
    [E_JSON] = {"JSONError", E_ERROR, BUILTIN_VALUE_ERROR, "bad_json",
                "Bad JSON: request parameters that are not one JSON object, or a response body "
                "that is not a usable envelope."},
    [E_CREDENTIALS] = {"CredentialsError", E_ERROR, BUILTIN_NONE, "no_credentials",
                       "No credentials could be found (environment, profile file)."},
    [E_AUTH] = {"AuthError", E_ERROR, BUILTIN_NONE, NULL,
                "The service refused the credentials or the signature (AuthFailure.*)."},
    [E_CLOCK_SKEW] = {"ClockSkewError", E_AUTH, BUILTIN_NONE, NULL,
                      "AuthFailure.SignatureExpire: the request time is more than five minutes "
                      "away from the service's clock (see server_time)."},
    [E_THROTTLED] = {"ThrottledError", E_ERROR, BUILTIN_NONE, NULL,
                     "Rate limited by the service (RequestLimitExceeded*, LimitExceeded*)."},
    [E_SERVICE] = {"ServiceError", E_ERROR, BUILTIN_NONE, NULL,
                   "The service answered an error (Response.Error); see code."},
    [E_INVALID_PARAMETER] = {"InvalidParameterError", E_SERVICE, BUILTIN_VALUE_ERROR, NULL,
                             "The service rejected a parameter (InvalidParameter*, "
                             "MissingParameter*, UnknownParameter*)."},
    [E_TOKEN_EXPIRED] = {"TokenExpiredError", E_SERVICE, BUILTIN_NONE, NULL,
                         "A BizToken / EidToken is no longer usable."},
    [E_TRANSPORT] = {"TransportError", E_ERROR, BUILTIN_NONE, "transport",
                     "The HTTP exchange failed (connection refused or reset, DNS, a truncated "
                     "response)."},
    [E_TIMEOUT] = {"TimeoutError", E_TRANSPORT, BUILTIN_TIMEOUT_ERROR, "timeout",
                   "The connect or total timeout expired."},
    [E_TLS] = {"TLSError", E_TRANSPORT, BUILTIN_NONE, "tls",
               "TLS handshake or certificate verification failed."},
    [E_HTTP] = {"HTTPError", E_TRANSPORT, BUILTIN_NONE, "http_status",
                "An HTTP status other than 200 without an API error envelope."},
    [E_CRYPTO] = {"CryptoError", E_ERROR, BUILTIN_NONE, "crypto",
                  "A cryptographic operation failed."},
    [E_STATE] = {"StateError", E_ERROR, BUILTIN_NONE, "state",
                 "The operation does not fit the object's state (e.g. a closed Client)."},
    [E_AMBIGUOUS] = {"AmbiguousError", E_ERROR, BUILTIN_NONE, "ambiguous",
                     "A billable request may have been executed (and billed) by the service, but "
                     "no answer arrived; it was not retried. Check before sending it again."},
    [E_RATE_LIMITED] = {"RateLimitedError", E_ERROR, BUILTIN_NONE, "rate_limited",
                        "A daily identity limit was reached; retry_at is the next 00:00 "
                        "Asia/Shanghai (Unix seconds). Never retried."},
};

typedef struct {
    PyObject *exc[E_COUNT];
    PyObject *client_type;
    PyObject *multi_type;
    PyObject *op_type;
} core_state;

static core_state *module_state(PyObject *module)
{
    return (core_state *)PyModule_GetState(module);
}

/* ---------------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------------- */

static int set_attr(PyObject *obj, const char *name, PyObject *value)
{
    if (value == NULL)
        return -1;
    int rc = PyObject_SetAttrString(obj, name, value);
    Py_DECREF(value);
    return rc;
}

static PyObject *str_or_none(const char *s)
{
    if (s == NULL || s[0] == '\0')
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Raise the exception that corresponds to a failed core call; always returns NULL. */
static PyObject *raise_tcf(core_state *st, const tcf_error *err, int rc)
{
    int code = err->code != 0 ? err->code : rc;
    const char *api = err->api_code;
    int kind;
    const char *local;
    switch (code) {
    case TCF_ENOMEM:
        return PyErr_NoMemory();
    case TCF_EINVAL:
        kind = E_INVALID_ARGUMENT, local = "invalid_argument";
        break;
    case TCF_EJSON:
        kind = E_JSON, local = "bad_json";
        break;
    case TCF_ENOCRED:
        kind = E_CREDENTIALS, local = "no_credentials";
        break;
    case TCF_EAUTH:
        kind = strcmp(api, "AuthFailure.SignatureExpire") == 0 ? E_CLOCK_SKEW : E_AUTH;
        local = "auth_failure";
        break;
    case TCF_ETHROTTLED:
        kind = E_THROTTLED, local = "throttled";
        break;
    case TCF_ETOKEN_EXPIRED:
        kind = E_TOKEN_EXPIRED, local = "token_expired";
        break;
    case TCF_EAPI:
        kind = starts_with(api, "InvalidParameter") || starts_with(api, "MissingParameter") ||
                       starts_with(api, "UnknownParameter")
                   ? E_INVALID_PARAMETER
                   : E_SERVICE;
        local = "service_error";
        break;
    case TCF_ETRANSPORT:
        kind = E_TRANSPORT, local = "transport";
        break;
    case TCF_ETIMEOUT:
        kind = E_TIMEOUT, local = "timeout";
        break;
    case TCF_ETLS:
        kind = E_TLS, local = "tls";
        break;
    case TCF_EHTTP:
        kind = E_HTTP, local = "http_status";
        break;
    case TCF_ECRYPTO:
        kind = E_CRYPTO, local = "crypto";
        break;
    case TCF_ESTATE:
        kind = E_STATE, local = "state";
        break;
    case TCF_EAMBIGUOUS:
        kind = E_AMBIGUOUS, local = "ambiguous";
        break;
    case TCF_ERATE_LIMITED:
        kind = E_RATE_LIMITED, local = "rate_limited";
        break;
    default:
        kind = E_ERROR, local = "error";
        break;
    }
    const char *message = err->message[0] ? err->message : tcf_strerror(code);
    /* One line: "<api_code>: <message> (RequestId <id>)"; %s decodes UTF-8 with "replace". */
    PyObject *text;
    if (api[0] && err->request_id[0])
        text = PyUnicode_FromFormat("%s: %s (RequestId %s)", api, message, err->request_id);
    else if (api[0])
        text = PyUnicode_FromFormat("%s: %s", api, message);
    else if (err->request_id[0])
        text = PyUnicode_FromFormat("%s (RequestId %s)", message, err->request_id);
    else
        text = PyUnicode_FromFormat("%s", message);
    if (text == NULL)
        return NULL;
    PyObject *exc = PyObject_CallOneArg(st->exc[kind], text);
    Py_DECREF(text);
    if (exc == NULL)
        return NULL;
    if (set_attr(exc, "code", PyUnicode_FromString(api[0] ? api : local)) < 0 ||
        set_attr(exc, "message",
                 PyUnicode_DecodeUTF8(message, (Py_ssize_t)strlen(message), "replace")) < 0 ||
        set_attr(exc, "request_id", str_or_none(err->request_id)) < 0 ||
        set_attr(exc, "http_status",
                 err->http_status ? PyLong_FromLong(err->http_status) : Py_NewRef(Py_None)) < 0 ||
        set_attr(exc, "retryable", PyBool_FromLong(err->retryable != 0)) < 0 ||
        set_attr(exc, "attempts", PyLong_FromLong(err->attempts)) < 0 ||
        set_attr(exc, "server_time",
                 err->server_time ? PyLong_FromLongLong(err->server_time) : Py_NewRef(Py_None)) <
            0 ||
        set_attr(exc, "retry_at",
                 err->retry_at ? PyLong_FromLongLong(err->retry_at) : Py_NewRef(Py_None)) < 0) {
        Py_DECREF(exc);
        return NULL;
    }
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return NULL;
}

/* Raise a failure found by the binding itself, with the same attributes as the core's. */
static PyObject *raise_local(core_state *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static PyObject *raise_local(core_state *st, int code, const char *fmt, ...)
{
    tcf_error err;
    tcf_error_clear(&err);
    err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof err.message, fmt, ap);
    va_end(ap);
    return raise_tcf(st, &err, code);
}

/* ---------------------------------------------------------------------------------------------
 * Argument helpers
 * ------------------------------------------------------------------------------------------- */

/* Match a vectorcall's arguments to names[0..n): at most max_positional positional ones, the
 * first `required` mandatory. out[i] is a borrowed reference or NULL. */
static int match_args(const char *fname, const char *const *names, Py_ssize_t n,
                      Py_ssize_t max_positional, Py_ssize_t required, PyObject *const *args,
                      Py_ssize_t nargs, PyObject *kwnames, PyObject **out)
{
    for (Py_ssize_t i = 0; i < n; i++)
        out[i] = NULL;
    if (nargs > max_positional) {
        if (max_positional == 0)
            PyErr_Format(PyExc_TypeError, "%s() takes no positional arguments", fname);
        else
            PyErr_Format(PyExc_TypeError, "%s() takes at most %zd positional arguments (%zd given)",
                         fname, max_positional, nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        out[i] = args[i];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        const char *name = PyUnicode_AsUTF8(key);
        if (name == NULL)
            return -1;
        Py_ssize_t j = 0;
        while (j < n && strcmp(names[j], name) != 0)
            j++;
        if (j == n) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname,
                         key);
            return -1;
        }
        if (out[j] != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname,
                         names[j]);
            return -1;
        }
        out[j] = args[nargs + k];
    }
    for (Py_ssize_t i = 0; i < required; i++) {
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, names[i]);
            return -1;
        }
    }
    return 0;
}

/* A str argument as UTF-8 (borrowed from the str object); None or absent gives NULL when
 * optional. NUL characters are refused: the core takes C strings. */
static int get_text(core_state *st, PyObject *obj, const char *name, int optional, const char **out)
{
    *out = NULL;
    if (obj == NULL || (optional && obj == Py_None))
        return 0;
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a str%s, not %.100s", name,
                     optional ? " or None" : "", Py_TYPE(obj)->tp_name);
        return -1;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
    if (s == NULL)
        return -1;
    if (strlen(s) != (size_t)n) {
        raise_local(st, TCF_EINVAL, "%s contains a NUL character", name);
        return -1;
    }
    *out = s;
    return 0;
}

/* A bytes-like object through the buffer protocol (no copy), or a str as UTF-8. */
typedef struct byte_input {
    Py_buffer view;
    int has_view;
    const char *data;
    size_t len;
} byte_input;

static int byte_input_get(byte_input *b, PyObject *obj, const char *name, int allow_str)
{
    memset(b, 0, sizeof *b);
    if (allow_str && PyUnicode_Check(obj)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
        if (s == NULL)
            return -1;
        b->data = s;
        b->len = (size_t)n;
        return 0;
    }
    if (PyObject_GetBuffer(obj, &b->view, PyBUF_SIMPLE) != 0) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "%s must be a bytes-like object%s, not %.100s", name,
                         allow_str ? " or str" : "", Py_TYPE(obj)->tp_name);
        }
        return -1;
    }
    b->has_view = 1;
    b->data = b->view.buf;
    b->len = (size_t)b->view.len;
    return 0;
}

static void byte_input_release(byte_input *b)
{
    if (b->has_view) {
        PyBuffer_Release(&b->view);
        b->has_view = 0;
    }
}

static int get_long_long(PyObject *obj, const char *name, long long *out)
{
    if (!PyLong_Check(obj) || PyBool_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", name, Py_TYPE(obj)->tp_name);
        return -1;
    }
    *out = PyLong_AsLongLong(obj);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

/* The thread state this thread saved when it released the GIL to run core code, so that the
 * log callback can take the GIL back in the right (sub)interpreter. */
static _Thread_local PyThreadState *tls_tstate;

#define NOGIL_BEGIN                                                                                \
    {                                                                                              \
        PyThreadState *nogil_prev_ = tls_tstate;                                                   \
        PyThreadState *nogil_save_ = PyEval_SaveThread();                                          \
        tls_tstate = nogil_save_;
#define NOGIL_END                                                                                  \
    tls_tstate = nogil_prev_;                                                                      \
    PyEval_RestoreThread(nogil_save_);                                                             \
    if (tls_tstate == NULL && tls_pending_count > 0)                                               \
        flush_pending_logs();                                                                      \
    }

/* The core's log lines of a call, kept while the calling thread runs without the GIL and handed
 * to Python as soon as it has the GIL back (NOGIL_END): taking the GIL in the middle of a call
 * costs more than the line itself. A call that logs more lines than fit is delivered at once. */
#define PENDING_LOGS 8
typedef struct pending_log {
    void (*deliver)(void *user, int level, const char *line);
    void *user;
    int level;
    char line[512];
} pending_log;
static _Thread_local pending_log tls_pending[PENDING_LOGS];
static _Thread_local int tls_pending_count;

static void flush_pending_logs(void)
{
    int n = tls_pending_count;
    tls_pending_count = 0;
    for (int i = 0; i < n; i++)
        tls_pending[i].deliver(tls_pending[i].user, tls_pending[i].level, tls_pending[i].line);
}

/* ---------------------------------------------------------------------------------------------
 * version(), sign(), parse()
 * ------------------------------------------------------------------------------------------- */

PyDoc_STRVAR(version_doc, "version($module, /)\n--\n\n"
                          "The version of the linked C core, \"MAJOR.MINOR.PATCH\".");

static PyObject *core_version(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    return PyUnicode_FromString(tcf_version());
}

enum {
    K_ALGORITHM,
    K_SECRET_ID,
    K_SECRET_KEY,
    K_TOKEN,
    K_SERVICE,
    K_HOST,
    K_REGION,
    K_ACTION,
    K_VERSION,
    K_LANGUAGE,
    K_METHOD,
    K_PATH,
    K_CONTENT_TYPE,
    K_CANONICAL_QUERY,
    K_SIGNED_HEADERS,
    K_STRING_COUNT, /* the keys above are optional strings */
    K_TIMESTAMP = K_STRING_COUNT,
    K_UNSIGNED_PAYLOAD,
    K_BODY,
    K_PARAMS,
    K_COUNT
};

static const char *const sign_keys[K_COUNT] = {
    [K_ALGORITHM] = "algorithm",
    [K_SECRET_ID] = "secret_id",
    [K_SECRET_KEY] = "secret_key",
    [K_TOKEN] = "token",
    [K_SERVICE] = "service",
    [K_HOST] = "host",
    [K_REGION] = "region",
    [K_ACTION] = "action",
    [K_VERSION] = "version",
    [K_LANGUAGE] = "language",
    [K_METHOD] = "method",
    [K_PATH] = "path",
    [K_CONTENT_TYPE] = "content_type",
    [K_CANONICAL_QUERY] = "canonical_query",
    [K_SIGNED_HEADERS] = "signed_headers",
    [K_TIMESTAMP] = "timestamp",
    [K_UNSIGNED_PAYLOAD] = "unsigned_payload",
    [K_BODY] = "body",
    [K_PARAMS] = "params",
};

/* Everything sign() allocates; released by sign_scratch_free. */
typedef struct sign_scratch {
    byte_input body;
    char *signed_headers; /* a copy, split in place */
    tcf_header *extra;
    tcf_header *params;
    PyObject *keep; /* a list holding the str objects whose UTF-8 the params point to */
} sign_scratch;

static void sign_scratch_free(sign_scratch *x)
{
    byte_input_release(&x->body);
    PyMem_Free(x->signed_headers);
    PyMem_Free(x->extra);
    PyMem_Free(x->params);
    Py_XDECREF(x->keep);
}

/* The value of an extra signed header, as tcf-sign takes it: x-tc-action, -region, -version,
 * -language and -token from the keyword of the same name, x-tc-timestamp from timestamp. */
static const char *signed_header_value(const char *name, const char *const *s,
                                       const char *timestamp_text)
{
    static const struct {
        const char *header;
        int key;
    } mapped[] = {
        {"x-tc-action", K_ACTION},     {"x-tc-region", K_REGION}, {"x-tc-version", K_VERSION},
        {"x-tc-language", K_LANGUAGE}, {"x-tc-token", K_TOKEN},
    };
    for (size_t i = 0; i < sizeof mapped / sizeof mapped[0]; i++)
        if (strcasecmp(name, mapped[i].header) == 0)
            return s[mapped[i].key];
    if (strcasecmp(name, "x-tc-timestamp") == 0)
        return timestamp_text;
    return NULL;
}

typedef struct header_values {
    const char *const *s;
    const char *timestamp_text;
} header_values;

static const char *header_value_of(void *user, const char *name)
{
    const header_values *v = user;
    return signed_header_value(name, v->s, v->timestamp_text);
}

static int sign_signed_headers(core_state *st, sign_scratch *x, tcf_sign_input *in,
                               const char *list, const char *const *s, const char *timestamp_text)
{
    size_t len = strlen(list);
    x->signed_headers = PyMem_Malloc(len + 1);
    x->extra = PyMem_Calloc(len / 2 + 1, sizeof *x->extra);
    if (x->signed_headers == NULL || x->extra == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(x->signed_headers, list, len + 1);
    header_values values = {s, timestamp_text};
    size_t count = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_sign_split_signed_headers(x->extra, &count, x->signed_headers, header_value_of,
                                           &values, &err);
    if (rc != 0) {
        raise_tcf(st, &err, rc);
        return -1;
    }
    in->extra_signed_headers = x->extra;
    in->extra_signed_header_count = count;
    return 0;
}

/* v1 parameters: a mapping name -> str (or int, written in decimal). */
static int sign_params(core_state *st, sign_scratch *x, tcf_sign_input *in, PyObject *mapping)
{
    if (!PyMapping_Check(mapping) || PyUnicode_Check(mapping) || PyBytes_Check(mapping)) {
        PyErr_Format(PyExc_TypeError, "params must be a mapping, not %.100s",
                     Py_TYPE(mapping)->tp_name);
        return -1;
    }
    PyObject *items = PyMapping_Items(mapping);
    if (items == NULL)
        return -1;
    Py_ssize_t n = PyList_GET_SIZE(items);
    x->keep = PyList_New(2 * n);
    x->params = PyMem_Calloc((size_t)n + 1, sizeof *x->params);
    if (x->keep == NULL || x->params == NULL) {
        Py_DECREF(items);
        if (x->params == NULL)
            PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_SetString(PyExc_TypeError, "params.items() must give (name, value) pairs");
            goto fail;
        }
        PyObject *name = PyTuple_GET_ITEM(item, 0), *value = PyTuple_GET_ITEM(item, 1);
        if (!PyUnicode_Check(name)) {
            PyErr_Format(PyExc_TypeError, "params names must be str, not %.100s",
                         Py_TYPE(name)->tp_name);
            goto fail;
        }
        if (PyUnicode_Check(value)) {
            Py_INCREF(value);
        } else if (PyLong_Check(value) && !PyBool_Check(value)) {
            value = PyObject_Str(value);
            if (value == NULL)
                goto fail;
        } else {
            PyErr_Format(PyExc_TypeError, "params[%R] must be a str or an int, not %.100s", name,
                         Py_TYPE(value)->tp_name);
            goto fail;
        }
        Py_INCREF(name);
        PyList_SET_ITEM(x->keep, 2 * i, name);
        PyList_SET_ITEM(x->keep, 2 * i + 1, value);
        if (get_text(st, name, "a params name", 0, &x->params[i].name) < 0 ||
            get_text(st, value, "a params value", 0, &x->params[i].value) < 0)
            goto fail;
    }
    Py_DECREF(items);
    in->params = x->params;
    in->param_count = (size_t)n;
    return 0;
fail:
    Py_DECREF(items);
    return -1;
}

PyDoc_STRVAR(sign_doc,
             "sign($module, /, **inputs)\n--\n\n"
             "Sign a request with tcf_sign and return every intermediate.\n\n"
             "Keywords are the input keys of a vector of shared/vectors/tc3.json: algorithm,\n"
             "secret_id, secret_key, token, service, host, region, action, version, language,\n"
             "timestamp (int), method, path, content_type, canonical_query, unsigned_payload\n"
             "(bool), signed_headers, body (bytes-like or str; default b\"\") and params (v1: a\n"
             "mapping of the raw parameters). Returns a dict: TC3 hashed_payload,\n"
             "canonical_request, string_to_sign, signature, authorization; v1 string_to_sign,\n"
             "signature.");

static PyObject *core_sign(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    core_state *st = module_state(module);
    PyObject *v[K_COUNT];
    if (match_args("sign", sign_keys, K_COUNT, 0, 0, args, nargs, kwnames, v) < 0)
        return NULL;
    const char *s[K_STRING_COUNT];
    for (int k = 0; k < K_STRING_COUNT; k++)
        if (get_text(st, v[k], sign_keys[k], 1, &s[k]) < 0)
            return NULL;

    tcf_sign_input in = TCF_SIGN_INPUT_INIT;
    in.algorithm = s[K_ALGORITHM];
    in.secret_id = s[K_SECRET_ID];
    in.secret_key = s[K_SECRET_KEY];
    in.service = s[K_SERVICE];
    in.host = s[K_HOST];
    in.method = s[K_METHOD];
    in.path = s[K_PATH];
    in.content_type = s[K_CONTENT_TYPE];
    in.canonical_query = s[K_CANONICAL_QUERY];

    char timestamp_text[24];
    const char *timestamp = NULL;
    if (v[K_TIMESTAMP] != NULL && v[K_TIMESTAMP] != Py_None) {
        if (get_long_long(v[K_TIMESTAMP], "timestamp", &in.timestamp) < 0)
            return NULL;
        snprintf(timestamp_text, sizeof timestamp_text, "%lld", in.timestamp);
        timestamp = timestamp_text;
    } else if (in.algorithm == NULL || strcmp(in.algorithm, "TC3-HMAC-SHA256") == 0) {
        return raise_local(st, TCF_EINVAL, "sign: timestamp is missing (TC3 signs it)");
    }
    if (v[K_UNSIGNED_PAYLOAD] != NULL && v[K_UNSIGNED_PAYLOAD] != Py_None) {
        int b = PyObject_IsTrue(v[K_UNSIGNED_PAYLOAD]);
        if (b < 0)
            return NULL;
        in.unsigned_payload = b;
    }

    sign_scratch x;
    memset(&x, 0, sizeof x);
    PyObject *result = NULL;
    if (v[K_BODY] != NULL && v[K_BODY] != Py_None) {
        if (byte_input_get(&x.body, v[K_BODY], "body", 1) < 0)
            goto done;
        in.body = (const unsigned char *)x.body.data;
        in.body_len = x.body.len;
    }
    if (s[K_SIGNED_HEADERS] != NULL &&
        sign_signed_headers(st, &x, &in, s[K_SIGNED_HEADERS], s, timestamp) < 0)
        goto done;
    if (v[K_PARAMS] != NULL && v[K_PARAMS] != Py_None && sign_params(st, &x, &in, v[K_PARAMS]) < 0)
        goto done;

    tcf_signature *sig = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    if (in.body_len >= NOGIL_MIN_BYTES) {
        NOGIL_BEGIN
        rc = tcf_sign(&sig, &in, &err);
        NOGIL_END
    } else {
        rc = tcf_sign(&sig, &in, &err);
    }
    if (rc != 0) {
        raise_tcf(st, &err, rc);
        goto done;
    }
    static const char *const fields[] = {"hashed_payload", "canonical_request", "string_to_sign",
                                         "signature", "authorization"};
    result = PyDict_New();
    for (size_t i = 0; result != NULL && i < sizeof fields / sizeof fields[0]; i++) {
        const char *value = tcf_signature_get(sig, fields[i]);
        if (value == NULL)
            continue;
        PyObject *text = PyUnicode_DecodeUTF8(value, (Py_ssize_t)strlen(value), "strict");
        if (text == NULL || PyDict_SetItemString(result, fields[i], text) < 0)
            Py_CLEAR(result);
        Py_XDECREF(text);
    }
    tcf_signature_free(sig);
done:
    sign_scratch_free(&x);
    return result;
}

/* Response headers for tcf_parse: C strings borrowed from str/bytes objects held in `keep`. */
typedef struct header_input {
    tcf_header *items;
    size_t count;
    PyObject *keep;
} header_input;

static int header_text(core_state *st, PyObject *obj, const char *what, const char **out)
{
    if (PyBytes_Check(obj)) {
        const char *s = PyBytes_AS_STRING(obj);
        if (strlen(s) != (size_t)PyBytes_GET_SIZE(obj)) {
            raise_local(st, TCF_EINVAL, "%s contains a NUL byte", what);
            return -1;
        }
        *out = s;
        return 0;
    }
    if (!PyUnicode_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "header names and values must be str, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    return get_text(st, obj, what, 0, out);
}

static int header_input_get(core_state *st, header_input *h, PyObject *headers)
{
    memset(h, 0, sizeof *h);
    if (headers == Py_None)
        return 0;
    PyObject *source;
    if (PyDict_Check(headers)) {
        source = PyDict_Items(headers);
    } else {
        PyObject *items = PyObject_GetAttrString(headers, "items");
        if (items == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_AttributeError))
                return -1;
            PyErr_Clear();
            source = Py_NewRef(headers);
        } else {
            source = PyObject_CallNoArgs(items);
            Py_DECREF(items);
        }
    }
    if (source == NULL)
        return -1;
    if (PyUnicode_Check(source) || PyBytes_Check(source)) {
        Py_DECREF(source);
        PyErr_SetString(PyExc_TypeError,
                        "headers must be a mapping or an iterable of (name, value) pairs");
        return -1;
    }
    /* A snapshot (a tuple): a list another thread mutates cannot free items under us. */
    PyObject *iter = PyObject_GetIter(source);
    Py_DECREF(source);
    if (iter == NULL) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_TypeError,
                            "headers must be a mapping or an iterable of (name, value) pairs");
        }
        return -1;
    }
    PyObject *seq = PySequence_Tuple(iter);
    Py_DECREF(iter);
    if (seq == NULL)
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(seq);
    h->keep = PyList_New(2 * n);
    h->items = PyMem_Calloc((size_t)n + 1, sizeof *h->items);
    if (h->keep == NULL || h->items == NULL) {
        if (h->items == NULL)
            PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = PyTuple_GET_ITEM(seq, i);
        if (PyList_Check(pair))
            pair = PySequence_Tuple(pair); /* a snapshot too */
        else if (PyTuple_Check(pair))
            Py_INCREF(pair);
        else
            pair = NULL;
        if (pair == NULL || PyTuple_GET_SIZE(pair) != 2) {
            if (pair != NULL || !PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "headers must be (name, value) pairs, got %.100s",
                             Py_TYPE(PyTuple_GET_ITEM(seq, i))->tp_name);
            Py_XDECREF(pair);
            goto fail;
        }
        PyObject *name = PyTuple_GET_ITEM(pair, 0), *value = PyTuple_GET_ITEM(pair, 1);
        /* Own references: the GIL may be released while the core reads the strings. */
        PyList_SET_ITEM(h->keep, 2 * i, Py_NewRef(name));
        PyList_SET_ITEM(h->keep, 2 * i + 1, Py_NewRef(value));
        Py_DECREF(pair);
        if (header_text(st, name, "a header name", &h->items[i].name) < 0 ||
            header_text(st, value, "a header value", &h->items[i].value) < 0)
            goto fail;
    }
    Py_DECREF(seq);
    h->count = (size_t)n;
    return 0;
fail:
    Py_DECREF(seq);
    return -1;
}

static void header_input_free(header_input *h)
{
    PyMem_Free(h->items);
    Py_CLEAR(h->keep);
}

PyDoc_STRVAR(parse_doc,
             "parse($module, /, status, headers, body)\n--\n\n"
             "Parse an HTTP answer (sans-IO). headers: a mapping or an iterable of (name,\n"
             "value) pairs (only Date is used); body: bytes-like. Returns (the Response object\n"
             "without RequestId as JSON bytes, request_id or None, server_time: the Date\n"
             "header in Unix seconds, 0 if none). Raises the mapped Error subclass.");

static PyObject *core_parse(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames)
{
    static const char *const names[] = {"status", "headers", "body"};
    core_state *st = module_state(module);
    PyObject *v[3];
    if (match_args("parse", names, 3, 3, 3, args, nargs, kwnames, v) < 0)
        return NULL;
    long long status;
    if (get_long_long(v[0], "status", &status) < 0)
        return NULL;
    if (status < INT_MIN || status > INT_MAX)
        return raise_local(st, TCF_EINVAL, "parse: status %lld is not an HTTP status", status);
    header_input h;
    if (header_input_get(st, &h, v[1]) < 0) {
        header_input_free(&h);
        return NULL;
    }
    byte_input body;
    if (byte_input_get(&body, v[2], "body", 0) < 0) {
        header_input_free(&h);
        return NULL;
    }
    tcf_response *resp = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    if (body.len >= NOGIL_MIN_BYTES) {
        NOGIL_BEGIN
        rc = tcf_parse(&resp, (int)status, h.items, h.count, body.data, body.len, &err);
        NOGIL_END
    } else {
        rc = tcf_parse(&resp, (int)status, h.items, h.count, body.data, body.len, &err);
    }
    byte_input_release(&body);
    header_input_free(&h);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    size_t len = 0;
    const char *json = tcf_response_json(resp, &len);
    PyObject *result =
        Py_BuildValue("(y#NL)", json, (Py_ssize_t)len, str_or_none(tcf_response_request_id(resp)),
                      tcf_response_server_time(resp));
    tcf_response_free(resp);
    return result;
}

#ifdef TCF_ALLOC_FAILURE_INJECTION
PyDoc_STRVAR(fail_allocations_doc,
             "_fail_allocations_after($module, n, /)\n--\n\n"
             "Test hook of debug builds (TCFACEID_DEBUG=1): make the n-th following allocation\n"
             "of the C core, and every later one, fail; 0 turns it off.");

static PyObject *core_fail_allocations_after(PyObject *module, PyObject *arg)
{
    (void)module;
    long n = PyLong_AsLong(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    tcfp_fail_allocations_after(n);
    Py_RETURN_NONE;
}
#endif

/* ---------------------------------------------------------------------------------------------
 * Client
 * ------------------------------------------------------------------------------------------- */

typedef struct ClientObject {
    PyObject_HEAD
        /* Both NULL once closed and released. Guarded by mu together with the fields below. */
        tcf_client *client;
    tcf_config *config; /* the same options as the client's: for prepare() */
    PyObject *log;      /* callable or NULL */
    PyObject *endpoint; /* str */
    PyObject *weakrefs;
    pthread_mutex_t mu;
    pthread_cond_t idle;     /* signalled when in_flight drops to 0 */
    unsigned long in_flight; /* call()/prepare() running */
    unsigned waiting;        /* close() calls waiting for in_flight == 0 */
    int closed;
    int sync_ready; /* mu and idle are initialised */
} ClientObject;

/* The calls this thread has in flight (a stack), to spot close() from inside one of them. */
typedef struct call_frame {
    ClientObject *client;
    struct call_frame *prev;
} call_frame;
static _Thread_local call_frame *tls_frames;

static void free_native(tcf_client *client, tcf_config *config)
{
    tcf_client_free(client);
    tcf_config_free(config);
}

/* Become a reader for longer than one C call (an asynchronous op): no call frame, so close()
 * from the same thread waits for it -- AsyncClient.aclose() cancels its ops first. */
static int client_hold(ClientObject *self, core_state *st)
{
    pthread_mutex_lock(&self->mu);
    int closed = self->closed;
    if (!closed)
        self->in_flight++;
    pthread_mutex_unlock(&self->mu);
    if (closed) {
        raise_local(st, TCF_ESTATE, "the client is closed");
        return -1;
    }
    return 0;
}

/* Become a reader; StateError when the client is closed. */
static int client_enter(ClientObject *self, core_state *st, call_frame *frame)
{
    if (client_hold(self, st) < 0)
        return -1;
    frame->client = self;
    frame->prev = tls_frames;
    /* The frame lives on the caller's stack until client_leave unlinks it, before the caller
     * returns; GCC 12+ cannot see that once client_enter is inlined. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
    tls_frames = frame;
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif
    return 0;
}

/* Drop a reader registered by client_enter or client_hold. */
static void client_release(ClientObject *self)
{
    tcf_client *client = NULL;
    tcf_config *config = NULL;
    pthread_mutex_lock(&self->mu);
    if (--self->in_flight == 0) {
        if (self->closed && self->waiting == 0) {
            /* close() was called from inside a call of this client: finish it here. */
            client = self->client;
            config = self->config;
            self->client = NULL;
            self->config = NULL;
        }
        pthread_cond_broadcast(&self->idle);
    }
    pthread_mutex_unlock(&self->mu);
    if (client != NULL || config != NULL) {
        NOGIL_BEGIN
        free_native(client, config);
        NOGIL_END
    }
}

static void client_leave(ClientObject *self, call_frame *frame)
{
    tls_frames = frame->prev;
    client_release(self);
}

/* Hands one line of the core to the client's Python log callable; the GIL is held. */
static void deliver_log(void *user, int level, const char *line)
{
    ClientObject *self = user;
    PyObject *log = self->log;
    if (log == NULL)
        return;
    Py_INCREF(log);
    /* "replace": a line cut at 511 bytes may end in the middle of a character. */
    PyObject *text = PyUnicode_DecodeUTF8(line, (Py_ssize_t)strlen(line), "replace");
    PyObject *result = text ? PyObject_CallFunction(log, "iO", level, text) : NULL;
    if (result == NULL)
        PyErr_WriteUnraisable(log);
    Py_XDECREF(result);
    Py_XDECREF(text);
    Py_DECREF(log);
}

/* The log callback of the core: runs on the calling thread, usually while the GIL is released
 * (then the line waits for NOGIL_END, see tls_pending). */
static void log_trampoline(void *user, int level, const char *line)
{
    PyThreadState *saved = tls_tstate;
    if (saved != NULL && tls_pending_count < PENDING_LOGS) {
        pending_log *p = &tls_pending[tls_pending_count++];
        p->deliver = deliver_log;
        p->user = user;
        p->level = level;
        snprintf(p->line, sizeof p->line, "%s", line);
        return;
    }
    PyGILState_STATE gil = PyGILState_UNLOCKED;
    if (saved != NULL) {
        tls_tstate = NULL;
        PyEval_RestoreThread(saved);
        flush_pending_logs(); /* the earlier lines first */
    } else {
        /* GIL held (the asynchronous driver), or a thread the core started (never today). */
        gil = PyGILState_Ensure();
    }
    deliver_log(user, level, line);
    if (saved != NULL) {
        PyEval_SaveThread();
        tls_tstate = saved;
    } else {
        PyGILState_Release(gil);
    }
}

static int client_traverse(ClientObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->log);
    return 0;
}

static int client_clear(ClientObject *self)
{
    Py_CLEAR(self->log);
    return 0;
}

static void client_dealloc(ClientObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->weakrefs != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    /* No call can be in flight: each holds a reference to self. */
    free_native(self->client, self->config);
    self->client = NULL;
    self->config = NULL;
    if (self->sync_ready) {
        pthread_cond_destroy(&self->idle);
        pthread_mutex_destroy(&self->mu);
    }
    Py_CLEAR(self->log);
    Py_CLEAR(self->endpoint);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* "https://faceid.tencentcloudapi.com": the URL of a request built with this config, without
 * the final "/" (the core normalises the endpoint: scheme and host lower-cased, default host). */
static PyObject *endpoint_of(core_state *st, const tcf_config *config)
{
    tcf_request *req = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_build(&req, config, "GetLiveCode", NULL, 0, 0, &err);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    const char *url = tcf_request_url(req);
    size_t len = strlen(url);
    if (len > 0 && url[len - 1] == '/')
        len--;
    PyObject *result = PyUnicode_DecodeUTF8(url, (Py_ssize_t)len, "strict");
    tcf_request_free(req);
    return result;
}

static int timeout_ms(core_state *st, double seconds, const char *name, long *out)
{
    /* libcurl takes milliseconds; 0 would mean "the default", so round up. */
    if (!isfinite(seconds) || seconds <= 0.0 || seconds > 2147483.0) {
        raise_local(st, TCF_EINVAL, "%s must be a number of seconds > 0 and <= 2147483", name);
        return -1;
    }
    *out = (long)ceil(seconds * 1000.0);
    return 0;
}

/* A retry policy from a dict (keys: max_attempts, base_delay, throttle_delay, max_delay, deadline
 * in seconds, budget, budget_per_s, retry_billable); None or absent: 0 (not given). */
static int seconds_ms(PyObject *v, const char *name, long *out)
{
    double d = PyFloat_AsDouble(v);
    if (d == -1.0 && PyErr_Occurred())
        return -1;
    if (!(d >= 0.0) || d > 86400.0) {
        PyErr_Format(PyExc_ValueError, "retry %s must be 0 to 86400 seconds", name);
        return -1;
    }
    *out = (long)(d * 1000.0 + 0.5);
    if (*out == 0 && d > 0)
        *out = 1;
    return 0;
}

/* The index of a dict key among the option names keys[0..n), or -1 with TypeError (unknown or
 * not a str). */
static Py_ssize_t option_index(PyObject *key, const char *const *keys, size_t n, const char *what)
{
    const char *k = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
    for (size_t i = 0; k != NULL && i < n; i++)
        if (strcmp(keys[i], k) == 0)
            return (Py_ssize_t)i;
    if (!PyErr_Occurred())
        PyErr_Format(PyExc_TypeError, "unknown %s option %R", what, key);
    return -1;
}

static int get_retry(PyObject *obj, tcf_retry_options *o)
{
    static const char *const keys[] = {"max_attempts", "base_delay",    "throttle_delay",
                                       "max_delay",    "deadline",      "budget",
                                       "budget_per_s", "retry_billable"};
    tcf_retry_options d = TCF_RETRY_OPTIONS_INIT;
    *o = d;
    if (!PyDict_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "retry must be a dict or None, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(obj, &pos, &key, &value)) {
        Py_ssize_t i = option_index(key, keys, sizeof keys / sizeof keys[0], "retry");
        if (i < 0)
            return -1;
        if (value == Py_None)
            continue;
        long long n;
        switch (i) {
        case 0:
            if (get_long_long(value, "max_attempts", &n) < 0)
                return -1;
            if (n < 1 || n > 100) {
                PyErr_SetString(PyExc_ValueError, "retry max_attempts must be 1 to 100");
                return -1;
            }
            o->max_attempts = (int)n;
            break;
        case 1:
            if (seconds_ms(value, "base_delay", &o->base_delay_ms) < 0)
                return -1;
            break;
        case 2:
            if (seconds_ms(value, "throttle_delay", &o->throttle_delay_ms) < 0)
                return -1;
            break;
        case 3:
            if (seconds_ms(value, "max_delay", &o->max_delay_ms) < 0)
                return -1;
            break;
        case 4:
            if (seconds_ms(value, "deadline", &o->deadline_ms) < 0)
                return -1;
            break;
        case 5:
            o->budget = PyFloat_AsDouble(value);
            if (o->budget == -1.0 && PyErr_Occurred())
                return -1;
            if (o->budget == 0) {
                PyErr_SetString(PyExc_ValueError,
                                "retry budget must be > 0 (or < 0: unlimited; None: 10)");
                return -1;
            }
            break;
        case 6:
            o->budget_per_s = PyFloat_AsDouble(value);
            if (o->budget_per_s == -1.0 && PyErr_Occurred())
                return -1;
            if (!(o->budget_per_s > 0)) {
                PyErr_SetString(PyExc_ValueError, "retry budget_per_s must be > 0");
                return -1;
            }
            break;
        default: {
            int t = PyObject_IsTrue(value);
            if (t < 0)
                return -1;
            o->retry_billable = t;
        }
        }
    }
    return 0;
}

/* Field-encryption options from a dict (keys: algorithm "AES-256-CBC" | "SM4-GCM",
 * rsa_public_key_pem, sm2_public_key_pem, whole_body); the strings are borrowed from obj. */
static int get_encryption(core_state *st, PyObject *obj, tcf_encryption_options *o)
{
    static const char *const keys[] = {"algorithm", "rsa_public_key_pem", "sm2_public_key_pem",
                                       "whole_body"};
    tcf_encryption_options d = TCF_ENCRYPTION_OPTIONS_INIT;
    *o = d;
    if (!PyDict_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "encryption must be a dict or None, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(obj, &pos, &key, &value)) {
        Py_ssize_t i = option_index(key, keys, sizeof keys / sizeof keys[0], "encryption");
        if (i < 0)
            return -1;
        if (value == Py_None)
            continue;
        const char *text = NULL;
        switch (i) {
        case 0:
            if (get_text(st, value, "encryption algorithm", 0, &text) < 0)
                return -1;
            if (strcmp(text, "AES-256-CBC") == 0)
                o->algorithm = TCF_ENCRYPTION_AES_256_CBC;
            else if (strcmp(text, "SM4-GCM") == 0)
                o->algorithm = TCF_ENCRYPTION_SM4_GCM;
            else {
                raise_local(st, TCF_EINVAL,
                            "encryption algorithm must be \"AES-256-CBC\" or \"SM4-GCM\"");
                return -1;
            }
            break;
        case 1:
            if (get_text(st, value, "rsa_public_key_pem", 0, &o->rsa_public_key_pem) < 0)
                return -1;
            break;
        case 2:
            if (get_text(st, value, "sm2_public_key_pem", 0, &o->sm2_public_key_pem) < 0)
                return -1;
            break;
        default: {
            int t = PyObject_IsTrue(value);
            if (t < 0)
                return -1;
            o->whole_body = t;
        }
        }
    }
    return 0;
}

/* encrypt: None -> -1 (the client's default), else a bool. */
static int get_encrypt_flag(PyObject *obj, int *out)
{
    if (obj == NULL || obj == Py_None) {
        *out = -1;
        return 0;
    }
    if (!PyBool_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "encrypt must be True, False or None, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    *out = obj == Py_True;
    return 0;
}

static PyObject *client_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"secret_id", "secret_key",      "token",   "region", "endpoint",
                             "language",  "connect_timeout", "timeout", "proxy",  "ca_bundle",
                             "verify",    "request_client",  "log",     "retry",  "qps",
                             "encrypt",   "encryption",      NULL};
    core_state *st = (core_state *)PyType_GetModuleState(type);
    if (st == NULL)
        return NULL;
    PyObject *o_secret_id = NULL, *o_secret_key = NULL, *o_token = NULL, *o_region = NULL,
             *o_endpoint = NULL, *o_language = NULL, *o_proxy = NULL, *o_ca_bundle = NULL,
             *o_request_client = NULL, *o_log = NULL, *o_retry = NULL, *o_qps = NULL,
             *o_encrypt = NULL, *o_encryption = NULL;
    double connect_timeout = 5.0, timeout = 30.0;
    PyObject *o_verify = NULL;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwds, "|$OOOOOOddOOOOOOOOO:Client", kwlist, &o_secret_id, &o_secret_key, &o_token,
            &o_region, &o_endpoint, &o_language, &connect_timeout, &timeout, &o_proxy, &o_ca_bundle,
            &o_verify, &o_request_client, &o_log, &o_retry, &o_qps, &o_encrypt, &o_encryption))
        return NULL;
    int encrypt = 0;
    if (get_encrypt_flag(o_encrypt, &encrypt) < 0)
        return NULL;
    tcf_encryption_options encryption = TCF_ENCRYPTION_OPTIONS_INIT;
    if (o_encryption != NULL && o_encryption != Py_None &&
        get_encryption(st, o_encryption, &encryption) < 0)
        return NULL;
    tcf_retry_options retry = TCF_RETRY_OPTIONS_INIT;
    if (o_retry != NULL && o_retry != Py_None && get_retry(o_retry, &retry) < 0)
        return NULL;
    /* qps: True (default: the documented per-action QPS), False (off), or {action: qps} */
    tcf_qps_limit qps_limits[64];
    size_t qps_count = 0;
    int qps_off = 0;
    if (o_qps == Py_False) {
        qps_off = 1;
    } else if (o_qps != NULL && o_qps != Py_True && o_qps != Py_None) {
        if (!PyDict_Check(o_qps)) {
            PyErr_SetString(PyExc_TypeError, "qps must be True, False or a dict {action: qps}");
            return NULL;
        }
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(o_qps, &pos, &key, &value)) {
            if (qps_count == sizeof qps_limits / sizeof qps_limits[0]) {
                PyErr_SetString(PyExc_ValueError, "qps: at most 64 actions");
                return NULL;
            }
            const char *a = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
            double q = PyFloat_AsDouble(value);
            if (a == NULL || (q == -1.0 && PyErr_Occurred())) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_TypeError, "qps keys must be action names (str)");
                return NULL;
            }
            qps_limits[qps_count].action = a;
            qps_limits[qps_count].qps = q;
            qps_count++;
        }
    }

    tcf_config_options config = TCF_CONFIG_OPTIONS_INIT;
    tcf_client_options options = TCF_CLIENT_OPTIONS_INIT;
    options.retry = &retry;
    options.qps_off = qps_off;
    options.qps_limits = qps_count ? qps_limits : NULL;
    options.qps_limit_count = qps_count;
    options.encrypt = encrypt > 0;
    options.encryption = o_encryption != NULL && o_encryption != Py_None ? &encryption : NULL;
    const char *request_client = NULL;
    if (get_text(st, o_secret_id, "secret_id", 1, &config.secret_id) < 0 ||
        get_text(st, o_secret_key, "secret_key", 1, &config.secret_key) < 0 ||
        get_text(st, o_token, "token", 1, &config.token) < 0 ||
        get_text(st, o_region, "region", 1, &config.region) < 0 ||
        get_text(st, o_endpoint, "endpoint", 1, &config.endpoint) < 0 ||
        get_text(st, o_language, "language", 1, &config.language) < 0 ||
        get_text(st, o_proxy, "proxy", 1, &options.proxy) < 0 ||
        get_text(st, o_ca_bundle, "ca_bundle", 1, &options.ca_bundle) < 0 ||
        get_text(st, o_request_client, "request_client", 1, &request_client) < 0)
        return NULL;
    config.request_client = request_client ? request_client : DEFAULT_REQUEST_CLIENT;
    if (timeout_ms(st, connect_timeout, "connect_timeout", &options.connect_timeout_ms) < 0 ||
        timeout_ms(st, timeout, "timeout", &options.timeout_ms) < 0)
        return NULL;
    /* Only True or False: verify=None or a CA path (requests-style) must not mean "insecure". */
    if (o_verify != NULL && o_verify != Py_True && o_verify != Py_False) {
        PyErr_Format(PyExc_TypeError,
                     "verify must be True or False (give a CA file as ca_bundle), not %.100s",
                     Py_TYPE(o_verify)->tp_name);
        return NULL;
    }
    options.insecure_skip_tls_verify = o_verify == Py_False;
    if (o_log == Py_None)
        o_log = NULL;
    if (o_log != NULL && !PyCallable_Check(o_log)) {
        PyErr_Format(PyExc_TypeError, "log must be a callable or None, not %.100s",
                     Py_TYPE(o_log)->tp_name);
        return NULL;
    }
    if ((config.secret_id == NULL) != (config.secret_key == NULL))
        return raise_local(st, TCF_EINVAL,
                           "give secret_id and secret_key together (or neither, to read them "
                           "from the environment or the profile file)");
    tcf_credentials *chain = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    if (config.secret_id == NULL) {
        if (config.token != NULL && config.token[0] != '\0')
            return raise_local(st, TCF_EINVAL, "token given without secret_id and secret_key");
        int rc = tcf_credentials_new_chain(&chain, &err);
        if (rc != 0)
            return raise_tcf(st, &err, rc);
        config.credentials = chain;
    }

    ClientObject *self = (ClientObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        tcf_credentials_free(chain);
        return NULL;
    }
    if (pthread_mutex_init(&self->mu, NULL) != 0) {
        tcf_credentials_free(chain);
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    if (pthread_cond_init(&self->idle, NULL) != 0) {
        pthread_mutex_destroy(&self->mu);
        tcf_credentials_free(chain);
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->sync_ready = 1;
    self->log = Py_XNewRef(o_log);
    if (o_log != NULL) {
        options.log = log_trampoline;
        options.log_user = self;
    }
    int rc = tcf_config_new(&self->config, &config, &err);
    if (rc == 0) {
        /* The core logs a warning here when verify is False: the log callback may run. */
        NOGIL_BEGIN
        rc = tcf_client_new(&self->client, &config, &options, &err);
        NOGIL_END
    }
    tcf_credentials_free(chain); /* the config and the client hold their own copies */
    if (rc != 0) {
        raise_tcf(st, &err, rc);
        Py_DECREF(self);
        return NULL;
    }
    self->endpoint = endpoint_of(st, self->config);
    if (self->endpoint == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

PyDoc_STRVAR(client_call_doc,
             "call($self, /, action, params, retry=None, encrypt=None)\n--\n\n"
             "Send a signed request with the retry policy (the client's, or retry: a dict of\n"
             "retry options for this call) and wait for the answer, with the GIL\n"
             "released. params: the JSON object as bytes-like or str, sent unchanged\n"
             "unless encrypt (None: the client's default; True/False) encrypts its fields;\n"
             "an encrypted response is decrypted.\n"
             "Returns (the Response object without RequestId as JSON bytes, request_id or\n"
             "None). Raises the mapped Error subclass; StateError once closed.");

static PyObject *client_call(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames)
{
    static const char *const names[] = {"action", "params", "retry", "encrypt"};
    core_state *st = (core_state *)PyType_GetModuleState(Py_TYPE(self));
    PyObject *v[4];
    const char *action;
    if (st == NULL || match_args("call", names, 4, 4, 2, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "action", 0, &action) < 0)
        return NULL;
    tcf_retry_options retry = TCF_RETRY_OPTIONS_INIT;
    tcf_call_options call_opts = TCF_CALL_OPTIONS_INIT;
    if (get_encrypt_flag(v[3], &call_opts.encrypt) < 0)
        return NULL;
    if (v[2] != NULL && v[2] != Py_None) {
        if (get_retry(v[2], &retry) < 0)
            return NULL;
        call_opts.retry = &retry;
    }
    byte_input params;
    if (byte_input_get(&params, v[1], "params", 1) < 0)
        return NULL;
    call_frame frame;
    if (client_enter(self, st, &frame) < 0) {
        byte_input_release(&params);
        return NULL;
    }
    tcf_response *resp = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    NOGIL_BEGIN
    rc = tcf_client_call_ex(self->client, action, params.data, params.len, &call_opts, &resp, &err);
    NOGIL_END
    client_leave(self, &frame);
    byte_input_release(&params);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    size_t len = 0;
    const char *json = tcf_response_json(resp, &len);
    PyObject *result =
        Py_BuildValue("(y#N)", json, (Py_ssize_t)len, str_or_none(tcf_response_request_id(resp)));
    tcf_response_free(resp);
    return result;
}

static PyObject *request_tuple(const tcf_request *req)
{
    size_t count = tcf_request_header_count(req);
    PyObject *headers = PyList_New((Py_ssize_t)count);
    if (headers == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        PyObject *pair = Py_BuildValue("(ss)", tcf_request_header_name(req, i),
                                       tcf_request_header_value(req, i));
        if (pair == NULL) {
            Py_DECREF(headers);
            return NULL;
        }
        PyList_SET_ITEM(headers, (Py_ssize_t)i, pair);
    }
    size_t body_len = 0;
    const char *body = tcf_request_body(req, &body_len);
    return Py_BuildValue("(ssNy#)", tcf_request_method(req), tcf_request_url(req), headers, body,
                         (Py_ssize_t)body_len);
}

PyDoc_STRVAR(client_prepare_doc,
             "prepare($self, /, action, params, timestamp)\n--\n\n"
             "Build and sign a request without sending it (sans-IO, tcf_build) with the\n"
             "client's configuration. Returns (method, url, headers: [(name, value), ...],\n"
             "body: bytes). Send exactly these headers and body.");

static PyObject *client_prepare(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                                PyObject *kwnames)
{
    static const char *const names[] = {"action", "params", "timestamp"};
    core_state *st = (core_state *)PyType_GetModuleState(Py_TYPE(self));
    PyObject *v[3];
    const char *action;
    long long timestamp;
    if (st == NULL || match_args("prepare", names, 3, 3, 3, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "action", 0, &action) < 0 ||
        get_long_long(v[2], "timestamp", &timestamp) < 0)
        return NULL;
    byte_input params;
    if (byte_input_get(&params, v[1], "params", 1) < 0)
        return NULL;
    call_frame frame;
    if (client_enter(self, st, &frame) < 0) {
        byte_input_release(&params);
        return NULL;
    }
    tcf_request *req = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    if (params.len >= NOGIL_MIN_BYTES) {
        NOGIL_BEGIN
        rc = tcf_build(&req, self->config, action, params.data, params.len, timestamp, &err);
        NOGIL_END
    } else {
        rc = tcf_build(&req, self->config, action, params.data, params.len, timestamp, &err);
    }
    client_leave(self, &frame);
    byte_input_release(&params);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    PyObject *result = request_tuple(req);
    tcf_request_free(req);
    return result;
}

static int called_from_own_call(ClientObject *self)
{
    for (call_frame *f = tls_frames; f != NULL; f = f->prev)
        if (f->client == self)
            return 1;
    return 0;
}

PyDoc_STRVAR(client_close_doc,
             "close($self, /)\n--\n\n"
             "Close the client: later calls raise StateError. Waits (GIL released) for the\n"
             "calls in flight on other threads to finish, then frees the connections.\n"
             "Idempotent. From inside a call of this client (the log callback) it does not\n"
             "wait: the last call in flight frees the client when it returns.");

static PyObject *client_close(ClientObject *self, PyObject *unused)
{
    (void)unused;
    tcf_client *client = NULL;
    tcf_config *config = NULL;
    if (called_from_own_call(self)) {
        pthread_mutex_lock(&self->mu);
        self->closed = 1;
        pthread_mutex_unlock(&self->mu);
        Py_RETURN_NONE;
    }
    /* Never wait for the GIL while holding mu: release the GIL first. */
    NOGIL_BEGIN
    pthread_mutex_lock(&self->mu);
    self->closed = 1;
    self->waiting++;
    while (self->in_flight > 0)
        pthread_cond_wait(&self->idle, &self->mu);
    self->waiting--;
    client = self->client;
    config = self->config;
    self->client = NULL;
    self->config = NULL;
    pthread_mutex_unlock(&self->mu);
    free_native(client, config);
    NOGIL_END
    Py_RETURN_NONE;
}

static PyObject *client_enter_ctx(ClientObject *self, PyObject *unused)
{
    (void)unused;
    return Py_NewRef(self);
}

static PyObject *client_exit_ctx(ClientObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)args;
    (void)nargs;
    PyObject *r = client_close(self, NULL);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_FALSE;
}

static PyObject *client_get_endpoint(ClientObject *self, void *closure)
{
    (void)closure;
    return Py_NewRef(self->endpoint);
}

static PyObject *client_repr(ClientObject *self)
{
    pthread_mutex_lock(&self->mu);
    int closed = self->closed;
    pthread_mutex_unlock(&self->mu);
    return PyUnicode_FromFormat("<%s endpoint=%R%s>", Py_TYPE(self)->tp_name,
                                self->endpoint ? self->endpoint : Py_None, closed ? " closed" : "");
}

/* ---------------------------------------------------------------------------------------------
 * Element checks and PaaS calls (tcf_check, docs/checks.md): inputs, media, outcomes
 * ------------------------------------------------------------------------------------------- */

/* The keyword names of a check's inputs, in the order of check_input_get's v[]. */
enum {
    P_ID_CARD,
    P_NAME,
    P_PHONE,
    P_BANK_CARD,
    P_VALIDITY_BEGIN,
    P_VALIDITY_END,
    P_LIVENESS_TYPE,
    P_VALIDATE_DATA,
    P_VIDEO,
    P_VIDEO_URL,
    P_IMAGE,
    P_IMAGE_URL,
    P_BEST_FRAME_NUM,
    P_VERIFY_MODE,
    P_EXTRA,
    P_ROUTE,
    P_COUNT
};

#define CHECK_INPUT_NAMES                                                                          \
    "id_card", "name", "phone", "bank_card", "validity_begin", "validity_end", "liveness_type",    \
        "validate_data", "video", "video_url", "image", "image_url", "best_frame_num",             \
        "verify_mode", "extra", "route"

/* A video or an image from Python: bytes-like (the file's content, held through the buffer
 * protocol, no copy), os.PathLike (a file the core reads: its fsencoded path) or str (base64
 * text, borrowed from the str). Kept alive until check_input_release. */
typedef struct media_input {
    Py_buffer view;
    int has_view;
    PyObject *path; /* bytes from PyUnicode_FSConverter, or NULL */
    int large;      /* the core encodes or cleans it: release the GIL */
} media_input;

typedef struct check_input {
    tcf_check_params p;
    media_input video;
    media_input image;
} check_input;

static int media_input_get(core_state *st, media_input *m, PyObject *obj, const char *name,
                           tcf_media *out)
{
    if (obj == NULL || obj == Py_None)
        return 0;
    if (PyUnicode_Check(obj)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
        if (s == NULL)
            return -1;
        if (strlen(s) != (size_t)n) {
            raise_local(st, TCF_EINVAL,
                        "%s: a str is base64 text and contains a NUL character (pass "
                        "pathlib.Path for a file, bytes for its content)",
                        name);
            return -1;
        }
        out->base64 = s;
        out->base64_len = (size_t)n;
        m->large = (size_t)n >= NOGIL_MIN_BYTES;
        return 0;
    }
    if (PyObject_CheckBuffer(obj)) {
        if (PyObject_GetBuffer(obj, &m->view, PyBUF_SIMPLE) != 0)
            return -1;
        m->has_view = 1;
        out->bytes = m->view.buf;
        out->bytes_len = (size_t)m->view.len;
        m->large = out->bytes_len >= NOGIL_MIN_BYTES / 2;
        return 0;
    }
    if (PyObject_HasAttrString(obj, "__fspath__")) {
        if (!PyUnicode_FSConverter(obj, &m->path))
            return -1;
        out->path = PyBytes_AS_STRING(m->path);
        m->large = 1;
        return 0;
    }
    PyErr_Format(PyExc_TypeError,
                 "%s must be bytes-like (the file's content), os.PathLike (a file) or str "
                 "(base64), not %.100s",
                 name, Py_TYPE(obj)->tp_name);
    return -1;
}

static void media_input_release(media_input *m)
{
    if (m->has_view) {
        PyBuffer_Release(&m->view);
        m->has_view = 0;
    }
    Py_CLEAR(m->path);
}

static void check_input_release(check_input *in)
{
    media_input_release(&in->video);
    media_input_release(&in->image);
}

/* An optional int argument as a C int: None or absent gives dflt; values outside int pass as
 * INT_MIN / INT_MAX so that the core's range check names the field. */
static int get_int_arg(PyObject *obj, const char *name, int dflt, int *out)
{
    *out = dflt;
    if (obj == NULL || obj == Py_None)
        return 0;
    long long v;
    if (get_long_long(obj, name, &v) < 0)
        return -1;
    *out = v < INT_MIN ? INT_MIN : v > INT_MAX ? INT_MAX : (int)v;
    return 0;
}

/* v[0..P_COUNT) (borrowed, NULL: absent) -> in->p; on failure everything held is released. */
static int check_input_get(core_state *st, check_input *in, PyObject *const *v)
{
    tcf_check_params init = TCF_CHECK_PARAMS_INIT;
    memset(in, 0, sizeof *in);
    in->p = init;
    tcf_check_params *p = &in->p;
    const char *route = NULL;
    if (get_text(st, v[P_ID_CARD], "id_card", 1, &p->id_card) < 0 ||
        get_text(st, v[P_NAME], "name", 1, &p->name) < 0 ||
        get_text(st, v[P_PHONE], "phone", 1, &p->phone) < 0 ||
        get_text(st, v[P_BANK_CARD], "bank_card", 1, &p->bank_card) < 0 ||
        get_text(st, v[P_VALIDITY_BEGIN], "validity_begin", 1, &p->validity_begin) < 0 ||
        get_text(st, v[P_VALIDITY_END], "validity_end", 1, &p->validity_end) < 0 ||
        get_text(st, v[P_LIVENESS_TYPE], "liveness_type", 1, &p->liveness_type) < 0 ||
        get_text(st, v[P_VALIDATE_DATA], "validate_data", 1, &p->validate_data) < 0 ||
        get_text(st, v[P_VIDEO_URL], "video_url", 1, &p->video.url) < 0 ||
        get_text(st, v[P_IMAGE_URL], "image_url", 1, &p->image.url) < 0 ||
        get_text(st, v[P_EXTRA], "extra", 1, &p->extra) < 0 ||
        get_text(st, v[P_ROUTE], "route", 1, &route) < 0 ||
        get_int_arg(v[P_BEST_FRAME_NUM], "best_frame_num", 0, &p->best_frame_num) < 0 ||
        get_int_arg(v[P_VERIFY_MODE], "verify_mode", -1, &p->verify_mode) < 0)
        return -1;
    if (route == NULL || strcmp(route, "generic") == 0) {
        p->phone_route = TCF_PHONE_ROUTE_GENERIC;
    } else if (strcmp(route, "auto") == 0) {
        p->phone_route = TCF_PHONE_ROUTE_AUTO;
    } else {
        raise_local(st, TCF_EINVAL, "route must be \"generic\" or \"auto\"");
        return -1;
    }
    if (media_input_get(st, &in->video, v[P_VIDEO], "video", &p->video) < 0 ||
        media_input_get(st, &in->image, v[P_IMAGE], "image", &p->image) < 0) {
        check_input_release(in);
        return -1;
    }
    return 0;
}

/* The core asks whether a file name was given instead of base64 text: in Python a str is always
 * base64 text, so say how to pass a file here. */
static void media_path_hint(const check_input *in, tcf_error *err)
{
    static const char hint[] = " (in Python: a pathlib.Path; a str is base64 text)";
    if ((in->p.video.base64 == NULL && in->p.image.base64 == NULL) || err->code != TCF_EINVAL ||
        strstr(err->message, "a file name given instead") == NULL)
        return;
    size_t n = strlen(err->message);
    if (n + sizeof hint <= sizeof err->message)
        memcpy(err->message + n, hint, sizeof hint);
}

/* (action, status, result, billed, matched, meaning, sim, sim_threshold, response_json: bytes,
 * request_id); billed / matched / sim / sim_threshold / request_id None when unknown. */
static PyObject *outcome_tuple(const tcf_check_outcome *o)
{
    const char *status = tcf_check_status_name(tcf_check_outcome_status(o));
    const char *result = tcf_check_outcome_result(o);
    int billed = tcf_check_outcome_billed(o);
    int matched = tcf_check_outcome_matched(o);
    double sim = 0;
    int has_sim = tcf_check_outcome_sim(o, &sim) == 0;
    double threshold = tcf_check_outcome_sim_threshold(o);
    size_t len = 0;
    const char *json = tcf_check_outcome_json(o, &len);
    if (result == NULL)
        result = "";
    return Py_BuildValue(
        "(sNNNNsNNy#N)", tcf_check_outcome_action(o),
        PyUnicode_FromString(status ? status : "unknown"),
        PyUnicode_DecodeUTF8(result, (Py_ssize_t)strlen(result), "replace"),
        billed < 0 ? Py_NewRef(Py_None) : PyBool_FromLong(billed),
        matched < 0 ? Py_NewRef(Py_None) : PyBool_FromLong(matched), tcf_check_outcome_meaning(o),
        has_sim ? PyFloat_FromDouble(sim) : Py_NewRef(Py_None),
        threshold < 0 ? Py_NewRef(Py_None) : PyFloat_FromDouble(threshold), json ? json : "{}",
        (Py_ssize_t)(json ? len : 2), str_or_none(tcf_check_outcome_request_id(o)));
}

PyDoc_STRVAR(client_check_doc,
             "check($self, /, action, *, id_card=None, name=None, phone=None, bank_card=None,\n"
             "    validity_begin=None, validity_end=None, liveness_type=None,\n"
             "    validate_data=None, video=None, video_url=None, image=None, image_url=None,\n"
             "    best_frame_num=None, verify_mode=None, extra=None, route=None, retry=None,\n"
             "    encrypt=None)\n--\n\n"
             "One element check or PaaS call (tcf_check), the GIL released: every input\n"
             "validated first (InvalidArgumentError naming the field; nothing is sent), the\n"
             "body built once (media: bytes-like content, os.PathLike file or base64 str),\n"
             "sent with the retry policy, the outcome decided. route: \"generic\" or \"auto\"\n"
             "(PhoneVerification by carrier). Daily limits raise RateLimitedError. Returns\n"
             "(action, status, result, billed, matched, meaning, sim, sim_threshold,\n"
             "response_json, request_id).");

static PyObject *client_check(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames)
{
    static const char *const names[] = {"action", CHECK_INPUT_NAMES, "retry", "encrypt"};
    enum { N = 1 + P_COUNT + 2 };
    core_state *st = (core_state *)PyType_GetModuleState(Py_TYPE(self));
    PyObject *v[N];
    const char *action;
    if (st == NULL || match_args("check", names, N, 1, 1, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "action", 0, &action) < 0)
        return NULL;
    tcf_retry_options retry = TCF_RETRY_OPTIONS_INIT;
    tcf_call_options call_opts = TCF_CALL_OPTIONS_INIT;
    if (get_encrypt_flag(v[N - 1], &call_opts.encrypt) < 0)
        return NULL;
    if (v[N - 2] != NULL && v[N - 2] != Py_None) {
        if (get_retry(v[N - 2], &retry) < 0)
            return NULL;
        call_opts.retry = &retry;
    }
    check_input in;
    if (check_input_get(st, &in, v + 1) < 0)
        return NULL;
    call_frame frame;
    if (client_enter(self, st, &frame) < 0) {
        check_input_release(&in);
        return NULL;
    }
    tcf_check_outcome *out = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    NOGIL_BEGIN
    rc = tcf_check(self->client, action, &in.p, &call_opts, &out, &err);
    NOGIL_END
    client_leave(self, &frame);
    if (rc != 0)
        media_path_hint(&in, &err);
    check_input_release(&in);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    PyObject *result = outcome_tuple(out);
    tcf_check_outcome_free(out);
    return result;
}

/* retry / encrypt of a call without other inputs. */
static int call_options_get(PyObject *retry_obj, PyObject *encrypt_obj, tcf_retry_options *retry,
                            tcf_call_options *opts)
{
    if (get_encrypt_flag(encrypt_obj, &opts->encrypt) < 0)
        return -1;
    if (retry_obj != NULL && retry_obj != Py_None) {
        if (get_retry(retry_obj, retry) < 0)
            return -1;
        opts->retry = retry;
    }
    return 0;
}

PyDoc_STRVAR(client_get_live_code_doc,
             "get_live_code($self, /, retry=None, encrypt=None)\n--\n\n"
             "GetLiveCode (tcf_get_live_code), the GIL released: the 4 digits for LIP\n"
             "liveness (ValidateData of LivenessRecognition / LivenessCompare).");

static PyObject *client_get_live_code(ClientObject *self, PyObject *const *args, Py_ssize_t nargs,
                                      PyObject *kwnames)
{
    static const char *const names[] = {"retry", "encrypt"};
    core_state *st = (core_state *)PyType_GetModuleState(Py_TYPE(self));
    PyObject *v[2];
    tcf_retry_options retry = TCF_RETRY_OPTIONS_INIT;
    tcf_call_options call_opts = TCF_CALL_OPTIONS_INIT;
    if (st == NULL || match_args("get_live_code", names, 2, 2, 0, args, nargs, kwnames, v) < 0 ||
        call_options_get(v[0], v[1], &retry, &call_opts) < 0)
        return NULL;
    call_frame frame;
    if (client_enter(self, st, &frame) < 0)
        return NULL;
    char code[5] = {0};
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    NOGIL_BEGIN
    rc = tcf_get_live_code(self->client, &call_opts, code, &err);
    NOGIL_END
    client_leave(self, &frame);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    return PyUnicode_FromString(code);
}

PyDoc_STRVAR(client_get_action_sequence_doc,
             "get_action_sequence($self, /, retry=None, encrypt=None)\n--\n\n"
             "GetActionSequence (tcf_get_action_sequence), the GIL released: the sequence\n"
             "(\"2,1\"; 1 open mouth, 2 close eyes) for ACTION liveness.");

static PyObject *client_get_action_sequence(ClientObject *self, PyObject *const *args,
                                            Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"retry", "encrypt"};
    core_state *st = (core_state *)PyType_GetModuleState(Py_TYPE(self));
    PyObject *v[2];
    tcf_retry_options retry = TCF_RETRY_OPTIONS_INIT;
    tcf_call_options call_opts = TCF_CALL_OPTIONS_INIT;
    if (st == NULL ||
        match_args("get_action_sequence", names, 2, 2, 0, args, nargs, kwnames, v) < 0 ||
        call_options_get(v[0], v[1], &retry, &call_opts) < 0)
        return NULL;
    call_frame frame;
    if (client_enter(self, st, &frame) < 0)
        return NULL;
    char seq[64] = {0};
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    NOGIL_BEGIN
    rc = tcf_get_action_sequence(self->client, &call_opts, seq, sizeof seq, &err);
    NOGIL_END
    client_leave(self, &frame);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    return PyUnicode_FromString(seq);
}

PyDoc_STRVAR(check_body_doc,
             "check_body($module, /, action, *, id_card=None, name=None, ..., route=None,\n"
             "    today=0)\n--\n\n"
             "The exact body of one check (tcf_check_body; the inputs of Client.check),\n"
             "every input validated; sans-IO, for transports of your own. Large media are\n"
             "encoded with the GIL released. Returns bytes.");

static PyObject *core_check_body(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                 PyObject *kwnames)
{
    static const char *const names[] = {"action", CHECK_INPUT_NAMES, "today"};
    enum { N = 1 + P_COUNT + 1 };
    core_state *st = module_state(module);
    PyObject *v[N];
    const char *action;
    long long today = 0;
    if (match_args("check_body", names, N, 1, 1, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "action", 0, &action) < 0 ||
        (v[N - 1] != NULL && get_long_long(v[N - 1], "today", &today) < 0))
        return NULL;
    check_input in;
    if (check_input_get(st, &in, v + 1) < 0)
        return NULL;
    char *json = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    if (in.video.large || in.image.large) {
        NOGIL_BEGIN
        rc = tcf_check_body(&json, &len, action, &in.p, today, &err);
        NOGIL_END
    } else {
        rc = tcf_check_body(&json, &len, action, &in.p, today, &err);
    }
    if (rc != 0)
        media_path_hint(&in, &err);
    check_input_release(&in);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    PyObject *result = PyBytes_FromStringAndSize(json, (Py_ssize_t)len);
    tcf_string_free(json);
    return result;
}

PyDoc_STRVAR(check_outcome_doc,
             "check_outcome($module, /, action, response_json)\n--\n\n"
             "The typed outcome of one recorded response of action (the Response object or\n"
             "the {\"Response\": ...} envelope, bytes-like or str): tcf_check_outcome_from_json,\n"
             "and for a PaaS business result that came as Response.Error,\n"
             "tcf_check_outcome_from_api_error. Returns the tuple of Client.check; raises\n"
             "InvalidArgumentError (unknown action), JSONError, or the API error.");

static PyObject *core_check_outcome(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                    PyObject *kwnames)
{
    static const char *const names[] = {"action", "response_json"};
    core_state *st = module_state(module);
    PyObject *v[2];
    const char *action;
    if (match_args("check_outcome", names, 2, 2, 2, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "action", 0, &action) < 0)
        return NULL;
    byte_input body;
    if (byte_input_get(&body, v[1], "response_json", 1) < 0)
        return NULL;
    tcf_check_outcome *out = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    if (body.len >= NOGIL_MIN_BYTES) {
        NOGIL_BEGIN
        rc = tcf_check_outcome_from_json(&out, action, body.data, body.len, &err);
        NOGIL_END
    } else {
        rc = tcf_check_outcome_from_json(&out, action, body.data, body.len, &err);
    }
    byte_input_release(&body);
    if (rc == TCF_EAPI || (rc != 0 && err.code == TCF_EAPI)) {
        tcf_error err2;
        tcf_error_clear(&err2);
        int rc2 =
            tcf_check_outcome_from_api_error(&out, action, err.api_code, err.request_id, &err2);
        if (rc2 != 0)
            return raise_tcf(st, &err2, rc2);
        if (out != NULL)
            rc = 0;
    }
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    PyObject *result = outcome_tuple(out);
    tcf_check_outcome_free(out);
    return result;
}

PyDoc_STRVAR(validate_id_card_doc,
             "validate_id_card($module, /, id, today=0)\n--\n\n"
             "The ID number as the helpers send it (tcf_normalize_id_card): a trailing x\n"
             "becomes X, then tcf_check_id_card (today: Unix seconds, 0 skips the birth-date "
             "check). Raises\n"
             "InvalidArgumentError, whose message never contains the value.");

static PyObject *core_validate_id_card(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                       PyObject *kwnames)
{
    static const char *const names[] = {"id", "today"};
    core_state *st = module_state(module);
    PyObject *v[2];
    const char *id;
    long long today = 0;
    if (match_args("validate_id_card", names, 2, 2, 1, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "id", 0, &id) < 0 ||
        (v[1] != NULL && v[1] != Py_None && get_long_long(v[1], "today", &today) < 0))
        return NULL;
    char out[19];
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_normalize_id_card(out, id, today, &err);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    return PyUnicode_FromString(out);
}

PyDoc_STRVAR(phone_route_doc,
             "phone_route($module, /, phone, verify_mode=-1)\n--\n\n"
             "The action a three-element check of phone uses with route=\"auto\"\n"
             "(tcf_phone_route_action; verify_mode -1/0 simple, 1 detailed), after\n"
             "tcf_check_phone. Raises InvalidArgumentError for an invalid number.");

static PyObject *core_phone_route(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames)
{
    static const char *const names[] = {"phone", "verify_mode"};
    core_state *st = module_state(module);
    PyObject *v[2];
    const char *phone;
    int mode = -1;
    if (match_args("phone_route", names, 2, 2, 1, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "phone", 0, &phone) < 0 ||
        get_int_arg(v[1], "verify_mode", -1, &mode) < 0)
        return NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_check_phone(phone, &err);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    const char *action = tcf_phone_route_action(phone, mode);
    return PyUnicode_FromString(action ? action : "PhoneVerification");
}

PyDoc_STRVAR(phone_recent_range_doc,
             "phone_recent_range($module, /, phone)\n--\n\n"
             "tcf_phone_recent_range: 1 a recently opened range (190-197: carriers' checks may\n"
             "not know new numbers yet), 0 not, -1 not a valid number.");

static PyObject *core_phone_recent_range(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                         PyObject *kwnames)
{
    static const char *const names[] = {"phone"};
    core_state *st = module_state(module);
    PyObject *v[1];
    const char *phone;
    if (match_args("phone_recent_range", names, 1, 1, 1, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "phone", 0, &phone) < 0)
        return NULL;
    return PyLong_FromLong(tcf_phone_recent_range(phone));
}

PyDoc_STRVAR(estimate_cost_doc,
             "estimate_cost($module, /, action, calls, verify_mode=-1)\n--\n\n"
             "tcf_estimate_cost: (calls, per_call_fen, postpaid_fen, best_fen,\n"
             "[(package size, count, price_fen), ...], postpaid_calls), in fen (0.01 CNY).\n"
             "InvalidArgumentError for an action without a documented price.");

static PyObject *core_estimate_cost(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                    PyObject *kwnames)
{
    static const char *const names[] = {"action", "calls", "verify_mode"};
    core_state *st = module_state(module);
    PyObject *v[3];
    const char *action;
    long long calls;
    int mode = -1;
    if (match_args("estimate_cost", names, 3, 3, 2, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "action", 0, &action) < 0 || get_long_long(v[1], "calls", &calls) < 0 ||
        get_int_arg(v[2], "verify_mode", -1, &mode) < 0)
        return NULL;
    tcf_cost_estimate est;
    memset(&est, 0, sizeof est);
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_estimate_cost(&est, action, mode, calls, &err);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    size_t kinds = est.package_kinds;
    if (kinds > sizeof est.packages / sizeof est.packages[0])
        kinds = sizeof est.packages / sizeof est.packages[0];
    PyObject *packages = PyList_New((Py_ssize_t)kinds);
    if (packages == NULL)
        return NULL;
    for (size_t i = 0; i < kinds; i++) {
        PyObject *item = Py_BuildValue("(LLL)", est.packages[i].size, est.packages[i].count,
                                       est.packages[i].price_fen);
        if (item == NULL) {
            Py_DECREF(packages);
            return NULL;
        }
        PyList_SET_ITEM(packages, (Py_ssize_t)i, item);
    }
    return Py_BuildValue("(LLLLNL)", est.calls, est.per_call_fen, est.postpaid_fen, est.best_fen,
                         packages, est.postpaid_calls);
}

PyDoc_STRVAR(live_code_from_json_doc,
             "live_code_from_json($module, /, response_json)\n--\n\n"
             "The LiveCode of a GetLiveCode answer (tcf_live_code_from_json; sans-IO).");

static PyObject *core_live_code_from_json(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                          PyObject *kwnames)
{
    static const char *const names[] = {"response_json"};
    core_state *st = module_state(module);
    PyObject *v[1];
    if (match_args("live_code_from_json", names, 1, 1, 1, args, nargs, kwnames, v) < 0)
        return NULL;
    byte_input body;
    if (byte_input_get(&body, v[0], "response_json", 1) < 0)
        return NULL;
    char code[5] = {0};
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_live_code_from_json(code, body.data, body.len, &err);
    byte_input_release(&body);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    return PyUnicode_FromString(code);
}

PyDoc_STRVAR(action_sequence_from_json_doc,
             "action_sequence_from_json($module, /, response_json)\n--\n\n"
             "The ActionSequence of a GetActionSequence answer (tcf_action_sequence_from_json;\n"
             "sans-IO).");

static PyObject *core_action_sequence_from_json(PyObject *module, PyObject *const *args,
                                                Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"response_json"};
    core_state *st = module_state(module);
    PyObject *v[1];
    if (match_args("action_sequence_from_json", names, 1, 1, 1, args, nargs, kwnames, v) < 0)
        return NULL;
    byte_input body;
    if (byte_input_get(&body, v[0], "response_json", 1) < 0)
        return NULL;
    char seq[64] = {0};
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_action_sequence_from_json(seq, sizeof seq, body.data, body.len, &err);
    byte_input_release(&body);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    return PyUnicode_FromString(seq);
}

/* Constants of the checks, set on the module at exec. */
static int add_check_constants(PyObject *module)
{
    if (PyModule_AddObject(module, "SIM_THRESHOLD", PyFloat_FromDouble(TCF_SIM_THRESHOLD)) < 0 ||
        PyModule_AddObject(module, "SIM_V1_FAR_1E3", PyFloat_FromDouble(TCF_SIM_V1_FAR_1E3)) < 0 ||
        PyModule_AddObject(module, "SIM_V1_FAR_1E4", PyFloat_FromDouble(TCF_SIM_V1_FAR_1E4)) < 0 ||
        PyModule_AddIntConstant(module, "VIDEO_BASE64_MAX", (long)TCF_VIDEO_BASE64_MAX) < 0 ||
        PyModule_AddIntConstant(module, "IMAGE_BASE64_MAX", (long)TCF_IMAGE_BASE64_MAX) < 0)
        return -1;
    return 0;
}

static PyMethodDef client_methods[] = {
    {"call", (PyCFunction)(void (*)(void))client_call, METH_FASTCALL | METH_KEYWORDS,
     client_call_doc},
    {"prepare", (PyCFunction)(void (*)(void))client_prepare, METH_FASTCALL | METH_KEYWORDS,
     client_prepare_doc},
    {"check", (PyCFunction)(void (*)(void))client_check, METH_FASTCALL | METH_KEYWORDS,
     client_check_doc},
    {"get_live_code", (PyCFunction)(void (*)(void))client_get_live_code,
     METH_FASTCALL | METH_KEYWORDS, client_get_live_code_doc},
    {"get_action_sequence", (PyCFunction)(void (*)(void))client_get_action_sequence,
     METH_FASTCALL | METH_KEYWORDS, client_get_action_sequence_doc},
    {"close", (PyCFunction)(void (*)(void))client_close, METH_NOARGS, client_close_doc},
    {"__enter__", (PyCFunction)(void (*)(void))client_enter_ctx, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))client_exit_ctx, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static PyObject *client_get_clock_offset(ClientObject *self, void *closure)
{
    (void)closure;
    return PyLong_FromLongLong(self->client ? tcf_client_clock_offset(self->client) : 0);
}

static PyGetSetDef client_getset[] = {
    {"endpoint", (getter)(void (*)(void))client_get_endpoint, NULL,
     "The endpoint requests go to, e.g. \"https://faceid.tencentcloudapi.com\".", NULL},
    {"clock_offset", (getter)(void (*)(void))client_get_clock_offset, NULL,
     "Seconds added to the local clock when signing, learned from the service's Date header "
     "after AuthFailure.SignatureExpire (0 until then).",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef client_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ClientObject, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

PyDoc_STRVAR(client_doc,
             "Client(*, secret_id=None, secret_key=None, token=None, region=None, "
             "endpoint=None, language=None, connect_timeout=5.0, timeout=30.0, proxy=None, "
             "ca_bundle=None, verify=True, request_client=None, log=None)\n--\n\n"
             "A FaceID client over the C core's libcurl transport; safe to share between\n"
             "threads. Without secret_id and secret_key, credentials come from the\n"
             "environment, then the profile file. Timeouts are in seconds. log: None or a\n"
             "callable log(level: int, line: str). request_client: the suffix of\n"
             "X-TC-RequestClient (default \"" DEFAULT_REQUEST_CLIENT "\"; \"\" for none).");

static PyType_Slot client_slots[] = {
    {Py_tp_new, (void *)client_new},
    {Py_tp_dealloc, (void *)client_dealloc},
    {Py_tp_traverse, (void *)client_traverse},
    {Py_tp_clear, (void *)client_clear},
    {Py_tp_repr, (void *)client_repr},
    {Py_tp_methods, client_methods},
    {Py_tp_getset, client_getset},
    {Py_tp_members, client_members},
    {Py_tp_doc, (void *)client_doc},
    {0, NULL},
};

#ifdef Py_TPFLAGS_IMMUTABLETYPE
#define CLIENT_IMMUTABLE Py_TPFLAGS_IMMUTABLETYPE
#else
#define CLIENT_IMMUTABLE 0
#endif

static PyType_Spec client_spec = {
    "tcfaceid._core.Client",
    sizeof(ClientObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | CLIENT_IMMUTABLE,
    client_slots,
};

/* ---------------------------------------------------------------------------------------------
 * Multi and Op: calls driven by an event loop (tcf_multi; the asyncio glue is tcfaceid/aio.py)
 *
 * A Multi wraps one tcf_multi and belongs to the thread that created it (the loop's). The core's
 * watch/timer callbacks only queue what they ask for; once the core call has returned (with the
 * GIL held) the queue is replayed, in order, to the Python callables watch(fd, what) and
 * timer(ms), and every finished op is handed to done(op). So no Python code runs inside the core,
 * and the GIL can be released while a large body is encoded and signed at the start of an op.
 * Socket readiness and timers run with the GIL held: each step is non-blocking and short, and
 * getting the GIL back from a busy thread could cost the loop a switch interval each time.
 *
 * An Op holds everything the core borrows (the action and parameter strings, buffers, the
 * options) and an in_flight hold on its Client until it is finished or cancelled; while running
 * it also holds a reference to itself (like a pending I/O request, it cannot vanish).
 * ------------------------------------------------------------------------------------------- */

typedef struct loop_event {
    int fd;
    int what;
} loop_event;

typedef struct OpObject OpObject;

typedef struct MultiObject {
    PyObject_HEAD tcf_multi *multi; /* NULL once closed */
    PyObject *watch;                /* watch(fd, what) */
    PyObject *timer;                /* timer(ms) */
    PyObject *done;                 /* done(op) */
    loop_event *ev;                 /* the watch requests not yet replayed: ev[head..len) */
    size_t ev_head, ev_len, ev_cap;
    long timer_ms;
    int timer_set; /* a timer request not yet replayed */
    int oom;       /* a watch request was lost: the queue could not grow */
    int busy;      /* inside a core call */
    unsigned long owner;
    OpObject *running; /* started, not finished (doubly linked) */
    PyObject *weakrefs;
} MultiObject;

enum { OP_RUNNING, OP_FINISHED, OP_CANCELLED };

struct OpObject {
    PyObject_HEAD tcf_op *op;
    MultiObject *multi;   /* strong */
    ClientObject *client; /* strong, with an in_flight hold, while running */
    int is_check;
    int state;
    byte_input params;
    check_input in;
    tcf_retry_options retry;
    tcf_call_options opts;
    PyObject *inputs; /* the arguments whose text and buffers the core borrows */
    PyObject *user;
    PyObject *value; /* once finished: the result ... */
    PyObject *error; /* ... or the exception */
    OpObject *prev, *next;
};

static void multi_watch_cb(void *user, int fd, int what)
{
    MultiObject *m = user;
    if (m->ev_len == m->ev_cap) {
        size_t cap = m->ev_cap ? m->ev_cap * 2 : 16;
        loop_event *ev = realloc(m->ev, cap * sizeof *ev);
        if (ev == NULL) {
            m->oom = 1;
            return;
        }
        m->ev = ev;
        m->ev_cap = cap;
    }
    m->ev[m->ev_len].fd = fd;
    m->ev[m->ev_len].what = what;
    m->ev_len++;
}

static void multi_timer_cb(void *user, long ms)
{
    MultiObject *m = user;
    m->timer_ms = ms;
    m->timer_set = 1;
}

static int multi_usable(MultiObject *m, core_state *st)
{
    if (PyThread_get_thread_ident() != m->owner) {
        raise_local(st, TCF_ESTATE, "a Multi belongs to the thread that created it");
        return -1;
    }
    if (m->busy) {
        raise_local(st, TCF_ESTATE, "the Multi is already running a step (re-entered)");
        return -1;
    }
    if (m->multi == NULL) {
        raise_local(st, TCF_ESTATE, "the Multi is closed");
        return -1;
    }
    return 0;
}

/* The exception being raised, as an instance with its traceback (and no exception set). */
static PyObject *take_exception(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
}

/* After a failed callback (an exception set): keep the first exception in *first, report the
 * later ones as unraisable. */
static void keep_first(PyObject **first, PyObject *callback)
{
    if (*first == NULL)
        *first = take_exception();
    else
        PyErr_WriteUnraisable(callback);
}

/* Call cb(arg) (NULL once cleared); a failure goes to keep_first. */
static void call_back(PyObject **first, PyObject *cb, PyObject *arg)
{
    PyObject *r = cb ? PyObject_CallOneArg(cb, arg) : NULL;
    if (r == NULL && PyErr_Occurred())
        keep_first(first, cb);
    Py_XDECREF(r);
}

/* Hand each op of a list (linked by next) to done() and drop the reference the list held. */
static void hand_over(MultiObject *m, OpObject *list, PyObject **first)
{
    while (list != NULL) {
        OpObject *o = list;
        list = o->next;
        o->next = NULL;
        call_back(first, m->done, (PyObject *)o);
        Py_DECREF(o);
    }
}

/* Raise *first if set; -1 then. */
static int raise_first(PyObject *first)
{
    if (first == NULL)
        return 0;
    PyErr_SetObject((PyObject *)Py_TYPE(first), first);
    Py_DECREF(first);
    return -1;
}

/* Free the native op, the inputs and the client hold; unlink. The self-reference of a running
 * op is left to the caller. */
static void op_release(OpObject *o)
{
    MultiObject *m = o->multi;
    tcf_op_free(o->op);
    o->op = NULL;
    if (o->prev != NULL)
        o->prev->next = o->next;
    else if (m->running == o)
        m->running = o->next;
    if (o->next != NULL)
        o->next->prev = o->prev;
    o->prev = o->next = NULL;
    byte_input_release(&o->params);
    check_input_release(&o->in);
    Py_CLEAR(o->inputs);
    if (o->client != NULL) {
        client_release(o->client);
        Py_CLEAR(o->client);
    }
}

/* A finished op: its result (or exception) is taken now and the native side freed. */
static void op_finish(core_state *st, OpObject *o)
{
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    if (o->is_check) {
        tcf_check_outcome *out = NULL;
        rc = tcf_op_check_result(o->op, &out, &err);
        if (rc == 0) {
            o->value = outcome_tuple(out);
            tcf_check_outcome_free(out);
        } else {
            media_path_hint(&o->in, &err);
        }
    } else {
        tcf_response *resp = NULL;
        rc = tcf_op_result(o->op, &resp, &err);
        if (rc == 0) {
            size_t len = 0;
            const char *json = tcf_response_json(resp, &len);
            o->value = Py_BuildValue("(y#N)", json, (Py_ssize_t)len,
                                     str_or_none(tcf_response_request_id(resp)));
            tcf_response_free(resp);
        }
    }
    if (rc != 0)
        raise_tcf(st, &err, rc);
    if (o->value == NULL)
        o->error = take_exception();
    o->state = OP_FINISHED;
    op_release(o);
}

/* Replay the queued watch/timer requests to Python, then finish and hand over the finished ops.
 * Every request is replayed even when one callback fails; the first failure is raised. */
static int multi_flush(MultiObject *m, core_state *st)
{
    PyObject *first = NULL;
    while (m->ev_head < m->ev_len) {
        loop_event e = m->ev[m->ev_head++];
        PyObject *r = m->watch ? PyObject_CallFunction(m->watch, "ii", e.fd, e.what) : NULL;
        if (r == NULL && PyErr_Occurred())
            keep_first(&first, m->watch);
        Py_XDECREF(r);
    }
    m->ev_head = m->ev_len = 0;
    if (m->timer_set) {
        m->timer_set = 0;
        PyObject *ms = PyLong_FromLong(m->timer_ms);
        if (ms == NULL)
            keep_first(&first, m->timer);
        else
            call_back(&first, m->timer, ms);
        Py_XDECREF(ms);
    }
    /* Every finished op is taken out of the core before any done() runs. */
    OpObject *finished = NULL;
    tcf_op *op;
    while (m->multi != NULL && (op = tcf_multi_next_done(m->multi)) != NULL) {
        OpObject *o = tcf_op_user(op);
        op_finish(st, o); /* keeps the running self-reference: now ours */
        o->next = finished;
        finished = o;
    }
    /* finishing order */
    OpObject *ordered = NULL;
    while (finished != NULL) {
        OpObject *o = finished;
        finished = o->next;
        o->next = ordered;
        ordered = o;
    }
    hand_over(m, ordered, &first);
    if (m->oom) {
        m->oom = 0;
        if (first == NULL) {
            PyErr_NoMemory();
            first = take_exception();
        }
    }
    return raise_first(first);
}

static PyObject *flush_result(MultiObject *m, core_state *st, PyObject *value)
{
    if (multi_flush(m, st) < 0) {
        Py_XDECREF(value);
        return NULL;
    }
    return value;
}

static PyObject *multi_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"watch", "timer", "done", "max_connections", NULL};
    PyObject *watch, *timer, *done;
    long max_connections = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO|l:Multi", kwlist, &watch, &timer, &done,
                                     &max_connections))
        return NULL;
    if (!PyCallable_Check(watch) || !PyCallable_Check(timer) || !PyCallable_Check(done)) {
        PyErr_SetString(PyExc_TypeError, "watch, timer and done must be callable");
        return NULL;
    }
    core_state *st = (core_state *)PyType_GetModuleState(type);
    if (st == NULL)
        return NULL;
    MultiObject *m = (MultiObject *)type->tp_alloc(type, 0);
    if (m == NULL)
        return NULL;
    m->owner = PyThread_get_thread_ident();
    m->watch = Py_NewRef(watch);
    m->timer = Py_NewRef(timer);
    m->done = Py_NewRef(done);
    tcf_multi_options mo = TCF_MULTI_OPTIONS_INIT;
    mo.user = m;
    mo.watch = multi_watch_cb;
    mo.timer = multi_timer_cb;
    mo.max_connections = max_connections;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_multi_new(&m->multi, &mo, &err);
    if (rc != 0) {
        Py_DECREF(m);
        return raise_tcf(st, &err, rc);
    }
    return (PyObject *)m;
}

static int multi_traverse(MultiObject *m, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(m));
    Py_VISIT(m->watch);
    Py_VISIT(m->timer);
    Py_VISIT(m->done);
    return 0;
}

static int multi_clear(MultiObject *m)
{
    Py_CLEAR(m->watch);
    Py_CLEAR(m->timer);
    Py_CLEAR(m->done);
    return 0;
}

static void multi_dealloc(MultiObject *m)
{
    PyTypeObject *tp = Py_TYPE(m);
    PyObject_GC_UnTrack(m);
    if (m->weakrefs != NULL)
        PyObject_ClearWeakRefs((PyObject *)m);
    /* No op is running (each holds a reference); the cached connections are closed. */
    tcf_multi_free(m->multi);
    m->multi = NULL;
    free(m->ev);
    multi_clear(m);
    tp->tp_free((PyObject *)m);
    Py_DECREF(tp);
}

PyDoc_STRVAR(multi_socket_doc,
             "socket($self, fd, events, /)\n--\n\n"
             "fd is ready (events: 1 readable, 2 writable, 0 unknown): run the transfers on\n"
             "it (tcf_multi_socket), then replay the watch/timer requests and hand the\n"
             "finished ops to done().");

static PyObject *multi_socket(MultiObject *m, PyObject *args)
{
    core_state *st = (core_state *)PyType_GetModuleState(Py_TYPE(m));
    int fd, events;
    if (st == NULL || !PyArg_ParseTuple(args, "ii:socket", &fd, &events))
        return NULL;
    if (multi_usable(m, st) < 0)
        return NULL;
    m->busy = 1;
    tcf_multi_socket(m->multi, fd, events & TCF_POLL_INOUT);
    m->busy = 0;
    return flush_result(m, st, Py_NewRef(Py_None));
}

PyDoc_STRVAR(multi_timeout_doc,
             "timeout($self, /)\n--\n\n"
             "The timer fired (tcf_multi_timeout): libcurl's timeouts, backoff and QPS waits;\n"
             "then as socket().");

static PyObject *multi_timeout(MultiObject *m, PyObject *unused)
{
    (void)unused;
    core_state *st = (core_state *)PyType_GetModuleState(Py_TYPE(m));
    if (st == NULL || multi_usable(m, st) < 0)
        return NULL;
    m->busy = 1;
    tcf_multi_timeout(m->multi);
    m->busy = 0;
    return flush_result(m, st, Py_NewRef(Py_None));
}

/* A new Op for client on m (not started): holds client, m and user. */
static OpObject *op_new(core_state *st, MultiObject *m, PyObject *client, PyObject *user)
{
    if (!PyObject_TypeCheck(client, (PyTypeObject *)st->client_type)) {
        PyErr_Format(PyExc_TypeError, "client must be a tcfaceid._core.Client, not %.100s",
                     Py_TYPE(client)->tp_name);
        return NULL;
    }
    PyTypeObject *tp = (PyTypeObject *)st->op_type;
    OpObject *o = (OpObject *)tp->tp_alloc(tp, 0);
    if (o == NULL)
        return NULL;
    tcf_retry_options r = TCF_RETRY_OPTIONS_INIT;
    tcf_call_options c = TCF_CALL_OPTIONS_INIT;
    o->retry = r;
    o->opts = c;
    o->multi = (MultiObject *)Py_NewRef(m);
    o->user = Py_XNewRef(user ? user : Py_None);
    o->state = OP_FINISHED; /* nothing to release until started */
    return o;
}

static int op_start_native(MultiObject *m, OpObject *o, const char *action, tcf_error *err)
{
    tcf_client *client = o->client->client;
    if (o->is_check)
        return tcf_op_start_check(&o->op, m->multi, client, action, &o->in.p, &o->opts, o, err);
    return tcf_op_start(&o->op, m->multi, client, action, o->params.data, o->params.len, &o->opts,
                        o, err);
}

/* Start o (its inputs are set): the client hold, the self-reference, the link. */
static PyObject *op_start(core_state *st, MultiObject *m, OpObject *o, ClientObject *client,
                          const char *action, int large)
{
    if (client_hold(client, st) < 0) {
        op_release(o);
        Py_DECREF(o);
        return NULL;
    }
    o->client = (ClientObject *)Py_NewRef(client);
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    m->busy = 1;
    if (large) {
        NOGIL_BEGIN
        rc = op_start_native(m, o, action, &err);
        NOGIL_END
    } else {
        rc = op_start_native(m, o, action, &err);
    }
    m->busy = 0;
    if (rc != 0) {
        o->op = NULL;
        if (o->is_check)
            media_path_hint(&o->in, &err);
        op_release(o);
        Py_DECREF(o);
        raise_tcf(st, &err, rc);
        /* whatever the core asked of the loop before failing is still done */
        PyObject *exc = take_exception();
        if (multi_flush(m, st) < 0)
            PyErr_WriteUnraisable((PyObject *)m);
        if (exc != NULL) {
            PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
            Py_DECREF(exc);
        }
        return NULL;
    }
    o->state = OP_RUNNING;
    Py_INCREF(o); /* the running self-reference */
    o->next = m->running;
    if (m->running != NULL)
        m->running->prev = o;
    m->running = o;
    return flush_result(m, st, (PyObject *)o);
}

PyDoc_STRVAR(multi_call_doc,
             "call($self, /, client, action, params, retry=None, encrypt=None, user=None)\n--\n\n"
             "Start Client.call's request on this Multi (tcf_op_start) and return its Op: the\n"
             "same retry classes, backoff, deadline, QPS waits, re-signing and encryption,\n"
             "each wait a timer. done(op) is called when it finishes; op.result() is then\n"
             "(response JSON bytes, request_id). Local failures raise here, nothing started.");

static PyObject *multi_call(MultiObject *m, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames)
{
    static const char *const names[] = {"client", "action", "params", "retry", "encrypt", "user"};
    core_state *st = (core_state *)PyType_GetModuleState(Py_TYPE(m));
    PyObject *v[6];
    const char *action;
    if (st == NULL || match_args("call", names, 6, 6, 3, args, nargs, kwnames, v) < 0 ||
        multi_usable(m, st) < 0)
        return NULL;
    OpObject *o = op_new(st, m, v[0], v[5]);
    if (o == NULL)
        return NULL;
    o->inputs = PyTuple_Pack(2, v[1], v[2]);
    if (o->inputs == NULL || get_text(st, v[1], "action", 0, &action) < 0 ||
        call_options_get(v[3], v[4], &o->retry, &o->opts) < 0 ||
        byte_input_get(&o->params, v[2], "params", 1) < 0) {
        op_release(o);
        Py_DECREF(o);
        return NULL;
    }
    if (o->opts.retry != NULL)
        o->opts.retry = &o->retry;
    return op_start(st, m, o, (ClientObject *)v[0], action, o->params.len >= NOGIL_MIN_BYTES);
}

PyDoc_STRVAR(multi_check_doc,
             "check($self, /, client, action, *, id_card=None, ..., route=None, retry=None,\n"
             "    encrypt=None, user=None)\n--\n\n"
             "Start Client.check's call on this Multi (tcf_op_start_check; the inputs of\n"
             "Client.check) and return its Op; op.result() is then Client.check's tuple. The\n"
             "body is validated and built now (InvalidArgumentError: nothing started), with\n"
             "the GIL released for large media.");

static PyObject *multi_check(MultiObject *m, PyObject *const *args, Py_ssize_t nargs,
                             PyObject *kwnames)
{
    static const char *const names[] = {"client", "action",  CHECK_INPUT_NAMES,
                                        "retry",  "encrypt", "user"};
    enum { N = 2 + P_COUNT + 3 };
    core_state *st = (core_state *)PyType_GetModuleState(Py_TYPE(m));
    PyObject *v[N];
    const char *action;
    if (st == NULL || match_args("check", names, N, 2, 2, args, nargs, kwnames, v) < 0 ||
        multi_usable(m, st) < 0)
        return NULL;
    OpObject *o = op_new(st, m, v[0], v[N - 1]);
    if (o == NULL)
        return NULL;
    o->is_check = 1;
    o->inputs = PyTuple_New(N);
    if (o->inputs != NULL)
        for (Py_ssize_t i = 0; i < N; i++)
            PyTuple_SET_ITEM(o->inputs, i, Py_NewRef(v[i] ? v[i] : Py_None));
    if (o->inputs == NULL || get_text(st, v[1], "action", 0, &action) < 0 ||
        call_options_get(v[N - 3], v[N - 2], &o->retry, &o->opts) < 0 ||
        check_input_get(st, &o->in, v + 2) < 0) {
        op_release(o);
        Py_DECREF(o);
        return NULL;
    }
    if (o->opts.retry != NULL)
        o->opts.retry = &o->retry;
    return op_start(st, m, o, (ClientObject *)v[0], action, o->in.video.large || o->in.image.large);
}

PyDoc_STRVAR(multi_close_doc,
             "close($self, /)\n--\n\n"
             "Cancel every running op (each is handed to done() with op.cancelled True), free\n"
             "the tcf_multi (its connections are closed and their sockets unwatched).\n"
             "Idempotent.");

static PyObject *multi_close(MultiObject *m, PyObject *unused)
{
    (void)unused;
    core_state *st = (core_state *)PyType_GetModuleState(Py_TYPE(m));
    if (st == NULL)
        return NULL;
    if (m->multi == NULL)
        Py_RETURN_NONE;
    if (multi_usable(m, st) < 0)
        return NULL;
    OpObject *cancelled = NULL;
    m->busy = 1;
    while (m->running != NULL) {
        OpObject *o = m->running;
        op_release(o); /* tcf_op_free cancels it */
        o->state = OP_CANCELLED;
        o->next = cancelled;
        cancelled = o;
    }
    tcf_multi_free(m->multi);
    m->multi = NULL;
    m->busy = 0;
    PyObject *first = NULL;
    if (multi_flush(m, st) < 0)
        first = take_exception();
    hand_over(m, cancelled, &first);
    if (raise_first(first) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *multi_get_running(MultiObject *m, void *closure)
{
    (void)closure;
    return PyLong_FromSize_t(m->multi ? tcf_multi_running(m->multi) : 0);
}

static PyObject *multi_get_closed(MultiObject *m, void *closure)
{
    (void)closure;
    return PyBool_FromLong(m->multi == NULL);
}

static PyMethodDef multi_methods[] = {
    {"socket", (PyCFunction)(void (*)(void))multi_socket, METH_VARARGS, multi_socket_doc},
    {"timeout", (PyCFunction)(void (*)(void))multi_timeout, METH_NOARGS, multi_timeout_doc},
    {"call", (PyCFunction)(void (*)(void))multi_call, METH_FASTCALL | METH_KEYWORDS,
     multi_call_doc},
    {"check", (PyCFunction)(void (*)(void))multi_check, METH_FASTCALL | METH_KEYWORDS,
     multi_check_doc},
    {"close", (PyCFunction)(void (*)(void))multi_close, METH_NOARGS, multi_close_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef multi_getset[] = {
    {"running", (getter)(void (*)(void))multi_get_running, NULL,
     "Ops started and not finished, as the core counts them (tcf_multi_running).", NULL},
    {"closed", (getter)(void (*)(void))multi_get_closed, NULL, "Whether close() was called.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef multi_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(MultiObject, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

PyDoc_STRVAR(multi_doc,
             "Multi(watch, timer, done)\n--\n\n"
             "One tcf_multi (libcurl's multi interface) for an event loop, used from the\n"
             "thread that created it. watch(fd, what): watch fd (1 readable, 2 writable, 3\n"
             "both) or stop (4); timer(ms): call timeout() after ms milliseconds (0: soon,\n"
             "-1: no timer; each call replaces the last); done(op): an op finished (or was\n"
             "cancelled by close()). They are called after the core step, never inside it.");

static PyType_Slot multi_slots[] = {
    {Py_tp_new, (void *)multi_new},
    {Py_tp_dealloc, (void *)multi_dealloc},
    {Py_tp_traverse, (void *)multi_traverse},
    {Py_tp_clear, (void *)multi_clear},
    {Py_tp_methods, multi_methods},
    {Py_tp_getset, multi_getset},
    {Py_tp_members, multi_members},
    {Py_tp_doc, (void *)multi_doc},
    {0, NULL},
};

static PyType_Spec multi_spec = {
    "tcfaceid._core.Multi",
    sizeof(MultiObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | CLIENT_IMMUTABLE,
    multi_slots,
};

/* ---- Op ---- */

static int op_traverse(OpObject *o, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(o));
    Py_VISIT(o->multi);
    Py_VISIT(o->user);
    Py_VISIT(o->value);
    Py_VISIT(o->error);
    return 0;
}

static int op_clear(OpObject *o)
{
    /* A running op holds a reference to itself: the collector never clears one. */
    Py_CLEAR(o->user);
    Py_CLEAR(o->value);
    Py_CLEAR(o->error);
    if (o->state != OP_RUNNING)
        Py_CLEAR(o->multi);
    return 0;
}

static void op_dealloc(OpObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    PyObject_GC_UnTrack(o);
    if (o->multi != NULL && o->state == OP_RUNNING)
        op_release(o); /* not reached: a running op is referenced by itself */
    Py_CLEAR(o->inputs);
    op_clear(o);
    Py_CLEAR(o->multi);
    tp->tp_free((PyObject *)o);
    Py_DECREF(tp);
}

PyDoc_STRVAR(op_result_doc,
             "result($self, /)\n--\n\n"
             "The finished op's result (Multi.call: (JSON bytes, request_id); Multi.check:\n"
             "Client.check's tuple), or its exception raised. StateError while running or\n"
             "when cancelled.");

static PyObject *op_result(OpObject *o, PyObject *unused)
{
    (void)unused;
    core_state *st = (core_state *)PyType_GetModuleState(Py_TYPE(o));
    if (st == NULL)
        return NULL;
    if (o->state == OP_RUNNING)
        return raise_local(st, TCF_ESTATE, "the operation has not finished");
    if (o->state == OP_CANCELLED)
        return raise_local(st, TCF_ESTATE, "the operation was cancelled");
    if (o->error != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(o->error), o->error);
        return NULL;
    }
    return Py_NewRef(o->value ? o->value : Py_None);
}

PyDoc_STRVAR(op_cancel_doc,
             "cancel($self, /)\n--\n\n"
             "Stop a running op at once (tcf_op_cancel): its transfer is removed and its\n"
             "connection closed; done() is not called for it. A billable request that was\n"
             "being sent or answered may still have been executed. No effect once finished.\n"
             "Returns True when it was running.");

static PyObject *op_cancel(OpObject *o, PyObject *unused)
{
    (void)unused;
    core_state *st = (core_state *)PyType_GetModuleState(Py_TYPE(o));
    if (st == NULL)
        return NULL;
    if (o->state != OP_RUNNING)
        Py_RETURN_FALSE;
    MultiObject *m = o->multi;
    if (multi_usable(m, st) < 0)
        return NULL;
    m->busy = 1;
    tcf_op_cancel(o->op);
    op_release(o);
    m->busy = 0;
    o->state = OP_CANCELLED;
    Py_INCREF(m);
    Py_DECREF(o); /* the running self-reference; the caller holds another */
    PyObject *r = flush_result(m, st, Py_NewRef(Py_True));
    Py_DECREF(m);
    return r;
}

static PyObject *op_get_user(OpObject *o, void *closure)
{
    (void)closure;
    return Py_NewRef(o->user ? o->user : Py_None);
}

static PyObject *op_get_done(OpObject *o, void *closure)
{
    (void)closure;
    return PyBool_FromLong(o->state != OP_RUNNING);
}

static PyObject *op_get_cancelled(OpObject *o, void *closure)
{
    (void)closure;
    return PyBool_FromLong(o->state == OP_CANCELLED);
}

static PyMethodDef op_methods[] = {
    {"result", (PyCFunction)(void (*)(void))op_result, METH_NOARGS, op_result_doc},
    {"cancel", (PyCFunction)(void (*)(void))op_cancel, METH_NOARGS, op_cancel_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef op_getset[] = {
    {"user", (getter)(void (*)(void))op_get_user, NULL, "The user object given at start.", NULL},
    {"done", (getter)(void (*)(void))op_get_done, NULL, "Finished or cancelled.", NULL},
    {"cancelled", (getter)(void (*)(void))op_get_cancelled, NULL, "Cancelled.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(op_doc, "One asynchronous call on a Multi (tcf_op); made by Multi.call / "
                     "Multi.check.");

static PyType_Slot op_slots[] = {
    {Py_tp_dealloc, (void *)op_dealloc},
    {Py_tp_traverse, (void *)op_traverse},
    {Py_tp_clear, (void *)op_clear},
    {Py_tp_methods, op_methods},
    {Py_tp_getset, op_getset},
    {Py_tp_doc, (void *)op_doc},
    {0, NULL},
};

#ifdef Py_TPFLAGS_DISALLOW_INSTANTIATION
#define OP_NO_NEW Py_TPFLAGS_DISALLOW_INSTANTIATION
#else
#define OP_NO_NEW 0
#endif

static PyType_Spec op_spec = {
    "tcfaceid._core.Op",
    sizeof(OpObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | CLIENT_IMMUTABLE | OP_NO_NEW,
    op_slots,
};

/* ---------------------------------------------------------------------------------------------
 * Validators, E-ID decryption, verdicts (docs/c-api.md)
 * ------------------------------------------------------------------------------------------- */

/* Validators are pure and take microseconds: no GIL release. */

/* f(text) -> None, raising the core's error (InvalidArgumentError). */
static PyObject *check_one_text(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                PyObject *kwnames, const char *fname, const char *argname,
                                int (*check)(const char *, tcf_error *))
{
    core_state *st = module_state(module);
    const char *const names[] = {argname};
    PyObject *v[1];
    const char *text;
    if (match_args(fname, names, 1, 1, 1, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], argname, 0, &text) < 0)
        return NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = check(text, &err);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(check_id_card_doc,
             "check_id_card($module, /, id, today=0)\n--\n\n"
             "Check an 18-character ID number (GB 11643) or HK/Macao/Taiwan residence permit\n"
             "locally (tcf_check_id_card). today: Unix seconds; a birth date after that day\n"
             "(China Standard Time) is rejected; 0 skips that check. Raises\n"
             "InvalidArgumentError, whose message never contains the value.");

static PyObject *core_check_id_card(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                    PyObject *kwnames)
{
    static const char *const names[] = {"id", "today"};
    core_state *st = module_state(module);
    PyObject *v[2];
    const char *id;
    long long today = 0;
    if (match_args("check_id_card", names, 2, 2, 1, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "id", 0, &id) < 0 ||
        (v[1] != NULL && get_long_long(v[1], "today", &today) < 0))
        return NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_check_id_card(id, today, &err);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(normalize_name_doc,
             "normalize_name($module, /, name)\n--\n\n"
             "The name as the service accepts it (tcf_normalize_name): ASCII white space\n"
             "trimmed, look-alike dots turned into U+00B7, 2-32 CJK ideographs. Raises\n"
             "InvalidArgumentError, whose message never contains the value.");

static PyObject *core_normalize_name(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                     PyObject *kwnames)
{
    static const char *const names[] = {"name"};
    core_state *st = module_state(module);
    PyObject *v[1];
    const char *name;
    if (match_args("normalize_name", names, 1, 1, 1, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "name", 0, &name) < 0)
        return NULL;
    char out[4 * 32 + 1];
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_normalize_name(out, sizeof out, name, &err);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    return PyUnicode_DecodeUTF8(out, (Py_ssize_t)strlen(out), "strict");
}

PyDoc_STRVAR(check_phone_doc, "check_phone($module, /, phone)\n--\n\n"
                              "Check a mainland mobile number: 11 ASCII digits starting with 1\n"
                              "(tcf_check_phone). Raises InvalidArgumentError.");

static PyObject *core_check_phone(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames)
{
    return check_one_text(module, args, nargs, kwnames, "check_phone", "phone", tcf_check_phone);
}

PyDoc_STRVAR(phone_carrier_doc,
             "phone_carrier($module, /, phone)\n--\n\n"
             "\"CMCC\", \"CUCC\" or \"CTCC\" from the number range (tcf_phone_carrier); None for\n"
             "an unknown range or an invalid number.");

static PyObject *core_phone_carrier(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                    PyObject *kwnames)
{
    static const char *const names[] = {"phone"};
    core_state *st = module_state(module);
    PyObject *v[1];
    const char *phone;
    if (match_args("phone_carrier", names, 1, 1, 1, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "phone", 0, &phone) < 0)
        return NULL;
    const char *carrier = tcf_phone_carrier(phone);
    if (carrier == NULL)
        Py_RETURN_NONE;
    return PyUnicode_FromString(carrier);
}

PyDoc_STRVAR(check_bank_card_doc,
             "check_bank_card($module, /, card)\n--\n\n"
             "Check a bank card number: 12-19 ASCII digits with a valid Luhn\n"
             "check digit (tcf_check_bank_card). Raises InvalidArgumentError.");

static PyObject *core_check_bank_card(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                      PyObject *kwnames)
{
    return check_one_text(module, args, nargs, kwnames, "check_bank_card", "card",
                          tcf_check_bank_card);
}

PyDoc_STRVAR(check_redirect_url_doc,
             "check_redirect_url($module, /, url)\n--\n\n"
             "Check a RedirectUrl: http(s)://, a non-empty host, at most 1024 bytes, no spaces\n"
             "or control characters (tcf_check_redirect_url). Raises InvalidArgumentError.");

static PyObject *core_check_redirect_url(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                         PyObject *kwnames)
{
    return check_one_text(module, args, nargs, kwnames, "check_redirect_url", "url",
                          tcf_check_redirect_url);
}

PyDoc_STRVAR(check_validity_date_doc,
             "check_validity_date($module, /, date, allow_long_term=True)\n--\n\n"
             "Check a date YYYYMMDD (year 1900-9999), or \"00000000\" (long term) when\n"
             "allow_long_term (tcf_check_validity_date). Raises InvalidArgumentError.");

static PyObject *core_check_validity_date(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                          PyObject *kwnames)
{
    static const char *const names[] = {"date", "allow_long_term"};
    core_state *st = module_state(module);
    PyObject *v[2];
    const char *date;
    int allow = 1;
    if (match_args("check_validity_date", names, 2, 2, 1, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "date", 0, &date) < 0)
        return NULL;
    if (v[1] != NULL && (allow = PyObject_IsTrue(v[1])) < 0)
        return NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_check_validity_date(date, allow, &err);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    Py_RETURN_NONE;
}

static void wipe(void *p, size_t n)
{
    volatile unsigned char *q = p;
    while (n--)
        *q++ = 0;
}

PyDoc_STRVAR(eid_decrypt_doc,
             "eid_decrypt($module, /, des_key_b64, user_info_b64, sm2_private_key_pem)\n--\n\n"
             "Decrypt GetEidResult's EidInfo (DesKey: SM2, UserInfo: SM4-ECB) with the\n"
             "merchant's SM2 private key (PEM text, str or bytes) locally (tcf_eid_decrypt).\n"
             "Returns the JSON text of {\"name\", \"idtype\", \"idnum\"} as bytes; the core's\n"
             "copy is wiped. StateError: DesKey or UserInfo is \"\" (identity return not\n"
             "enabled, or the flow not complete); InvalidArgumentError: not an SM2 private\n"
             "key; CryptoError: bad base64, the wrong key, modified ciphertext. The GIL is\n"
             "released during decryption.");

static PyObject *core_eid_decrypt(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames)
{
    static const char *const names[] = {"des_key_b64", "user_info_b64", "sm2_private_key_pem"};
    core_state *st = module_state(module);
    PyObject *v[3];
    const char *des_key, *user_info;
    if (match_args("eid_decrypt", names, 3, 3, 3, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "des_key_b64", 0, &des_key) < 0 ||
        get_text(st, v[1], "user_info_b64", 0, &user_info) < 0)
        return NULL;
    byte_input pem_in;
    if (byte_input_get(&pem_in, v[2], "sm2_private_key_pem", 1) < 0)
        return NULL;
    if (memchr(pem_in.data, '\0', pem_in.len) != NULL) {
        byte_input_release(&pem_in);
        return raise_local(st, TCF_EINVAL, "sm2_private_key_pem contains a NUL character");
    }
    /* A NUL-terminated copy (a bytearray or memoryview has no terminator); wiped after use. */
    char *pem = PyMem_Malloc(pem_in.len + 1);
    if (pem == NULL) {
        byte_input_release(&pem_in);
        return PyErr_NoMemory();
    }
    memcpy(pem, pem_in.data, pem_in.len);
    pem[pem_in.len] = '\0';
    size_t pem_len = pem_in.len;
    byte_input_release(&pem_in);
    /* des_key and user_info point into str objects the caller's frame keeps alive. */
    char *json = NULL;
    size_t json_len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    NOGIL_BEGIN
    rc = tcf_eid_decrypt(&json, &json_len, des_key, user_info, pem, &err);
    NOGIL_END
    wipe(pem, pem_len);
    PyMem_Free(pem);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    PyObject *result = PyBytes_FromStringAndSize(json, (Py_ssize_t)json_len);
    tcf_eid_json_free(json);
    return result;
}

PyDoc_STRVAR(
    verdict_doc,
    "verdict($module, /, response_json)\n--\n\n"
    "Decide pass / fail / pending from the Response object of GetDetectInfoEnhanced\n"
    "or GetEidResult (bytes-like JSON text or str; tcf_verdict_from_json), on codes\n"
    "only. Returns (status, code, billed, intention_code, reason, attempts, missing_part):\n"
    "1 passed, 2 failed, 3 pending, 4 expired; code Text.ErrCode or None; billed 1,\n"
    "0 or -1 (unknown); intention_code or None; reason str; attempts a list of\n"
    "(errcode, livestatus, comparestatus, sim, req_time_ms, is_need_charge), each\n"
    "None when absent; missing_part: the InfoType digit of an intention result the\n"
    "verdict needs but the response lacks, or None. JSONError for text that is not\n"
    "JSON or a field of the wrong type.");

static PyObject *attempt_tuple(const tcf_attempt *a)
{
    return Py_BuildValue(
        "(NNNNNN)", a->has_errcode ? PyLong_FromLong(a->errcode) : Py_NewRef(Py_None),
        a->has_livestatus ? PyLong_FromLong(a->livestatus) : Py_NewRef(Py_None),
        a->has_comparestatus ? PyLong_FromLong(a->comparestatus) : Py_NewRef(Py_None),
        a->has_sim ? PyFloat_FromDouble(a->sim) : Py_NewRef(Py_None),
        a->req_time_ms >= 0 ? PyLong_FromLongLong(a->req_time_ms) : Py_NewRef(Py_None),
        a->is_need_charge >= 0 ? PyBool_FromLong(a->is_need_charge) : Py_NewRef(Py_None));
}

static PyObject *verdict_tuple(core_state *st, const tcf_verdict *v)
{
    int code = 0, intention = 0;
    int has_code = tcf_verdict_code(v, &code) == 0;
    int has_intention = tcf_verdict_intention_code(v, &intention) == 0;
    size_t count = tcf_verdict_attempt_count(v);
    PyObject *attempts = PyList_New((Py_ssize_t)count);
    if (attempts == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++) {
        tcf_attempt a;
        tcf_error err;
        tcf_error_clear(&err);
        int rc = tcf_verdict_attempt(v, i, &a);
        PyObject *item = rc == 0 ? attempt_tuple(&a) : raise_tcf(st, &err, rc);
        if (item == NULL) {
            Py_DECREF(attempts);
            return NULL;
        }
        PyList_SET_ITEM(attempts, (Py_ssize_t)i, item);
    }
    const char *reason = tcf_verdict_reason(v);
    return Py_BuildValue("(iNiNNNN)", (int)tcf_verdict_status(v),
                         has_code ? PyLong_FromLong(code) : Py_NewRef(Py_None),
                         tcf_verdict_billed(v),
                         has_intention ? PyLong_FromLong(intention) : Py_NewRef(Py_None),
                         PyUnicode_DecodeUTF8(reason, (Py_ssize_t)strlen(reason), "replace"),
                         attempts, str_or_none(tcf_verdict_missing_part(v)));
}

static PyObject *core_verdict(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames)
{
    static const char *const names[] = {"response_json"};
    core_state *st = module_state(module);
    PyObject *v[1];
    if (match_args("verdict", names, 1, 1, 1, args, nargs, kwnames, v) < 0)
        return NULL;
    byte_input in;
    if (byte_input_get(&in, v[0], "response_json", 1) < 0)
        return NULL;
    tcf_verdict *verdict = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    if (in.len >= NOGIL_MIN_BYTES) {
        NOGIL_BEGIN
        rc = tcf_verdict_from_json(&verdict, in.data, in.len, &err);
        NOGIL_END
    } else {
        rc = tcf_verdict_from_json(&verdict, in.data, in.len, &err);
    }
    byte_input_release(&in);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    PyObject *result = verdict_tuple(st, verdict);
    tcf_verdict_free(verdict);
    return result;
}

/* ---------------------------------------------------------------------------------------------
 * Flows: DetectAuth / GetEidToken bodies, sessions, result requests, E-ID status, redirects
 * ------------------------------------------------------------------------------------------- */

/* An optional flag: None or absent -1, else the truth value as 0/1. */
static int get_flag(PyObject *obj, int *out)
{
    *out = -1;
    if (obj == NULL || obj == Py_None)
        return 0;
    int t = PyObject_IsTrue(obj);
    if (t < 0)
        return -1;
    *out = t;
    return 0;
}

/* An optional small non-negative int: None or absent gives dflt; a negative value is refused
 * (the core reads -1 as "left out"). */
static int get_small_int(core_state *st, PyObject *obj, const char *name, int dflt, int *out)
{
    *out = dflt;
    if (obj == NULL || obj == Py_None)
        return 0;
    long long v;
    if (get_long_long(obj, name, &v) < 0)
        return -1;
    if (v < 0 || v > 1000) {
        raise_local(st, TCF_EINVAL, "%s must be %s", name,
                    v < 0 ? "0 or more (None leaves it out)" : "at most 1000");
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* IntentionQuestions / IntentionActions from Python: questions a sequence of (question,
 * answers) pairs, actions a sequence of str. Strings are borrowed from objects the
 * sequences below keep alive. */
typedef struct intention_input {
    PyObject *qseq;     /* PySequence_Fast of the questions */
    PyObject **pairs;   /* PySequence_Fast of each pair */
    PyObject **answers; /* PySequence_Fast of each answer list */
    tcf_intention_question *q;
    const char **answer_text;
    size_t nq;
    PyObject *aseq; /* PySequence_Fast of the actions */
    const char **a;
    size_t na;
} intention_input;

static void intention_input_free(intention_input *in)
{
    for (size_t i = 0; i < in->nq; i++) {
        if (in->pairs)
            Py_XDECREF(in->pairs[i]);
        if (in->answers)
            Py_XDECREF(in->answers[i]);
    }
    PyMem_Free(in->pairs);
    PyMem_Free(in->answers);
    PyMem_Free(in->q);
    PyMem_Free(in->answer_text);
    PyMem_Free(in->a);
    Py_XDECREF(in->qseq);
    Py_XDECREF(in->aseq);
    memset(in, 0, sizeof *in);
}

static int intention_input_get(core_state *st, intention_input *in, PyObject *questions,
                               PyObject *actions)
{
    memset(in, 0, sizeof *in);
    if (questions != NULL && questions != Py_None) {
        in->qseq = PySequence_Fast(questions, "intention_questions must be a sequence");
        if (in->qseq == NULL)
            return -1;
        size_t n = (size_t)PySequence_Fast_GET_SIZE(in->qseq);
        size_t total = 0;
        in->pairs = PyMem_Calloc(n ? n : 1, sizeof *in->pairs);
        in->answers = PyMem_Calloc(n ? n : 1, sizeof *in->answers);
        in->q = PyMem_Calloc(n ? n : 1, sizeof *in->q);
        if (in->pairs == NULL || in->answers == NULL || in->q == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        in->nq = n;
        for (size_t i = 0; i < n; i++) {
            PyObject *item = PySequence_Fast_GET_ITEM(in->qseq, (Py_ssize_t)i);
            in->pairs[i] = PySequence_Fast(item, "each intention question must be a "
                                                 "(question, answers) pair");
            if (in->pairs[i] == NULL)
                return -1;
            if (PySequence_Fast_GET_SIZE(in->pairs[i]) != 2) {
                PyErr_SetString(PyExc_TypeError,
                                "each intention question must be a (question, answers) pair");
                return -1;
            }
            if (get_text(st, PySequence_Fast_GET_ITEM(in->pairs[i], 0), "question", 0,
                         &in->q[i].question) < 0)
                return -1;
            PyObject *ans = PySequence_Fast_GET_ITEM(in->pairs[i], 1);
            if (PyUnicode_Check(ans)) {
                PyErr_SetString(PyExc_TypeError, "answers must be a list of str, not a str");
                return -1;
            }
            in->answers[i] = PySequence_Fast(ans, "answers must be a list of str");
            if (in->answers[i] == NULL)
                return -1;
            total += (size_t)PySequence_Fast_GET_SIZE(in->answers[i]);
        }
        in->answer_text = PyMem_Calloc(total ? total : 1, sizeof *in->answer_text);
        if (in->answer_text == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            size_t m = (size_t)PySequence_Fast_GET_SIZE(in->answers[i]);
            in->q[i].answers = in->answer_text + k;
            in->q[i].answer_count = m;
            for (size_t j = 0; j < m; j++, k++)
                if (get_text(st, PySequence_Fast_GET_ITEM(in->answers[i], (Py_ssize_t)j), "answer",
                             0, &in->answer_text[k]) < 0)
                    return -1;
        }
        if (n == 0)
            in->q[0].question = NULL; /* an empty list: the core says 1-10 rounds */
    }
    if (actions != NULL && actions != Py_None) {
        if (PyUnicode_Check(actions)) {
            PyErr_SetString(PyExc_TypeError, "intention_actions must be a list of str, not a str");
            return -1;
        }
        in->aseq = PySequence_Fast(actions, "intention_actions must be a sequence of str");
        if (in->aseq == NULL)
            return -1;
        size_t n = (size_t)PySequence_Fast_GET_SIZE(in->aseq);
        in->a = PyMem_Calloc(n ? n : 1, sizeof *in->a);
        if (in->a == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        in->na = n;
        for (size_t i = 0; i < n; i++)
            if (get_text(st, PySequence_Fast_GET_ITEM(in->aseq, (Py_ssize_t)i), "intention action",
                         0, &in->a[i]) < 0)
                return -1;
    }
    return 0;
}

/* A core-allocated body as bytes; the core's copy is wiped. */
static PyObject *body_result(core_state *st, int rc, char *json, size_t len, const tcf_error *err)
{
    if (rc != 0)
        return raise_tcf(st, err, rc);
    PyObject *result = PyBytes_FromStringAndSize(json, (Py_ssize_t)len);
    tcf_string_free(json);
    return result;
}

PyDoc_STRVAR(detect_auth_body_doc,
             "detect_auth_body($module, /, rule_id, *, id_card=None, name=None,\n"
             "    redirect_url=None, extra=None, image=None, intention_verify_text=None,\n"
             "    intention_questions=None, intention_actions=None, intention_type=None,\n"
             "    intention_recognition=None, mouth_open_recognition=None, speed=None, today=0)\n"
             "--\n\n"
             "The DetectAuth body (bytes), validated by tcf_detect_auth_body. image: bytes-like\n"
             "(raw photo) or str (base64, a data: prefix and white space allowed);\n"
             "intention_questions: a sequence of (question, [answers]); intention_actions: a\n"
             "sequence of str. Raises InvalidArgumentError naming the field, never the value.");

static PyObject *core_detect_auth_body(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                       PyObject *kwnames)
{
    static const char *const names[] = {"rule_id",
                                        "id_card",
                                        "name",
                                        "redirect_url",
                                        "extra",
                                        "image",
                                        "intention_verify_text",
                                        "intention_questions",
                                        "intention_actions",
                                        "intention_type",
                                        "intention_recognition",
                                        "mouth_open_recognition",
                                        "speed",
                                        "today"};
    core_state *st = module_state(module);
    PyObject *v[14];
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    long long today = 0;
    if (match_args("detect_auth_body", names, 14, 1, 1, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "rule_id", 0, &p.rule_id) < 0 ||
        get_text(st, v[1], "id_card", 1, &p.id_card) < 0 ||
        get_text(st, v[2], "name", 1, &p.name) < 0 ||
        get_text(st, v[3], "redirect_url", 1, &p.redirect_url) < 0 ||
        get_text(st, v[4], "extra", 1, &p.extra) < 0 ||
        get_text(st, v[6], "intention_verify_text", 1, &p.intention_verify_text) < 0 ||
        get_small_int(st, v[9], "intention_type", -1, &p.intention_type) < 0 ||
        get_flag(v[10], &p.intention_recognition) < 0 ||
        get_flag(v[11], &p.mouth_open_recognition) < 0 ||
        get_small_int(st, v[12], "speed", -1, &p.speed) < 0 ||
        (v[13] != NULL && get_long_long(v[13], "today", &today) < 0))
        return NULL;
    byte_input image;
    memset(&image, 0, sizeof image);
    if (v[5] != NULL && v[5] != Py_None) {
        if (PyUnicode_Check(v[5])) {
            if (get_text(st, v[5], "image", 0, &p.image_base64) < 0)
                return NULL;
        } else {
            if (byte_input_get(&image, v[5], "image", 0) < 0)
                return NULL;
            p.image = (const unsigned char *)image.data;
            p.image_len = image.len;
            if (image.len == 0) {
                byte_input_release(&image);
                return raise_local(st, TCF_EINVAL, "image: no bytes");
            }
        }
    }
    intention_input in;
    if (intention_input_get(st, &in, v[7], v[8]) < 0) {
        intention_input_free(&in);
        byte_input_release(&image);
        return NULL;
    }
    if (in.qseq) {
        p.intention_questions = in.q;
        p.intention_question_count = in.nq;
    }
    if (in.aseq) {
        p.intention_actions = in.a;
        p.intention_action_count = in.na;
    }
    char *json = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc;
    if (p.image_len >= NOGIL_MIN_BYTES) {
        NOGIL_BEGIN
        rc = tcf_detect_auth_body(&json, &len, &p, today, &err);
        NOGIL_END
    } else {
        rc = tcf_detect_auth_body(&json, &len, &p, today, &err);
    }
    intention_input_free(&in);
    byte_input_release(&image);
    return body_result(st, rc, json, len, &err);
}

PyDoc_STRVAR(eid_token_body_doc,
             "eid_token_body($module, /, merchant_id, *, id_card=None, name=None,\n"
             "    redirect_url=None, extra=None, input_type=None, use_intention_verify=None,\n"
             "    intention_mode=None, intention_verify_text=None, intention_questions=None,\n"
             "    intention_actions=None, intention_recognition=None,\n"
             "    support_hmt_resident_permit_ocr=None, mouth_open_recognition=None, speed=None,\n"
             "    today=0)\n--\n\n"
             "The GetEidToken body (bytes), validated by tcf_eid_token_body.");

static PyObject *core_eid_token_body(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                     PyObject *kwnames)
{
    static const char *const names[] = {"merchant_id",
                                        "id_card",
                                        "name",
                                        "redirect_url",
                                        "extra",
                                        "input_type",
                                        "use_intention_verify",
                                        "intention_mode",
                                        "intention_verify_text",
                                        "intention_questions",
                                        "intention_actions",
                                        "intention_recognition",
                                        "support_hmt_resident_permit_ocr",
                                        "mouth_open_recognition",
                                        "speed",
                                        "today"};
    core_state *st = module_state(module);
    PyObject *v[16];
    tcf_eid_token_params p = TCF_EID_TOKEN_PARAMS_INIT;
    long long today = 0;
    if (match_args("eid_token_body", names, 16, 1, 1, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "merchant_id", 0, &p.merchant_id) < 0 ||
        get_text(st, v[1], "id_card", 1, &p.id_card) < 0 ||
        get_text(st, v[2], "name", 1, &p.name) < 0 ||
        get_text(st, v[3], "redirect_url", 1, &p.redirect_url) < 0 ||
        get_text(st, v[4], "extra", 1, &p.extra) < 0 ||
        get_small_int(st, v[5], "input_type", 0, &p.input_type) < 0 ||
        get_flag(v[6], &p.use_intention_verify) < 0 ||
        get_small_int(st, v[7], "intention_mode", 0, &p.intention_mode) < 0 ||
        get_text(st, v[8], "intention_verify_text", 1, &p.intention_verify_text) < 0 ||
        get_flag(v[11], &p.intention_recognition) < 0 ||
        get_flag(v[12], &p.is_support_hmt_resident_permit_ocr) < 0 ||
        get_flag(v[13], &p.mouth_open_recognition) < 0 ||
        get_small_int(st, v[14], "speed", -1, &p.speed) < 0 ||
        (v[15] != NULL && get_long_long(v[15], "today", &today) < 0))
        return NULL;
    if (v[5] != NULL && v[5] != Py_None && p.input_type == 0)
        return raise_local(st, TCF_EINVAL, "Config.InputType must be 1 to 4, not 0");
    if (v[7] != NULL && v[7] != Py_None && p.intention_mode == 0)
        return raise_local(st, TCF_EINVAL, "Config.IntentionMode must be 1 to 3, not 0");
    intention_input in;
    if (intention_input_get(st, &in, v[9], v[10]) < 0) {
        intention_input_free(&in);
        return NULL;
    }
    if (in.qseq) {
        p.intention_questions = in.q;
        p.intention_question_count = in.nq;
    }
    if (in.aseq) {
        p.intention_actions = in.a;
        p.intention_action_count = in.na;
    }
    char *json = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_eid_token_body(&json, &len, &p, today, &err);
    intention_input_free(&in);
    return body_result(st, rc, json, len, &err);
}

/* (kind, token, owner, url, extra, created_at, expires_at, results_until, json) */
static PyObject *session_tuple(core_state *st, const tcf_session *s)
{
    char *json = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_session_to_json(s, &json, &len, &err);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    int eid = tcf_session_kind_of(s) == TCF_SESSION_EID;
    PyObject *result = Py_BuildValue(
        "(sssNNLLLN)", eid ? "eid" : "saas", tcf_session_token(s),
        eid ? tcf_session_merchant_id(s) : tcf_session_rule_id(s), str_or_none(tcf_session_url(s)),
        str_or_none(tcf_session_extra(s)), tcf_session_created_at(s), tcf_session_expires_at(s),
        tcf_session_results_until(s), PyUnicode_DecodeUTF8(json, (Py_ssize_t)len, "strict"));
    tcf_string_free(json);
    return result;
}

static int get_kind(PyObject *obj, tcf_session_kind *out)
{
    const char *k = obj && PyUnicode_Check(obj) ? PyUnicode_AsUTF8(obj) : NULL;
    if (k != NULL && strcmp(k, "saas") == 0)
        *out = TCF_SESSION_SAAS;
    else if (k != NULL && strcmp(k, "eid") == 0)
        *out = TCF_SESSION_EID;
    else {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "kind must be \"saas\" or \"eid\"");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(session_new_doc,
             "session_new($module, /, kind, response_json, owner, extra, created_at)\n--\n\n"
             "A session from the DetectAuth (kind \"saas\", owner: the RuleId) or GetEidToken\n"
             "(kind \"eid\", owner: the MerchantId) Response object. Returns (kind, token,\n"
             "owner, url, extra, created_at, expires_at, results_until, json).");

static PyObject *core_session_new(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames)
{
    static const char *const names[] = {"kind", "response_json", "owner", "extra", "created_at"};
    core_state *st = module_state(module);
    PyObject *v[5];
    tcf_session_kind kind;
    const char *owner, *extra;
    long long created;
    if (match_args("session_new", names, 5, 5, 5, args, nargs, kwnames, v) < 0 ||
        get_kind(v[0], &kind) < 0 || get_text(st, v[2], "owner", 0, &owner) < 0 ||
        get_text(st, v[3], "extra", 1, &extra) < 0 ||
        get_long_long(v[4], "created_at", &created) < 0)
        return NULL;
    byte_input in;
    if (byte_input_get(&in, v[1], "response_json", 1) < 0)
        return NULL;
    tcf_session *s = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = kind == TCF_SESSION_EID
                 ? tcf_eid_session_new(&s, in.data, in.len, owner, extra, created, &err)
                 : tcf_session_new(&s, in.data, in.len, owner, extra, created, &err);
    byte_input_release(&in);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    PyObject *result = session_tuple(st, s);
    tcf_session_free(s);
    return result;
}

PyDoc_STRVAR(session_load_doc, "session_load($module, /, json)\n--\n\n"
                               "A session from its JSON text (tcf_session_from_json); the tuple\n"
                               "of session_new. JSONError for anything but a session.");

static PyObject *core_session_load(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames)
{
    static const char *const names[] = {"json"};
    core_state *st = module_state(module);
    PyObject *v[1];
    if (match_args("session_load", names, 1, 1, 1, args, nargs, kwnames, v) < 0)
        return NULL;
    byte_input in;
    if (byte_input_get(&in, v[0], "json", 1) < 0)
        return NULL;
    tcf_session *s = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_session_from_json(&s, in.data, in.len, &err);
    byte_input_release(&in);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    PyObject *result = session_tuple(st, s);
    tcf_session_free(s);
    return result;
}

PyDoc_STRVAR(session_check_doc,
             "session_check($module, /, json, rule_id, now)\n--\n\n"
             "Before fetching results (tcf_session_check_result_request): InvalidArgumentError\n"
             "for a RuleId that differs from the session's, TokenExpiredError when now is past\n"
             "results_until. Returns None.");

static PyObject *core_session_check(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                    PyObject *kwnames)
{
    static const char *const names[] = {"json", "rule_id", "now"};
    core_state *st = module_state(module);
    PyObject *v[3];
    const char *json, *rule_id;
    long long now;
    if (match_args("session_check", names, 3, 3, 3, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "json", 0, &json) < 0 ||
        get_text(st, v[1], "rule_id", 1, &rule_id) < 0 || get_long_long(v[2], "now", &now) < 0)
        return NULL;
    tcf_session *s = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_session_from_json(&s, json, strlen(json), &err);
    if (rc == 0)
        rc = tcf_session_check_result_request(s, rule_id, now, &err);
    tcf_session_free(s);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(result_plan_doc,
             "result_plan($module, /, kind, parts)\n--\n\n"
             "The InfoType of each call to make, in order, for the parts wanted (names or\n"
             "digits separated by commas; tcf_result_plan), as a str of digits.");

static PyObject *core_result_plan(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames)
{
    static const char *const names[] = {"kind", "parts"};
    core_state *st = module_state(module);
    PyObject *v[2];
    tcf_session_kind kind;
    const char *parts;
    if (match_args("result_plan", names, 2, 2, 2, args, nargs, kwnames, v) < 0 ||
        get_kind(v[0], &kind) < 0 || get_text(st, v[1], "parts", 0, &parts) < 0)
        return NULL;
    char plan[16];
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_result_plan(plan, sizeof plan, kind, parts, &err);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    return PyUnicode_FromString(plan);
}

PyDoc_STRVAR(result_body_doc,
             "result_body($module, /, kind, token, rule_id, info_type, best_frames_count=None,\n"
             "    cut_id_card_image=None, need_id_card_avatar=None)\n--\n\n"
             "The GetDetectInfoEnhanced (kind \"saas\") or GetEidResult (\"eid\") body (bytes),\n"
             "validated by tcf_result_body.");

static PyObject *core_result_body(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames)
{
    static const char *const names[] = {"kind",
                                        "token",
                                        "rule_id",
                                        "info_type",
                                        "best_frames_count",
                                        "cut_id_card_image",
                                        "need_id_card_avatar"};
    core_state *st = module_state(module);
    PyObject *v[7];
    tcf_result_request r = TCF_RESULT_REQUEST_INIT;
    if (match_args("result_body", names, 7, 7, 4, args, nargs, kwnames, v) < 0 ||
        get_kind(v[0], &r.kind) < 0 || get_text(st, v[1], "token", 0, &r.token) < 0 ||
        get_text(st, v[2], "rule_id", 1, &r.rule_id) < 0 ||
        get_text(st, v[3], "info_type", 1, &r.info_type) < 0 ||
        get_small_int(st, v[4], "best_frames_count", -1, &r.best_frames_count) < 0 ||
        get_flag(v[5], &r.cut_id_card_image) < 0 || get_flag(v[6], &r.need_id_card_avatar) < 0)
        return NULL;
    char *json = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_result_body(&json, &len, &r, &err);
    return body_result(st, rc, json, len, &err);
}

PyDoc_STRVAR(eid_status_doc,
             "eid_status($module, /, response_json)\n--\n\n"
             "CheckEidTokenStatus' Status (tcf_eid_status_from_json): \"init\", \"doing\",\n"
             "\"finished\" or \"timeout\"; JSONError for anything else.");

static PyObject *core_eid_status(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                 PyObject *kwnames)
{
    static const char *const names[] = {"response_json"};
    core_state *st = module_state(module);
    PyObject *v[1];
    if (match_args("eid_status", names, 1, 1, 1, args, nargs, kwnames, v) < 0)
        return NULL;
    byte_input in;
    if (byte_input_get(&in, v[0], "response_json", 1) < 0)
        return NULL;
    tcf_eid_status status;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_eid_status_from_json(&status, in.data, in.len, &err);
    byte_input_release(&in);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    return PyUnicode_FromString(tcf_eid_status_name(status));
}

PyDoc_STRVAR(eid_poll_after_error_doc,
             "eid_poll_after_error($module, /, error, consecutive_errors)\n--\n\n"
             "What a CheckEidTokenStatus poller does after a failed poll that raised error (a\n"
             "tcfaceid.Error), the consecutive_errors-th in a row (tcf_eid_poll_after_error):\n"
             "1 poll again, 2 the token expired (the status is \"timeout\"), 3 give up and\n"
             "raise it.");

/* The tcf_code of a tcfaceid.Error instance, from its class (most specific first). */
static int error_code_of(core_state *st, PyObject *error)
{
    static const struct {
        int kind, code;
    } map[] = {
        {E_TOKEN_EXPIRED, TCF_ETOKEN_EXPIRED},
        {E_INVALID_PARAMETER, TCF_EAPI},
        {E_SERVICE, TCF_EAPI},
        {E_TIMEOUT, TCF_ETIMEOUT},
        {E_TLS, TCF_ETLS},
        {E_HTTP, TCF_EHTTP},
        {E_TRANSPORT, TCF_ETRANSPORT},
        {E_THROTTLED, TCF_ETHROTTLED},
        {E_AUTH, TCF_EAUTH},
        {E_JSON, TCF_EJSON},
        {E_INVALID_ARGUMENT, TCF_EINVAL},
        {E_CREDENTIALS, TCF_ENOCRED},
        {E_CRYPTO, TCF_ECRYPTO},
        {E_AMBIGUOUS, TCF_EAMBIGUOUS},
        {E_RATE_LIMITED, TCF_ERATE_LIMITED},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        int r = PyObject_IsInstance(error, st->exc[map[i].kind]);
        if (r != 0)
            return r < 0 ? 0 : map[i].code;
    }
    return TCF_ESTATE;
}

static PyObject *core_eid_poll_after_error(PyObject *module, PyObject *const *args,
                                           Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"error", "consecutive_errors"};
    core_state *st = module_state(module);
    PyObject *v[2];
    long long count;
    if (match_args("eid_poll_after_error", names, 2, 2, 2, args, nargs, kwnames, v) < 0 ||
        get_long_long(v[1], "consecutive_errors", &count) < 0)
        return NULL;
    int is_error = PyObject_IsInstance(v[0], st->exc[E_ERROR]);
    if (is_error <= 0) {
        if (is_error == 0)
            PyErr_SetString(PyExc_TypeError, "error must be a tcfaceid.Error");
        return NULL;
    }
    if (count < 0 || count > INT_MAX) {
        PyErr_SetString(PyExc_ValueError, "consecutive_errors is out of range");
        return NULL;
    }
    int code = error_code_of(st, v[0]);
    if (PyErr_Occurred())
        return NULL;
    PyObject *r = PyObject_GetAttrString(v[0], "retryable");
    int retryable = r ? PyObject_IsTrue(r) : -1;
    Py_XDECREF(r);
    if (retryable < 0)
        return NULL;
    return PyLong_FromLong((long)tcf_eid_poll_after_error(code, retryable, (int)count));
}

PyDoc_STRVAR(next_shanghai_midnight_doc,
             "next_shanghai_midnight($module, /, now)\n--\n\n"
             "The next 00:00 Asia/Shanghai after now (Unix seconds): when daily identity limits\n"
             "reset (tcf_next_shanghai_midnight).");

static PyObject *core_next_shanghai_midnight(PyObject *module, PyObject *const *args,
                                             Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"now"};
    (void)module;
    PyObject *v[1];
    long long now;
    if (match_args("next_shanghai_midnight", names, 1, 1, 1, args, nargs, kwnames, v) < 0 ||
        get_long_long(v[0], "now", &now) < 0)
        return NULL;
    return PyLong_FromLongLong(tcf_next_shanghai_midnight(now));
}

PyDoc_STRVAR(errcode_meaning_doc,
             "errcode_meaning($module, /, errcode, intention_verify_type=None)\n--\n\n"
             "The documented meaning of a SaaS / E-ID ErrCode (tcf_errcode_meaning), or with\n"
             "intention_verify_type (\"0\" Q&A, \"1\" nod, \"2\" read aloud) of an intention\n"
             "result code (tcf_intention_code_meaning): a short English phrase, or None.");

static PyObject *core_errcode_meaning(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                      PyObject *kwnames)
{
    static const char *const names[] = {"errcode", "intention_verify_type"};
    core_state *st = module_state(module);
    PyObject *v[2];
    long long code;
    const char *type;
    if (match_args("errcode_meaning", names, 2, 2, 1, args, nargs, kwnames, v) < 0 ||
        get_long_long(v[0], "errcode", &code) < 0 ||
        get_text(st, v[1], "intention_verify_type", 1, &type) < 0)
        return NULL;
    if (code < INT_MIN || code > INT_MAX)
        Py_RETURN_NONE;
    const char *m = v[1] != NULL && v[1] != Py_None ? tcf_intention_code_meaning(type, (int)code)
                                                    : tcf_errcode_meaning((int)code);
    return str_or_none(m);
}

PyDoc_STRVAR(parse_redirect_doc,
             "parse_redirect($module, /, url)\n--\n\n"
             "The token of a RedirectUrl landing (tcf_parse_redirect). InvalidArgumentError\n"
             "when it is missing, repeated with another value, or not a plain token.");

static PyObject *core_parse_redirect(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                                     PyObject *kwnames)
{
    static const char *const names[] = {"url"};
    core_state *st = module_state(module);
    PyObject *v[1];
    const char *url;
    if (match_args("parse_redirect", names, 1, 1, 1, args, nargs, kwnames, v) < 0 ||
        get_text(st, v[0], "url", 0, &url) < 0)
        return NULL;
    char *token = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_parse_redirect(&token, url, &err);
    if (rc != 0)
        return raise_tcf(st, &err, rc);
    PyObject *result = PyUnicode_FromString(token);
    tcf_string_free(token);
    return result;
}

/* ---------------------------------------------------------------------------------------------
 * The module
 * ------------------------------------------------------------------------------------------- */

static PyMethodDef core_methods[] = {
    {"version", core_version, METH_NOARGS, version_doc},
    {"sign", (PyCFunction)(void (*)(void))core_sign, METH_FASTCALL | METH_KEYWORDS, sign_doc},
    {"parse", (PyCFunction)(void (*)(void))core_parse, METH_FASTCALL | METH_KEYWORDS, parse_doc},
#define FASTKW(name) (PyCFunction)(void (*)(void)) core_##name, METH_FASTCALL | METH_KEYWORDS
    {"check_id_card", FASTKW(check_id_card), check_id_card_doc},
    {"normalize_name", FASTKW(normalize_name), normalize_name_doc},
    {"check_phone", FASTKW(check_phone), check_phone_doc},
    {"phone_carrier", FASTKW(phone_carrier), phone_carrier_doc},
    {"check_bank_card", FASTKW(check_bank_card), check_bank_card_doc},
    {"check_redirect_url", FASTKW(check_redirect_url), check_redirect_url_doc},
    {"check_validity_date", FASTKW(check_validity_date), check_validity_date_doc},
    {"eid_decrypt", FASTKW(eid_decrypt), eid_decrypt_doc},
    {"verdict", FASTKW(verdict), verdict_doc},
    {"detect_auth_body", FASTKW(detect_auth_body), detect_auth_body_doc},
    {"eid_token_body", FASTKW(eid_token_body), eid_token_body_doc},
    {"session_new", FASTKW(session_new), session_new_doc},
    {"session_load", FASTKW(session_load), session_load_doc},
    {"session_check", FASTKW(session_check), session_check_doc},
    {"result_plan", FASTKW(result_plan), result_plan_doc},
    {"result_body", FASTKW(result_body), result_body_doc},
    {"eid_status", FASTKW(eid_status), eid_status_doc},
    {"eid_poll_after_error", FASTKW(eid_poll_after_error), eid_poll_after_error_doc},
    {"parse_redirect", FASTKW(parse_redirect), parse_redirect_doc},
    {"errcode_meaning", FASTKW(errcode_meaning), errcode_meaning_doc},
    {"next_shanghai_midnight", FASTKW(next_shanghai_midnight), next_shanghai_midnight_doc},
    {"check_body", FASTKW(check_body), check_body_doc},
    {"check_outcome", FASTKW(check_outcome), check_outcome_doc},
    {"validate_id_card", FASTKW(validate_id_card), validate_id_card_doc},
    {"phone_route", FASTKW(phone_route), phone_route_doc},
    {"phone_recent_range", FASTKW(phone_recent_range), phone_recent_range_doc},
    {"estimate_cost", FASTKW(estimate_cost), estimate_cost_doc},
    {"live_code_from_json", FASTKW(live_code_from_json), live_code_from_json_doc},
    {"action_sequence_from_json", FASTKW(action_sequence_from_json), action_sequence_from_json_doc},
#undef FASTKW
#ifdef TCF_ALLOC_FAILURE_INJECTION
    {"_fail_allocations_after", core_fail_allocations_after, METH_O, fail_allocations_doc},
#endif
    {NULL, NULL, 0, NULL},
};

static const char *const error_attributes[] = {"code",        "message",   "request_id",
                                               "http_status", "retryable", "attempts",
                                               "server_time", "retry_at"};

PyDoc_STRVAR(error_init_doc,
             "__init__(self, /, *args, code=..., message=..., request_id=..., http_status=..., "
             "retryable=..., attempts=..., server_time=..., retry_at=...)\n--\n\n"
             "Like Exception(*args); the keywords set the attributes of the same name, and\n"
             "message defaults to str(args[0]).");

/* Error.__init__, so that instances created in Python (by the front, or by tests that mock a
 * failure) carry the attributes too. Bound as an instance method; the C function's self is the
 * module. args = (self, *args). */
static PyObject *error_init(PyObject *module, PyObject *args, PyObject *kwargs)
{
    core_state *st = module_state(module);
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (n < 1 || st->exc[E_ERROR] == NULL) {
        PyErr_SetString(PyExc_TypeError, "Error.__init__ needs an instance");
        return NULL;
    }
    PyObject *self = PyTuple_GET_ITEM(args, 0);
    if (kwargs != NULL) {
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(kwargs, &pos, &key, &value)) {
            const char *name = PyUnicode_AsUTF8(key);
            if (name == NULL)
                return NULL;
            size_t i = 0;
            while (i < sizeof error_attributes / sizeof error_attributes[0] &&
                   strcmp(error_attributes[i], name) != 0)
                i++;
            if (i == sizeof error_attributes / sizeof error_attributes[0]) {
                PyErr_Format(PyExc_TypeError, "%.100s() got an unexpected keyword argument '%U'",
                             Py_TYPE(self)->tp_name, key);
                return NULL;
            }
        }
    }
    /* super(Error, self).__init__(*args): the next base (Exception, ValueError, OSError...) */
    PyObject *rest = PyTuple_GetSlice(args, 1, n);
    PyObject *super =
        rest ? PyObject_CallFunctionObjArgs((PyObject *)&PySuper_Type, st->exc[E_ERROR], self, NULL)
             : NULL;
    PyObject *init = super ? PyObject_GetAttrString(super, "__init__") : NULL;
    PyObject *r = init ? PyObject_Call(init, rest, NULL) : NULL;
    Py_XDECREF(init);
    Py_XDECREF(super);
    Py_XDECREF(rest);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    if (n >= 2 && (kwargs == NULL || PyDict_GetItemString(kwargs, "message") == NULL) &&
        set_attr(self, "message", PyObject_Str(PyTuple_GET_ITEM(args, 1))) < 0)
        return NULL;
    if (kwargs != NULL) {
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(kwargs, &pos, &key, &value))
            if (PyObject_SetAttr(self, key, value) < 0)
                return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef error_init_def = {"__init__", (PyCFunction)(void (*)(void))error_init,
                                     METH_VARARGS | METH_KEYWORDS, error_init_doc};

static int add_object(PyObject *module, const char *name, PyObject *value)
{
    Py_INCREF(value);
    if (PyModule_AddObject(module, name, value) < 0) {
        Py_DECREF(value);
        return -1;
    }
    return 0;
}

static int make_exception(core_state *st, PyObject *module, int i)
{
    const struct exception_spec *spec = &exception_specs[i];
    char qualified[64];
    snprintf(qualified, sizeof qualified, "tcfaceid._core.%s", spec->name);
    PyObject *base = spec->base < 0 ? PyExc_Exception : st->exc[spec->base];
    PyObject *builtin = spec->builtin == BUILTIN_VALUE_ERROR     ? PyExc_ValueError
                        : spec->builtin == BUILTIN_TIMEOUT_ERROR ? PyExc_TimeoutError
                                                                 : NULL;
    PyObject *bases = builtin ? PyTuple_Pack(2, base, builtin) : PyTuple_Pack(1, base);
    PyObject *dict = PyDict_New();
    int rc = -1;
    if (bases == NULL || dict == NULL)
        goto done;
    /* Class defaults, so that instances raised from Python code have every attribute too. */
    PyObject *code = spec->code ? PyUnicode_FromString(spec->code) : Py_NewRef(Py_None);
    if (code == NULL || PyDict_SetItemString(dict, "code", code) < 0) {
        Py_XDECREF(code);
        goto done;
    }
    Py_DECREF(code);
    if (PyDict_SetItemString(dict, "message", Py_None) < 0 ||
        PyDict_SetItemString(dict, "request_id", Py_None) < 0 ||
        PyDict_SetItemString(dict, "http_status", Py_None) < 0 ||
        PyDict_SetItemString(dict, "retryable", Py_False) < 0 ||
        PyDict_SetItemString(dict, "server_time", Py_None) < 0 ||
        PyDict_SetItemString(dict, "retry_at", Py_None) < 0)
        goto done;
    PyObject *attempts = PyLong_FromLong(0);
    if (attempts == NULL || PyDict_SetItemString(dict, "attempts", attempts) < 0) {
        Py_XDECREF(attempts);
        goto done;
    }
    Py_DECREF(attempts);
    if (i == E_ERROR) {
        PyObject *function = PyCFunction_New(&error_init_def, module);
        PyObject *method = function ? PyInstanceMethod_New(function) : NULL;
        Py_XDECREF(function);
        if (method == NULL || PyDict_SetItemString(dict, "__init__", method) < 0) {
            Py_XDECREF(method);
            goto done;
        }
        Py_DECREF(method);
    }
    st->exc[i] = PyErr_NewExceptionWithDoc(qualified, spec->doc, bases, dict);
    if (st->exc[i] == NULL)
        goto done;
    rc = add_object(module, spec->name, st->exc[i]);
done:
    Py_XDECREF(bases);
    Py_XDECREF(dict);
    return rc;
}

static int core_exec(PyObject *module)
{
    core_state *st = module_state(module);
    for (int i = 0; i < E_COUNT; i++)
        if (make_exception(st, module, i) < 0)
            return -1;
    st->client_type = PyType_FromModuleAndSpec(module, &client_spec, NULL);
    if (st->client_type == NULL || add_object(module, "Client", st->client_type) < 0)
        return -1;
    st->multi_type = PyType_FromModuleAndSpec(module, &multi_spec, NULL);
    if (st->multi_type == NULL || add_object(module, "Multi", st->multi_type) < 0)
        return -1;
    st->op_type = PyType_FromModuleAndSpec(module, &op_spec, NULL);
    if (st->op_type == NULL || add_object(module, "Op", st->op_type) < 0)
        return -1;
    return add_check_constants(module);
}

static int core_traverse(PyObject *module, visitproc visit, void *arg)
{
    core_state *st = module_state(module);
    if (st == NULL)
        return 0;
    for (int i = 0; i < E_COUNT; i++)
        Py_VISIT(st->exc[i]);
    Py_VISIT(st->client_type);
    Py_VISIT(st->multi_type);
    Py_VISIT(st->op_type);
    return 0;
}

static int core_clear(PyObject *module)
{
    core_state *st = module_state(module);
    if (st == NULL)
        return 0;
    for (int i = 0; i < E_COUNT; i++)
        Py_CLEAR(st->exc[i]);
    Py_CLEAR(st->client_type);
    Py_CLEAR(st->multi_type);
    Py_CLEAR(st->op_type);
    return 0;
}

static void core_free(void *module)
{
    core_clear((PyObject *)module);
}

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, (void *)core_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

PyDoc_STRVAR(core_doc, "tcfaceid._core: the C core of tcfaceid (signing, sans-IO build/parse, "
                       "the libcurl client). Use the tcfaceid package rather than this module.");

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT, "tcfaceid._core", core_doc,
    sizeof(core_state),    core_methods,     core_slots,
    core_traverse,         core_clear,       core_free,
};

PyMODINIT_FUNC PyInit__core(void);

PyMODINIT_FUNC PyInit__core(void)
{
    return PyModuleDef_Init(&core_module);
}
