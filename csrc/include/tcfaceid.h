/*
 * tcfaceid — a client for Tencent Cloud FaceID (API 2018-03-01).
 *
 * One public header. Conventions (docs/c-api.md):
 *  - every name starts with tcf_ / TCF_; handles are opaque;
 *  - fallible functions return 0 or a negative tcf_code, take their outputs first and a
 *    nullable, caller-owned tcf_error * last (filled without allocating; the first error wins);
 *  - option structs start with `unsigned version` and have an _INIT macro;
 *  - every allocated output has a _free function that accepts NULL;
 *  - error codes are append-only.
 */
#ifndef TCFACEID_H
#define TCFACEID_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TCF_API __attribute__((visibility("default")))
#else
#define TCF_API
#endif

#define TCF_VERSION_MAJOR 0
#define TCF_VERSION_MINOR 1
#define TCF_VERSION_PATCH 0
#define TCF_VERSION_STRING "0.1.0"
/* The version of the library actually linked, "MAJOR.MINOR.PATCH". */
TCF_API const char *tcf_version(void);

/* ---------------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------------- */

/* Append-only: values never change meaning. */
typedef enum tcf_code {
    TCF_OK = 0,
    TCF_EINVAL = -1,     /* invalid argument (caught locally, nothing was sent) */
    TCF_ENOMEM = -2,     /* out of memory */
    TCF_EJSON = -3,      /* bad JSON: request parameters, or a response body that is not JSON */
    TCF_ETRANSPORT = -4, /* connection refused/reset, DNS, a truncated response */
    TCF_ETIMEOUT = -5,   /* connect or total timeout */
    TCF_EHTTP = -6,      /* HTTP status other than 200 without an API error envelope */
    TCF_EAPI = -7,       /* the service answered Response.Error (see api_code) */
    TCF_EAUTH = -8,      /* AuthFailure.* (signature, secret id, token, clock skew) */
    TCF_ETHROTTLED = -9, /* RequestLimitExceeded* / rate limits */
    TCF_ETOKEN_EXPIRED = -10, /* a BizToken / EidToken is no longer usable */
    TCF_ECRYPTO = -11,        /* a cryptographic operation failed */
    TCF_ESTATE = -12,         /* the operation does not fit the object's state */
    TCF_ETLS = -13,           /* TLS handshake or certificate verification failed */
    TCF_ENOCRED = -14,        /* no credentials could be found */
    TCF_EAMBIGUOUS = -15,     /* a billable request may have been executed (and billed) by the
                               * service but no answer arrived; it was not retried */
    TCF_ERATE_LIMITED = -16,  /* a daily identity limit (SaaS 2018, element "daily limit" results,
                               * FailedOperation.IdentityAuthLimitExceeded): see retry_at */
    TCF_ECANCELLED = -17      /* an asynchronous call was cancelled (tcf_op_cancel) */
} tcf_code;

#define TCF_ERROR_API_CODE_MAX 96
#define TCF_ERROR_REQUEST_ID_MAX 64
#define TCF_ERROR_MESSAGE_MAX 256

/* Caller-owned. Zero it (or tcf_error_clear) before use; the first error recorded wins. */
typedef struct tcf_error {
    int code;                              /* tcf_code; 0 when nothing failed */
    int http_status;                       /* 0 when no HTTP response was received */
    int retryable;                         /* 1 when the failure class is safe to retry */
    int attempts;                          /* requests sent for this call */
    long long server_time;                 /* the response's Date header, Unix seconds; 0 if none */
    char api_code[TCF_ERROR_API_CODE_MAX]; /* Response.Error.Code, "" if none */
    char request_id[TCF_ERROR_REQUEST_ID_MAX]; /* Response.RequestId, "" if none */
    char message[TCF_ERROR_MESSAGE_MAX];       /* human-readable; never secrets or identity data */
    long long retry_at; /* TCF_ERATE_LIMITED: Unix seconds of the next 00:00 Asia/Shanghai (the
                         * limit's reset); 0 otherwise */
} tcf_error;

TCF_API void tcf_error_clear(tcf_error *err);
/* A static description of a tcf_code ("invalid argument", ...); never NULL. */
TCF_API const char *tcf_strerror(int code);

/* ---------------------------------------------------------------------------------------------
 * Signing (pure: no clock, no network, no JSON)
 * ------------------------------------------------------------------------------------------- */

typedef struct tcf_header {
    const char *name;
    const char *value;
} tcf_header;

#define TCF_SIGN_INPUT_VERSION 1
typedef struct tcf_sign_input {
    unsigned version;      /* TCF_SIGN_INPUT_VERSION */
    const char *algorithm; /* "TC3-HMAC-SHA256" (NULL: the same), "HmacSHA1", "HmacSHA256" */
    const char *secret_id;
    const char *secret_key;
    const char *service; /* TC3 credential scope, e.g. "faceid" */
    const char *host;    /* the Host header value (TC3 signs it lower-cased) */
    const char *method;  /* "POST" or "GET" */
    const char *path;    /* NULL: "/" */
    /* TC3 */
    const char *content_type;    /* signed trimmed and lower-cased, as the server does */
    const char *canonical_query; /* the exact query string after '?'; NULL or "" for POST */
    const unsigned char *body;   /* the exact body bytes (may contain NUL) */
    size_t body_len;
    int unsigned_payload;                   /* 1: X-TC-Content-SHA256: UNSIGNED-PAYLOAD */
    long long timestamp;                    /* X-TC-Timestamp, Unix seconds */
    const tcf_header *extra_signed_headers; /* signed besides content-type and host */
    size_t extra_signed_header_count;
    /* v1: every parameter except Signature, raw (not URL-encoded) values */
    const tcf_header *params;
    size_t param_count;
} tcf_sign_input;

#define TCF_SIGN_INPUT_INIT                                                                        \
    {                                                                                              \
        TCF_SIGN_INPUT_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0,  \
            0, NULL, 0, NULL, 0                                                                    \
    }

typedef struct tcf_signature tcf_signature;

/* Sign; *out receives every intermediate. TCF_EINVAL for missing fields, secrets with
 * whitespace or control characters, or an unknown algorithm. */
TCF_API int tcf_sign(tcf_signature **out, const tcf_sign_input *in, tcf_error *err);
/* A field of the result: TC3 "hashed_payload", "canonical_request", "string_to_sign",
 * "signature", "authorization"; v1 "string_to_sign", "signature". NULL for any other name. */
TCF_API const char *tcf_signature_get(const tcf_signature *sig, const char *field);
TCF_API void tcf_signature_free(tcf_signature *sig);

/* For tools and test vectors that name the signed headers as a list ("content-type;host;
 * x-tc-action"): splits list_copy (a writable copy of the list; the names point into it) into
 * extra[] for tcf_sign_input.extra_signed_headers, each value from value_of(user, name) (NULL: the
 * header has no value). extra must have room for strlen(list)/2 + 1 entries; *count receives how
 * many were filled. TCF_EINVAL: an empty name, a header without a value (named in the message), or
 * content-type or host missing from the list. */
TCF_API int tcf_sign_split_signed_headers(tcf_header *extra, size_t *count, char *list_copy,
                                          const char *(*value_of)(void *user, const char *name),
                                          void *user, tcf_error *err);

/* ---------------------------------------------------------------------------------------------
 * Credentials
 * ------------------------------------------------------------------------------------------- */

/* A source of SecretId / SecretKey / token. Secrets are copied and wiped when freed. */
typedef struct tcf_credentials tcf_credentials;

/* Fills the three NUL-terminated fields (token "" for a long-term key) and returns 0, or
 * returns non-zero on failure. Called for every request, so it may rotate credentials; it must
 * be safe to call from several threads at once. */
typedef int (*tcf_credentials_fn)(void *user, char *secret_id, size_t secret_id_cap,
                                  char *secret_key, size_t secret_key_cap, char *token,
                                  size_t token_cap);

/* Static credentials. TCF_EINVAL for empty values or values with white space or control
 * characters (the message never contains the secret). */
TCF_API int tcf_credentials_new_static(tcf_credentials **out, const char *secret_id,
                                       const char *secret_key, const char *token, tcf_error *err);
/* TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY and TENCENTCLOUD_SESSION_TOKEN, read now.
 * TCF_ENOCRED when the first two are not both set. */
TCF_API int tcf_credentials_new_env(tcf_credentials **out, tcf_error *err);
/* The tccli profile file: path NULL means $TENCENTCLOUD_CREDENTIALS_FILE, else
 * ~/.tencentcloud/credentials, else /etc/tencentcloud/credentials; profile NULL means
 * "default". Keys secret_id, secret_key, token. TCF_ENOCRED when the file or the section is
 * missing, TCF_EINVAL when it is malformed. */
TCF_API int tcf_credentials_new_profile(tcf_credentials **out, const char *path,
                                        const char *profile, tcf_error *err);
/* The environment, then the profile file (as the official SDKs do); TCF_ENOCRED if neither. */
TCF_API int tcf_credentials_new_chain(tcf_credentials **out, tcf_error *err);
/* Credentials asked of fn for every request (rotating credentials, a vault, ...). */
TCF_API int tcf_credentials_new_callback(tcf_credentials **out, tcf_credentials_fn fn, void *user,
                                         tcf_error *err);
/* Where they came from: "static", "environment", "profile <path> [<name>]", "callback". */
TCF_API const char *tcf_credentials_source(const tcf_credentials *creds);
TCF_API void tcf_credentials_free(tcf_credentials *creds);

/* ---------------------------------------------------------------------------------------------
 * Configuration
 * ------------------------------------------------------------------------------------------- */

#define TCF_CONFIG_OPTIONS_VERSION 1
typedef struct tcf_config_options {
    unsigned version; /* TCF_CONFIG_OPTIONS_VERSION */
    /* NULL: https://<service>.tencentcloudapi.com, or, when region is set,
     * https://<service>.<region>.tencentcloudapi.com. Else "https://host[:port]",
     * "http://host[:port]" or a bare "host[:port]" (https); an optional trailing "/", no other
     * path. The Host sent and signed is exactly the authority (with the port when given). */
    const char *endpoint;
    const char *region;      /* X-TC-Region, e.g. "ap-guangzhou"; NULL or "": no header */
    const char *language;    /* X-TC-Language: "zh-CN" or "en-US"; NULL or "": no header */
    const char *api_version; /* X-TC-Version; NULL: "2018-03-01" */
    const char *service;     /* credential-scope service; NULL: "faceid" */
    /* Static credentials, copied (and wiped when the config is freed). Both NULL: none, and
     * tcf_build fails with TCF_ENOCRED. Printable ASCII, no spaces. */
    const char *secret_id;
    const char *secret_key;
    const char *token; /* temporary-credential token sent as X-TC-Token; NULL or "": none */
    /* Appended to X-TC-RequestClient "SDK_C_tcfaceid_<version>" as "; <suffix>";
     * only [0-9a-zA-Z-_,;.], the whole value at most 128 bytes. NULL or "": none. */
    const char *request_client;
    /* A credentials provider, instead of secret_id/secret_key/token (giving both is
     * TCF_EINVAL). The config keeps its own copy: the caller may free creds afterwards. */
    const tcf_credentials *credentials;
} tcf_config_options;

