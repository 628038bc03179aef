/* tcfaceid.core: the Lua binding of the C core (csrc/, docs/c-api.md); the twin of the Python
 * binding bindings/python/tcfaceid/_core.c (same core calls, same error classification).
 *
 * One source for Lua 5.4 and LuaJIT 2.1 (the Lua 5.1 ABI): the differences are private static
 * compat_* helpers chosen by LUA_VERSION_NUM. Built with TCF_WITH_CURL=0 (OpenResty) the module
 * has no client: core.has_transport is false and core.client raises.
 *
 * Conventions: a wrong argument type (or a missing required argument) raises; a failure of
 * validation or at run time returns nil, err, where err is a table with metatable core.error_mt
 * (kind, code, message, request_id, http_status, retryable, attempts, server_time, retry_at).
 * Out of memory raises.
 *
 * Resources: nothing the core allocates is held in a C local while a Lua API call that can raise
 * runs. Scratch arrays are userdata on the stack, and a result of the core is parked in a "box"
 * (a userdata with __gc) until it has been converted, so an error (out of memory) never leaks. */
#include "tcfaceid.h"

#include "internal.h" /* tcfp_utf8_valid_prefix: the core's UTF-8 rules */

#include <lauxlib.h>
#include <lua.h>

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef TCF_WITH_CURL
#define TCF_WITH_CURL 1
#endif

#if defined(__GNUC__)
#define LUA_EXPORT __attribute__((visibility("default")))
#else
#define LUA_EXPORT
#endif

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
/* The default suffix of X-TC-RequestClient ("SDK_C_tcfaceid_<version>; lua-5.4"). */
#if defined(LUA_LJDIR) /* LuaJIT's luaconf.h */
#define DEFAULT_REQUEST_CLIENT "luajit-2.1"
#elif LUA_VERSION_NUM < 502
#define DEFAULT_REQUEST_CLIENT "lua-5.1"
#else
#define DEFAULT_REQUEST_CLIENT "lua-" LUA_VERSION_MAJOR "." LUA_VERSION_MINOR
#endif

#define JSON_MAX_DEPTH 64 /* as the core's (TCFP_JSON_MAX_DEPTH) */

#define MT_ERROR "tcfaceid.error"
#define MT_ARRAY "tcfaceid.array"
#define MT_CONFIG "tcfaceid.config"
#define MT_CLIENT "tcfaceid.client"
#define MT_BOX "tcfaceid.box"
#define MT_OUTCOME "tcfaceid.outcome"

/* The JSON null sentinel: its address, as a light userdata. */
static char null_sentinel;

/* ---------------------------------------------------------------------------------------------
 * Compat helpers (Lua 5.4 / LuaJIT 2.1 = 5.1 ABI)
 * ------------------------------------------------------------------------------------------- */

static int compat_absindex(lua_State *L, int idx)
{
    return (idx > 0 || idx <= LUA_REGISTRYINDEX) ? idx : lua_gettop(L) + idx + 1;
}

static size_t compat_rawlen(lua_State *L, int idx)
{
#if LUA_VERSION_NUM >= 502
    return (size_t)lua_rawlen(L, idx);
#else
    return lua_objlen(L, idx);
#endif
}

static void compat_setfuncs(lua_State *L, const luaL_Reg *l)
{
#if LUA_VERSION_NUM >= 502
    luaL_setfuncs(L, l, 0);
#else
    for (; l->name != NULL; l++) {
        lua_pushcfunction(L, l->func);
        lua_setfield(L, -2, l->name);
    }
#endif
}

/* 1 and *out when the value is a number with an integral value that fits in 64 bits. */
static int compat_tointeger(lua_State *L, int idx, long long *out)
{
    if (lua_type(L, idx) != LUA_TNUMBER)
        return 0;
#if LUA_VERSION_NUM >= 503
    int ok = 0;
    lua_Integer v = lua_tointegerx(L, idx, &ok);
    if (!ok)
        return 0;
    *out = (long long)v;
    return 1;
#else
    lua_Number d = lua_tonumber(L, idx);
    if (!(d == floor(d)) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return 0;
    *out = (long long)d;
    return 1;
#endif
}

/* An integer: a Lua integer on 5.3+, a number on LuaJIT. */
static void compat_pushinteger(lua_State *L, long long v)
{
#if LUA_VERSION_NUM >= 503
    lua_pushinteger(L, (lua_Integer)v);
#else
    lua_pushnumber(L, (lua_Number)v);
#endif
}

/* ---------------------------------------------------------------------------------------------
 * Boxes: a core result parked in a GC-managed userdata until it has been converted
 * ------------------------------------------------------------------------------------------- */

typedef struct box {
    void *p;
    void (*release)(void *);
} box;

static int box_gc(lua_State *L)
{
    box *b = lua_touserdata(L, 1);
    if (b != NULL && b->p != NULL) {
        void *p = b->p;
        b->p = NULL;
        b->release(p);
    }
    return 0;
}

/* Pushes an empty box; box_done releases its content now. */
static box *box_push(lua_State *L, void (*release)(void *))
{
    box *b = lua_newuserdata(L, sizeof *b);
    b->p = NULL;
    b->release = release;
    luaL_getmetatable(L, MT_BOX);
    lua_setmetatable(L, -2);
    return b;
}

static void box_done(box *b)
{
    if (b->p != NULL) {
        void *p = b->p;
        b->p = NULL;
        b->release(p);
    }
}

static void release_signature(void *p)
{
    tcf_signature_free(p);
}
static void release_response(void *p)
{
    tcf_response_free(p);
}
static void release_request(void *p)
{
    tcf_request_free(p);
}
static void release_string(void *p)
{
    tcf_string_free(p); /* wipes: bodies and tokens hold identity data */
}
static void release_eid_json(void *p)
{
    tcf_eid_json_free(p);
}
static void release_verdict(void *p)
{
    tcf_verdict_free(p);
}
static void release_session(void *p)
{
    tcf_session_free(p);
}
static void release_json(void *p)
{
    json_decref(p);
}
static void release_malloc(void *p)
{
    free(p);
}

/* ---------------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------------- */

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The kind of a failed core call: the classification of raise_tcf in the Python binding. */
static const char *error_kind(const tcf_error *err, int code)
{
    const char *api = err->api_code;
    switch (code) {
    case TCF_EINVAL:
        return "invalid_argument";
    case TCF_EJSON:
        return "bad_json";
    case TCF_ENOCRED:
        return "no_credentials";
    case TCF_EAUTH:
        return strcmp(api, "AuthFailure.SignatureExpire") == 0 ? "clock_skew" : "auth_failure";
    case TCF_ETHROTTLED:
        return "throttled";
    case TCF_ETOKEN_EXPIRED:
        return "token_expired";
    case TCF_EAPI:
        return starts_with(api, "InvalidParameter") || starts_with(api, "MissingParameter") ||
                       starts_with(api, "UnknownParameter")
                   ? "invalid_parameter"
                   : "service_error";
    case TCF_ETRANSPORT:
        return "transport";
    case TCF_ETIMEOUT:
        return "timeout";
    case TCF_ETLS:
        return "tls";
    case TCF_EHTTP:
        return "http_status";
    case TCF_ECRYPTO:
        return "crypto";
    case TCF_ESTATE:
        return "state";
    case TCF_EAMBIGUOUS:
        return "ambiguous";
    case TCF_ERATE_LIMITED:
        return "rate_limited";
    default:
        return "error";
    }
}

/* The default code of a kind (Python: the class default of .code). */
static const char *kind_default_code(const char *kind)
{
    if (strcmp(kind, "clock_skew") == 0)
        return "auth_failure";
    if (strcmp(kind, "invalid_parameter") == 0)
        return "service_error";
    return kind;
}

static void set_string(lua_State *L, const char *key, const char *value)
{
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

/* Pushes the error table of a failed core call. */
static void push_error(lua_State *L, const tcf_error *err, int rc)
{
    int code = err->code != 0 ? err->code : rc;
    if (code == TCF_ENOMEM)
        luaL_error(L, "tcfaceid: not enough memory");
    const char *kind = error_kind(err, code);
    lua_createtable(L, 0, 8);
    set_string(L, "kind", kind);
    set_string(L, "code", err->api_code[0] ? err->api_code : kind_default_code(kind));
    set_string(L, "message", err->message[0] ? err->message : tcf_strerror(code));
    if (err->request_id[0])
        set_string(L, "request_id", err->request_id);
    if (err->http_status) {
        compat_pushinteger(L, err->http_status);
        lua_setfield(L, -2, "http_status");
    }
    lua_pushboolean(L, err->retryable != 0);
    lua_setfield(L, -2, "retryable");
    compat_pushinteger(L, err->attempts);
    lua_setfield(L, -2, "attempts");
    if (err->server_time) {
        compat_pushinteger(L, err->server_time);
        lua_setfield(L, -2, "server_time");
    }
    if (err->retry_at) {
        compat_pushinteger(L, err->retry_at);
        lua_setfield(L, -2, "retry_at");
    }
    luaL_getmetatable(L, MT_ERROR);
    lua_setmetatable(L, -2);
}

/* nil, err: the return of a failed core call. */
static int fail(lua_State *L, const tcf_error *err, int rc)
{
    lua_pushnil(L);
    push_error(L, err, rc);
    return 2;
}

static int fail_local(lua_State *L, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* nil, err for a failure found by the binding itself. */
static int fail_local(lua_State *L, int code, const char *fmt, ...)
{
    tcf_error err;
    tcf_error_clear(&err);
    err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof err.message, fmt, ap);
    va_end(ap);
    return fail(L, &err, code);
}

/* Raises the error table of a failed core call (for the functions whose bad inputs raise). */
static int raise_error(lua_State *L, const tcf_error *err, int rc)
{
    push_error(L, err, rc);
    return lua_error(L);
}

static int raise_local(lua_State *L, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int raise_local(lua_State *L, int code, const char *fmt, ...)
{
    tcf_error err;
    tcf_error_clear(&err);
    err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof err.message, fmt, ap);
    va_end(ap);
    return raise_error(L, &err, code);
}

/* error_mt.__tostring: "<code>: <message> (RequestId <id>)", parts left out when absent. */
static int error_tostring(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "code");
    lua_getfield(L, 1, "message");
    lua_getfield(L, 1, "request_id");
    const char *code = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    const char *message = lua_type(L, 3) == LUA_TSTRING ? lua_tostring(L, 3) : NULL;
    const char *rid = lua_type(L, 4) == LUA_TSTRING ? lua_tostring(L, 4) : NULL;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (code != NULL) {
        luaL_addstring(&b, code);
        if (message != NULL)
            luaL_addstring(&b, ": ");
    }
    if (message != NULL)
        luaL_addstring(&b, message);
    if (code == NULL && message == NULL)
        luaL_addstring(&b, "tcfaceid error");
    if (rid != NULL && rid[0] != '\0') {
        luaL_addstring(&b, " (RequestId ");
        luaL_addstring(&b, rid);
        luaL_addstring(&b, ")");
    }
    luaL_pushresult(&b);
    return 1;
}

static const char *const error_kinds[] = {
    "invalid_argument",
    "bad_json",
    "no_credentials",
    "auth_failure",
    "clock_skew",
    "throttled",
    "service_error",
    "invalid_parameter",
    "token_expired",
    "transport",
    "timeout",
    "tls",
    "http_status",
    "crypto",
    "state",
    "ambiguous",
    "rate_limited",
    "error",
    NULL,
};

/* core.error(kind, message[, fields]): an error table made in Lua (the flows' own failures),
 * with the defaults of the core's (code = the kind's default, retryable false, attempts 0);
 * fields (code, request_id, http_status, retryable, attempts, server_time) override them. */
static int core_error(lua_State *L)
{
    int k = luaL_checkoption(L, 1, NULL, error_kinds);
    luaL_checkstring(L, 2);
    if (!lua_isnoneornil(L, 3))
        luaL_checktype(L, 3, LUA_TTABLE);
    lua_createtable(L, 0, 8);
    set_string(L, "kind", error_kinds[k]);
    set_string(L, "code", kind_default_code(error_kinds[k]));
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "message");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "retryable");
    compat_pushinteger(L, 0);
    lua_setfield(L, -2, "attempts");
    if (lua_istable(L, 3)) {
        static const char *const fields[] = {"code",     "request_id",  "http_status", "retryable",
                                             "attempts", "server_time", "retry_at"};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            lua_getfield(L, 3, fields[i]);
            if (lua_isnil(L, -1))
                lua_pop(L, 1);
            else
                lua_setfield(L, -2, fields[i]);
        }
    }
    luaL_getmetatable(L, MT_ERROR);
    lua_setmetatable(L, -2);
    return 1;
}

/* ---------------------------------------------------------------------------------------------
 * Arguments
 * ------------------------------------------------------------------------------------------- */

static int is_null(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == &null_sentinel;
}

/* nil, none or core.null */
static int is_absent(lua_State *L, int idx)
{
    return lua_isnoneornil(L, idx) || is_null(L, idx);
}

/* Validation failures found while reading arguments: the first one is returned as nil, err
 * once every argument has been read (a wrong type raises at once). */
typedef struct args {
    lua_State *L;
    const char *fname;
    int failed;
    char message[TCF_ERROR_MESSAGE_MAX];
} args;

static void args_init(args *a, lua_State *L, const char *fname)
{
    a->L = L;
    a->fname = fname;
    a->failed = 0;
    a->message[0] = '\0';
}

