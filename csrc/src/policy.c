/* Reliability policy (pure: no clock, no network, no randomness of its own). Which actions may be
 * retried after which failures (DESIGN.md §5), the backoff, a token bucket for the retry budget
 * and client-side QPS limits, and the daily identity limits (faceid-api.md §1, §4.6, §5). The
 * transport applies it; the bindings and tests can ask it directly. */
#include "internal.h"

#include <string.h>

typedef struct action_row {
    const char *action;
    tcf_retry_class cls;
    int qps;                 /* documented default QPS; 0: none documented */
    const char *daily_limit; /* the Result string meaning "daily identity limit", or NULL */
} action_row;

/* faceid-api.md §1 (QPS) and §4.6 (daily-limit results); classes from DESIGN.md §5. */
static const action_row actions[] = {
    {"BankCard2EVerification", TCF_RETRY_BILLABLE, 20, "-17"},
    {"BankCard4EVerification", TCF_RETRY_BILLABLE, 20, "-19"},
    {"BankCardVerification", TCF_RETRY_BILLABLE, 20, "-18"},
    {"CheckBankCardInformation", TCF_RETRY_BILLABLE, 20, "-4"},
    {"CheckEidTokenStatus", TCF_RETRY_READ, 2000, NULL},
    {"CheckIdCardInformation", TCF_RETRY_BILLABLE, 100, NULL},
    {"CheckIdNameDate", TCF_RETRY_BILLABLE, 20, "-8"},
    {"CheckPhoneAndName", TCF_RETRY_BILLABLE, 20, "-6"},
    {"DetectAIFakeFaces", TCF_RETRY_BILLABLE, 0, NULL},
    {"DetectAuth", TCF_RETRY_SESSION, 100, NULL},
    {"EncryptedPhoneVerification", TCF_RETRY_BILLABLE, 20, NULL},
    {"GetActionSequence", TCF_RETRY_READ, 100, NULL},
    {"GetDetectInfo", TCF_RETRY_READ, 50, NULL},
    {"GetDetectInfoEnhanced", TCF_RETRY_READ, 100, NULL},
    {"GetEidResult", TCF_RETRY_READ, 100, NULL},
    {"GetEidToken", TCF_RETRY_SESSION, 100, NULL},
    {"GetFaceIdResult", TCF_RETRY_READ, 100, NULL},
    {"GetFaceIdRiskInfo", TCF_RETRY_READ, 20, NULL},
    {"GetFaceIdToken", TCF_RETRY_SESSION, 100, NULL},
    {"GetFaceidRiskInfoToken", TCF_RETRY_SESSION, 20, NULL},
    {"GetLiveCode", TCF_RETRY_READ, 100, NULL},
    {"GetNFCToken", TCF_RETRY_SESSION, 0, NULL},
    {"GetWeChatBillDetails", TCF_RETRY_READ, 20, NULL},
    {"GetWxNFCResult", TCF_RETRY_BILLABLE, 0, NULL},
    {"IdCardOCRVerification", TCF_RETRY_BILLABLE, 100, "-7"},
    {"IdCardVerification", TCF_RETRY_BILLABLE, 100, "-7"},
    {"ImageRecognition", TCF_RETRY_BILLABLE, 100, NULL},
    {"ImageRecognitionV2", TCF_RETRY_BILLABLE, 20, NULL},
    {"LivenessCompare", TCF_RETRY_BILLABLE, 100, NULL},
    {"LivenessRecognition", TCF_RETRY_BILLABLE, 100, NULL},
    {"MinorsVerification", TCF_RETRY_BILLABLE, 20, NULL},
    {"MobileNetworkTimeVerification", TCF_RETRY_BILLABLE, 20, "-5"},
    {"MobileStatus", TCF_RETRY_BILLABLE, 20, "-4"},
    {"ParseNfcData", TCF_RETRY_BILLABLE, 20, NULL},
    {"PhoneVerification", TCF_RETRY_BILLABLE, 20, "-12"},
    {"PhoneVerificationCMCC", TCF_RETRY_BILLABLE, 20, NULL},
    {"PhoneVerificationCTCC", TCF_RETRY_BILLABLE, 20, NULL},
    {"PhoneVerificationCUCC", TCF_RETRY_BILLABLE, 20, NULL},
};