#define TCF_CONFIG_OPTIONS_INIT                                                                    \
    {                                                                                              \
        TCF_CONFIG_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL     \
    }

/* Immutable once created: one config may be used by several threads at once. */
typedef struct tcf_config tcf_config;

/* opts NULL: every default, no credentials. TCF_EINVAL (naming the field) for a bad value. */
TCF_API int tcf_config_new(tcf_config **out, const tcf_config_options *opts, tcf_error *err);
TCF_API void tcf_config_free(tcf_config *cfg);

/* ---------------------------------------------------------------------------------------------
 * Requests and responses (sans-IO: no clock, no network; bring your own HTTP client)
 * ------------------------------------------------------------------------------------------- */

typedef struct tcf_request tcf_request;

/* A signed POST of `action` (e.g. "DetectAuth"). params_json must be one JSON object; its bytes
 * are sent unchanged (NULL or length 0: "{}"), so the signature covers exactly what is sent.
 * timestamp: Unix seconds (X-TC-Timestamp; the service rejects a skew over 5 minutes).
 * TCF_EINVAL for a bad action name or argument, TCF_EJSON for parameters that are not a JSON
 * object (invalid UTF-8, duplicate keys, nesting deeper than 64, ...), TCF_ENOCRED when the
 * config has no credentials. */
TCF_API int tcf_build(tcf_request **out, const tcf_config *cfg, const char *action,
                      const void *params_json, size_t params_len, long long timestamp,
                      tcf_error *err);
TCF_API const char *tcf_request_method(const tcf_request *req); /* "POST" */
TCF_API const char *tcf_request_url(const tcf_request *req);    /* endpoint + "/" */
/* Headers, in the order to send them: Host, Content-Type, X-TC-Action, X-TC-Version,
 * X-TC-Timestamp, [X-TC-Region], [X-TC-Token], [X-TC-Language], X-TC-RequestClient,
 * Authorization. name/value are NULL when i is out of range. */
TCF_API size_t tcf_request_header_count(const tcf_request *req);
TCF_API const char *tcf_request_header_name(const tcf_request *req, size_t i);
TCF_API const char *tcf_request_header_value(const tcf_request *req, size_t i);
/* The exact body bytes (NUL-terminated for convenience; *len excludes the terminator). */
TCF_API const char *tcf_request_body(const tcf_request *req, size_t *len);
/* Wipes the Authorization and X-TC-Token copies. Accepts NULL. */
TCF_API void tcf_request_free(tcf_request *req);

typedef struct tcf_response tcf_response;

/* Parse an HTTP answer. Success (HTTP 200, a Response object without Error): *out. Otherwise
 * err carries the class (TCF_EAUTH, TCF_ETHROTTLED, TCF_ETOKEN_EXPIRED, TCF_EAPI for
 * Response.Error; TCF_EHTTP for a status other than 200 without an error envelope; TCF_EJSON
 * for a 200 whose body is not a usable envelope), api_code, the server's message, request_id,
 * http_status, retryable and server_time (from the Date header). headers may be NULL when
 * header_count is 0; entries with a NULL name or value are skipped. */
TCF_API int tcf_parse(tcf_response **out, int http_status, const tcf_header *headers,
                      size_t header_count, const void *body, size_t body_len, tcf_error *err);
/* Response.RequestId, or NULL when the response had none. */
TCF_API const char *tcf_response_request_id(const tcf_response *resp);
/* The Response object without its RequestId member: the body's own text of that object with the
 * member cut out (numbers, escapes and spacing exactly as the server wrote them), so it is
 * valid UTF-8 JSON. Computed once by tcf_parse, owned by resp; NUL-terminated. */
TCF_API const char *tcf_response_json(const tcf_response *resp, size_t *len);
/* The Date header in Unix seconds, 0 when absent or malformed. */
TCF_API long long tcf_response_server_time(const tcf_response *resp);
TCF_API void tcf_response_free(tcf_response *resp);

/* ---------------------------------------------------------------------------------------------
 * Client: the libcurl transport (the only part of the library that does I/O)
 * ------------------------------------------------------------------------------------------- */

enum { TCF_LOG_DEBUG = 10, TCF_LOG_INFO = 20, TCF_LOG_WARNING = 30, TCF_LOG_ERROR = 40 };
/* One line per request (action, host, latency, HTTP status, RequestId) and warnings. Lines never
 * contain secrets, the Authorization header, tokens or request/response bodies. */
typedef void (*tcf_log_fn)(void *user, int level, const char *line);

#define TCF_CLIENT_OPTIONS_VERSION 1
/* 1 (default): the libcurl client below is built. The OpenResty build of the Lua module compiles
 * the core with -DTCF_WITH_CURL=0: no tcf_client, nothing that could block an nginx worker. */
#ifndef TCF_WITH_CURL
#define TCF_WITH_CURL 1
#endif

typedef struct tcf_client_options {
    unsigned version;             /* TCF_CLIENT_OPTIONS_VERSION */
    long connect_timeout_ms;      /* 0: 5,000 */
    long timeout_ms;              /* the whole exchange; 0: 30,000 */
    const char *proxy;            /* "http://[user:password@]host:port"; NULL: libcurl's usual
                                   * environment variables (https_proxy, no_proxy; when none
                                   * is set at tcf_client_new: no proxy); "": none */
    const char *ca_bundle;        /* PEM file of trusted CAs; NULL: the system's store */
    int insecure_skip_tls_verify; /* 1: do not verify the server (logged as a warning) */
    size_t max_idle_connections;  /* kept-alive connections (easy handles); 0: 16 */
    tcf_log_fn log;               /* NULL: no logging */
    void *log_user;
    const struct tcf_retry_options *retry;  /* NULL: the defaults (see tcf_retry_options) */
    int qps_off;                            /* 1: no client-side QPS limits */
    const struct tcf_qps_limit *qps_limits; /* per-action QPS (<= 0: none for that action);
                                             * other actions: the documented default QPS */
    size_t qps_limit_count;
    /* Field encryption (see "Field encryption" below): the algorithm and public keys used when a
     * call encrypts. Copied by tcf_client_new (PEM strings, fields, key, IV too); NULL: the
     * defaults (AES-256-CBC with the documented public key). Checked at tcf_client_new
     * (TCF_EINVAL). fields and whole_body apply to the actions that have them; other actions
     * ignore them. */
    const struct tcf_encryption_options *encryption;
    int encrypt; /* 1: every call encrypts its action's encryptable fields (and asks for an
                  * encrypted response where the action has one); 0 (default): only calls that
                  * ask (tcf_call_options.encrypt) */
} tcf_client_options;

typedef struct tcf_qps_limit {
    const char *action;
    double qps;
} tcf_qps_limit;

#define TCF_CLIENT_OPTIONS_INIT                                                                    \
    {                                                                                              \
        TCF_CLIENT_OPTIONS_VERSION, 0, 0, NULL, NULL, 0, 0, NULL, NULL, NULL, 0, NULL, 0, NULL, 0  \
    }

/* Safe to share between threads: calls may run concurrently on one client. */
typedef struct tcf_client tcf_client;

/* config as for tcf_config_new (copied); opts NULL: the defaults. */
TCF_API int tcf_client_new(tcf_client **out, const tcf_config_options *config,
                           const tcf_client_options *opts, tcf_error *err);
/* One signed request for action with params (a JSON object; NULL or empty: {}), with the
 * client's retry policy (tcf_client_call_ex with NULL options). *out receives the response on
 * success; on failure err says why (TCF_EAPI and the other service classes carry api_code and
 * request_id; err.attempts counts the requests sent). */
TCF_API int tcf_client_call(tcf_client *client, const char *action, const void *params,
                            size_t params_len, tcf_response **out, tcf_error *err);

#define TCF_CALL_OPTIONS_VERSION 1
typedef struct tcf_call_options {
    unsigned version;                      /* TCF_CALL_OPTIONS_VERSION */
    const struct tcf_retry_options *retry; /* NULL: the client's */
    int encrypt; /* field encryption for this call: -1 (TCF_CALL_OPTIONS_INIT): the client's
                  * default (tcf_client_options.encrypt); 0: off; 1: on */
} tcf_call_options;

#define TCF_CALL_OPTIONS_INIT                                                                      \
    {                                                                                              \
        TCF_CALL_OPTIONS_VERSION, NULL, -1                                                         \
    }

/* The call with its reliability rules (DESIGN.md §5, docs/reliability.md): the action's retry
 * class decides what is retried (tcf_retry_decide); full-jitter backoff between attempts, at most
 * max_attempts, a per-client retry budget, one deadline across attempts; the documented per-action
 * QPS enforced client-side (waiting for a token); AuthFailure.SignatureExpire re-signs once with
 * the service's clock (the offset is kept: tcf_client_clock_offset); an element check's daily-limit
 * Result and FailedOperation.IdentityAuthLimitExceeded give TCF_ERATE_LIMITED with retry_at; a
 * billable request that may have reached the service is not retried: TCF_EAMBIGUOUS.
 *
 * Field encryption (opts->encrypt, else the client's encrypt): the parameters are encrypted once,
 * before the first attempt, with tcf_encrypt_request and the client's tcf_encryption_options
 * (every retry sends the same ciphertexts and CiphertextBlob); an action without field
 * encryption, or without any of its encryptable fields in params, is sent as is. A successful
 * response carrying an encrypted part (a non-empty Encryption.EncryptList or EncryptedBody) is
 * decrypted with the request's keys, so tcf_response_json (and RequestId) read as if nothing had
 * been encrypted; the key material is wiped. Errors: TCF_EINVAL (bad options, an encryptable
 * field that is not a string, parameters that already carry Encryption), TCF_ECRYPTO when the
 * response does not decrypt (err.request_id: the response's RequestId). A request the service
 * could not decrypt (a wrong public key) is its error, e.g. FailedOperation.DecryptSystemError. */