static void args_fail(args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void args_fail(args *a, const char *fmt, ...)
{
    if (a->failed)
        return;
    a->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
}

static int args_result(args *a)
{
    return fail_local(a->L, TCF_EINVAL, "%s", a->message);
}

static int type_error(args *a, const char *name, const char *expected, int idx)
{
    return luaL_error(a->L, "%s: %s must be %s, not %s", a->fname, name, expected,
                      luaL_typename(a->L, idx));
}

/* A string argument (NULL when absent and optional). The core takes C strings, so a NUL inside
 * is a validation failure. The pointer lives as long as the value stays on the stack. */
static const char *get_text(args *a, int idx, const char *name, int optional)
{
    lua_State *L = a->L;
    if (optional && is_absent(L, idx))
        return NULL;
    if (lua_type(L, idx) != LUA_TSTRING)
        type_error(a, name, optional ? "a string or nil" : "a string", idx);
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    if (strlen(s) != len)
        args_fail(a, "%s contains a NUL character", name);
    return s;
}

/* A string argument that may hold any bytes. */
static const char *get_bytes(args *a, int idx, const char *name, int optional, size_t *len)
{
    lua_State *L = a->L;
    *len = 0;
    if (optional && is_absent(L, idx))
        return NULL;
    if (lua_type(L, idx) != LUA_TSTRING)
        type_error(a, name, optional ? "a string or nil" : "a string", idx);
    return lua_tolstring(L, idx, len);
}

static long long get_integer(args *a, int idx, const char *name, long long dflt, int optional)
{
    lua_State *L = a->L;
    if (optional && is_absent(L, idx))
        return dflt;
    long long v = 0;
    if (!compat_tointeger(L, idx, &v)) {
        if (lua_type(L, idx) == LUA_TNUMBER)
            luaL_error(L, "%s: %s must be an integer", a->fname, name);
        type_error(a, name, optional ? "an integer or nil" : "an integer", idx);
    }
    return v;
}

/* An optional small non-negative integer: absent gives dflt; a negative value is a validation
 * failure (the core reads -1 as "left out"). */
static int get_small_int(args *a, int idx, const char *name, int dflt)
{
    if (is_absent(a->L, idx))
        return dflt;
    long long v = get_integer(a, idx, name, 0, 0);
    if (v < 0 || v > 1000) {
        args_fail(a, "%s must be %s", name,
                  v < 0 ? "0 or more (nil leaves it out)" : "at most 1000");
        return dflt;
    }
    return (int)v;
}

/* An optional flag: absent -1, else 0/1 from a boolean (or the integers 0 and 1). */
static int get_flag(args *a, int idx, const char *name)
{
    lua_State *L = a->L;
    if (is_absent(L, idx))
        return -1;
    if (lua_type(L, idx) == LUA_TBOOLEAN)
        return lua_toboolean(L, idx);
    long long v;
    if (compat_tointeger(L, idx, &v) && (v == 0 || v == 1))
        return (int)v;
    return type_error(a, name, "a boolean or nil", idx);
}

/* Reads the fields of an options table (or nil: every field absent) onto the stack: the value of
 * keys[i] goes to index base + i (returned base), core.null turned into nil. A key that is not
 * in keys raises, as a keyword argument the function does not take. */
static int get_fields(args *a, int t, const char *const *keys, int n)
{
    lua_State *L = a->L;
    t = compat_absindex(L, t);
    int present = lua_istable(L, t);
    if (!present && !lua_isnoneornil(L, t))
        type_error(a, "the options", "a table or nil", t);
    if (present) {
        lua_pushnil(L);
        while (lua_next(L, t) != 0) {
            lua_pop(L, 1);
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "%s: option names must be strings, not %s", a->fname,
                           luaL_typename(L, -1));
            const char *key = lua_tostring(L, -1);
            int i = 0;
            while (i < n && strcmp(keys[i], key) != 0)
                i++;
            if (i == n)
                luaL_error(L, "%s: unknown option '%s'", a->fname, key);
        }
    }
    luaL_checkstack(L, n + 8, "tcfaceid: too many options");
    int base = lua_gettop(L) + 1;
    for (int i = 0; i < n; i++) {
        if (present) {
            lua_getfield(L, t, keys[i]);
            if (is_null(L, -1)) {
                lua_pop(L, 1);
                lua_pushnil(L);
            }
        } else {
            lua_pushnil(L);
        }
    }
    return base;
}

/* ---------------------------------------------------------------------------------------------
 * JSON: Lua values <-> jansson
 * ------------------------------------------------------------------------------------------- */

/* 1 when s[0..n) is valid UTF-8 (the core's rules). */
static int utf8_valid(const char *text, size_t n)
{
    return tcfp_utf8_valid_prefix((const unsigned char *)text, n) == n;
}

typedef struct encoder {
    lua_State *L;
    const void *parents[JSON_MAX_DEPTH + 1]; /* the tables being encoded, for cycles */
    int precision; /* the fewest significant digits (15-17) that round-trip every real */
    const char *error;
} encoder;

static int enc_fail(encoder *e, const char *message)
{
    if (e->error == NULL)
        e->error = message;
    return -1;
}

/* The fewest digits (at least 15, jansson's JSON_REAL_PRECISION) that give d back. */
static int real_precision(double d)
{
    char text[40];
    for (int p = 15; p < 17; p++) {
        snprintf(text, sizeof text, "%.*g", p, d);
        if (strtod(text, NULL) == d)
            return p;
    }
    return 17;
}

static int enc_value(encoder *e, int idx, int depth, json_t **out);

/* Attach v to parent (an array when key is NULL). v is consumed. */
static int enc_attach(encoder *e, json_t *parent, const char *key, size_t key_len, json_t *v)
{
    int rc;
    if (key == NULL) {
        rc = json_array_append_new(parent, v);
    } else {
#if JANSSON_VERSION_HEX >= 0x020e00
        rc = json_object_setn_new_nocheck(parent, key, key_len, v);
#else
        (void)key_len;
        rc = json_object_set_new_nocheck(parent, key, v);
#endif
    }
    return rc == 0 ? 0 : enc_fail(e, "out of memory");
}

/* The Lua table at idx (absolute) as an array or an object, attached to *out first so that the
 * caller's box owns it before anything else can fail. */
static int enc_table(encoder *e, int idx, int depth, json_t **out)
{
    lua_State *L = e->L;
    if (depth >= JSON_MAX_DEPTH)
        return enc_fail(e, "nesting deeper than 64 levels");
    const void *self = lua_topointer(L, idx);
    for (int i = 0; i < depth; i++)
        if (e->parents[i] == self)
            return enc_fail(e, "a table contains itself (a cycle)");
    e->parents[depth] = self;
    luaL_checkstack(L, 6, "tcfaceid: JSON too deep");

    int is_array_mt = 0;
    if (lua_getmetatable(L, idx)) {
        luaL_getmetatable(L, MT_ARRAY);
        is_array_mt = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    size_t strings = 0, integers = 0;
    long long max = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        long long k;
        if (lua_type(L, -1) == LUA_TSTRING) {
            strings++;
        } else if (compat_tointeger(L, -1, &k) && k >= 1) {
            integers++;
            if (k > max)
                max = k;
        } else {
            int number = lua_type(L, -1) == LUA_TNUMBER;
            lua_pop(L, 1);
            return enc_fail(e, number
                                   ? "a table has a number key that is not a positive integer"
                                   : "a table has a key that is neither a string nor an integer");
        }
    }
    if (strings > 0 && (integers > 0 || is_array_mt))
        return enc_fail(e, "a table mixes string and integer keys");
    if (integers > 0 && (unsigned long long)max != integers)
        return enc_fail(e, "an array has holes (a sparse table)");

    if (integers > 0 || is_array_mt) {
        json_t *arr = json_array();
        if (arr == NULL)
            return enc_fail(e, "out of memory");
        *out = arr;
        for (long long i = 1; i <= max; i++) {
            lua_rawgeti(L, idx, (int)i);
            json_t *v = NULL;
            int rc = enc_value(e, lua_gettop(L), depth + 1, &v);
            lua_pop(L, 1);
            if (rc != 0) {
                json_decref(v); /* a container that failed half-way */
                return -1;
            }
            if (enc_attach(e, arr, NULL, 0, v) != 0)
                return -1;
        }
        return 0;
    }
    json_t *obj = json_object();
    if (obj == NULL)
        return enc_fail(e, "out of memory");
    *out = obj;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        size_t key_len;
        const char *key = lua_tolstring(L, -2, &key_len); /* a string: not converted in place */
        if (!utf8_valid(key, key_len)) {
            lua_pop(L, 2);
            return enc_fail(e, "an object key is not valid UTF-8");
        }
#if JANSSON_VERSION_HEX < 0x020e00
        if (strlen(key) != key_len) {
            lua_pop(L, 2);
            return enc_fail(e, "an object key contains a NUL character");
        }
#endif
        json_t *v = NULL;
        int rc = enc_value(e, lua_gettop(L), depth + 1, &v);
        if (rc == 0)
            rc = enc_attach(e, obj, key, key_len, v); /* consumes v */
        else
            json_decref(v); /* a container that failed half-way */
        lua_pop(L, 1);
        if (rc != 0) {
            lua_pop(L, 1);
            return -1;
        }
    }
    return 0;
}

/* The value at idx (absolute) as a new json_t in *out; -1 with e->error on failure (whatever
 * was built is owned by the caller's tree or freed). */
static int enc_value(encoder *e, int idx, int depth, json_t **out)
{
    lua_State *L = e->L;
    *out = NULL;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (!utf8_valid(s, len))
            return enc_fail(e, "a string is not valid UTF-8");
        *out = json_stringn_nocheck(s, len);
        return *out ? 0 : enc_fail(e, "out of memory");
    }
    case LUA_TNUMBER: {
#if LUA_VERSION_NUM >= 503
        if (lua_isinteger(L, idx)) {
            *out = json_integer((json_int_t)lua_tointeger(L, idx));
            return *out ? 0 : enc_fail(e, "out of memory");
        }
#endif
        double d = (double)lua_tonumber(L, idx);
        if (!isfinite(d))
            return enc_fail(e, "a number is NaN or infinite");
#if LUA_VERSION_NUM < 503
        if (d == floor(d) && fabs(d) <= 9007199254740992.0) {
            *out = json_integer((json_int_t)d);
            return *out ? 0 : enc_fail(e, "out of memory");
        }
#endif
        int p = real_precision(d);
        if (p > e->precision)
            e->precision = p;
        *out = json_real(d);
        return *out ? 0 : enc_fail(e, "out of memory");
    }
    case LUA_TBOOLEAN:
        *out = lua_toboolean(L, idx) ? json_true() : json_false();
        return 0;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == &null_sentinel) {
            *out = json_null();
            return 0;
        }
        return enc_fail(e, "a light userdata other than core.null");
    case LUA_TTABLE: {
        /* the container is created inside enc_table; give it to *out before filling it */
        json_t *container = NULL;
        int rc = enc_table(e, idx, depth, &container);
        *out = container;
        return rc;
    }
    case LUA_TNIL:
        return enc_fail(e, "nil (use core.null for JSON null)");
    default:
        return enc_fail(e, lua_type(L, idx) == LUA_TFUNCTION   ? "a function"
                           : lua_type(L, idx) == LUA_TUSERDATA ? "a userdata"
                           : lua_type(L, idx) == LUA_TTHREAD   ? "a coroutine"
                                                               : "a value of an unknown type");
    }
}

/* Encodes the value at idx and pushes the JSON text; raises on values JSON cannot hold. */
static void push_json_encoded(lua_State *L, int idx, const char *fname)
{
    idx = compat_absindex(L, idx);
    box *b = box_push(L, release_json);
    encoder e;
    memset(&e, 0, sizeof e);
    e.L = L;
    e.precision = 15;
    json_t *root = NULL;
    int rc = enc_value(&e, idx, 0, &root);
    b->p = root;
    if (rc != 0) {
        box_done(b);
        if (e.error != NULL && strcmp(e.error, "out of memory") == 0)
            luaL_error(L, "tcfaceid: not enough memory");
        luaL_error(L, "%s: cannot encode the value: %s", fname, e.error ? e.error : "?");
    }
    size_t flags =
        JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(e.precision);
    box *text = box_push(L, release_malloc);
    text->p = json_dumps(root, flags);
    box_done(b);
    if (text->p == NULL)
        luaL_error(L, "tcfaceid: not enough memory");
    lua_pushstring(L, text->p);
    box_done(text);
    lua_replace(L, -3); /* over the first box */
    lua_pop(L, 1);
}

static int core_json_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    push_json_encoded(L, 1, "json_encode");
    return 1;
}

static void push_array_mt(lua_State *L)
{
    luaL_getmetatable(L, MT_ARRAY);
}

/* Pushes the Lua value of v; -1 (nothing pushed) when nested deeper than JSON_MAX_DEPTH. */
static int dec_value(lua_State *L, json_t *v, int depth)
{
    if (depth >= JSON_MAX_DEPTH && (json_is_object(v) || json_is_array(v)))
        return -1;
    luaL_checkstack(L, 4, "tcfaceid: JSON too deep");
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v);
        lua_createtable(L, 0, n > INT_MAX ? INT_MAX : (int)n);
        for (void *it = json_object_iter(v); it != NULL; it = json_object_iter_next(v, it)) {
            const char *key = json_object_iter_key(it);
#if JANSSON_VERSION_HEX >= 0x020e00
            lua_pushlstring(L, key, json_object_iter_key_len(it));
#else
            lua_pushstring(L, key);
#endif
            if (dec_value(L, json_object_iter_value(it), depth + 1) != 0) {
                lua_pop(L, 2);
                return -1;
            }
            lua_rawset(L, -3);
        }
        return 0;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        lua_createtable(L, n > INT_MAX ? INT_MAX : (int)n, 0);
        push_array_mt(L);
        lua_setmetatable(L, -2);
        for (size_t i = 0; i < n; i++) {
            if (dec_value(L, json_array_get(v, i), depth + 1) != 0) {
                lua_pop(L, 1);
                return -1;
            }
            lua_rawseti(L, -2, (int)(i + 1));
        }
        return 0;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
        compat_pushinteger(L, (long long)json_integer_value(v));
        return 0;
    case JSON_REAL:
        lua_pushnumber(L, (lua_Number)json_real_value(v));
        return 0;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        return 0;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        return 0;
    case JSON_NULL:
    default:
        lua_pushlightuserdata(L, &null_sentinel);
        return 0;
    }
}

/* What is wrong with a JSON text, from jansson's error code (never its text, which quotes the
 * input). */
static const char *json_problem(const json_error_t *e, size_t len)
{
    switch (json_error_code(e)) {
    case json_error_out_of_memory:
        return NULL;
    case json_error_invalid_utf8:
        return "is not valid UTF-8";
    case json_error_premature_end_of_input:
        return len == 0 ? "is empty" : "is truncated";
    case json_error_end_of_input_expected:
        return "has text after the value";
    case json_error_duplicate_key:
        return "repeats an object key";
    case json_error_numeric_overflow:
        return "has a number out of range";
    case json_error_stack_overflow:
        return "is nested too deeply";
    case json_error_null_character:
    case json_error_null_byte_in_key:
        return "contains a NUL byte";
    default:
        return "is not valid JSON";
    }
}

static int core_json_decode(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    box *b = box_push(L, release_json);
    json_error_t e;
    json_t *root =
        json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (root == NULL) {
        const char *problem = json_problem(&e, len);
        if (problem == NULL)
            return luaL_error(L, "tcfaceid: not enough memory");
        if (e.position > 0 && strcmp(problem, "is empty") != 0)
            return fail_local(L, TCF_EJSON, "the JSON text %s (at byte %d)", problem, e.position);
        return fail_local(L, TCF_EJSON, "the JSON text %s", problem);
    }
    b->p = root;
    if (dec_value(L, root, 0) != 0) {
        box_done(b);
        return fail_local(L, TCF_EJSON, "the JSON text is nested deeper than %d levels",
                          JSON_MAX_DEPTH);
    }
    box_done(b);
    return 1;
}

/* A request body argument: nil (the empty object), a JSON string (sent as is) or a table
 * (encoded). Returns the bytes; the string stays on the stack at idx (replaced when encoded). */