static const action_row *find_action(const char *action)
{
    if (action == NULL)
        return NULL;
    size_t lo = 0, hi = sizeof actions / sizeof actions[0];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(action, actions[mid].action);
        if (c == 0)
            return &actions[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

tcf_retry_class tcf_action_retry_class(const char *action)
{
    const action_row *row = find_action(action);
    return row ? row->cls : TCF_RETRY_BILLABLE; /* unknown: the safe assumption */
}

int tcf_action_default_qps(const char *action)
{
    const action_row *row = find_action(action);
    return row ? row->qps : 0;
}

int tcf_daily_limit_result(const char *action, const char *result)
{
    const action_row *row = find_action(action);
    if (row == NULL || result == NULL)
        return 0;
    if (row->daily_limit != NULL)
        return strcmp(row->daily_limit, result) == 0;
    /* The PaaS comparisons with an identity may put their limit in Result, as HTTP 200. */
    static const char *const paas[] = {"CheckIdCardInformation", "ImageRecognition",
                                       "ImageRecognitionV2", "LivenessRecognition"};
    for (size_t i = 0; i < sizeof paas / sizeof paas[0]; i++)
        if (strcmp(paas[i], action) == 0)
            return strcmp(result, "FailedOperation.IdentityAuthLimitExceeded") == 0;
    return 0;
}

/* The request certainly did not reach the service (no connection was made). */
static int not_sent(const tcf_error *err)
{
    return (err->code == TCF_ETRANSPORT || err->code == TCF_ETIMEOUT) && err->retryable;
}

/* A failure that may go away: transport, timeout, 5xx/429 from a gateway, InternalError,
 * throttling, a truncated body. TLS, auth, bad requests and business answers do not. */
static int transient(const tcf_error *err)
{
    switch (err->code) {
    case TCF_ETRANSPORT:
    case TCF_ETIMEOUT:
    case TCF_ETHROTTLED:
        return 1;
    case TCF_EHTTP:
    case TCF_EAPI:
    case TCF_EJSON:
        return err->retryable;
    default:
        return 0;
    }
}

tcf_retry_verdict tcf_retry_decide(tcf_retry_class cls, const tcf_error *err, int retry_billable)
{
    if (err == NULL || err->code == 0 || !transient(err))
        return TCF_RETRY_NO;
    /* Throttled or never sent: the service did nothing, any action may be sent again. Daily
     * identity limits are TCF_ERATE_LIMITED, not TCF_ETHROTTLED, and never come here. */
    if (err->code == TCF_ETHROTTLED || not_sent(err))
        return TCF_RETRY_YES;
    switch (cls) {
    case TCF_RETRY_READ:
        return TCF_RETRY_YES;
    case TCF_RETRY_SESSION:
        return TCF_RETRY_NO; /* a session may have been created: the caller decides */
    case TCF_RETRY_BILLABLE:
    default:
        return retry_billable ? TCF_RETRY_YES : TCF_RETRY_AMBIGUOUS;
    }
}

long tcf_retry_delay_ms(const tcf_retry_options *o, int attempt, int throttled, double u)
{
    tcf_retry_options d = TCF_RETRY_OPTIONS_INIT;
    if (o == NULL)
        o = &d;
    long base = throttled ? (o->throttle_delay_ms > 0 ? o->throttle_delay_ms : 1000)
                          : (o->base_delay_ms > 0 ? o->base_delay_ms : 50);
    long cap = o->max_delay_ms > 0 ? o->max_delay_ms : 20000;
    if (attempt < 1)
        attempt = 1;
    double ceiling = (double)base;
    for (int i = 1; i < attempt && ceiling < (double)cap; i++)
        ceiling *= 2;
    if (ceiling > (double)cap)
        ceiling = (double)cap;
    if (!(u >= 0.0) || u >= 1.0) /* NaN or out of range: the middle */
        u = 0.5;
    return (long)(ceiling * u); /* full jitter: uniform in [0, ceiling); truncation = floor */
}

long long tcf_next_shanghai_midnight(long long now_unix)
{
    const long long day = 86400, offset = 8 * 3600; /* Asia/Shanghai: UTC+8, no DST */
    long long local = now_unix + offset;
    long long days = local / day - (local % day < 0 ? 1 : 0);
    return (days + 1) * day - offset;
}

void tcf_bucket_init(tcf_bucket *b, double rate_per_s, double capacity, long long now_ms)
{
    if (b == NULL)
        return;
    b->rate = rate_per_s > 0 ? rate_per_s : 0;
    b->capacity = capacity > 0 ? capacity : 1;
    b->tokens = b->capacity;
    b->last_ms = now_ms;
}

static void refill(tcf_bucket *b, long long now_ms)
{
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * b->rate / 1000.0;
        if (b->tokens > b->capacity)
            b->tokens = b->capacity;
        b->last_ms = now_ms;
    }
}

long tcf_bucket_take(tcf_bucket *b, double n, long long now_ms)
{
    if (b == NULL)
        return 0;
    refill(b, now_ms);
    if (b->tokens >= n) {
        b->tokens -= n;
        return 0;
    }
    if (b->rate <= 0)
        return -1; /* never */
    double missing = n - b->tokens;
    double wait = missing * 1000.0 / b->rate;
    if (wait > 2e9)
        return 2000000000L;
    long w = (long)wait;
    return (double)w < wait ? w + 1 : (w > 0 ? w : 1);
}

void tcf_bucket_add(tcf_bucket *b, double n)
{
    if (b == NULL)
        return;
    b->tokens += n;
    if (b->tokens > b->capacity)
        b->tokens = b->capacity;
}