TCF_API int tcf_client_call_ex(tcf_client *client, const char *action, const void *params,
                               size_t params_len, const tcf_call_options *opts, tcf_response **out,
                               tcf_error *err);
/* Seconds added to the local clock when signing (learned from the service's Date header). */
TCF_API long long tcf_client_clock_offset(const tcf_client *client);
TCF_API void tcf_client_free(tcf_client *client);

/* ---------------------------------------------------------------------------------------------
 * Validators: local checks of identity inputs before any paid request. Pure and thread-safe;
 * TCF_EINVAL messages name the rule broken and never contain the value.
 * ------------------------------------------------------------------------------------------- */

/* An 18-character mainland ID number (GB 11643) or HK/Macao/Taiwan residence permit (81/82/83):
 * 17 ASCII digits + a digit or uppercase X, a GB/T 2260 province code, a real birth date
 * (YYYYMMDD at offset 6, year >= 1900, not after the date of today_unix in China Standard Time,
 * UTC+8; today_unix 0 skips that check) and the check character. */
TCF_API int tcf_check_id_card(const char *id, long long today_unix, tcf_error *err);
/* The ID number as the service wants it: a trailing lower-case x becomes X, then
 * tcf_check_id_card. out receives the 18 characters and a NUL (out is "" on failure). */
TCF_API int tcf_normalize_id_card(char out[19], const char *id, long long today_unix,
                                  tcf_error *err);
/* Trims ASCII white space, turns look-alike dots (U+2022, U+30FB, U+FF0E, U+2027, U+22C5,
 * U+FF65, and '.' between two CJK ideographs) into U+00B7, then requires 2-32 code points of
 * CJK ideographs with single U+00B7 between parts. out receives the NUL-terminated UTF-8;
 * TCF_EINVAL (out set to "") if invalid or out_cap is too small (the result needs at most
 * 4 * 32 + 1 bytes). */
TCF_API int tcf_normalize_name(char *out, size_t out_cap, const char *name, tcf_error *err);
/* 11 ASCII digits starting with 1. */
TCF_API int tcf_check_phone(const char *phone, tcf_error *err);
/* "CMCC", "CUCC", "CTCC" (static strings), or NULL for an unknown range or an invalid number. */
TCF_API const char *tcf_phone_carrier(const char *phone);
/* 12-19 ASCII digits with a valid Luhn check digit. */
TCF_API int tcf_check_bank_card(const char *card, tcf_error *err);
/* http:// or https:// (any case), a non-empty host, at most 1024 bytes, valid UTF-8, no spaces
 * or control characters. */
TCF_API int tcf_check_redirect_url(const char *url, tcf_error *err);
/* A real date YYYYMMDD (year 1900-9999), or "00000000" (long term) when allow_long_term. */
TCF_API int tcf_check_validity_date(const char *yyyymmdd, int allow_long_term, tcf_error *err);

/* ---------------------------------------------------------------------------------------------
 * E-ID identity decryption: EidInfo.DesKey (SM2) + EidInfo.UserInfo (SM4-ECB), no network
 * ------------------------------------------------------------------------------------------- */

/* Decrypts GetEidResult's EidInfo with the merchant's SM2 private key (PEM: PKCS#8 "PRIVATE
 * KEY", or SEC1 "EC PRIVATE KEY" as GmSSL writes it, unencrypted). DesKey may be raw C1C3C2 or
 * DER. *json_out receives the UserInfo JSON object text, padding (PKCS#7, zero bytes or spaces)
 * stripped, NUL-terminated (*json_len: its length; json_len may be NULL); free it with
 * tcf_eid_json_free. TCF_ESTATE: DesKey or UserInfo is "" (identity return not enabled for the
 * merchant, or the flow did not complete); TCF_EINVAL: a NULL argument or a PEM that is not an
 * SM2 private key; TCF_ECRYPTO: bad base64, wrong key, modified or mismatched ciphertext. */
TCF_API int tcf_eid_decrypt(char **json_out, size_t *json_len, const char *des_key_b64,
                            const char *user_info_b64, const char *sm2_private_key_pem,
                            tcf_error *err);
/* Wipes (identity data) and frees the text; accepts NULL. */
TCF_API void tcf_eid_json_free(char *json);

/* ---------------------------------------------------------------------------------------------
 * Verdicts: pass / fail / pending from a GetDetectInfoEnhanced or GetEidResult result (pure)
 * ------------------------------------------------------------------------------------------- */

typedef enum tcf_verdict_outcome {
    TCF_VERDICT_PASSED = 1,  /* Text.ErrCode == 0 (and the intention result, if configured) */
    TCF_VERDICT_FAILED = 2,  /* a non-zero Text.ErrCode or intention code */
    TCF_VERDICT_PENDING = 3, /* not decidable yet: flow not finished, or a part not fetched */
    TCF_VERDICT_EXPIRED = 4  /* never from a result body: the call failed TCF_ETOKEN_EXPIRED */
} tcf_verdict_outcome;

/* One LivenessDetail item (a liveness + comparison attempt). has_x = 0: null or missing. */
typedef struct tcf_attempt {
    int has_errcode;
    int errcode; /* Errcode */
    int has_livestatus;
    int livestatus; /* Livestatus */
    int has_comparestatus;
    int comparestatus; /* Comparestatus */
    int has_sim;
    double sim;            /* Sim, parsed from its string ("95.51"); has_sim = 0 if unparsable */
    long long req_time_ms; /* ReqTime (a string of milliseconds); -1: null or unparsable */
    int is_need_charge;    /* IsNeedCharge: 1, 0, or -1 when null or missing */
} tcf_attempt;

typedef struct tcf_verdict tcf_verdict;

/* Decide from the Response object (what tcf_response_json gives; RequestId may be present).
 * Decides on codes only, never on message text. Null or missing fields are allowed anywhere;
 * TCF_EJSON (naming the field, e.g. "Text.LivenessDetail[2].Errcode") when the text is not a
 * JSON object or a field read here has the wrong type or an integer out of int range;
 * TCF_EINVAL for NULL arguments; TCF_ENOMEM. *out is NULL on failure. */
TCF_API int tcf_verdict_from_json(tcf_verdict **out, const void *response_json, size_t len,
                                  tcf_error *err);
/* The outcome; 0 when v is NULL. */
TCF_API tcf_verdict_outcome tcf_verdict_status(const tcf_verdict *v);
/* Text.ErrCode: 0 and *code, or TCF_ESTATE when it is null or missing (TCF_EINVAL for NULL). */
TCF_API int tcf_verdict_code(const tcf_verdict *v, int *code);
/* The intention result's code (IntentionQuestionResult/IntentionActionResult
 * .FinalResultDetailCode or IntentionVerifyData.ErrorCode, the one IntentionVerifyType names):
 * 0 and *code, or TCF_ESTATE when intention is not configured or its result is null/missing. */
TCF_API int tcf_verdict_intention_code(const tcf_verdict *v, int *code);
/* 1 billed, 0 not billed, -1 unknown (from IsNeedCharge, else the Plus edition's ErrCode table). */
TCF_API int tcf_verdict_billed(const tcf_verdict *v);
TCF_API size_t tcf_verdict_attempt_count(const tcf_verdict *v);
/* 0 and *out, or TCF_EINVAL when i is out of range or an argument is NULL. */
TCF_API int tcf_verdict_attempt(const tcf_verdict *v, size_t i, tcf_attempt *out);
/* A short English sentence explaining the status (owned by v; never NULL). */
TCF_API const char *tcf_verdict_reason(const tcf_verdict *v);
/* The documented meaning of a SaaS / E-ID ErrCode (Text.ErrCode, LivenessDetail[].Errcode;
 * faceid-api.md §4.3), a short English phrase (static), or NULL for an undocumented code. Only
 * for people: decide on the number. */
TCF_API const char *tcf_errcode_meaning(int errcode);
/* The same for an intention result code, by the result's IntentionVerifyType: "2" read aloud
 * (IntentionVerifyData.ErrorCode), "0" Q&A / "1" nod (FinalResultDetailCode; -1 and -2 swap
 * meanings between the two tables). NULL when unknown. */
TCF_API const char *tcf_intention_code_meaning(const char *intention_verify_type, int code);
/* The InfoType digit ("5" read-aloud, "6" Q&A / nod) of the intention result the verdict needs
 * but the response did not contain (IsVerifyIntention true, the result object null or missing),
 * so that the caller can fetch it; NULL when nothing is missing. Static string. */
TCF_API const char *tcf_verdict_missing_part(const tcf_verdict *v);
TCF_API void tcf_verdict_free(tcf_verdict *v);

/* ---------------------------------------------------------------------------------------------
 * DetectAuth parameters and sessions (pure: no clock, no network; time is a parameter)
 * ------------------------------------------------------------------------------------------- */

/* One IntentionQuestion: Question (1-250 characters) and its accepted Answers (1-50 strings of
 * 1-10 characters). Shared by DetectAuth and GetEidToken. */
typedef struct tcf_intention_question {
    const char *question;
    const char *const *answers;
    size_t answer_count;
} tcf_intention_question;

#define TCF_DETECT_AUTH_PARAMS_VERSION 1
/* NULL or "" leaves an optional field out of the body. */
typedef struct tcf_detect_auth_params {
    unsigned version;           /* TCF_DETECT_AUTH_PARAMS_VERSION */
    const char *rule_id;        /* RuleId, required */
    const char *id_card;        /* IdCard: tcf_check_id_card after a trailing x becomes X */
    const char *name;           /* Name: tcf_normalize_name; the normalised name is sent */
    const char *redirect_url;   /* RedirectUrl: tcf_check_redirect_url */
    const char *extra;          /* Extra: valid UTF-8, at most 1024 bytes */
    const unsigned char *image; /* raw photo bytes, base64-encoded here (at most 3 MiB after) */
    size_t image_len;
    const char *image_base64; /* or already base64 (a data:...;base64, prefix and white space
                               * are stripped), standard alphabet with '=' padding */
    const char *intention_verify_text; /* IntentionVerifyText: at most 120 characters */
    /* IntentionQuestions (voice Q&A): 1-10 rounds; NULL and 0: none (a list of 0: TCF_EINVAL) */
    const tcf_intention_question *intention_questions;
    size_t intention_question_count;
    /* IntentionActions[].Text (nod): 1-10 texts of at most 250 characters; NULL and 0: none */
    const char *const *intention_actions;
    size_t intention_action_count;
    /* Config (RuleIdConfig); -1 leaves a field out. intention_type: 0 Q&A, 1 nod; when -1 it is
     * sent as 1 if intention_actions are given (0 is the service's default). A value that
     * contradicts the list given is TCF_EINVAL. */
    int intention_type;
    int intention_recognition;  /* IntentionRecognition: 0, 1 */
    int mouth_open_recognition; /* MouthOpenRecognition: 0, 1 (Q&A only) */
    int speed;                  /* Speed: 0 auto, 1 = 1x, 2 = 1.2x, 3 = 1.5x */
} tcf_detect_auth_params;