static const char *get_body(lua_State *L, int idx, const char *fname, size_t *len)
{
    idx = compat_absindex(L, idx);
    *len = 0;
    if (is_absent(L, idx))
        return NULL;
    if (lua_istable(L, idx)) {
        push_json_encoded(L, idx, fname);
        lua_replace(L, idx);
    } else if (lua_type(L, idx) != LUA_TSTRING) {
        luaL_error(L, "%s: the body must be a JSON string, a table or nil, not %s", fname,
                   luaL_typename(L, idx));
    }
    return lua_tolstring(L, idx, len);
}

/* ---------------------------------------------------------------------------------------------
 * version(), sign(), parse()
 * ------------------------------------------------------------------------------------------- */

static int core_version(lua_State *L)
{
    lua_pushstring(L, tcf_version());
    return 1;
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

/* The value of an extra signed header, as tcf-sign takes it: x-tc-action, -region, -version,
 * -language and -token from the key of the same name, x-tc-timestamp from timestamp. */
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

/* signed_headers "content-type;host[;x-tc-...]" into in->extra_signed_headers (scratch
 * userdata pushed on the stack). Raises on a bad list. */
typedef struct header_values {
    const char *const *s;
    const char *timestamp_text;
} header_values;

static const char *header_value_of(void *user, const char *name)
{
    const header_values *v = user;
    return signed_header_value(name, v->s, v->timestamp_text);
}

static void sign_signed_headers(lua_State *L, tcf_sign_input *in, const char *list,
                                const char *const *s, const char *timestamp_text)
{
    size_t len = strlen(list);
    char *copy = lua_newuserdata(L, len + 1);
    tcf_header *extra = lua_newuserdata(L, (len / 2 + 1) * sizeof *extra);
    memcpy(copy, list, len + 1);
    header_values values = {s, timestamp_text};
    size_t count = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_sign_split_signed_headers(extra, &count, copy, header_value_of, &values, &err);
    if (rc != 0)
        raise_error(L, &err, rc);
    in->extra_signed_headers = extra;
    in->extra_signed_header_count = count;
}

/* v1 parameters: a table name -> string (or integer, written in decimal). The strings are kept
 * in a table pushed on the stack. */
static void sign_params(lua_State *L, tcf_sign_input *in, int t)
{
    if (!lua_istable(L, t))
        luaL_error(L, "sign: params must be a table, not %s", luaL_typename(L, t));
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        lua_pop(L, 1);
        n++;
    }
    tcf_header *params = lua_newuserdata(L, (n + 1) * sizeof *params);
    lua_newtable(L); /* keeps the value strings (a converted integer is a new string) */
    int keep = lua_gettop(L);
    size_t i = 0;
    lua_pushnil(L);
    while (i < n && lua_next(L, t) != 0) {
        /* key at -2 (anchored by t), value at -1 */
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "sign: params names must be strings, not %s", luaL_typename(L, -2));
        long long iv;
        if (lua_type(L, -1) == LUA_TNUMBER && compat_tointeger(L, -1, &iv)) {
            char digits[24];
            snprintf(digits, sizeof digits, "%lld", iv);
            lua_pushstring(L, digits);
        } else if (lua_type(L, -1) == LUA_TSTRING) {
            lua_pushvalue(L, -1);
        } else {
            luaL_error(L, "sign: params values must be strings or integers, not %s",
                       luaL_typename(L, -1));
        }
        size_t name_len, value_len;
        const char *name = lua_tolstring(L, -3, &name_len);
        const char *value = lua_tolstring(L, -1, &value_len);
        lua_rawseti(L, keep, (int)(i + 1));
        lua_pop(L, 1); /* the value; the key stays for lua_next */
        if (strlen(name) != name_len || strlen(value) != value_len)
            raise_local(L, TCF_EINVAL, "a params name or value contains a NUL character");
        params[i].name = name;
        params[i].value = value;
        i++;
    }
    if (i == n && n > 0)
        lua_pop(L, 1); /* the key of an iteration stopped early */
    in->params = params;
    in->param_count = i;
}

static int core_sign(lua_State *L)
{
    args a;
    args_init(&a, L, "sign");
    luaL_checktype(L, 1, LUA_TTABLE);
    int base = get_fields(&a, 1, sign_keys, K_COUNT);
    const char *s[K_STRING_COUNT];
    for (int k = 0; k < K_STRING_COUNT; k++)
        s[k] = get_text(&a, base + k, sign_keys[k], 1);
    if (a.failed)
        raise_local(L, TCF_EINVAL, "%s", a.message);

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
    if (!is_absent(L, base + K_TIMESTAMP)) {
        in.timestamp = get_integer(&a, base + K_TIMESTAMP, "timestamp", 0, 0);
        snprintf(timestamp_text, sizeof timestamp_text, "%lld", in.timestamp);
        timestamp = timestamp_text;
    } else if (in.algorithm == NULL || strcmp(in.algorithm, "TC3-HMAC-SHA256") == 0) {
        raise_local(L, TCF_EINVAL, "sign: timestamp is missing (TC3 signs it)");
    }
    if (!is_absent(L, base + K_UNSIGNED_PAYLOAD)) {
        if (lua_type(L, base + K_UNSIGNED_PAYLOAD) != LUA_TBOOLEAN)
            type_error(&a, "unsigned_payload", "a boolean or nil", base + K_UNSIGNED_PAYLOAD);
        in.unsigned_payload = lua_toboolean(L, base + K_UNSIGNED_PAYLOAD);
    }
    size_t body_len = 0;
    const char *body = get_bytes(&a, base + K_BODY, "body", 1, &body_len);
    if (body != NULL) {
        in.body = (const unsigned char *)body;
        in.body_len = body_len;
    }
    if (s[K_SIGNED_HEADERS] != NULL)
        sign_signed_headers(L, &in, s[K_SIGNED_HEADERS], s, timestamp);
    if (!is_absent(L, base + K_PARAMS))
        sign_params(L, &in, base + K_PARAMS);

    box *b = box_push(L, release_signature);
    tcf_signature *sig = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_sign(&sig, &in, &err);
    if (rc != 0)
        return raise_error(L, &err, rc);
    b->p = sig;
    static const char *const fields[] = {"hashed_payload", "canonical_request", "string_to_sign",
                                         "signature", "authorization"};
    lua_createtable(L, 0, 5);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *value = tcf_signature_get(sig, fields[i]);
        if (value != NULL)
            set_string(L, fields[i], value);
    }
    box_done(b);
    return 1;
}

/* Response headers for tcf_parse: a table name -> value, or a list of {name, value}. The
 * array is scratch userdata pushed on the stack; the strings are anchored by the table. */
static const tcf_header *get_headers(lua_State *L, int t, size_t *count)
{
    *count = 0;
    if (lua_isnoneornil(L, t))
        return NULL;
    if (!lua_istable(L, t))
        luaL_error(L, "parse: headers must be a table or nil, not %s", luaL_typename(L, t));
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        lua_pop(L, 1);
        n++;
    }
    tcf_header *h = lua_newuserdata(L, (n + 1) * sizeof *h);
    size_t i = 0;
    lua_pushnil(L);
    while (i < n && lua_next(L, t) != 0) {
        const char *name, *value;
        if (lua_type(L, -2) == LUA_TSTRING) {
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "parse: header values must be strings, not %s", luaL_typename(L, -1));
            name = lua_tostring(L, -2);
            value = lua_tostring(L, -1);
        } else if (lua_type(L, -2) == LUA_TNUMBER && lua_istable(L, -1)) {
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2);
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "parse: each header must be a pair {name, value} of strings");
            name = lua_tostring(L, -2);  /* anchored by the pair table */
            value = lua_tostring(L, -1); /* anchored by the pair table */
            lua_pop(L, 2);
        } else {
            luaL_error(L, "parse: headers must be a table name -> value or a list of {name, "
                          "value} pairs");
            return NULL;
        }
        h[i].name = name;
        h[i].value = value;
        i++;
        lua_pop(L, 1);
    }
    *count = i;
    return h;
}

static int core_parse(lua_State *L)
{
    args a;
    args_init(&a, L, "parse");
    long long status = get_integer(&a, 1, "status", 0, 0);
    size_t body_len;
    const char *body = get_bytes(&a, 3, "body", 0, &body_len);
    if (status < INT_MIN || status > INT_MAX)
        return fail_local(L, TCF_EINVAL, "parse: status %lld is not an HTTP status", status);
    size_t count;
    const tcf_header *h = get_headers(L, 2, &count);
    box *b = box_push(L, release_response);
    tcf_response *resp = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_parse(&resp, (int)status, h, count, body, body_len, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    b->p = resp;
    size_t len = 0;
    const char *json = tcf_response_json(resp, &len);
    lua_pushlstring(L, json, len);
    const char *rid = tcf_response_request_id(resp);
    if (rid != NULL && rid[0] != '\0')
        lua_pushstring(L, rid);
    else
        lua_pushnil(L);
    long long server_time = tcf_response_server_time(resp);
    if (server_time != 0)
        compat_pushinteger(L, server_time);
    else
        lua_pushnil(L);
    box_done(b);
    return 3;
}

/* ---------------------------------------------------------------------------------------------
 * Configurations and clients
 * ------------------------------------------------------------------------------------------- */

/* The configuration part of the options (shared by core.config and core.client). */
enum {
    O_SECRET_ID,
    O_SECRET_KEY,
    O_TOKEN,
    O_REGION,
    O_ENDPOINT,
    O_LANGUAGE,
    O_REQUEST_CLIENT,
    O_CONFIG_COUNT,
    O_CONNECT_TIMEOUT = O_CONFIG_COUNT,
    O_TIMEOUT,
    O_PROXY,
    O_CA_BUNDLE,
    O_VERIFY,
    O_LOG,
    O_RETRY,
    O_QPS,
    O_ENCRYPT,
    O_ENCRYPTION,
    O_COUNT
};

static const char *const option_keys[O_COUNT] = {
    [O_SECRET_ID] = "secret_id",
    [O_SECRET_KEY] = "secret_key",
    [O_TOKEN] = "token",
    [O_REGION] = "region",
    [O_ENDPOINT] = "endpoint",
    [O_LANGUAGE] = "language",
    [O_REQUEST_CLIENT] = "request_client",
    [O_CONNECT_TIMEOUT] = "connect_timeout",
    [O_TIMEOUT] = "timeout",
    [O_PROXY] = "proxy",
    [O_CA_BUNDLE] = "ca_bundle",
    [O_VERIFY] = "verify",
    [O_LOG] = "log",
    [O_RETRY] = "retry",
    [O_QPS] = "qps",
    [O_ENCRYPT] = "encrypt",
    [O_ENCRYPTION] = "encryption",
};

/* Fills the config options from the fields at base; NULL request_client: the default. */
static void get_config_options(args *a, int base, tcf_config_options *config)
{
    config->secret_id = get_text(a, base + O_SECRET_ID, "secret_id", 1);
    config->secret_key = get_text(a, base + O_SECRET_KEY, "secret_key", 1);
    config->token = get_text(a, base + O_TOKEN, "token", 1);
    config->region = get_text(a, base + O_REGION, "region", 1);
    config->endpoint = get_text(a, base + O_ENDPOINT, "endpoint", 1);
    config->language = get_text(a, base + O_LANGUAGE, "language", 1);
    const char *request_client = get_text(a, base + O_REQUEST_CLIENT, "request_client", 1);
    config->request_client = request_client ? request_client : DEFAULT_REQUEST_CLIENT;
}

/* The credentials chain when neither secret_id nor secret_key is given (*chain stays NULL
 * otherwise). 0, or the return count of nil, err. */
static int credentials_for(lua_State *L, tcf_config_options *config, tcf_credentials **chain)
{
    *chain = NULL;
    if ((config->secret_id == NULL) != (config->secret_key == NULL))
        return fail_local(L, TCF_EINVAL,
                          "give secret_id and secret_key together (or neither, to read them "
                          "from the environment or the profile file)");
    if (config->secret_id != NULL)
        return 0;
    if (config->token != NULL && config->token[0] != '\0')
        return fail_local(L, TCF_EINVAL, "token given without secret_id and secret_key");
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_credentials_new_chain(chain, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    config->credentials = *chain;
    return 0;
}

/* The base URL ("https://faceid.tencentcloudapi.com", no final "/") and the Host header of
 * requests built with config: malloc'd copies. */
static int endpoint_of(const tcf_config *config, char **endpoint, char **host, tcf_error *err)
{
    tcf_request *req = NULL;
    int rc = tcf_build(&req, config, "GetLiveCode", NULL, 0, 0, err);
    if (rc != 0)
        return rc;
    const char *url = tcf_request_url(req);
    size_t len = strlen(url);
    if (len > 0 && url[len - 1] == '/')
        len--;
    const char *h = "";
    for (size_t i = 0; i < tcf_request_header_count(req); i++)
        if (strcasecmp(tcf_request_header_name(req, i), "Host") == 0)
            h = tcf_request_header_value(req, i);
    *endpoint = malloc(len + 1);
    *host = malloc(strlen(h) + 1);
    if (*endpoint == NULL || *host == NULL) {
        free(*endpoint);
        free(*host);
        *endpoint = *host = NULL;
        tcf_request_free(req);
        err->code = TCF_ENOMEM;
        return TCF_ENOMEM;
    }
    memcpy(*endpoint, url, len);
    (*endpoint)[len] = '\0';
    memcpy(*host, h, strlen(h) + 1);
    tcf_request_free(req);
    return 0;
}

/* {method=, url=, headers={{name, value}, ...}, body=} */
static void push_request(lua_State *L, const tcf_request *req)
{
    lua_createtable(L, 0, 4);
    set_string(L, "method", tcf_request_method(req));
    set_string(L, "url", tcf_request_url(req));
    size_t count = tcf_request_header_count(req);
    lua_createtable(L, (int)count, 0);
    push_array_mt(L);
    lua_setmetatable(L, -2);
    for (size_t i = 0; i < count; i++) {
        lua_createtable(L, 2, 0);
        lua_pushstring(L, tcf_request_header_name(req, i));
        lua_rawseti(L, -2, 1);
        lua_pushstring(L, tcf_request_header_value(req, i));
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (int)(i + 1));
    }
    lua_setfield(L, -2, "headers");
    size_t len = 0;
    const char *body = tcf_request_body(req, &len);
    lua_pushlstring(L, body, len);
    lua_setfield(L, -2, "body");
}

/* prepare(action, body, timestamp) with config: the request table | nil, err. */
static int do_prepare(lua_State *L, const tcf_config *config, int first, const char *fname)
{
    args a;
    args_init(&a, L, fname);
    const char *action = get_text(&a, first, "action", 0);
    /* Unix seconds; a fraction (core.time(), ngx.now()) is dropped */
    long long timestamp = 0;
    if (!compat_tointeger(L, first + 2, &timestamp)) {
        if (lua_type(L, first + 2) != LUA_TNUMBER)
            type_error(&a, "timestamp", "a number of Unix seconds", first + 2);
        double t = floor((double)lua_tonumber(L, first + 2));
        if (!(t >= -9e18 && t <= 9e18))
            return fail_local(L, TCF_EINVAL, "%s: timestamp is out of range", fname);
        timestamp = (long long)t;
    }
    size_t len;
    const char *body = get_body(L, first + 1, fname, &len);
    if (a.failed)
        return args_result(&a);
    box *b = box_push(L, release_request);
    tcf_request *req = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_build(&req, config, action, body, len, timestamp, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    b->p = req;
    push_request(L, req);
    box_done(b);
    return 1;
}

typedef struct lconfig {
    tcf_config *config; /* NULL once closed */
    char *endpoint;
    char *host;
} lconfig;

static void config_release(lconfig *c)
{
    tcf_config_free(c->config);
    free(c->endpoint);
    free(c->host);
    c->config = NULL;
    c->endpoint = NULL;
    c->host = NULL;
}

static int config_gc(lua_State *L)
{
    config_release(luaL_checkudata(L, 1, MT_CONFIG));
    return 0;
}

static int config_close(lua_State *L)
{
    config_release(luaL_checkudata(L, 1, MT_CONFIG));
    return 0;
}

static lconfig *config_open(lua_State *L, int *closed_ret)
{
    lconfig *c = luaL_checkudata(L, 1, MT_CONFIG);
    *closed_ret = c->config == NULL ? fail_local(L, TCF_ESTATE, "the config is closed") : 0;
    return c;
}

static int config_prepare(lua_State *L)
{
    int closed;
    lconfig *c = config_open(L, &closed);
    if (closed)
        return closed;
    return do_prepare(L, c->config, 2, "config:prepare");
}

static int config_endpoint(lua_State *L)
{
    int closed;
    lconfig *c = config_open(L, &closed);
    if (closed)
        return closed;
    lua_pushstring(L, c->endpoint);
    return 1;
}

static int config_host(lua_State *L)
{
    int closed;
    lconfig *c = config_open(L, &closed);
    if (closed)
        return closed;
    lua_pushstring(L, c->host);
    return 1;
}

static int config_tostring(lua_State *L)
{
    lconfig *c = luaL_checkudata(L, 1, MT_CONFIG);
    if (c->config == NULL)
        lua_pushstring(L, "tcfaceid.config (closed)");
    else
        lua_pushfstring(L, "tcfaceid.config (%s)", c->endpoint);
    return 1;
}

static void free_chain(void *p)
{
    tcf_credentials_free(p);
}

/* core.config(opts) -> config | nil, err */
static int core_config(lua_State *L)
{
    args a;
    args_init(&a, L, "config");
    int base = get_fields(&a, 1, option_keys, O_CONFIG_COUNT);
    tcf_config_options config = TCF_CONFIG_OPTIONS_INIT;
    get_config_options(&a, base, &config);
    if (a.failed)
        return args_result(&a);
    lconfig *c = lua_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    luaL_getmetatable(L, MT_CONFIG);
    lua_setmetatable(L, -2);
    int ud = lua_gettop(L);
    box *chain_box = box_push(L, free_chain);
    tcf_credentials *chain = NULL;
    int n = credentials_for(L, &config, &chain);
    if (n != 0)
        return n;
    chain_box->p = chain;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_config_new(&c->config, &config, &err);
    box_done(chain_box); /* the config holds its own copy */
    if (rc == 0)
        rc = endpoint_of(c->config, &c->endpoint, &c->host, &err);
    if (rc != 0) {
        config_release(c);
        return fail(L, &err, rc);
    }
    lua_pushvalue(L, ud);
    return 1;
}

/* core.retry_decide(action, err[, retry_billable]) -> "yes" | "no" | "ambiguous": the core's rule
 * (tcf_retry_decide) for a failed attempt described by an error table (kind, retryable). */
static int error_code_of_kind(const char *kind);

static int core_retry_decide(lua_State *L)
{
    args a;
    args_init(&a, L, "retry_decide");
    const char *action = get_text(&a, 1, "action", 0);
    luaL_checktype(L, 2, LUA_TTABLE);
    int billable = lua_toboolean(L, 3);
    lua_getfield(L, 2, "kind");
    const char *kind = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_getfield(L, 2, "retryable");
    tcf_error e;
    tcf_error_clear(&e);
    e.code = error_code_of_kind(kind);
    e.retryable = lua_toboolean(L, -1);
    tcf_retry_verdict v = tcf_retry_decide(tcf_action_retry_class(action), &e, billable);
    lua_pushstring(L, v == TCF_RETRY_YES ? "yes" : v == TCF_RETRY_AMBIGUOUS ? "ambiguous" : "no");
    return 1;
}

/* core.retry_delay(attempt, throttled[, u]) -> seconds: the default full-jitter backoff before
 * retry number attempt (u in [0, 1): the caller's random number; default 0.5). */
static int core_retry_delay(lua_State *L)
{
    args a;
    args_init(&a, L, "retry_delay");
    long long attempt = get_integer(&a, 1, "attempt", 1, 0);
    int throttled = lua_toboolean(L, 2);
    double u = lua_isnoneornil(L, 3) ? 0.5 : luaL_checknumber(L, 3);
    if (attempt < 1 || attempt > 1000)
        return luaL_argerror(L, 1, "attempt must be 1 to 1000");
    long ms = tcf_retry_delay_ms(NULL, (int)attempt, throttled, u);
    lua_pushnumber(L, (double)ms / 1000.0);
    return 1;
}

/* core.action_default_qps(action) -> number (0: none documented) */
static int core_action_default_qps(lua_State *L)
{
    args a;
    args_init(&a, L, "action_default_qps");
    const char *action = get_text(&a, 1, "action", 0);
    compat_pushinteger(L, tcf_action_default_qps(action));
    return 1;
}

/* core.daily_limit_result(action, result) -> boolean */
static int core_daily_limit_result(lua_State *L)
{
    args a;
    args_init(&a, L, "daily_limit_result");
    const char *action = get_text(&a, 1, "action", 0);
    const char *result = get_text(&a, 2, "result", 0);
    lua_pushboolean(L, tcf_daily_limit_result(action, result));
    return 1;
}

/* core.next_shanghai_midnight(now) -> Unix seconds */
static int core_next_shanghai_midnight(lua_State *L)
{
    args a;
    args_init(&a, L, "next_shanghai_midnight");
    long long now = get_integer(&a, 1, "now", 0, 0);
    compat_pushinteger(L, tcf_next_shanghai_midnight(now));
    return 1;
}

#if TCF_WITH_CURL

typedef struct lclient {
    tcf_client *client; /* both NULL once released */
    tcf_config *config; /* the same options: for prepare() */
    char *endpoint;
    char *host;
    lua_State *L;  /* the state of the call in progress (for the log callback) */
    int log_ref;   /* the log function in the registry, or LUA_NOREF */
    int tramp_ref; /* log_call in the registry (pushing it never allocates) */
    unsigned busy; /* calls in progress (the log callback may re-enter) */
    int closed;    /* close() was called */
} lclient;

static void client_free_native(lua_State *L, lclient *c)
{
    tcf_client_free(c->client);
    tcf_config_free(c->config);
    free(c->endpoint);
    free(c->host);
    c->client = NULL;
    c->config = NULL;
    c->endpoint = NULL;
    c->host = NULL;
    if (c->log_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, c->log_ref);
        c->log_ref = LUA_NOREF;
    }
    if (c->tramp_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, c->tramp_ref);
        c->tramp_ref = LUA_NOREF;
    }
}

