/* Private declarations of the sans-IO layer (config.c, request.c, response.c): the
 * configuration's fields, the shared JSON helpers and the parsed response for the flows. */
#ifndef TCFACEID_SANSIO_H
#define TCFACEID_SANSIO_H

#include "internal.h"

#include <jansson.h>

/* Immutable after tcf_config_new (but for the signing-key cache, behind its own lock), so one
 * config may be shared between threads. */
struct tcf_config {
    char *url;            /* "<scheme>://<authority>/" */
    char *host;           /* the authority of the endpoint: the Host header, signed as is */
    char *service;        /* credential-scope service, e.g. "faceid" */
    char *api_version;    /* X-TC-Version */
    char *region;         /* X-TC-Region, or NULL: no header */
    char *language;       /* X-TC-Language ("zh-CN"/"en-US"), or NULL: no header */
    char *request_client; /* the whole X-TC-RequestClient value */
    /* static credentials (wiped when the config is freed); NULL when none were given */
    char *secret_id;
    char *secret_key;
    char *token;                  /* NULL when none */
    tcf_credentials *credentials; /* a provider (own copy), instead of the three above */
    /* The derived TC3 signing key of the last (secret, date, service); the only mutable part of
     * a config, behind its own mutex. */
    struct tcfp_sign_key_cache *key_cache;
};

/* Longest accepted request body: the service's limit for TC3 POST requests (10 MB). */
#define TCFP_MAX_REQUEST_BODY ((size_t)10 * 1024 * 1024)
/* Deepest nesting of arrays/objects accepted in request parameters and in responses. */
#define TCFP_JSON_MAX_DEPTH 64

/* Seeds jansson's hash function once per process (json_object_seed(0)); call before using
 * jansson. Safe to call from several threads. */
void tcfp_json_init(void);

typedef enum tcfp_json_status {
    TCFP_JSON_OK = 0,
    TCFP_JSON_NOMEM,
    TCFP_JSON_EMPTY,     /* no bytes, or only white space */
    TCFP_JSON_NOT_JSON,  /* does not even start like JSON (e.g. an HTML page) */
    TCFP_JSON_NUL,       /* a raw NUL byte */
    TCFP_JSON_TOO_DEEP,  /* nesting deeper than TCFP_JSON_MAX_DEPTH */
    TCFP_JSON_TRUNCATED, /* the text ends in the middle of a value */
    TCFP_JSON_BAD_UTF8,
    TCFP_JSON_DUPLICATE, /* an object repeats a key */
    TCFP_JSON_NUMBER,    /* a number out of range (integers must fit in 64 bits) */
    TCFP_JSON_SYNTAX     /* any other syntax error */
} tcfp_json_status;

/* Parse len bytes as one JSON value (any type; duplicate keys rejected; "\u0000" allowed).
 * Returns a new reference, or NULL with *status saying why. Never echoes the input. */
json_t *tcfp_json_load(const char *text, size_t len, tcfp_json_status *status);
/* Overwrites every string value of a jansson tree (before the last json_decref): identity data
 * in parameters and results does not stay behind in freed memory. */
void tcfp_json_wipe_strings(json_t *j);

/* A short English phrase for a status, e.g. "is truncated" (to follow "the body "). */
const char *tcfp_json_status_text(tcfp_json_status status);

/* The parsed Response object of a successful tcf_parse, without RequestId (borrowed; lives as
 * long as resp). For the flows layer. */
json_t *tcfp_response_object(const tcf_response *resp);

/* Replaces the Response object of resp (tcf_response_json and tcfp_response_object) by json, a
 * JSON object (e.g. the decrypted text of the response); a RequestId member in it is dropped
 * (resp keeps its own). From then on resp holds identity data: its text and string values are
 * wiped when it is freed. TCF_EJSON when json is not a JSON object, TCF_ENOMEM; resp is
 * unchanged on failure. */
int tcfp_response_replace_json(tcf_response *resp, const char *json, size_t len, tcf_error *err);

/* tcf_build with flags: TCFP_BUILD_TRUSTED skips the JSON check of params (a body the core wrote
 * itself); TCFP_BUILD_BORROW keeps a pointer to params instead of a copy (params must outlive
 * the request and are not wiped by tcf_request_free). */
enum { TCFP_BUILD_TRUSTED = 1, TCFP_BUILD_BORROW = 2 };
int tcfp_build_ex(tcf_request **out, const tcf_config *cfg, const char *action,
                  const void *params_json, size_t params_len, long long timestamp, int flags,
                  tcf_error *err);

/* One helper call (check.c), shared by tcf_check and the asynchronous tcf_op_start_check: the
 * body of the action to send first and, when a PhoneVerification was routed to a carrier's action,
 * the PhoneVerification body to send if that action is refused. */
typedef struct tcfp_check_plan {
    const char *action; /* static */
    char *body;
    size_t len;
    const char *fallback_action; /* NULL: no fallback */
    char *fallback_body;
    size_t fallback_len;
} tcfp_check_plan;

int tcfp_check_plan_make(tcfp_check_plan *plan, const char *action, const tcf_check_params *p,
                         long long today, tcf_error *err);
void tcfp_check_plan_free(tcfp_check_plan *plan);
/* After a call of plan->action failed with rc / e: 1 (and plan switched to the fallback) when the
 * carrier action was refused (UnauthorizedOperation.*, InvalidAction: not billed), else 0. */
int tcfp_check_plan_fall_back(tcfp_check_plan *plan, int rc, const tcf_error *e);
/* The outcome of a call of action that returned rc (resp on success; e its error, updated): a
 * PaaS business result received as an API error becomes an outcome (rc 0). */
int tcfp_check_decide(tcf_check_outcome **out, const char *action, int rc, tcf_response *resp,
                      tcf_error *e);

#if TCF_WITH_CURL
/* tcf_client_call_ex for a body the core wrote (tcf_check_body): not parsed again, not copied
 * per attempt (each attempt signs and sends these bytes). */
int tcfp_client_call_body(tcf_client *c, const char *action, const char *body, size_t body_len,
                          const tcf_call_options *opts, tcf_response **out, tcf_error *err);
#endif

#endif