#define TCF_DETECT_AUTH_PARAMS_INIT                                                                \
    {                                                                                              \
        TCF_DETECT_AUTH_PARAMS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL,   \
            0, NULL, 0, -1, -1, -1, -1                                                             \
    }

/* The exact DetectAuth body {"RuleId":..,"IdCard":..,"Name":..,"RedirectUrl":..,"Extra":..,
 * "ImageBase64":..,"IntentionVerifyText":..} with only the given fields, after validating all of
 * them (TCF_EINVAL naming the field and rule, never the value). today_unix as for
 * tcf_check_id_card (0 skips the birth-date-in-the-future check). *json_out is NUL-terminated
 * (*len: its length; len may be NULL); free it with tcf_string_free. */
TCF_API int tcf_detect_auth_body(char **json_out, size_t *len, const tcf_detect_auth_params *p,
                                 long long today_unix, tcf_error *err);
/* Wipes (identity data) and frees a string returned by this section; accepts NULL. */
TCF_API void tcf_string_free(char *s);

#define TCF_BIZ_TOKEN_LIFETIME 7200LL          /* seconds to start the verification */
#define TCF_RESULTS_LIFETIME (3LL * 24 * 3600) /* seconds results can be fetched */

/* A BizToken with what is needed afterwards. Immutable: may be read from several threads. */
typedef struct tcf_session tcf_session;

/* From the DetectAuth Response object (what tcf_response_json gives; the {"Response": ...}
 * envelope is accepted too): BizToken (required), Url (optional). rule_id: the RuleId sent;
 * extra: the Extra sent (NULL or "": none); created_at: Unix seconds of the DetectAuth call.
 * TCF_EJSON for a response without a BizToken string, TCF_EINVAL for bad arguments. */
TCF_API int tcf_session_new(tcf_session **out, const char *detect_auth_response_json, size_t len,
                            const char *rule_id, const char *extra, long long created_at,
                            tcf_error *err);
TCF_API const char *tcf_session_biz_token(const tcf_session *s);
TCF_API const char *tcf_session_rule_id(const tcf_session *s);
TCF_API const char *tcf_session_url(const tcf_session *s);   /* NULL when the response had none */
TCF_API const char *tcf_session_extra(const tcf_session *s); /* NULL when none */
TCF_API long long tcf_session_created_at(const tcf_session *s);
TCF_API long long tcf_session_expires_at(const tcf_session *s);    /* created_at + 7200 */
TCF_API long long tcf_session_results_until(const tcf_session *s); /* created_at + 3 days */
/* {"v":1,"biz_token":..,"rule_id":..,"url":..|null,"extra":..|null,"created_at":N,
 * "expires_at":N,"results_until":N}; free with tcf_string_free. */
TCF_API int tcf_session_to_json(const tcf_session *s, char **json_out, size_t *len, tcf_error *err);
/* The inverse; TCF_EJSON for anything but exactly that shape (unknown version or member, wrong
 * type, missing member, lifetimes that do not match created_at). */
TCF_API int tcf_session_from_json(tcf_session **out, const char *json, size_t len, tcf_error *err);
/* Before GetDetectInfoEnhanced / GetDetectInfo: 0; TCF_EINVAL when rule_id_or_null is not NULL
 * and differs from the session's (the service would answer 非法BizToken); TCF_ETOKEN_EXPIRED
 * when now > results_until (the results are gone: make no paid call). */
TCF_API int tcf_session_check_result_request(const tcf_session *s, const char *rule_id_or_null,
                                             long long now, tcf_error *err);
/* 1 while the user can still start the verification (now <= expires_at), else 0. */
TCF_API int tcf_session_can_start(const tcf_session *s, long long now);
TCF_API void tcf_session_free(tcf_session *s);

/* Which flow a session belongs to. A SaaS session has a BizToken and a RuleId; an E-ID session
 * an EidToken and a MerchantId (tcf_session_biz_token / _rule_id give NULL for it, and
 * tcf_session_eid_token / _merchant_id NULL for a SaaS one). */
typedef enum tcf_session_kind { TCF_SESSION_SAAS = 1, TCF_SESSION_EID = 2 } tcf_session_kind;

#define TCF_EID_TOKEN_LIFETIME 600LL /* seconds: the EidToken (the E-ID Url: 10 min, once) */

TCF_API tcf_session_kind tcf_session_kind_of(const tcf_session *s); /* 0 when s is NULL */
/* The BizToken or the EidToken. */
TCF_API const char *tcf_session_token(const tcf_session *s);
TCF_API const char *tcf_session_eid_token(const tcf_session *s);
TCF_API const char *tcf_session_merchant_id(const tcf_session *s);

/* ---------------------------------------------------------------------------------------------
 * E-ID: GetEidToken parameters, the E-ID session, CheckEidTokenStatus (pure)
 * ------------------------------------------------------------------------------------------- */

#define TCF_EID_TOKEN_PARAMS_VERSION 1
/* NULL or "" leaves a string out; -1 (0 for input_type and intention_mode) leaves a number or
 * flag out. */
typedef struct tcf_eid_token_params {
    unsigned version;         /* TCF_EID_TOKEN_PARAMS_VERSION */
    const char *merchant_id;  /* MerchantId, required: at most 50 characters */
    const char *id_card;      /* IdCard: as for DetectAuth (checksum, x -> X) */
    const char *name;         /* Name: tcf_normalize_name */
    const char *redirect_url; /* RedirectUrl: tcf_check_redirect_url; the EidToken comes back in
                               * its query as token=... */
    const char *extra;        /* Extra: at most 1024 bytes */
    /* Config (GetEidTokenConfig) */
    int input_type; /* InputType: 1 OCR front and back (service default), 2 OCR front, 3 typed by
                     * the user, 4 passed by you (then id_card and name are required) */
    int use_intention_verify; /* UseIntentionVerify: 0, 1; when -1 it is sent as 1 if any
                               * intention content is given */
    int intention_mode; /* IntentionMode: 1 read aloud, 2 Q&A, 3 nod; when 0 it is implied by the
                         * content given (text, questions or actions) */
    const char *intention_verify_text; /* IntentionVerifyText: at most 120 characters */
    const tcf_intention_question *intention_questions; /* 1-10 rounds */
    size_t intention_question_count;
    const char *const *intention_actions; /* IntentionActions[].Text: 1-10, at most 250 chars */
    size_t intention_action_count;
    int intention_recognition;              /* IntentionRecognition: 0, 1 */
    int is_support_hmt_resident_permit_ocr; /* IsSupportHMTResidentPermitOCR: 0, 1 */
    int mouth_open_recognition;             /* MouthOpenRecognition: 0, 1 */
    int speed;                              /* Speed: 0-3 */
} tcf_eid_token_params;

#define TCF_EID_TOKEN_PARAMS_INIT                                                                  \
    {                                                                                              \
        TCF_EID_TOKEN_PARAMS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, -1, 0, NULL, NULL, 0, NULL, \
            0, -1, -1, -1, -1                                                                      \
    }

/* The exact GetEidToken body {"MerchantId":..,"IdCard":..,"Name":..,"Extra":..,"Config":{...},
 * "RedirectUrl":..} after validating every field (TCF_EINVAL naming the field, never the value).
 * Config is left out when no Config field is set. Free with tcf_string_free. */
TCF_API int tcf_eid_token_body(char **json_out, size_t *len, const tcf_eid_token_params *p,
                               long long today_unix, tcf_error *err);
/* From the GetEidToken Response object: EidToken (required), Url (optional); merchant_id: the
 * MerchantId sent; the EidToken lives TCF_EID_TOKEN_LIFETIME s, the results
 * TCF_RESULTS_LIFETIME s. tcf_session_to_json gives {"v":1,"kind":"eid","eid_token":..,
 * "merchant_id":..,"url":..,"extra":..,"created_at":N,"expires_at":N,"results_until":N} and
 * tcf_session_from_json reads both shapes. */
TCF_API int tcf_eid_session_new(tcf_session **out, const char *get_eid_token_response_json,
                                size_t len, const char *merchant_id, const char *extra,
                                long long created_at, tcf_error *err);

/* CheckEidTokenStatus' Status. */
typedef enum tcf_eid_status {
    TCF_EID_INIT = 1,     /* "init": not started */
    TCF_EID_DOING = 2,    /* "doing": in progress */
    TCF_EID_FINISHED = 3, /* "finished": done (pass or fail: fetch the result) */
    TCF_EID_TIMEOUT = 4   /* "timeout": the EidToken expired unfinished */
} tcf_eid_status;

/* From the CheckEidTokenStatus Response object; TCF_EJSON for a missing or unknown Status. */
TCF_API int tcf_eid_status_from_json(tcf_eid_status *out, const void *response_json, size_t len,
                                     tcf_error *err);
/* "init", "doing", "finished", "timeout" (static), or NULL for another value. */
TCF_API const char *tcf_eid_status_name(tcf_eid_status status);

/* What a CheckEidTokenStatus poller does after a failed poll: error_code is the call's tcf_code,
 * retryable its err.retryable, consecutive_errors the number of failed polls in a row including
 * this one. The service asks to count a poll as failed only after 3 consecutive errors. */
typedef enum tcf_poll_action {
    TCF_POLL_CONTINUE = 1, /* a transient failure (transport, 5xx, InternalError, throttling),
                            * the first or second in a row: poll again after the interval */
    TCF_POLL_TIMEOUT = 2,  /* TCF_ETOKEN_EXPIRED: the token expired: the status is "timeout" */
    TCF_POLL_FAIL = 3      /* a third failure in a row, or one that will not go away: give up */
} tcf_poll_action;
TCF_API tcf_poll_action tcf_eid_poll_after_error(int error_code, int retryable,
                                                 int consecutive_errors);

/* ---------------------------------------------------------------------------------------------
 * Fetching results: GetDetectInfoEnhanced / GetEidResult requests (pure)
 * ------------------------------------------------------------------------------------------- */