/* The one release behind close(), __gc and __close; idempotent. Called from inside a call of
 * the same client (its log function), it only marks the client closed: the call frees it when
 * it returns. */
static void client_release(lua_State *L, lclient *c)
{
    c->closed = 1;
    if (c->busy == 0)
        client_free_native(L, c);
}

static int client_gc(lua_State *L)
{
    client_release(L, luaL_checkudata(L, 1, MT_CLIENT));
    return 0;
}

static int client_close(lua_State *L)
{
    client_release(L, luaL_checkudata(L, 1, MT_CLIENT));
    return 0;
}

/* Runs in a protected call from log_callback: (log, level, line as a light userdata). */
static int log_call(lua_State *L)
{
    const char *line = lua_touserdata(L, 3);
    lua_pushstring(L, line != NULL ? line : "");
    lua_replace(L, 3);
    lua_call(L, 2, 0);
    return 0;
}

/* The core's log callback: runs inside tcf_client_new / tcf_client_call, on the calling thread.
 * Nothing may be raised through the core's frames, so the user's function runs in lua_pcall;
 * its errors are reported on stderr and otherwise ignored. */
static void log_callback(void *user, int level, const char *line)
{
    lclient *c = user;
    lua_State *L = c->L;
    if (L == NULL || c->log_ref == LUA_NOREF || c->tramp_ref == LUA_NOREF || !lua_checkstack(L, 5))
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->tramp_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->log_ref);
    lua_pushnumber(L, (lua_Number)level);
    lua_pushlightuserdata(L, (void *)line);
    if (lua_pcall(L, 3, 0, 0) != 0) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "tcfaceid: the log function failed: %s\n", msg ? msg : "(an error object)");
        lua_pop(L, 1);
    }
}

/* Seconds -> libcurl milliseconds (0 would mean "the default", so round up). */
static long timeout_ms(args *a, int idx, const char *name, double dflt)
{
    double seconds = dflt;
    if (!is_absent(a->L, idx)) {
        if (lua_type(a->L, idx) != LUA_TNUMBER)
            type_error(a, name, "a number of seconds or nil", idx);
        seconds = (double)lua_tonumber(a->L, idx);
    }
    if (!isfinite(seconds) || seconds <= 0.0 || seconds > 2147483.0) {
        args_fail(a, "%s must be a number of seconds > 0 and <= 2147483", name);
        return 0;
    }
    return (long)ceil(seconds * 1000.0);
}

/* core.client(opts) -> client | nil, err */
/* ---- reliability options and policy ---- */

enum {
    R_MAX_ATTEMPTS,
    R_BASE_DELAY,
    R_THROTTLE_DELAY,
    R_MAX_DELAY,
    R_DEADLINE,
    R_BUDGET,
    R_BUDGET_PER_S,
    R_RETRY_BILLABLE,
    R_COUNT
};

static const char *const retry_keys[R_COUNT] = {
    [R_MAX_ATTEMPTS] = "max_attempts",
    [R_BASE_DELAY] = "base_delay",
    [R_THROTTLE_DELAY] = "throttle_delay",
    [R_MAX_DELAY] = "max_delay",
    [R_DEADLINE] = "deadline",
    [R_BUDGET] = "budget",
    [R_BUDGET_PER_S] = "budget_per_s",
    [R_RETRY_BILLABLE] = "retry_billable",
};

static long retry_seconds_ms(args *a, int idx, const char *name)
{
    lua_State *L = a->L;
    if (is_absent(L, idx))
        return 0;
    if (lua_type(L, idx) != LUA_TNUMBER)
        return type_error(a, name, "a number of seconds or nil", idx);
    double d = lua_tonumber(L, idx);
    if (!(d >= 0.0) || d > 86400.0) {
        args_fail(a, "retry %s must be 0 to 86400 seconds", name);
        return 0;
    }
    long ms = (long)(d * 1000.0 + 0.5);
    return ms == 0 && d > 0 ? 1 : ms;
}

/* The retry table at idx (nil: the defaults) into *o; the stack is left as it was. */
static void get_retry(args *a, int idx, tcf_retry_options *o)
{
    lua_State *L = a->L;
    tcf_retry_options d = TCF_RETRY_OPTIONS_INIT;
    *o = d;
    if (is_absent(L, idx))
        return;
    int top = lua_gettop(L);
    int base = get_fields(a, idx, retry_keys, R_COUNT);
    if (!is_absent(L, base + R_MAX_ATTEMPTS)) {
        long long n = get_integer(a, base + R_MAX_ATTEMPTS, "max_attempts", 0, 0);
        if (n < 1 || n > 100)
            args_fail(a, "retry max_attempts must be 1 to 100");
        else
            o->max_attempts = (int)n;
    }
    o->base_delay_ms = retry_seconds_ms(a, base + R_BASE_DELAY, "base_delay");
    o->throttle_delay_ms = retry_seconds_ms(a, base + R_THROTTLE_DELAY, "throttle_delay");
    o->max_delay_ms = retry_seconds_ms(a, base + R_MAX_DELAY, "max_delay");
    o->deadline_ms = retry_seconds_ms(a, base + R_DEADLINE, "deadline");
    if (!is_absent(L, base + R_BUDGET)) {
        if (lua_type(L, base + R_BUDGET) != LUA_TNUMBER)
            type_error(a, "budget", "a number or nil", base + R_BUDGET);
        o->budget = lua_tonumber(L, base + R_BUDGET);
        if (o->budget == 0)
            args_fail(a, "retry budget must be > 0 (or < 0: unlimited; nil: 10)");
    }
    if (!is_absent(L, base + R_BUDGET_PER_S)) {
        if (lua_type(L, base + R_BUDGET_PER_S) != LUA_TNUMBER)
            type_error(a, "budget_per_s", "a number or nil", base + R_BUDGET_PER_S);
        o->budget_per_s = lua_tonumber(L, base + R_BUDGET_PER_S);
        if (!(o->budget_per_s > 0))
            args_fail(a, "retry budget_per_s must be > 0");
    }
    int billable = get_flag(a, base + R_RETRY_BILLABLE, "retry_billable");
    o->retry_billable = billable > 0;
    lua_settop(L, top);
}

enum { E_ALGORITHM, E_RSA_PUBLIC_KEY_PEM, E_SM2_PUBLIC_KEY_PEM, E_WHOLE_BODY, E_COUNT };
static const char *const encryption_keys[E_COUNT] = {
    [E_ALGORITHM] = "algorithm",
    [E_RSA_PUBLIC_KEY_PEM] = "rsa_public_key_pem",
    [E_SM2_PUBLIC_KEY_PEM] = "sm2_public_key_pem",
    [E_WHOLE_BODY] = "whole_body",
};

/* The encryption table at idx into *o (0: absent). Its strings stay on the stack (they are
 * borrowed by *o): the caller must not pop them before using *o. */
static int get_encryption(args *a, int idx, tcf_encryption_options *o)
{
    tcf_encryption_options d = TCF_ENCRYPTION_OPTIONS_INIT;
    *o = d;
    if (is_absent(a->L, idx))
        return 0;
    int base = get_fields(a, idx, encryption_keys, E_COUNT);
    const char *alg = get_text(a, base + E_ALGORITHM, "encryption.algorithm", 1);
    if (alg != NULL) {
        if (strcmp(alg, "AES-256-CBC") == 0)
            o->algorithm = TCF_ENCRYPTION_AES_256_CBC;
        else if (strcmp(alg, "SM4-GCM") == 0)
            o->algorithm = TCF_ENCRYPTION_SM4_GCM;
        else
            args_fail(a, "encryption.algorithm must be \"AES-256-CBC\" or \"SM4-GCM\"");
    }
    o->rsa_public_key_pem =
        get_text(a, base + E_RSA_PUBLIC_KEY_PEM, "encryption.rsa_public_key_pem", 1);
    o->sm2_public_key_pem =
        get_text(a, base + E_SM2_PUBLIC_KEY_PEM, "encryption.sm2_public_key_pem", 1);
    o->whole_body = get_flag(a, base + E_WHOLE_BODY, "encryption.whole_body") > 0;
    return 1;
}

static int core_client(lua_State *L)
{
    args a;
    args_init(&a, L, "client");
    int base = get_fields(&a, 1, option_keys, O_COUNT);
    tcf_config_options config = TCF_CONFIG_OPTIONS_INIT;
    tcf_client_options options = TCF_CLIENT_OPTIONS_INIT;
    get_config_options(&a, base, &config);
    options.proxy = get_text(&a, base + O_PROXY, "proxy", 1);
    options.ca_bundle = get_text(&a, base + O_CA_BUNDLE, "ca_bundle", 1);
    options.connect_timeout_ms = timeout_ms(&a, base + O_CONNECT_TIMEOUT, "connect_timeout", 5.0);
    options.timeout_ms = timeout_ms(&a, base + O_TIMEOUT, "timeout", 30.0);
    if (!is_absent(L, base + O_VERIFY) && lua_type(L, base + O_VERIFY) != LUA_TBOOLEAN)
        type_error(&a, "verify", "a boolean (give a CA file as ca_bundle)", base + O_VERIFY);
    options.insecure_skip_tls_verify =
        lua_type(L, base + O_VERIFY) == LUA_TBOOLEAN && !lua_toboolean(L, base + O_VERIFY);
    if (!is_absent(L, base + O_LOG) && lua_type(L, base + O_LOG) != LUA_TFUNCTION)
        type_error(&a, "log", "a function or nil", base + O_LOG);
    tcf_retry_options retry;
    get_retry(&a, base + O_RETRY, &retry);
    options.retry = &retry;
    /* qps: true/nil (the documented per-action QPS), false (off), or {Action = qps} */
    tcf_qps_limit qps_limits[64];
    size_t qps_count = 0;
    int qi = base + O_QPS;
    if (lua_type(L, qi) == LUA_TBOOLEAN) {
        options.qps_off = !lua_toboolean(L, qi);
    } else if (lua_type(L, qi) == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, qi) != 0) {
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TNUMBER)
                luaL_error(L, "client: qps must map action names to numbers");
            if (qps_count == sizeof qps_limits / sizeof qps_limits[0])
                luaL_error(L, "client: qps: at most 64 actions");
            qps_limits[qps_count].action = lua_tostring(L, -2); /* the key stays in the table */
            qps_limits[qps_count].qps = lua_tonumber(L, -1);
            qps_count++;
            lua_pop(L, 1);
        }
        options.qps_limits = qps_count ? qps_limits : NULL;
        options.qps_limit_count = qps_count;
    } else if (!is_absent(L, qi)) {
        type_error(&a, "qps", "a boolean or a table {Action = qps}", qi);
    }
    options.encrypt = get_flag(&a, base + O_ENCRYPT, "encrypt") > 0;
    tcf_encryption_options encryption;
    if (get_encryption(&a, base + O_ENCRYPTION, &encryption))
        options.encryption = &encryption;
    if (a.failed)
        return args_result(&a);

    lclient *c = lua_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    c->log_ref = LUA_NOREF;
    c->tramp_ref = LUA_NOREF;
    luaL_getmetatable(L, MT_CLIENT);
    lua_setmetatable(L, -2);
    int ud = lua_gettop(L);
    if (lua_type(L, base + O_LOG) == LUA_TFUNCTION) {
        lua_pushvalue(L, base + O_LOG);
        c->log_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_pushcfunction(L, log_call);
        c->tramp_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        options.log = log_callback;
        options.log_user = c;
    }
    box *chain_box = box_push(L, free_chain);
    tcf_credentials *chain = NULL;
    int n = credentials_for(L, &config, &chain);
    if (n != 0)
        return n;
    chain_box->p = chain;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_config_new(&c->config, &config, &err);
    if (rc == 0) {
        /* the core logs a warning here when verify is false */
        c->L = L;
        c->busy++;
        rc = tcf_client_new(&c->client, &config, &options, &err);
        c->busy--;
        c->L = NULL;
    }
    box_done(chain_box); /* the config and the client hold their own copies */
    if (rc == 0)
        rc = endpoint_of(c->config, &c->endpoint, &c->host, &err);
    if (rc != 0 || c->closed) {
        client_free_native(L, c);
        if (rc == 0)
            return fail_local(L, TCF_ESTATE, "the client was closed while being created");
        return fail(L, &err, rc);
    }
    lua_pushvalue(L, ud);
    return 1;
}

static lclient *client_open(lua_State *L, int *closed_ret)
{
    lclient *c = luaL_checkudata(L, 1, MT_CLIENT);
    *closed_ret = c->closed ? fail_local(L, TCF_ESTATE, "the client is closed") : 0;
    return c;
}

enum { C_ENCRYPT, C_RETRY, C_COUNT };
static const char *const call_keys[C_COUNT] = {[C_ENCRYPT] = "encrypt", [C_RETRY] = "retry"};

/* cl:call(action, body [, {encrypt = bool, retry = {...}}]) -> data, request_id | nil, err */
static int client_call(lua_State *L)
{
    int closed;
    lclient *c = client_open(L, &closed);
    if (closed)
        return closed;
    args a;
    args_init(&a, L, "client:call");
    const char *action = get_text(&a, 2, "action", 0);
    size_t len;
    const char *body = get_body(L, 3, "client:call", &len);
    tcf_call_options call_opts = TCF_CALL_OPTIONS_INIT;
    tcf_retry_options retry;
    if (!lua_isnoneornil(L, 4)) {
        int base = get_fields(&a, 4, call_keys, C_COUNT);
        call_opts.encrypt = get_flag(&a, base + C_ENCRYPT, "encrypt");
        if (!is_absent(L, base + C_RETRY)) {
            get_retry(&a, base + C_RETRY, &retry);
            call_opts.retry = &retry;
        }
    }
    if (a.failed)
        return args_result(&a);
    box *b = box_push(L, release_response);
    tcf_response *resp = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    lua_State *outer = c->L;
    c->L = L;
    c->busy++;
    int rc = tcf_client_call_ex(c->client, action, body, len, &call_opts, &resp, &err);
    c->busy--;
    c->L = outer;
    b->p = resp;
    if (c->closed && c->busy == 0) {
        /* closed by the log function during the call: the result still stands */
        client_free_native(L, c);
    }
    if (rc != 0)
        return fail(L, &err, rc);
    size_t json_len = 0;
    const char *json = tcf_response_json(resp, &json_len);
    lua_pushlstring(L, json, json_len);
    const char *rid = tcf_response_request_id(resp);
    if (rid != NULL && rid[0] != '\0')
        lua_pushstring(L, rid);
    else
        lua_pushnil(L);
    box_done(b);
    return 2;
}

static int client_prepare(lua_State *L)
{
    int closed;
    lclient *c = client_open(L, &closed);
    if (closed)
        return closed;
    return do_prepare(L, c->config, 2, "client:prepare");
}

static int client_endpoint(lua_State *L)
{
    int closed;
    lclient *c = client_open(L, &closed);
    if (closed)
        return closed;
    lua_pushstring(L, c->endpoint);
    return 1;
}

static int client_host(lua_State *L)
{
    int closed;
    lclient *c = client_open(L, &closed);
    if (closed)
        return closed;
    lua_pushstring(L, c->host);
    return 1;
}

static int client_tostring(lua_State *L)
{
    lclient *c = luaL_checkudata(L, 1, MT_CLIENT);
    if (c->closed || c->endpoint == NULL)
        lua_pushstring(L, "tcfaceid.client (closed)");
    else
        lua_pushfstring(L, "tcfaceid.client (%s)", c->endpoint);
    return 1;
}

#else /* !TCF_WITH_CURL */

static int core_client(lua_State *L)
{
    return luaL_error(L, "tcfaceid.core: no transport in this build (TCF_WITH_CURL=0); build "
                         "requests with core.config(opts):prepare() and send them yourself");
}

#endif

/* ---------------------------------------------------------------------------------------------
 * Validators, E-ID decryption, verdicts
 * ------------------------------------------------------------------------------------------- */

/* true | nil, err */
static int check_result(lua_State *L, int rc, const tcf_error *err)
{
    if (rc != 0)
        return fail(L, err, rc);
    lua_pushboolean(L, 1);
    return 1;
}

static int check_one_text(lua_State *L, const char *fname, const char *argname,
                          int (*check)(const char *, tcf_error *))
{
    args a;
    args_init(&a, L, fname);
    const char *text = get_text(&a, 1, argname, 0);
    if (a.failed)
        return args_result(&a);
    tcf_error err;
    tcf_error_clear(&err);
    return check_result(L, check(text, &err), &err);
}

static int core_check_id_card(lua_State *L)
{
    args a;
    args_init(&a, L, "check_id_card");
    const char *id = get_text(&a, 1, "id", 0);
    long long today = get_integer(&a, 2, "today", 0, 1);
    if (a.failed)
        return args_result(&a);
    tcf_error err;
    tcf_error_clear(&err);
    return check_result(L, tcf_check_id_card(id, today, &err), &err);
}