/* The calls to make for the result parts wanted. parts: InfoType digits ("13") or names
 * separated by commas ("text,best_frame"): text 1, id_card 2, best_frame 3, video 4 (SaaS only),
 * intention_verify 5 (read aloud), intention_result 6 (Q&A / nod), all 0, and for E-ID
 * eid_info 0 (EidInfo comes only with InfoType 0, which returns every part). out receives one
 * InfoType digit per call, in call order, NUL-terminated: the text first ("1"), then each other
 * part alone in ascending order, so that a large medium never delays or fails the text. For SaaS
 * "all" / "0" expands to 1-6; for E-ID it is one "0" call made after the text, which replaces
 * the other parts (it returns them all). out_cap must be at least 8. TCF_EINVAL for an unknown
 * part, "video" for E-ID, or an empty list. */
TCF_API int tcf_result_plan(char *out, size_t out_cap, tcf_session_kind kind, const char *parts,
                            tcf_error *err);

#define TCF_RESULT_REQUEST_VERSION 1
typedef struct tcf_result_request {
    unsigned version;        /* TCF_RESULT_REQUEST_VERSION */
    tcf_session_kind kind;   /* TCF_SESSION_SAAS: GetDetectInfoEnhanced; TCF_SESSION_EID:
                              * GetEidResult */
    const char *token;       /* BizToken / EidToken, required */
    const char *rule_id;     /* RuleId: required for SaaS, must be NULL for E-ID */
    const char *info_type;   /* InfoType digits; NULL: left out (the service's default "0") */
    int best_frames_count;   /* BestFramesCount, -1: left out; 0-10 SaaS, 0-3 E-ID; needs 3 */
    int cut_id_card_image;   /* IsCutIdCardImage, -1: left out; needs 2 in info_type */
    int need_id_card_avatar; /* IsNeedIdCardAvatar, -1: left out; needs 2 in info_type */
} tcf_result_request;

#define TCF_RESULT_REQUEST_INIT                                                                    \
    {                                                                                              \
        TCF_RESULT_REQUEST_VERSION, TCF_SESSION_SAAS, NULL, NULL, NULL, -1, -1, -1                 \
    }

/* The request body, validated (TCF_EINVAL naming the field). Free with tcf_string_free. */
TCF_API int tcf_result_body(char **json_out, size_t *len, const tcf_result_request *r,
                            tcf_error *err);

/* ---------------------------------------------------------------------------------------------
 * The RedirectUrl landing
 * ------------------------------------------------------------------------------------------- */

/* The BizToken / EidToken the verification page appended to your RedirectUrl: the value of the
 * "token" query parameter of url (a full URL, a path with a query, or a bare query string),
 * percent-decoded ('+' is a space, so not a token character). The query ends at the fragment
 * ('#'); text without '?' is taken as a bare query unless it has "://" or starts with '/'.
 * TCF_EINVAL when it is missing, empty, given twice with different values, longer than 128 bytes or
 * has characters outside A-Z a-z 0-9 . _ ~ - . The token only says which session to look at: it is
 * not signed, so the result must always be fetched from the service. Free *token_out with
 * tcf_string_free. */
TCF_API int tcf_parse_redirect(char **token_out, const char *url, tcf_error *err);

/* ---------------------------------------------------------------------------------------------
 * Reliability policy (pure): retry classes, backoff, token buckets, daily limits
 * ------------------------------------------------------------------------------------------- */

/* How an action may be retried (DESIGN.md §5). */
typedef enum tcf_retry_class {
    TCF_RETRY_READ = 1,    /* reads: retried after any transient failure */
    TCF_RETRY_SESSION = 2, /* DetectAuth, GetEidToken, GetFaceIdToken...: only when not sent or
                            * throttled (a session may have been created) */
    TCF_RETRY_BILLABLE = 3 /* element checks, PaaS, unknown actions: only when not sent or
                            * throttled; otherwise the failure is ambiguous */
} tcf_retry_class;

TCF_API tcf_retry_class tcf_action_retry_class(const char *action);
/* The documented default QPS of an action (faceid-api.md §1); 0 when none is documented. */
TCF_API int tcf_action_default_qps(const char *action);
/* 1 when result (an element check's Response.Result) is the action's "daily identity limit"
 * code (faceid-api.md §4.6: IdCardVerification -7, CheckIdNameDate -8, ...), or
 * FailedOperation.IdentityAuthLimitExceeded of LivenessRecognition, ImageRecognition(V2) and
 * CheckIdCardInformation (the PaaS failures may come as Result), else 0. */
TCF_API int tcf_daily_limit_result(const char *action, const char *result);
/* The next 00:00 in Asia/Shanghai (UTC+8) after now_unix: when daily identity limits reset. */
TCF_API long long tcf_next_shanghai_midnight(long long now_unix);

#define TCF_RETRY_OPTIONS_VERSION 1
typedef struct tcf_retry_options {
    unsigned version;       /* TCF_RETRY_OPTIONS_VERSION */
    int max_attempts;       /* 0: 3; 1: never retry */
    long base_delay_ms;     /* backoff base; 0: 50 */
    long throttle_delay_ms; /* backoff base after throttling; 0: 1,000 */
    long max_delay_ms;      /* backoff cap; 0: 20,000 */
    long deadline_ms;       /* one deadline across attempts and waits; 0: none but the timeouts */
    double budget;          /* retry budget: bucket capacity in retries; 0: 10; < 0: unlimited */
    double budget_per_s;    /* retries earned per second; 0: 1 */
    int retry_billable;     /* 1: also retry billable requests that may have reached the service
                             * (they may be billed twice); 0 (default): report them ambiguous */
} tcf_retry_options;

#define TCF_RETRY_OPTIONS_INIT                                                                     \
    {                                                                                              \
        TCF_RETRY_OPTIONS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0                                          \
    }

typedef enum tcf_retry_verdict {
    TCF_RETRY_NO = 0,       /* do not retry: return the error */
    TCF_RETRY_YES = 1,      /* retry (after tcf_retry_delay_ms, within the budget and deadline) */
    TCF_RETRY_AMBIGUOUS = 2 /* a billable request may have been executed: do not retry, report
                             * TCF_EAMBIGUOUS */
} tcf_retry_verdict;

/* After a failed attempt described by err: TCF_RETRY_YES when the request was throttled or
 * certainly not sent (connection not made), or for reads after any transient failure
 * (transport, timeout, 5xx/429, InternalError, a truncated body); TCF_RETRY_AMBIGUOUS for a
 * billable action whose request may have reached the service (unless retry_billable);
 * TCF_RETRY_NO otherwise (auth, bad parameters, TLS, business answers, sessions). */
TCF_API tcf_retry_verdict tcf_retry_decide(tcf_retry_class cls, const tcf_error *err,
                                           int retry_billable);
/* Full-jitter exponential backoff before retry number attempt (1 = the first retry):
 * floor(u * min(cap, base * 2^(attempt-1))), base the throttle base when throttled. u in [0, 1)
 * comes from the caller (random); o NULL: the defaults. */
TCF_API long tcf_retry_delay_ms(const tcf_retry_options *o, int attempt, int throttled, double u);

/* A token bucket (retry budget, client-side QPS). Not synchronised: the owner locks. */
typedef struct tcf_bucket {
    double rate;     /* tokens per second */
    double capacity; /* at most this many tokens */
    double tokens;
    long long last_ms;
} tcf_bucket;

TCF_API void tcf_bucket_init(tcf_bucket *b, double rate_per_s, double capacity, long long now_ms);
/* Takes n tokens: 0 when taken; else the milliseconds to wait until they will be there (nothing
 * taken), or -1 when the bucket never refills. */
TCF_API long tcf_bucket_take(tcf_bucket *b, double n, long long now_ms);
/* Gives n tokens back (up to the capacity). */
TCF_API void tcf_bucket_add(tcf_bucket *b, double n);

/* ---------------------------------------------------------------------------------------------
 * Field encryption: the Encryption object (pure: no clock, no network; randomness from OpenSSL)
 *
 * AES-256-CBC (PKCS#7) with the 32-byte key wrapped by RSA PKCS#1 v1.5, or SM4-GCM (no AAD,
 * 128-bit tags in Encryption.TagList) with the 16-byte key wrapped by SM2 (raw C1C3C2). Each
 * request gets a fresh key and IV (16 bytes for AES, 12 for SM4-GCM), one IV for all its fields;
 * the key material is kept in a tcf_encryption_keys handle to decrypt the response.
 * ------------------------------------------------------------------------------------------- */

typedef enum tcf_encryption_algorithm {
    TCF_ENCRYPTION_AES_256_CBC = 1, /* "AES-256-CBC", the service's default */
    TCF_ENCRYPTION_SM4_GCM = 2      /* "SM4-GCM" */
} tcf_encryption_algorithm;

#define TCF_ENCRYPTION_OPTIONS_VERSION 1
typedef struct tcf_encryption_options {
    unsigned version;                   /* TCF_ENCRYPTION_OPTIONS_VERSION */
    tcf_encryption_algorithm algorithm; /* 0: TCF_ENCRYPTION_AES_256_CBC */
    /* The service's public keys (PEM). NULL: the keys the official crypto SDKs carry
     * (faceid-api.md §3.2). RSA: PKCS#1 "RSA PUBLIC KEY" or SubjectPublicKeyInfo "PUBLIC KEY";
     * SM2: SubjectPublicKeyInfo "PUBLIC KEY" on sm2p256v1. Only the one the algorithm needs is
     * read. A client talking to the tcfaceid emulator must use the emulator's keys. */
    const char *rsa_public_key_pem;
    const char *sm2_public_key_pem;
    /* Whole-body encryption. DetectAIFakeFaces: the body is always encrypted whole
     * ({"Encryption":..,"EncryptedBody":..}). GetDetectInfoEnhanced, GetFaceIdResult,
     * CheckIdCardInformation: 1 asks for a whole-body response (IsEncryptResponse), 0 for
     * field-level encrypted response values. Any other action: TCF_EINVAL when set. */
    int whole_body;
    /* The request fields to encrypt; NULL and 0: every encryptable field of the action present
     * in the parameters. A name that is not encryptable for the action: TCF_EINVAL. */
    const char *const *fields;
    size_t field_count;
    /* Tests and interoperability only. key: the symmetric key (32 bytes for AES-256-CBC, 16 for
     * SM4-GCM) instead of a random one; iv: the IV (16 / 12 bytes) instead of a random one
     * (never reuse a key with the same IV for different data); ciphertext_blob: with key, the
     * CiphertextBlob to send as is instead of wrapping key (legacy KMS GenerateDataKey). */
    const unsigned char *key;
    size_t key_len;
    const unsigned char *iv;
    size_t iv_len;
    const char *ciphertext_blob;
} tcf_encryption_options;

#define TCF_ENCRYPTION_OPTIONS_INIT                                                                \
    {                                                                                              \
        TCF_ENCRYPTION_OPTIONS_VERSION, (tcf_encryption_algorithm)0, NULL, NULL, 0, NULL, 0, NULL, \
            0, NULL, 0, NULL                                                                       \
    }

/* The key material of one request: algorithm, symmetric key, IV and CiphertextBlob. Immutable;
 * the key is wiped when freed. */
typedef struct tcf_encryption_keys tcf_encryption_keys;

/* "AES-256-CBC", "SM4-GCM" (static), or NULL for another value. */
TCF_API const char *tcf_encryption_algorithm_name(tcf_encryption_algorithm algorithm);
/* The request fields the action can encrypt (faceid-api.md §3.3), a static NULL-terminated list
 * (*count: its length; count may be NULL); an empty list for the actions whose only encryption is
 * of the response or of the whole body (GetDetectInfoEnhanced, GetFaceIdResult,
 * CheckIdCardInformation, DetectAIFakeFaces); NULL for any other action. */
TCF_API const char *const *tcf_encryptable_fields(const char *action, size_t *count);

/* New key material: a random (or the given) key and IV, the key wrapped with the public key of
 * the algorithm. opts NULL: AES-256-CBC with the documented RSA key. TCF_EINVAL for bad options
 * (wrong key or IV length, an unknown algorithm, a PEM that is not a key of the right type),
 * TCF_ECRYPTO when wrapping fails. */
TCF_API int tcf_encryption_keys_new(tcf_encryption_keys **out, const tcf_encryption_options *opts,
                                    tcf_error *err);
/* 0 when k is NULL. */
TCF_API tcf_encryption_algorithm tcf_encryption_keys_algorithm(const tcf_encryption_keys *k);
/* Encryption.CiphertextBlob (base64), owned by k. */
TCF_API const char *tcf_encryption_keys_ciphertext_blob(const tcf_encryption_keys *k);
/* The raw symmetric key (*len: 32 or 16), owned by k. A secret: only to keep the keys of a
 * request across processes (give it back as tcf_encryption_options.key). */
TCF_API const unsigned char *tcf_encryption_keys_key(const tcf_encryption_keys *k, size_t *len);
TCF_API void tcf_encryption_keys_free(tcf_encryption_keys *k);

/* Encrypts the parameters of a request to `action`. params_json: one JSON object (NULL or n 0:
 * {}). The result is a new JSON object (compact, members in their order):
 *  - the encryptable fields present (opts->fields, or all of them; string values, "" and null
 *    are left alone) replaced by base64 ciphertexts, plus "Encryption": {"EncryptList",
 *    "CiphertextBlob", "Iv" (base64 of the IV), "Algorithm", "TagList" (SM4-GCM: base64 of each
 *    field's tag, in EncryptList order)}; no Encryption when no field was present;
 *  - PhoneVerification: the legacy top-level "CiphertextBlob", "EncryptList", "Iv" instead
 *    (AES-256-CBC only: SM4-GCM is TCF_EINVAL);
 *  - GetDetectInfoEnhanced, GetFaceIdResult, CheckIdCardInformation (encrypted responses): an
 *    Encryption with an empty EncryptList (CheckIdCardInformation also "IsEncrypt": true), or
 *    with opts->whole_body EncryptList ["EncryptionBody"] and "IsEncryptResponse": true;
 *  - DetectAIFakeFaces: {"Encryption": {.., "EncryptList": ["EncryptionBody"]},
 *    "EncryptedBody": base64(the params bytes exactly as given)}.
 * *keys_out (nullable) receives the key material, for tcf_decrypt_response. Free *json_out with
 * tcf_string_free. TCF_EINVAL: unknown action or one without encryption, a field that is not
 * encryptable, an encryptable field that is not a string, parameters that already carry
 * Encryption (or PhoneVerification's CiphertextBlob/EncryptList/Iv), bad options; TCF_EJSON: not
 * a JSON object; TCF_ECRYPTO. Messages name fields, never values. */
TCF_API int tcf_encrypt_request(char **json_out, size_t *len, const char *action,
                                const char *params_json, size_t n,
                                const tcf_encryption_options *opts, tcf_encryption_keys **keys_out,
                                tcf_error *err);

/* Decrypts a response with the keys of its request. response_json: the Response object (what
 * tcf_response_json gives) or the whole {"Response": ...} envelope; *json_out has the same
 * shape, with
 *  - field level: every value named by Encryption.EncryptList (JSON paths such as
 *    "Response.Text.IdCard" or "Text.IdCard"; an array element as "List.0" or "List[0]")
 *    replaced by its plaintext string (null, "" or missing values are skipped);
 *  - whole body: the members of the JSON object a non-empty EncryptedBody decrypts to added
 *    (an object {"Response": {...}} is unwrapped; RequestId stays the outer one) and
 *    EncryptedBody set to "", as in a response that was not encrypted.
 * Encryption is kept as received. The IV is Encryption.Iv (base64; for AES-256-CBC a 16-character
 * IV that is not base64 of 16 bytes is used as its raw bytes), or the request's when Iv is
 * empty; the algorithm is Encryption.Algorithm or the keys'. A response with nothing encrypted
 * comes back unchanged. Free with tcf_string_free. TCF_ECRYPTO: an algorithm other than the
 * keys', bad base64, a missing or wrong SM4-GCM tag, bad padding (wrong key), plaintext that is
 * not UTF-8; TCF_EJSON: not a JSON object, an encrypted value that is not a string, a
 * whole-body plaintext that is not a JSON object; TCF_EINVAL for NULL arguments. */
TCF_API int tcf_decrypt_response(char **json_out, size_t *len, const char *response_json, size_t n,
                                 const tcf_encryption_keys *keys, tcf_error *err);

/* ---------------------------------------------------------------------------------------------
 * Element checks and PaaS outcomes (pure): typed answers from the Result of an element check
 * (IdCardVerification, PhoneVerification, BankCard2EVerification, ...) or a PaaS comparison
 * (LivenessRecognition, LivenessCompare, ImageRecognition, ImageRecognitionV2)
 * ------------------------------------------------------------------------------------------- */

/* What a Result says, per action (faceid-api.md §4.6, §4.2): the same code means different
 * things in different actions (-4 is billed wrong cardholder data in BankCard2EVerification, a bad
 * card number format in BankCardVerification, a billed mismatch in PhoneVerification). */
typedef enum tcf_check_status {
    TCF_CHECK_UNKNOWN = 0,             /* not in the action's documented table: decide nothing */
    TCF_CHECK_MATCHED = 1,             /* consistent / verified / PaaS "Success" */
    TCF_CHECK_MISMATCHED = 2,          /* inconsistent (also the bank's "cardholder information
                                        * wrong"), or (PaaS) the faces do not match */
    TCF_CHECK_ANSWERED = 3,            /* a lookup answered (MobileStatus, MobileNetworkTime-
                                        * Verification, CheckBankCardInformation 0; Minors-
                                        * Verification 0 adult / -1 minor): see the fields */
    TCF_CHECK_NOT_FOUND = 4,           /* no (usable) record in the authoritative source */
    TCF_CHECK_INVALID_INPUT = 5,       /* the service rejected an input (name, ID, number...) */
    TCF_CHECK_CARD_PROBLEM = 6,        /* a bank card state: lost, expired, restricted, invalid,
                                        * card-not-present payment not enabled... */
    TCF_CHECK_UNSUPPORTED = 7,         /* number range, card kind or certificate not supported */
    TCF_CHECK_SERVICE_UNAVAILABLE = 8, /* the service or its source is busy, failing or being
                                        * upgraded: retry later */
    TCF_CHECK_DAILY_LIMIT = 9,         /* the identity's daily limit: retry after 00:00 UTC+8 */
    TCF_CHECK_LIVENESS_FAILED = 10,    /* PaaS: liveness / real-person detection did not pass,
                                        * or the challenge (action, digits) was not done */
    TCF_CHECK_MEDIA_PROBLEM = 11       /* PaaS: the video or image is unusable (no face, light,
                                        * size, voice, download...): capture it again */
} tcf_check_status;

/* Similarity thresholds (Sim, 0-100): LivenessRecognition, LivenessCompare and
 * ImageRecognitionV2 use the fixed threshold 70 (false accepts 1/10,000); ImageRecognition (V1)
 * lets the caller choose: 70 for 1/1,000 false accepts, 80 for 1/10,000. */
#define TCF_SIM_THRESHOLD 70.0
#define TCF_SIM_V1_FAR_1E3 70.0
#define TCF_SIM_V1_FAR_1E4 80.0

typedef struct tcf_check_outcome tcf_check_outcome;

/* "matched", "not_found", ... (static), or NULL for a value that is not a tcf_check_status. */
TCF_API const char *tcf_check_status_name(tcf_check_status status);
/* 1 when tcf_check_outcome_from_json knows the action, else 0. */
TCF_API int tcf_check_action_known(const char *action);

/* The outcome of one response of `action` (IdCardVerification, IdCardOCRVerification,
 * CheckIdNameDate, PhoneVerification, PhoneVerificationCMCC/CTCC/CUCC,
 * EncryptedPhoneVerification, CheckPhoneAndName, MobileStatus, MobileNetworkTimeVerification,
 * BankCard2EVerification, BankCardVerification, BankCard4EVerification,
 * CheckBankCardInformation, MinorsVerification, LivenessRecognition, LivenessCompare,
 * ImageRecognition, ImageRecognitionV2). response_json: the Response object (what
 * tcf_response_json gives) or the whole {"Response": ...} envelope, e.g. a recorded response.
 * Decides on the Result code only, never on Description. A daily-limit Result gives
 * TCF_CHECK_DAILY_LIMIT (a call through tcf_call already failed TCF_ERATE_LIMITED); a Result the
 * action's table does not document gives TCF_CHECK_UNKNOWN with billed -1. TCF_EINVAL: an
 * unknown action or a NULL argument; TCF_EJSON: not a JSON object, Result null, missing or not a
 * string, Sim neither a number, a string nor null; TCF_EAPI: the response is an API error
 * (Response.Error; api_code and request_id set; FailedOperation.IdentityAuthLimitExceeded gives
 * TCF_ERATE_LIMITED, retry_at 0: a recorded response has no date); TCF_ENOMEM. *out is NULL on
 * failure. */