/* core.normalize_id_card(id[, today]) -> the number as it is sent (a final x as X) | nil, err */
static int core_normalize_id_card(lua_State *L)
{
    args a;
    args_init(&a, L, "normalize_id_card");
    const char *id = get_text(&a, 1, "id", 0);
    long long today = get_integer(&a, 2, "today", 0, 1);
    if (a.failed)
        return args_result(&a);
    char out[19];
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_normalize_id_card(out, id, today, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    lua_pushstring(L, out);
    return 1;
}

static int core_normalize_name(lua_State *L)
{
    args a;
    args_init(&a, L, "normalize_name");
    const char *name = get_text(&a, 1, "name", 0);
    if (a.failed)
        return args_result(&a);
    char out[4 * 32 + 1];
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_normalize_name(out, sizeof out, name, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    lua_pushstring(L, out);
    return 1;
}

static int core_check_phone(lua_State *L)
{
    return check_one_text(L, "check_phone", "phone", tcf_check_phone);
}

static int core_phone_carrier(lua_State *L)
{
    args a;
    args_init(&a, L, "phone_carrier");
    const char *phone = get_text(&a, 1, "phone", 0);
    const char *carrier = a.failed ? NULL : tcf_phone_carrier(phone);
    if (carrier == NULL)
        lua_pushnil(L);
    else
        lua_pushstring(L, carrier);
    return 1;
}

static int core_check_bank_card(lua_State *L)
{
    return check_one_text(L, "check_bank_card", "card", tcf_check_bank_card);
}

static int core_check_redirect_url(lua_State *L)
{
    return check_one_text(L, "check_redirect_url", "url", tcf_check_redirect_url);
}

static int core_check_validity_date(lua_State *L)
{
    args a;
    args_init(&a, L, "check_validity_date");
    const char *date = get_text(&a, 1, "date", 0);
    int allow = 1;
    if (!lua_isnoneornil(L, 2)) {
        if (lua_type(L, 2) != LUA_TBOOLEAN)
            type_error(&a, "allow_long_term", "a boolean or nil", 2);
        allow = lua_toboolean(L, 2);
    }
    if (a.failed)
        return args_result(&a);
    tcf_error err;
    tcf_error_clear(&err);
    return check_result(L, tcf_check_validity_date(date, allow, &err), &err);
}

static void wipe(void *p, size_t n)
{
    volatile unsigned char *q = p;
    while (n--)
        *q++ = 0;
}

/* A private NUL-terminated copy of a secret without NUL inside: wiped, then freed. */
static void release_secret(void *p)
{
    wipe(p, strlen(p));
    free(p);
}

/* core.eid_decrypt(des_key_b64, user_info_b64, pem) -> json text | nil, err */
static int core_eid_decrypt(lua_State *L)
{
    args a;
    args_init(&a, L, "eid_decrypt");
    const char *des_key = get_text(&a, 1, "des_key_b64", 0);
    const char *user_info = get_text(&a, 2, "user_info_b64", 0);
    size_t pem_len;
    const char *pem_in = get_bytes(&a, 3, "sm2_private_key_pem", 0, &pem_len);
    if (a.failed)
        return args_result(&a);
    if (memchr(pem_in, '\0', pem_len) != NULL)
        return fail_local(L, TCF_EINVAL, "sm2_private_key_pem contains a NUL character");
    /* A private copy of the key, wiped after use (as the Python binding does). */
    box *pem = box_push(L, release_secret);
    char *copy = malloc(pem_len + 1);
    if (copy == NULL)
        return luaL_error(L, "tcfaceid: not enough memory");
    memcpy(copy, pem_in, pem_len);
    copy[pem_len] = '\0';
    pem->p = copy;
    box *b = box_push(L, release_eid_json);
    char *json = NULL;
    size_t json_len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_eid_decrypt(&json, &json_len, des_key, user_info, copy, &err);
    box_done(pem);
    if (rc != 0)
        return fail(L, &err, rc);
    b->p = json;
    lua_pushlstring(L, json, json_len);
    box_done(b);
    return 1;
}

static void set_int_or_skip(lua_State *L, const char *key, int has, long long v)
{
    if (!has)
        return;
    compat_pushinteger(L, v);
    lua_setfield(L, -2, key);
}

static void push_verdict(lua_State *L, const tcf_verdict *v)
{
    int code = 0, intention = 0;
    int has_code = tcf_verdict_code(v, &code) == 0;
    int has_intention = tcf_verdict_intention_code(v, &intention) == 0;
    lua_createtable(L, 0, 8);
    compat_pushinteger(L, (int)tcf_verdict_status(v));
    lua_setfield(L, -2, "status");
    set_int_or_skip(L, "code", has_code, code);
    compat_pushinteger(L, tcf_verdict_billed(v));
    lua_setfield(L, -2, "billed");
    set_int_or_skip(L, "intention_code", has_intention, intention);
    set_string(L, "reason", tcf_verdict_reason(v));
    const char *missing = tcf_verdict_missing_part(v);
    if (missing != NULL)
        set_string(L, "missing_part", missing);
    size_t count = tcf_verdict_attempt_count(v);
    lua_createtable(L, (int)count, 0);
    push_array_mt(L);
    lua_setmetatable(L, -2);
    for (size_t i = 0; i < count; i++) {
        tcf_attempt at;
        if (tcf_verdict_attempt(v, i, &at) != 0)
            continue;
        lua_createtable(L, 0, 6);
        set_int_or_skip(L, "errcode", at.has_errcode, at.errcode);
        set_int_or_skip(L, "livestatus", at.has_livestatus, at.livestatus);
        set_int_or_skip(L, "comparestatus", at.has_comparestatus, at.comparestatus);
        if (at.has_sim) {
            lua_pushnumber(L, (lua_Number)at.sim);
            lua_setfield(L, -2, "sim");
        }
        set_int_or_skip(L, "req_time_ms", at.req_time_ms >= 0, at.req_time_ms);
        if (at.is_need_charge >= 0) {
            lua_pushboolean(L, at.is_need_charge);
            lua_setfield(L, -2, "is_need_charge");
        }
        lua_rawseti(L, -2, (int)(i + 1));
    }
    lua_setfield(L, -2, "attempts");
}

static int core_verdict(lua_State *L)
{
    args a;
    args_init(&a, L, "verdict");
    size_t len;
    const char *json = get_bytes(&a, 1, "response_json", 0, &len);
    box *b = box_push(L, release_verdict);
    tcf_verdict *v = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_verdict_from_json(&v, json, len, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    b->p = v;
    push_verdict(L, v);
    box_done(b);
    return 1;
}

static int core_errcode_meaning(lua_State *L)
{
    args a;
    args_init(&a, L, "errcode_meaning");
    long long code = get_integer(&a, 1, "errcode", 0, 0);
    const char *type = get_text(&a, 2, "intention_verify_type", 1);
    if (a.failed || code < INT_MIN || code > INT_MAX) {
        lua_pushnil(L);
        return 1;
    }
    const char *m =
        type != NULL ? tcf_intention_code_meaning(type, (int)code) : tcf_errcode_meaning((int)code);
    if (m == NULL)
        lua_pushnil(L);
    else
        lua_pushstring(L, m);
    return 1;
}

/* ---------------------------------------------------------------------------------------------
 * Flows: DetectAuth / GetEidToken bodies, sessions, result requests, E-ID status, redirects
 * ------------------------------------------------------------------------------------------- */

/* A string field of the table at t, raw (the table anchors the string); NULL when absent. */
static const char *raw_text(args *a, int t, const char *key, const char *what)
{
    lua_State *L = a->L;
    lua_pushstring(L, key);
    lua_rawget(L, t);
    const char *s = NULL;
    if (!is_absent(L, -1))
        s = get_text(a, lua_gettop(L), what, 0);
    lua_pop(L, 1);
    return s;
}

/* Strings of the list at t (absolute), raw, into out[0..n). */
static void list_texts(args *a, int t, const char **out, size_t n, const char *what)
{
    lua_State *L = a->L;
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, t, (int)(i + 1));
        out[i] = get_text(a, lua_gettop(L), what, 0);
        lua_pop(L, 1);
    }
}

static size_t list_length(args *a, int t, const char *what)
{
    lua_State *L = a->L;
    if (!lua_istable(L, t))
        type_error(a, what, "a list (table)", t);
    size_t n = compat_rawlen(L, t);
    if (n > 1000)
        args_fail(a, "%s has more than 1000 items", what);
    return n > 1000 ? 1000 : n;
}

/* IntentionQuestions ({ {question=, answers={...}}, ... }) and IntentionActions ({ "text", ...
 * }) into scratch userdata kept in a table pushed on the stack. */
static void get_intentions(args *a, int qidx, int aidx, const tcf_intention_question **q,
                           size_t *nq, const char *const **acts, size_t *na)
{
    lua_State *L = a->L;
    *q = NULL;
    *nq = 0;
    *acts = NULL;
    *na = 0;
    luaL_checkstack(L, 8, "tcfaceid: stack overflow");
    lua_newtable(L); /* keeps the scratch arrays */
    int keep = lua_gettop(L);
    int kept = 0;
    if (!is_absent(L, qidx)) {
        size_t n = list_length(a, qidx, "intention_questions");
        tcf_intention_question *items = lua_newuserdata(L, (n ? n : 1) * sizeof *items);
        memset(items, 0, (n ? n : 1) * sizeof *items);
        lua_rawseti(L, keep, ++kept);
        for (size_t i = 0; i < n; i++) {
            lua_rawgeti(L, qidx, (int)(i + 1)); /* anchored by the list */
            int item = lua_gettop(L);
            if (!lua_istable(L, item))
                type_error(a, "each intention question", "a table {question=, answers={...}}",
                           item);
            items[i].question = raw_text(a, item, "question", "question");
            if (items[i].question == NULL)
                args_fail(a, "intention_questions[%zu].question is missing", i + 1);
            lua_pushstring(L, "answers");
            lua_rawget(L, item); /* anchored by the item */
            size_t m = list_length(a, item + 1, "answers");
            const char **texts = lua_newuserdata(L, (m ? m : 1) * sizeof *texts);
            list_texts(a, item + 1, texts, m, "answer");
            lua_rawseti(L, keep, ++kept);
            lua_pop(L, 2); /* answers, item */
            items[i].answers = texts;
            items[i].answer_count = m;
        }
        *q = items;
        *nq = n;
    }
    if (!is_absent(L, aidx)) {
        size_t n = list_length(a, aidx, "intention_actions");
        const char **texts = lua_newuserdata(L, (n ? n : 1) * sizeof *texts);
        list_texts(a, aidx, texts, n, "intention action");
        lua_rawseti(L, keep, ++kept);
        *acts = texts;
        *na = n;
    }
}

/* A core-allocated body: the string, wiped. */
static int body_result(lua_State *L, box *b, int rc, char *json, size_t len, const tcf_error *err)
{
    if (rc != 0)
        return fail(L, err, rc);
    b->p = json;
    lua_pushlstring(L, json, len);
    box_done(b);
    return 1;
}

enum {
    DA_RULE_ID,
    DA_ID_CARD,
    DA_NAME,
    DA_REDIRECT_URL,
    DA_EXTRA,
    DA_IMAGE,
    DA_IMAGE_BASE64,
    DA_INTENTION_VERIFY_TEXT,
    DA_INTENTION_QUESTIONS,
    DA_INTENTION_ACTIONS,
    DA_INTENTION_TYPE,
    DA_INTENTION_RECOGNITION,
    DA_MOUTH_OPEN_RECOGNITION,
    DA_SPEED,
    DA_COUNT
};

static const char *const detect_auth_keys[DA_COUNT] = {
    [DA_RULE_ID] = "rule_id",
    [DA_ID_CARD] = "id_card",
    [DA_NAME] = "name",
    [DA_REDIRECT_URL] = "redirect_url",
    [DA_EXTRA] = "extra",
    [DA_IMAGE] = "image",
    [DA_IMAGE_BASE64] = "image_base64",
    [DA_INTENTION_VERIFY_TEXT] = "intention_verify_text",
    [DA_INTENTION_QUESTIONS] = "intention_questions",
    [DA_INTENTION_ACTIONS] = "intention_actions",
    [DA_INTENTION_TYPE] = "intention_type",
    [DA_INTENTION_RECOGNITION] = "intention_recognition",
    [DA_MOUTH_OPEN_RECOGNITION] = "mouth_open_recognition",
    [DA_SPEED] = "speed",
};

/* core.detect_auth_body(t, today) -> body | nil, err */
static int core_detect_auth_body(lua_State *L)
{
    args a;
    args_init(&a, L, "detect_auth_body");
    luaL_checktype(L, 1, LUA_TTABLE);
    long long today = get_integer(&a, 2, "today", 0, 1);
    int base = get_fields(&a, 1, detect_auth_keys, DA_COUNT);
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    if (is_absent(L, base + DA_RULE_ID))
        return luaL_error(L, "detect_auth_body: rule_id is required");
    p.rule_id = get_text(&a, base + DA_RULE_ID, "rule_id", 0);
    p.id_card = get_text(&a, base + DA_ID_CARD, "id_card", 1);
    p.name = get_text(&a, base + DA_NAME, "name", 1);
    p.redirect_url = get_text(&a, base + DA_REDIRECT_URL, "redirect_url", 1);
    p.extra = get_text(&a, base + DA_EXTRA, "extra", 1);
    size_t image_len = 0;
    const char *image = get_bytes(&a, base + DA_IMAGE, "image", 1, &image_len);
    if (image != NULL) {
        if (image_len == 0)
            args_fail(&a, "image: no bytes");
        p.image = (const unsigned char *)image;
        p.image_len = image_len;
    }
    p.image_base64 = get_text(&a, base + DA_IMAGE_BASE64, "image_base64", 1);
    p.intention_verify_text =
        get_text(&a, base + DA_INTENTION_VERIFY_TEXT, "intention_verify_text", 1);
    p.intention_type = get_small_int(&a, base + DA_INTENTION_TYPE, "intention_type", -1);
    p.intention_recognition =
        get_flag(&a, base + DA_INTENTION_RECOGNITION, "intention_recognition");
    p.mouth_open_recognition =
        get_flag(&a, base + DA_MOUTH_OPEN_RECOGNITION, "mouth_open_recognition");
    p.speed = get_small_int(&a, base + DA_SPEED, "speed", -1);
    get_intentions(&a, base + DA_INTENTION_QUESTIONS, base + DA_INTENTION_ACTIONS,
                   &p.intention_questions, &p.intention_question_count, &p.intention_actions,
                   &p.intention_action_count);
    if (a.failed)
        return args_result(&a);
    box *b = box_push(L, release_string);
    char *json = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_detect_auth_body(&json, &len, &p, today, &err);
    return body_result(L, b, rc, json, len, &err);
}

enum {
    ET_MERCHANT_ID,
    ET_ID_CARD,
    ET_NAME,
    ET_REDIRECT_URL,
    ET_EXTRA,
    ET_INPUT_TYPE,
    ET_USE_INTENTION_VERIFY,
    ET_INTENTION_MODE,
    ET_INTENTION_VERIFY_TEXT,
    ET_INTENTION_QUESTIONS,
    ET_INTENTION_ACTIONS,
    ET_INTENTION_RECOGNITION,
    ET_SUPPORT_HMT,
    ET_MOUTH_OPEN_RECOGNITION,
    ET_SPEED,
    ET_COUNT
};

static const char *const eid_token_keys[ET_COUNT] = {
    [ET_MERCHANT_ID] = "merchant_id",
    [ET_ID_CARD] = "id_card",
    [ET_NAME] = "name",
    [ET_REDIRECT_URL] = "redirect_url",
    [ET_EXTRA] = "extra",
    [ET_INPUT_TYPE] = "input_type",
    [ET_USE_INTENTION_VERIFY] = "use_intention_verify",
    [ET_INTENTION_MODE] = "intention_mode",
    [ET_INTENTION_VERIFY_TEXT] = "intention_verify_text",
    [ET_INTENTION_QUESTIONS] = "intention_questions",
    [ET_INTENTION_ACTIONS] = "intention_actions",
    [ET_INTENTION_RECOGNITION] = "intention_recognition",
    [ET_SUPPORT_HMT] = "support_hmt_resident_permit_ocr",
    [ET_MOUTH_OPEN_RECOGNITION] = "mouth_open_recognition",
    [ET_SPEED] = "speed",
};

/* core.eid_token_body(t, today) -> body | nil, err */
static int core_eid_token_body(lua_State *L)
{
    args a;
    args_init(&a, L, "eid_token_body");
    luaL_checktype(L, 1, LUA_TTABLE);
    long long today = get_integer(&a, 2, "today", 0, 1);
    int base = get_fields(&a, 1, eid_token_keys, ET_COUNT);
    tcf_eid_token_params p = TCF_EID_TOKEN_PARAMS_INIT;
    if (is_absent(L, base + ET_MERCHANT_ID))
        return luaL_error(L, "eid_token_body: merchant_id is required");
    p.merchant_id = get_text(&a, base + ET_MERCHANT_ID, "merchant_id", 0);
    p.id_card = get_text(&a, base + ET_ID_CARD, "id_card", 1);
    p.name = get_text(&a, base + ET_NAME, "name", 1);
    p.redirect_url = get_text(&a, base + ET_REDIRECT_URL, "redirect_url", 1);
    p.extra = get_text(&a, base + ET_EXTRA, "extra", 1);
    p.input_type = get_small_int(&a, base + ET_INPUT_TYPE, "input_type", 0);
    if (!is_absent(L, base + ET_INPUT_TYPE) && p.input_type == 0)
        args_fail(&a, "Config.InputType must be 1 to 4, not 0");
    p.use_intention_verify = get_flag(&a, base + ET_USE_INTENTION_VERIFY, "use_intention_verify");
    p.intention_mode = get_small_int(&a, base + ET_INTENTION_MODE, "intention_mode", 0);
    if (!is_absent(L, base + ET_INTENTION_MODE) && p.intention_mode == 0)
        args_fail(&a, "Config.IntentionMode must be 1 to 3, not 0");
    p.intention_verify_text =
        get_text(&a, base + ET_INTENTION_VERIFY_TEXT, "intention_verify_text", 1);
    p.intention_recognition =
        get_flag(&a, base + ET_INTENTION_RECOGNITION, "intention_recognition");
    p.is_support_hmt_resident_permit_ocr =
        get_flag(&a, base + ET_SUPPORT_HMT, "support_hmt_resident_permit_ocr");
    p.mouth_open_recognition =
        get_flag(&a, base + ET_MOUTH_OPEN_RECOGNITION, "mouth_open_recognition");
    p.speed = get_small_int(&a, base + ET_SPEED, "speed", -1);
    get_intentions(&a, base + ET_INTENTION_QUESTIONS, base + ET_INTENTION_ACTIONS,
                   &p.intention_questions, &p.intention_question_count, &p.intention_actions,
                   &p.intention_action_count);
    if (a.failed)
        return args_result(&a);
    box *b = box_push(L, release_string);
    char *json = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_eid_token_body(&json, &len, &p, today, &err);
    return body_result(L, b, rc, json, len, &err);
}

/* { kind=, token=, owner=, url=, extra=, created_at=, expires_at=, results_until=, json= } */
static int push_session(lua_State *L, const tcf_session *s)
{
    box *b = box_push(L, release_string);
    char *json = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_session_to_json(s, &json, &len, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    b->p = json;
    int eid = tcf_session_kind_of(s) == TCF_SESSION_EID;
    lua_createtable(L, 0, 9);
    set_string(L, "kind", eid ? "eid" : "saas");
    set_string(L, "token", tcf_session_token(s));
    set_string(L, "owner", eid ? tcf_session_merchant_id(s) : tcf_session_rule_id(s));
    const char *url = tcf_session_url(s), *extra = tcf_session_extra(s);
    if (url != NULL)
        set_string(L, "url", url);
    if (extra != NULL)
        set_string(L, "extra", extra);
    compat_pushinteger(L, tcf_session_created_at(s));
    lua_setfield(L, -2, "created_at");
    compat_pushinteger(L, tcf_session_expires_at(s));
    lua_setfield(L, -2, "expires_at");
    compat_pushinteger(L, tcf_session_results_until(s));
    lua_setfield(L, -2, "results_until");
    lua_pushlstring(L, json, len);
    lua_setfield(L, -2, "json");
    box_done(b);
    return 1;
}

static tcf_session_kind get_kind(args *a, int idx)
{
    static const char *const kinds[] = {"saas", "eid", NULL};
    return luaL_checkoption(a->L, idx, NULL, kinds) == 0 ? TCF_SESSION_SAAS : TCF_SESSION_EID;
}

/* core.session_new(kind, response_json, owner, extra, created_at) */
static int core_session_new(lua_State *L)
{
    args a;
    args_init(&a, L, "session_new");
    tcf_session_kind kind = get_kind(&a, 1);
    size_t len;
    const char *json = get_bytes(&a, 2, "response_json", 0, &len);
    const char *owner = get_text(&a, 3, "owner", 0);
    const char *extra = get_text(&a, 4, "extra", 1);
    long long created = get_integer(&a, 5, "created_at", 0, 0);
    if (a.failed)
        return args_result(&a);
    box *b = box_push(L, release_session);
    tcf_session *s = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = kind == TCF_SESSION_EID
                 ? tcf_eid_session_new(&s, json, len, owner, extra, created, &err)
                 : tcf_session_new(&s, json, len, owner, extra, created, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    b->p = s;
    int n = push_session(L, s);
    box_done(b);
    return n;
}

/* core.session_load(json) */
static int core_session_load(lua_State *L)
{
    args a;
    args_init(&a, L, "session_load");
    size_t len;
    const char *json = get_bytes(&a, 1, "json", 0, &len);
    box *b = box_push(L, release_session);
    tcf_session *s = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_session_from_json(&s, json, len, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    b->p = s;
    int n = push_session(L, s);
    box_done(b);
    return n;
}

/* core.session_check(json, rule_id_or_nil, now) -> true | nil, err */
static int core_session_check(lua_State *L)
{
    args a;
    args_init(&a, L, "session_check");
    size_t len;
    const char *json = get_bytes(&a, 1, "json", 0, &len);
    const char *rule_id = get_text(&a, 2, "rule_id", 1);
    long long now = get_integer(&a, 3, "now", 0, 0);
    if (a.failed)
        return args_result(&a);
    box *b = box_push(L, release_session);
    tcf_session *s = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_session_from_json(&s, json, len, &err);
    b->p = s;
    if (rc == 0)
        rc = tcf_session_check_result_request(s, rule_id, now, &err);
    box_done(b);
    return check_result(L, rc, &err);
}

/* core.result_plan(kind, parts) -> digits | nil, err */
static int core_result_plan(lua_State *L)
{
    args a;
    args_init(&a, L, "result_plan");
    tcf_session_kind kind = get_kind(&a, 1);
    const char *parts = get_text(&a, 2, "parts", 0);
    if (a.failed)
        return args_result(&a);
    char plan[16];
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_result_plan(plan, sizeof plan, kind, parts, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    lua_pushstring(L, plan);
    return 1;
}

/* core.result_body(kind, token, rule_id, info_type, best_frames_count, cut_id_card_image,
 * need_id_card_avatar) -> body | nil, err */
static int core_result_body(lua_State *L)
{
    args a;
    args_init(&a, L, "result_body");
    tcf_result_request r = TCF_RESULT_REQUEST_INIT;
    r.kind = get_kind(&a, 1);
    r.token = get_text(&a, 2, "token", 0);
    r.rule_id = get_text(&a, 3, "rule_id", 1);
    r.info_type = get_text(&a, 4, "info_type", 1);
    r.best_frames_count = get_small_int(&a, 5, "best_frames_count", -1);
    r.cut_id_card_image = get_flag(&a, 6, "cut_id_card_image");
    r.need_id_card_avatar = get_flag(&a, 7, "need_id_card_avatar");
    if (a.failed)
        return args_result(&a);
    box *b = box_push(L, release_string);
    char *json = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_result_body(&json, &len, &r, &err);
    return body_result(L, b, rc, json, len, &err);
}

/* core.eid_status(response_json) -> "init" | "doing" | "finished" | "timeout" | nil, err */
static int core_eid_status(lua_State *L)
{
    args a;
    args_init(&a, L, "eid_status");
    size_t len;
    const char *json = get_bytes(&a, 1, "response_json", 0, &len);
    tcf_eid_status status;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_eid_status_from_json(&status, json, len, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    lua_pushstring(L, tcf_eid_status_name(status));
    return 1;
}

/* The tcf_code of an error table, from its kind (the Python binding: from its class). */
static int error_code_of_kind(const char *kind)
{
    static const struct {
        const char *kind;
        int code;
    } map[] = {
        {"token_expired", TCF_ETOKEN_EXPIRED},
        {"invalid_parameter", TCF_EAPI},
        {"service_error", TCF_EAPI},
        {"timeout", TCF_ETIMEOUT},
        {"tls", TCF_ETLS},
        {"http_status", TCF_EHTTP},
        {"transport", TCF_ETRANSPORT},
        {"throttled", TCF_ETHROTTLED},
        {"auth_failure", TCF_EAUTH},
        {"clock_skew", TCF_EAUTH},
        {"bad_json", TCF_EJSON},
        {"invalid_argument", TCF_EINVAL},
        {"no_credentials", TCF_ENOCRED},
        {"crypto", TCF_ECRYPTO},
        {"ambiguous", TCF_EAMBIGUOUS},
        {"rate_limited", TCF_ERATE_LIMITED},
    };
    for (size_t i = 0; kind != NULL && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(kind, map[i].kind) == 0)
            return map[i].code;
    return TCF_ESTATE;
}

/* core.eid_poll_after_error(err, consecutive_errors) -> 1 continue, 2 timeout, 3 fail */
static int core_eid_poll_after_error(lua_State *L)
{
    args a;
    args_init(&a, L, "eid_poll_after_error");
    luaL_checktype(L, 1, LUA_TTABLE);
    long long count = get_integer(&a, 2, "consecutive_errors", 0, 0);
    if (count < 0 || count > INT_MAX)
        return luaL_argerror(L, 2, "out of range");
    lua_getfield(L, 1, "kind");
    const char *kind = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_getfield(L, 1, "retryable");
    int retryable = lua_toboolean(L, -1);
    int action = (int)tcf_eid_poll_after_error(error_code_of_kind(kind), retryable, (int)count);
    compat_pushinteger(L, action);
    return 1;
}

/* core.parse_redirect(url) -> token | nil, err */
static int core_parse_redirect(lua_State *L)
{
    args a;
    args_init(&a, L, "parse_redirect");
    const char *url = get_text(&a, 1, "url", 0);
    if (a.failed)
        return args_result(&a);
    box *b = box_push(L, release_string);
    char *token = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_parse_redirect(&token, url, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    b->p = token;
    lua_pushstring(L, token);
    box_done(b);
    return 1;
}

/* ---------------------------------------------------------------------------------------------
 * Element checks and PaaS calls: bodies, outcomes, routing, prices
 * ------------------------------------------------------------------------------------------- */

static void release_outcome(void *p)
{
    tcf_check_outcome_free(p);
}

/* The keys of a check's parameter table (core.check_body, client:check); the last two are the
 * per-call options, taken by client:check only. */
enum {
    CK_ID_CARD,
    CK_NAME,
    CK_PHONE,
    CK_BANK_CARD,
    CK_VALIDITY_BEGIN,
    CK_VALIDITY_END,
    CK_LIVENESS_TYPE,
    CK_VALIDATE_DATA,
    CK_VIDEO, /* video, video_path, video_base64, video_url: in this order */
    CK_VIDEO_PATH,
    CK_VIDEO_BASE64,
    CK_VIDEO_URL,
    CK_IMAGE, /* likewise */
    CK_IMAGE_PATH,
    CK_IMAGE_BASE64,
    CK_IMAGE_URL,
    CK_BEST_FRAME_NUM,
    CK_DETAILED,
    CK_EXTRA,
    CK_ROUTE,
    CK_PARAM_COUNT,
    CK_ENCRYPT = CK_PARAM_COUNT,
    CK_RETRY,
    CK_COUNT
};

static const char *const check_keys[CK_COUNT] = {
    [CK_ID_CARD] = "id_card",
    [CK_NAME] = "name",
    [CK_PHONE] = "phone",
    [CK_BANK_CARD] = "bank_card",
    [CK_VALIDITY_BEGIN] = "validity_begin",
    [CK_VALIDITY_END] = "validity_end",
    [CK_LIVENESS_TYPE] = "liveness_type",
    [CK_VALIDATE_DATA] = "validate_data",
    [CK_VIDEO] = "video",
    [CK_VIDEO_PATH] = "video_path",
    [CK_VIDEO_BASE64] = "video_base64",
    [CK_VIDEO_URL] = "video_url",
    [CK_IMAGE] = "image",
    [CK_IMAGE_PATH] = "image_path",
    [CK_IMAGE_BASE64] = "image_base64",
    [CK_IMAGE_URL] = "image_url",
    [CK_BEST_FRAME_NUM] = "best_frame_num",
    [CK_DETAILED] = "detailed",
    [CK_EXTRA] = "extra",
    [CK_ROUTE] = "route",
    [CK_ENCRYPT] = "encrypt",
    [CK_RETRY] = "retry",
};

/* A video or an image from the four keys at base + first (raw bytes, path, base64 text, URL);
 * the strings stay on the stack, where *m borrows them. */
static void get_media(args *a, int base, int first, tcf_media *m)
{
    int given = 0;
    size_t len = 0;
    const char *bytes = get_bytes(a, base + first, check_keys[first], 1, &len);
    if (bytes != NULL) {
        given++;
        if (len == 0)
            args_fail(a, "%s is empty (give the file's bytes)", check_keys[first]);
        m->bytes = bytes;
        m->bytes_len = len;
    }
    m->path = get_text(a, base + first + 1, check_keys[first + 1], 1);
    if (m->path != NULL)
        given++;
    const char *b64 = get_bytes(a, base + first + 2, check_keys[first + 2], 1, &len);
    if (b64 != NULL) {
        given++;
        if (len == 0)
            args_fail(a, "%s is empty", check_keys[first + 2]);
        m->base64 = b64;
        m->base64_len = len;
    }
    m->url = get_text(a, base + first + 3, check_keys[first + 3], 1);
    if (m->url != NULL)
        given++;
    if (given > 1)
        args_fail(a, "give only one of %s, %s, %s and %s", check_keys[first], check_keys[first + 1],
                  check_keys[first + 2], check_keys[first + 3]);
}

/* detailed (a boolean or nil) -> VerifyMode: 1 detailed, -1 left out (simple). */
static int verify_mode_of(args *a, int idx)
{
    return get_flag(a, idx, "detailed") == 1 ? 1 : -1;
}

/* The parameters at base (get_fields over check_keys) into *p. */
static void get_check_params(args *a, int base, tcf_check_params *p)
{
    tcf_check_params d = TCF_CHECK_PARAMS_INIT;
    *p = d;
    p->id_card = get_text(a, base + CK_ID_CARD, "id_card", 1);
    p->name = get_text(a, base + CK_NAME, "name", 1);
    p->phone = get_text(a, base + CK_PHONE, "phone", 1);
    p->bank_card = get_text(a, base + CK_BANK_CARD, "bank_card", 1);
    p->validity_begin = get_text(a, base + CK_VALIDITY_BEGIN, "validity_begin", 1);
    p->validity_end = get_text(a, base + CK_VALIDITY_END, "validity_end", 1);
    p->liveness_type = get_text(a, base + CK_LIVENESS_TYPE, "liveness_type", 1);
    p->validate_data = get_text(a, base + CK_VALIDATE_DATA, "validate_data", 1);
    get_media(a, base, CK_VIDEO, &p->video);
    get_media(a, base, CK_IMAGE, &p->image);
    p->best_frame_num = get_small_int(a, base + CK_BEST_FRAME_NUM, "best_frame_num", 0);
    p->verify_mode = verify_mode_of(a, base + CK_DETAILED);
    p->extra = get_text(a, base + CK_EXTRA, "extra", 1);
    const char *route = get_text(a, base + CK_ROUTE, "route", 1);
    if (route != NULL) {
        if (strcmp(route, "auto") == 0)
            p->phone_route = TCF_PHONE_ROUTE_AUTO;
        else if (strcmp(route, "generic") == 0)
            p->phone_route = TCF_PHONE_ROUTE_GENERIC;
        else
            args_fail(a, "route must be \"auto\" or \"generic\"");
    }
}

/* core.check_body(action, t[, today]) -> body | nil, err: the exact body of one check, every
 * input validated first (today: Unix seconds for the birth-date check; default now, 0 skips). */
static int core_check_body(lua_State *L)
{
    args a;
    args_init(&a, L, "check_body");
    const char *action = get_text(&a, 1, "action", 0);
    long long today = is_absent(L, 3) ? (long long)time(NULL) : get_integer(&a, 3, "today", 0, 0);
    int base = get_fields(&a, 2, check_keys, CK_PARAM_COUNT);
    tcf_check_params p;
    get_check_params(&a, base, &p);
    if (a.failed)
        return args_result(&a);
    box *b = box_push(L, release_string);
    char *json = NULL;
    size_t len = 0;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_check_body(&json, &len, action, &p, today, &err);
    return body_result(L, b, rc, json, len, &err);
}

/* Pushes the Lua value of a JSON text (the Response object when it is a {"Response": {...}}
 * envelope), or nothing and 0 when it cannot be decoded. */
static int push_response_table(lua_State *L, const char *json, size_t len)
{
    box *b = box_push(L, release_json);
    json_error_t e;
    b->p = json_loadb(json, len, JSON_ALLOW_NUL, &e);
    json_t *root = b->p;
    if (root == NULL) {
        lua_pop(L, 1);
        return 0;
    }
    json_t *inner = json_object_get(root, "Response");
    if (json_is_object(root) && json_object_size(root) == 1 && json_is_object(inner))
        root = inner;
    if (dec_value(L, root, 0) != 0) {
        box_done(b);
        lua_pop(L, 1);
        return 0;
    }
    box_done(b);
    lua_remove(L, -2); /* the box */
    return 1;
}

/* Pushes the outcome table: action, status, matched, result, billed, meaning, sim,
 * sim_threshold, request_id, response (metatable core.outcome_mt). */
static void push_outcome(lua_State *L, const tcf_check_outcome *o)
{
    lua_createtable(L, 0, 10);
    set_string(L, "action", tcf_check_outcome_action(o));
    const char *status = tcf_check_status_name(tcf_check_outcome_status(o));
    set_string(L, "status", status != NULL ? status : "unknown");
    int matched = tcf_check_outcome_matched(o);
    if (matched >= 0) {
        lua_pushboolean(L, matched);
        lua_setfield(L, -2, "matched");
    }
    const char *result = tcf_check_outcome_result(o);
    set_string(L, "result", result != NULL ? result : "");
    int billed = tcf_check_outcome_billed(o);
    if (billed >= 0) {
        lua_pushboolean(L, billed);
        lua_setfield(L, -2, "billed");
    }
    set_string(L, "meaning", tcf_check_outcome_meaning(o));
    double sim = 0;
    if (tcf_check_outcome_sim(o, &sim) == 0) {
        lua_pushnumber(L, (lua_Number)sim);
        lua_setfield(L, -2, "sim");
    }
    double threshold = tcf_check_outcome_sim_threshold(o);
    if (threshold >= 0) {
        lua_pushnumber(L, (lua_Number)threshold);
        lua_setfield(L, -2, "sim_threshold");
    }
    const char *rid = tcf_check_outcome_request_id(o);
    if (rid != NULL && rid[0] != '\0')
        set_string(L, "request_id", rid);
    size_t len = 0;
    const char *json = tcf_check_outcome_json(o, &len);
    if (json != NULL && push_response_table(L, json, len))
        lua_setfield(L, -2, "response");
    luaL_getmetatable(L, MT_OUTCOME);
    lua_setmetatable(L, -2);
}

/* outcome_mt.__tostring: the action, status, result, billed and sim only (never the response,
 * which may hold identity data). */
static int outcome_tostring(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const keys[] = {"action", "status", "result", "billed", "sim"};
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "tcfaceid.outcome(");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (i > 0)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, keys[i]);
        luaL_addstring(&b, "=");
        lua_getfield(L, 1, keys[i]);
        char text[64];
        switch (lua_type(L, -1)) {
        case LUA_TSTRING:
            snprintf(text, sizeof text, "%.40s", lua_tostring(L, -1));
            break;
        case LUA_TBOOLEAN:
            snprintf(text, sizeof text, "%s", lua_toboolean(L, -1) ? "true" : "false");
            break;
        case LUA_TNUMBER:
            snprintf(text, sizeof text, "%.2f", (double)lua_tonumber(L, -1));
            break;
        default:
            snprintf(text, sizeof text, "nil");
            break;
        }
        lua_pop(L, 1);
        luaL_addstring(&b, text);
    }
    luaL_addstring(&b, ")");
    luaL_pushresult(&b);
    return 1;
}

/* A response argument: JSON text (the Response object or the {"Response": ...} envelope). */
static const char *get_response_json(args *a, int idx, size_t *len)
{
    return get_bytes(a, idx, "response_json", 0, len);
}

/* core.check_outcome(action, response_json) -> outcome | nil, err */
static int core_check_outcome(lua_State *L)
{
    args a;
    args_init(&a, L, "check_outcome");
    const char *action = get_text(&a, 1, "action", 0);
    size_t len;
    const char *json = get_response_json(&a, 2, &len);
    if (a.failed)
        return args_result(&a);
    box *b = box_push(L, release_outcome);
    tcf_check_outcome *o = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_check_outcome_from_json(&o, action, json, len, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    b->p = o;
    push_outcome(L, o);
    box_done(b);
    return 1;
}

/* core.check_outcome_from_api_error(action, api_code[, request_id]) -> outcome | false (the
 * error is not a business result of the action) | nil, err */
static int core_check_outcome_from_api_error(lua_State *L)
{
    args a;
    args_init(&a, L, "check_outcome_from_api_error");
    const char *action = get_text(&a, 1, "action", 0);
    const char *code = get_text(&a, 2, "api_code", 0);
    const char *rid = get_text(&a, 3, "request_id", 1);
    if (a.failed)
        return args_result(&a);
    box *b = box_push(L, release_outcome);
    tcf_check_outcome *o = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_check_outcome_from_api_error(&o, action, code, rid != NULL ? rid : "", &err);
    if (rc != 0)
        return fail(L, &err, rc);
    b->p = o;
    if (o == NULL) {
        lua_pushboolean(L, 0);
        return 1;
    }
    push_outcome(L, o);
    box_done(b);
    return 1;
}

/* core.live_code(response_json) -> "1234" | nil, err */
static int core_live_code(lua_State *L)
{
    args a;
    args_init(&a, L, "live_code");
    size_t len;
    const char *json = get_response_json(&a, 1, &len);
    char code[5];
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_live_code_from_json(code, json, len, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    lua_pushstring(L, code);
    return 1;
}

/* core.action_sequence(response_json) -> "2,1" | nil, err */
static int core_action_sequence(lua_State *L)
{
    args a;
    args_init(&a, L, "action_sequence");
    size_t len;
    const char *json = get_response_json(&a, 1, &len);
    char seq[64];
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_action_sequence_from_json(seq, sizeof seq, json, len, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    lua_pushstring(L, seq);
    return 1;
}

/* core.phone_route(phone[, detailed]) -> action name */
static int core_phone_route(lua_State *L)
{
    args a;
    args_init(&a, L, "phone_route");
    const char *phone = get_text(&a, 1, "phone", 0);
    int mode = verify_mode_of(&a, 2);
    const char *action = tcf_phone_route_action(a.failed ? "" : phone, mode);
    lua_pushstring(L, action != NULL ? action : "PhoneVerification");
    return 1;
}

/* core.phone_recent_range(phone) -> true | false | nil (not a valid number) */
static int core_phone_recent_range(lua_State *L)
{
    args a;
    args_init(&a, L, "phone_recent_range");
    const char *phone = get_text(&a, 1, "phone", 0);
    int r = a.failed ? -1 : tcf_phone_recent_range(phone);
    if (r < 0)
        lua_pushnil(L);
    else
        lua_pushboolean(L, r);
    return 1;
}

/* fen -> "12.34" (CNY) */
static void push_cny(lua_State *L, long long fen)
{
    char text[40];
    snprintf(text, sizeof text, "%s%lld.%02lld", fen < 0 ? "-" : "", llabs(fen) / 100,
             llabs(fen) % 100);
    lua_pushstring(L, text);
}

static void set_money(lua_State *L, const char *key, long long fen)
{
    char name[32];
    compat_pushinteger(L, fen);
    snprintf(name, sizeof name, "%s_fen", key);
    lua_setfield(L, -2, name);
    push_cny(L, fen);
    lua_setfield(L, -2, key);
}

/* core.estimate_cost(action, calls[, detailed]) -> {action, calls, per_call, per_call_fen,
 * postpaid, postpaid_fen, best, best_fen, packages = {{size, count, price, price_fen}...},
 * postpaid_calls} (CNY strings and integer fen) | nil, err */
static int core_estimate_cost(lua_State *L)
{
    args a;
    args_init(&a, L, "estimate_cost");
    const char *action = get_text(&a, 1, "action", 0);
    long long calls = get_integer(&a, 2, "calls", 0, 0);
    int mode = verify_mode_of(&a, 3);
    if (a.failed)
        return args_result(&a);
    tcf_cost_estimate est;
    memset(&est, 0, sizeof est);
    tcf_error err;
    tcf_error_clear(&err);
    int rc = tcf_estimate_cost(&est, action, mode, calls, &err);
    if (rc != 0)
        return fail(L, &err, rc);
    lua_createtable(L, 0, 12);
    set_string(L, "action", action);
    compat_pushinteger(L, est.calls);
    lua_setfield(L, -2, "calls");
    set_money(L, "per_call", est.per_call_fen);
    set_money(L, "postpaid", est.postpaid_fen);
    set_money(L, "best", est.best_fen);
    size_t kinds = est.package_kinds;
    if (kinds > sizeof est.packages / sizeof est.packages[0])
        kinds = sizeof est.packages / sizeof est.packages[0];
    lua_createtable(L, (int)kinds, 0);
    push_array_mt(L);
    lua_setmetatable(L, -2);
    for (size_t i = 0; i < kinds; i++) {
        lua_createtable(L, 0, 4);
        compat_pushinteger(L, est.packages[i].size);
        lua_setfield(L, -2, "size");
        compat_pushinteger(L, est.packages[i].count);
        lua_setfield(L, -2, "count");
        set_money(L, "price", est.packages[i].price_fen);
        lua_rawseti(L, -2, (int)(i + 1));
    }
    lua_setfield(L, -2, "packages");
    compat_pushinteger(L, est.postpaid_calls);
    lua_setfield(L, -2, "postpaid_calls");
    return 1;
}

#if TCF_WITH_CURL

/* cl:check(action, t[, fname]) -> outcome | nil, err: tcf_check (validation, body, the call
 * with retries, QPS, encryption and daily limits, carrier routing, the typed outcome). t holds
 * the parameters and the per-call options encrypt and retry. */
static int client_check(lua_State *L)
{
    int closed;
    lclient *c = client_open(L, &closed);
    if (closed)
        return closed;
    const char *fname = lua_type(L, 4) == LUA_TSTRING ? lua_tostring(L, 4) : "client:check";
    args a;
    args_init(&a, L, fname);
    const char *action = get_text(&a, 2, "action", 0);
    int base = get_fields(&a, 3, check_keys, CK_COUNT);
    tcf_check_params p;
    get_check_params(&a, base, &p);
    tcf_call_options call_opts = TCF_CALL_OPTIONS_INIT;
    tcf_retry_options retry;
    call_opts.encrypt = get_flag(&a, base + CK_ENCRYPT, "encrypt");
    if (!is_absent(L, base + CK_RETRY)) {
        get_retry(&a, base + CK_RETRY, &retry);
        call_opts.retry = &retry;
    }
    if (a.failed)
        return args_result(&a);
    box *b = box_push(L, release_outcome);
    tcf_check_outcome *o = NULL;
    tcf_error err;
    tcf_error_clear(&err);
    lua_State *outer = c->L;
    c->L = L;
    c->busy++;
    int rc = tcf_check(c->client, action, &p, &call_opts, &o, &err);
    c->busy--;
    c->L = outer;
    b->p = o;
    if (c->closed && c->busy == 0)
        client_free_native(L, c);
    if (rc != 0)
        return fail(L, &err, rc);
    push_outcome(L, o);
    box_done(b);
    return 1;
}

#endif

/* ---------------------------------------------------------------------------------------------
 * Time
 * ------------------------------------------------------------------------------------------- */

static int core_sleep(lua_State *L)
{
    lua_Number s = luaL_checknumber(L, 1);
    double seconds = (double)s;
    luaL_argcheck(L, isfinite(seconds) && seconds >= 0.0, 1, "a number of seconds >= 0 expected");
    struct timespec ts;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec > 999999999L)
        ts.tv_nsec = 999999999L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    return 0;
}

static double clock_seconds(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int core_monotonic(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)clock_seconds(CLOCK_MONOTONIC));
    return 1;
}

static int core_time(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)clock_seconds(CLOCK_REALTIME));
    return 1;
}

/* ---------------------------------------------------------------------------------------------
 * The module
 * ------------------------------------------------------------------------------------------- */

static const luaL_Reg core_functions[] = {
    {"version", core_version},
    {"error", core_error},
    {"retry_decide", core_retry_decide},
    {"retry_delay", core_retry_delay},
    {"action_default_qps", core_action_default_qps},
    {"daily_limit_result", core_daily_limit_result},
    {"next_shanghai_midnight", core_next_shanghai_midnight},
    {"json_encode", core_json_encode},
    {"json_decode", core_json_decode},
    {"sign", core_sign},
    {"parse", core_parse},
    {"config", core_config},
    {"client", core_client},
    {"check_id_card", core_check_id_card},
    {"normalize_id_card", core_normalize_id_card},
    {"normalize_name", core_normalize_name},
    {"check_phone", core_check_phone},
    {"phone_carrier", core_phone_carrier},
    {"check_bank_card", core_check_bank_card},
    {"check_redirect_url", core_check_redirect_url},
    {"check_validity_date", core_check_validity_date},
    {"eid_decrypt", core_eid_decrypt},
    {"verdict", core_verdict},
    {"errcode_meaning", core_errcode_meaning},
    {"detect_auth_body", core_detect_auth_body},
    {"eid_token_body", core_eid_token_body},
    {"session_new", core_session_new},
    {"session_load", core_session_load},
    {"session_check", core_session_check},
    {"result_plan", core_result_plan},
    {"result_body", core_result_body},
    {"eid_status", core_eid_status},
    {"eid_poll_after_error", core_eid_poll_after_error},
    {"parse_redirect", core_parse_redirect},
    {"check_body", core_check_body},
    {"check_outcome", core_check_outcome},
    {"check_outcome_from_api_error", core_check_outcome_from_api_error},
    {"live_code", core_live_code},
    {"action_sequence", core_action_sequence},
    {"phone_route", core_phone_route},
    {"phone_recent_range", core_phone_recent_range},
    {"estimate_cost", core_estimate_cost},
    {"sleep", core_sleep},
    {"monotonic", core_monotonic},
    {"time", core_time},
    {NULL, NULL},
};

static const luaL_Reg config_methods[] = {
    {"prepare", config_prepare},
    {"endpoint", config_endpoint},
    {"host", config_host},
    {"close", config_close},
    {NULL, NULL},
};

#if TCF_WITH_CURL
static const luaL_Reg client_methods[] = {
    {"call", client_call},
    {"check", client_check},
    {"prepare", client_prepare},
    {"endpoint", client_endpoint},
    {"host", client_host},
    {"close", client_close},
    {NULL, NULL},
};
#endif

/* A userdata metatable: __index = the methods, __gc and __close = release, __tostring. */
static void new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                      lua_CFunction release, lua_CFunction tostring)
{
    luaL_newmetatable(L, name);
    lua_newtable(L);
    compat_setfuncs(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, release);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, release);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

LUA_EXPORT int luaopen_tcfaceid_core(lua_State *L);

LUA_EXPORT int luaopen_tcfaceid_core(lua_State *L)
{
    luaL_newmetatable(L, MT_BOX);
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    new_class(L, MT_CONFIG, config_methods, config_gc, config_tostring);
#if TCF_WITH_CURL
    new_class(L, MT_CLIENT, client_methods, client_gc, client_tostring);
#endif

    lua_newtable(L);
    compat_setfuncs(L, core_functions);
    lua_pushboolean(L, TCF_WITH_CURL);
    lua_setfield(L, -2, "has_transport");
    lua_pushlightuserdata(L, &null_sentinel);
    lua_setfield(L, -2, "null");
    luaL_newmetatable(L, MT_ARRAY);
    set_string(L, "__name", MT_ARRAY);
    lua_setfield(L, -2, "array_mt");
    luaL_newmetatable(L, MT_ERROR);
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    set_string(L, "__name", MT_ERROR);
    lua_setfield(L, -2, "error_mt");
    luaL_newmetatable(L, MT_OUTCOME);
    lua_pushcfunction(L, outcome_tostring);
    lua_setfield(L, -2, "__tostring");
    set_string(L, "__name", MT_OUTCOME);
    lua_setfield(L, -2, "outcome_mt");
    lua_pushnumber(L, TCF_SIM_THRESHOLD);
    lua_setfield(L, -2, "SIM_THRESHOLD");
    lua_pushnumber(L, TCF_SIM_V1_FAR_1E3);
    lua_setfield(L, -2, "SIM_V1_FAR_1E3");
    lua_pushnumber(L, TCF_SIM_V1_FAR_1E4);
    lua_setfield(L, -2, "SIM_V1_FAR_1E4");
    compat_pushinteger(L, TCF_VIDEO_BASE64_MAX);
    lua_setfield(L, -2, "VIDEO_BASE64_MAX");
    compat_pushinteger(L, TCF_IMAGE_BASE64_MAX);
    lua_setfield(L, -2, "IMAGE_BASE64_MAX");
    set_string(L, "_VERSION", TCF_VERSION_STRING);
    return 1;
}