TCF_API int tcf_check_outcome_from_json(tcf_check_outcome **out, const char *action,
                                        const void *response_json, size_t len, tcf_error *err);
/* The action's name (static), NULL when o is NULL. */
TCF_API const char *tcf_check_outcome_action(const tcf_check_outcome *o);
/* TCF_CHECK_UNKNOWN when o is NULL. */
TCF_API tcf_check_status tcf_check_outcome_status(const tcf_check_outcome *o);
/* The Result string as received ("0", "-4", "Success", "FailedOperation.CompareFail"), owned
 * by o. */
TCF_API const char *tcf_check_outcome_result(const tcf_check_outcome *o);
/* From the per-action billed / not-billed columns: 1 billed, 0 not billed, -1 not documented
 * (unknown codes, most PaaS failures). */
TCF_API int tcf_check_outcome_billed(const tcf_check_outcome *o);
/* 1 MATCHED, 0 MISMATCHED, -1 otherwise (and always for the lookups: MobileStatus,
 * MobileNetworkTimeVerification, CheckBankCardInformation, MinorsVerification). */
TCF_API int tcf_check_outcome_matched(const tcf_check_outcome *o);
/* The documented meaning of the Result for this action, a short English phrase (static; never
 * NULL). Only for people: decide on the status. */
TCF_API const char *tcf_check_outcome_meaning(const tcf_check_outcome *o);
/* PaaS: Sim (a number, or a string holding one): 0 and *sim, or TCF_ESTATE when it is null,
 * missing, unparsable or the action has none; TCF_EINVAL for NULL arguments. */
TCF_API int tcf_check_outcome_sim(const tcf_check_outcome *o, double *sim);
/* PaaS: the documented default threshold (TCF_SIM_THRESHOLD; V1: TCF_SIM_V1_FAR_1E3); -1 for an
 * element check. */
TCF_API double tcf_check_outcome_sim_threshold(const tcf_check_outcome *o);
/* The response text exactly as given (its documented extra fields: Isp, ResultDetail,
 * StatusCode, Range, AccountBank, AccountType, AgeRange, BestFrameBase64, Extra, ...); owned by
 * o, NUL-terminated; *len its length (len may be NULL). */
TCF_API const char *tcf_check_outcome_json(const tcf_check_outcome *o, size_t *len);
/* Wipes the text (identity data) and frees; accepts NULL. */
TCF_API void tcf_check_outcome_free(tcf_check_outcome *o);

/* ---------------------------------------------------------------------------------------------
 * Element checks and PaaS calls: typed helpers (validate, build the body, call, decide)
 * ------------------------------------------------------------------------------------------- */

/* Media limits, after base64 (faceid-api.md §2.13, §5): VideoBase64 8 MiB; ImageBase64 of
 * LivenessCompare, ImageRecognitionV2 and IdCardOCRVerification 3 MiB. */
#define TCF_VIDEO_BASE64_MAX (8u * 1024u * 1024u)
#define TCF_IMAGE_BASE64_MAX (3u * 1024u * 1024u)

/* A video or an image: at most one of bytes, path, base64, url (all NULL: not given). */
typedef struct tcf_media {
    const void *bytes; /* the file's content: base64-encoded by the core into the body */
    size_t bytes_len;
    const char *path;   /* a file: read in chunks and encoded straight into the body (no copy of
                         * its content is made); its size is checked before it is read */
    const char *base64; /* base64 text: a "data:<type>;base64," prefix and ASCII white space
                         * (line breaks) are dropped, then standard alphabet and '=' padding are
                         * required */
    size_t base64_len;  /* 0: strlen(base64) */
    const char *url;    /* VideoUrl / ImageUrl (http:// or https://, at most 1024 bytes): the
                         * service downloads it (within 4 s) */
} tcf_media;

#define TCF_CHECK_PARAMS_VERSION 1
/* The inputs of every helper; each action takes the fields listed at tcf_check_body and refuses
 * the others (TCF_EINVAL "<field> is not a parameter of <Action>"). NULL or "" leaves a field
 * out. */
typedef struct tcf_check_params {
    unsigned version;           /* TCF_CHECK_PARAMS_VERSION */
    const char *id_card;        /* IdCard: a trailing x becomes X, then tcf_check_id_card */
    const char *name;           /* Name: tcf_normalize_name; the normalised name is sent */
    const char *phone;          /* Phone (Mobile in CheckPhoneAndName, MobileStatus,
                                 * MobileNetworkTimeVerification): tcf_check_phone */
    const char *bank_card;      /* BankCard: tcf_check_bank_card */
    const char *validity_begin; /* CheckIdNameDate ValidityBegin: YYYYMMDD */
    const char *validity_end;   /* CheckIdNameDate ValidityEnd: YYYYMMDD after the begin, or
                                 * "00000000" (long term) */
    const char *liveness_type;  /* LivenessType: "LIP", "ACTION" or "SILENT" */
    const char *validate_data;  /* ValidateData: LIP the 4 digits of GetLiveCode; ACTION the
                                 * sequence of GetActionSequence ("2,1": 1 open mouth, 2 close
                                 * eyes); SILENT none */
    tcf_media video;            /* VideoBase64 (at most TCF_VIDEO_BASE64_MAX) or VideoUrl */
    tcf_media image;            /* ImageBase64 (at most TCF_IMAGE_BASE64_MAX) or ImageUrl */
    int best_frame_num;         /* Optional {"BestFrameNum":n}, 2-10; 0 leaves it out */
    int verify_mode;            /* PhoneVerification VerifyMode: -1 left out (simple), 0 simple,
                                 * 1 detailed (ResultDetail on a mismatch) */
    const char *extra;          /* ImageRecognitionV2 Extra: 1-10 characters, echoed back */
    int phone_route;            /* PhoneVerification only: TCF_PHONE_ROUTE_* */
} tcf_check_params;

#define TCF_CHECK_PARAMS_INIT                                                                      \
    {                                                                                              \
        TCF_CHECK_PARAMS_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,                  \
            {NULL, 0, NULL, NULL, 0, NULL}, {NULL, 0, NULL, NULL, 0, NULL}, 0, -1, NULL, 0         \
    }

/* Carrier routing of a three-element phone check (tcf_check_params.phone_route). */
typedef enum tcf_phone_route {
    TCF_PHONE_ROUTE_GENERIC = 0, /* send the action asked for */
    TCF_PHONE_ROUTE_AUTO = 1     /* PhoneVerification: tcf_phone_route_action chooses; when the
                                  * carrier action is not enabled for the account (API error
                                  * UnauthorizedOperation.* or InvalidAction: not billed) the call
                                  * falls back to PhoneVerification once */
} tcf_phone_route;

/* The action a three-element check of phone should use: the carrier-specific action
 * (PhoneVerificationCMCC / CTCC / CUCC) when the number's documented range belongs to a carrier
 * whose action is cheaper than PhoneVerification in verify_mode (-1/0 simple 1.1 CNY, 1 detailed
 * 1.2 CNY; CTCC and CUCC 0.7, CMCC 1.3), else "PhoneVerification" (also for detailed mode, whose
 * ResultDetail only PhoneVerification gives, and for numbers of no known range). Static. */
TCF_API const char *tcf_phone_route_action(const char *phone, int verify_mode);

/* Phone numbers in ranges opened recently (190, 191, 192, 193, 195, 196, 197): newly registered
 * numbers need 3-10 working days before the carriers' checks know them (faq-facts.md), and not
 * every check covers these ranges yet. 1 recent, 0 not, -1 not a valid number. Bindings warn. */
TCF_API int tcf_phone_recent_range(const char *phone);

/* The exact body of one helper call, every input validated first (TCF_EINVAL naming the field
 * and the rule, never the value; nothing is sent). Fields by action (R required, O optional):
 *   IdCardVerification        id_card R, name R
 *   IdCardOCRVerification     id_card + name, or image (bytes/path/base64 or url), not both
 *   CheckIdNameDate           id_card R, name R, validity_begin R, validity_end R
 *   PhoneVerification         id_card R, name R, phone R, verify_mode O
 *   PhoneVerificationCMCC/CTCC/CUCC  id_card R, name R, phone R (in the carrier's ranges)
 *   CheckPhoneAndName         phone R (sent as Mobile), name R
 *   MobileStatus, MobileNetworkTimeVerification   phone R (sent as Mobile)
 *   BankCard2EVerification    name R, bank_card R
 *   BankCardVerification      id_card R, name R, bank_card R
 *   BankCard4EVerification    id_card R, name R, bank_card R, phone R
 *   CheckBankCardInformation  bank_card R
 *   LivenessRecognition       id_card R, name R, liveness_type R, validate_data (by the type),
 *                             video R, best_frame_num O
 *   LivenessCompare           liveness_type R, validate_data, video R, image R, best_frame_num O
 *   ImageRecognitionV2        id_card R, name R, image R (not a url), extra O
 *   GetLiveCode, GetActionSequence   none
 * Media over their limit fail with a message giving the size and the ffmpeg command that
 * compresses a video (docs/checks.md). today_unix as for tcf_check_id_card (0 skips the
 * birth-date check). *json_out is NUL-terminated (*len: its length; len may be NULL); free it
 * with tcf_string_free. Media are written straight into the body: never through a JSON tree. */
TCF_API int tcf_check_body(char **json_out, size_t *len, const char *action,
                           const tcf_check_params *p, long long today_unix, tcf_error *err);

/* A business result that arrived as an API error (faceid-api.md §7.5: PaaS failures such as
 * FailedOperation.CompareLowSimilarity may come as Response.Error instead of Result): when api_code
 * is a documented Result of the PaaS action (not the daily limit, which stays an error), 0 and
 * *out an outcome as if Result had been api_code (request_id kept; its JSON is
 * {"Result":...,"RequestId":...}); otherwise 0 with *out NULL. TCF_EINVAL for NULL arguments. */
TCF_API int tcf_check_outcome_from_api_error(tcf_check_outcome **out, const char *action,
                                             const char *api_code, const char *request_id,
                                             tcf_error *err);

/* The RequestId of the response the outcome came from ("" when it had none); owned by o. */
TCF_API const char *tcf_check_outcome_request_id(const tcf_check_outcome *o);

/* (libcurl builds only, like tcf_client.) One helper call: tcf_check_body, then tcf_client_call_ex
 * (retries, QPS, encryption, daily limits: TCF_ERATE_LIMITED with retry_at), then the typed outcome
 * (tcf_check_outcome_from_json; a PaaS business result received as an API error becomes an outcome
 * too, see tcf_check_outcome_from_api_error). The action sent is tcf_check_outcome_action(*out) (it
 * differs from action when p->phone_route routed a PhoneVerification). The body is built once
 * and sent as is by every attempt; it is wiped after the call. GetLiveCode and
 * GetActionSequence are not outcomes: use tcf_get_live_code / tcf_get_action_sequence. */
TCF_API int tcf_check(tcf_client *client, const char *action, const tcf_check_params *p,
                      const tcf_call_options *opts, tcf_check_outcome **out, tcf_error *err);

/* tcf_check for one action each (p may be NULL only where the action takes no field). */
#define TCF_CHECK_HELPER(fn)                                                                       \
    TCF_API int fn(tcf_client *client, const tcf_check_params *p, const tcf_call_options *opts,    \
                   tcf_check_outcome **out, tcf_error *err)
TCF_CHECK_HELPER(tcf_id_card_verification);
TCF_CHECK_HELPER(tcf_id_card_ocr_verification);
TCF_CHECK_HELPER(tcf_check_id_name_date);
TCF_CHECK_HELPER(tcf_phone_verification);
TCF_CHECK_HELPER(tcf_phone_verification_cmcc);
TCF_CHECK_HELPER(tcf_phone_verification_ctcc);
TCF_CHECK_HELPER(tcf_phone_verification_cucc);
TCF_CHECK_HELPER(tcf_check_phone_and_name);
TCF_CHECK_HELPER(tcf_mobile_status);
TCF_CHECK_HELPER(tcf_mobile_network_time_verification);
TCF_CHECK_HELPER(tcf_bank_card_2e_verification);
TCF_CHECK_HELPER(tcf_bank_card_verification);
TCF_CHECK_HELPER(tcf_bank_card_4e_verification);
TCF_CHECK_HELPER(tcf_check_bank_card_information);
TCF_CHECK_HELPER(tcf_liveness_recognition);
TCF_CHECK_HELPER(tcf_liveness_compare);
TCF_CHECK_HELPER(tcf_image_recognition_v2);
#undef TCF_CHECK_HELPER

/* GetLiveCode: the 4 digits (NUL-terminated) for LIP liveness. TCF_EJSON when the answer has no
 * 4-digit LiveCode. */
TCF_API int tcf_get_live_code(tcf_client *client, const tcf_call_options *opts, char code[5],
                              tcf_error *err);
/* GetActionSequence: the sequence ("2,1"), NUL-terminated in out (at most cap bytes; 32 is
 * enough). TCF_EJSON when the answer has no sequence of 1s and 2s. */
TCF_API int tcf_get_action_sequence(tcf_client *client, const tcf_call_options *opts, char *out,
                                    size_t cap, tcf_error *err);
/* The same checks of an answer, for transports of your own (sans-IO): response_json as for
 * tcf_check_outcome_from_json. */
TCF_API int tcf_live_code_from_json(char code[5], const void *response_json, size_t len,
                                    tcf_error *err);
TCF_API int tcf_action_sequence_from_json(char *out, size_t cap, const void *response_json,
                                          size_t len, tcf_error *err);

/* ---------------------------------------------------------------------------------------------
 * Prices (faq-facts.md, "Prices for identity-element checks"; CNY, in fen = 0.01 CNY)
 * ------------------------------------------------------------------------------------------- */

typedef struct tcf_package_use {
    long long size;      /* calls in one package (1,000 ... 1,000,000) */
    long long count;     /* packages bought */
    long long price_fen; /* the price of one package */
} tcf_package_use;

typedef struct tcf_cost_estimate {
    long long calls;
    long long per_call_fen;      /* the postpaid price of one call */
    long long postpaid_fen;      /* calls x per_call_fen */
    long long best_fen;          /* the cheapest documented way: packages + postpaid for the rest
                                  * (packages are valid one year; the rest is postpaid) */
    size_t package_kinds;        /* entries of packages[] used by the best plan */
    tcf_package_use packages[8]; /* largest first */
    long long postpaid_calls;    /* calls the best plan leaves to the postpaid price */
} tcf_cost_estimate;

/* The documented price of calls calls (0 - 10^12) of action: verify_mode as in
 * tcf_check_params for PhoneVerification (-1/0 simple, 1 detailed), ignored elsewhere. Priced:
 * IdCardVerification (ID two-element), CheckIdNameDate (ID + validity), BankCard2EVerification,
 * BankCardVerification, BankCard4EVerification (bank card verification), CheckBankCardInformation,
 * MobileStatus, MobileNetworkTimeVerification (tenure/status), CheckPhoneAndName (phone
 * two-element), PhoneVerification, PhoneVerificationCMCC / CTCC / CUCC. TCF_EINVAL for other
 * actions (no documented price) or calls out of range. */
/* The postpaid price of one call of action in fen (verify_mode as above): 0, or TCF_EINVAL when
 * it has no documented price (no error struct: a lookup). */
TCF_API int tcf_price_per_call_fen(const char *action, int verify_mode, long long *fen);
TCF_API int tcf_estimate_cost(tcf_cost_estimate *out, const char *action, int verify_mode,
                              long long calls, tcf_error *err);

/* ---------------------------------------------------------------------------------------------
 * Asynchronous calls (libcurl builds only): libcurl's multi interface driven by your event loop.
 * No thread per request: the core tells the loop which sockets to watch and when to wake it; the
 * loop reports readiness; finished calls are collected with tcf_multi_next_done. A tcf_multi and
 * its ops belong to one thread (the loop's); the tcf_client they use may be shared.
 * ------------------------------------------------------------------------------------------- */

typedef struct tcf_multi tcf_multi;
typedef struct tcf_op tcf_op;

enum { TCF_POLL_IN = 1, TCF_POLL_OUT = 2, TCF_POLL_INOUT = 3, TCF_POLL_REMOVE = 4 };

#define TCF_MULTI_OPTIONS_VERSION 1
typedef struct tcf_multi_options {
    unsigned version; /* TCF_MULTI_OPTIONS_VERSION */
    void *user;       /* passed to watch and timer */
    /* Watch fd for TCF_POLL_IN, _OUT or _INOUT (replacing what was watched), or stop watching it
     * (TCF_POLL_REMOVE). Called from inside tcf_multi_* and tcf_op_* functions. Required. */
    void (*watch)(void *user, int fd, int what);
    /* Call tcf_multi_timeout after ms milliseconds (0: soon, from the loop, not recursively);
     * -1: no timer. There is one timer: each call replaces the previous one. Required. */
    void (*timer)(void *user, long ms);
    /* At most this many connections at once (per multi); more calls wait for one, in order.
     * 0: 256. */
    long max_connections;
} tcf_multi_options;

#define TCF_MULTI_OPTIONS_INIT                                                                     \
    {                                                                                              \
        TCF_MULTI_OPTIONS_VERSION, NULL, NULL, NULL, 0                                             \
    }

/* opts is copied. TCF_EINVAL: a bad version, a missing callback, a negative max_connections. */
TCF_API int tcf_multi_new(tcf_multi **out, const tcf_multi_options *opts, tcf_error *err);
/* fd is ready: events TCF_POLL_IN and/or TCF_POLL_OUT (0: unknown, let libcurl find out). Runs
 * transfers, finishes ops (tcf_multi_next_done) and starts retries. */
TCF_API void tcf_multi_socket(tcf_multi *m, int fd, int events);
/* The timer fired: libcurl's timeouts, and ops whose backoff / QPS wait is over. */
TCF_API void tcf_multi_timeout(tcf_multi *m);
/* The next finished op, in finishing order (each once), or NULL. A cancelled op is not listed. */
TCF_API tcf_op *tcf_multi_next_done(tcf_multi *m);
/* Ops started and not yet finished (running, or waiting to retry). */
TCF_API size_t tcf_multi_running(const tcf_multi *m);
/* Cancels every op still running (they finish TCF_ECANCELLED; free them with tcf_op_free, before
 * or after) and frees the multi; its sockets are unwatched. Accepts NULL. */
TCF_API void tcf_multi_free(tcf_multi *m);

/* tcf_client_call_ex without blocking: the same rules (retry classes, backoff, retry budget,
 * deadline, clock-skew re-signing, QPS waits, daily limits, encryption: the parameters are
 * encrypted now), each attempt a transfer on m, waits as timers. TCF_EINVAL (and other local
 * failures) here: nothing started. Nothing is borrowed: params, opts and opts->retry are copied
 * (tcf_op_start_check: p is used up by the time it returns). client must outlive the op.
 * user: yours (tcf_op_user). */
TCF_API int tcf_op_start(tcf_op **out, tcf_multi *m, tcf_client *client, const char *action,
                         const void *params, size_t params_len, const tcf_call_options *opts,
                         void *user, tcf_error *err);
/* tcf_check without blocking: tcf_check_body runs now (its TCF_EINVAL: nothing started); the
 * routing fallback happens inside the op. Read the answer with tcf_op_check_result. */
TCF_API int tcf_op_start_check(tcf_op **out, tcf_multi *m, tcf_client *client, const char *action,
                               const tcf_check_params *p, const tcf_call_options *opts, void *user,
                               tcf_error *err);
TCF_API void *tcf_op_user(const tcf_op *op);
/* 1 when finished (or cancelled), else 0. */
TCF_API int tcf_op_done(const tcf_op *op);
/* A finished tcf_op_start op: 0 and *out (now the caller's), or its error (err.attempts set);
 * TCF_ESTATE when not finished or already taken; TCF_ECANCELLED when cancelled. */
TCF_API int tcf_op_result(tcf_op *op, tcf_response **out, tcf_error *err);
/* The same for tcf_op_start_check ops: the outcome (the caller's). */
TCF_API int tcf_op_check_result(tcf_op *op, tcf_check_outcome **out, tcf_error *err);
/* Stops a running op at once: its transfer is removed (the connection is closed) and it finishes
 * TCF_ECANCELLED without being listed by tcf_multi_next_done. A finished op (listed or not yet)
 * is left as it is. A billable request that was being sent or answered may still have been
 * executed. */
TCF_API void tcf_op_cancel(tcf_op *op);
/* Frees an op (cancelling it when running; a finished op not yet listed is taken off the list);
 * accepts NULL. */
TCF_API void tcf_op_free(tcf_op *op);

#ifdef __cplusplus
}
#endif
#endif /* TCFACEID_H */
