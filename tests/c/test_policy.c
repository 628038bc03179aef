/* The reliability policy: retry classes and decisions, backoff, token buckets, daily limits. */
#include "tcfaceid.h"
#include "tcft.h"

static tcf_error make_err(int code, int retryable)
{
    tcf_error e;
    tcf_error_clear(&e);
    e.code = code;
    e.retryable = retryable;
    return e;
}

TCFT_TEST(policy_action_classes_and_qps)
{
    TCFT_CHECK(tcf_action_retry_class("GetDetectInfoEnhanced") == TCF_RETRY_READ);
    TCFT_CHECK(tcf_action_retry_class("CheckEidTokenStatus") == TCF_RETRY_READ);
    TCFT_CHECK(tcf_action_retry_class("GetLiveCode") == TCF_RETRY_READ);
    TCFT_CHECK(tcf_action_retry_class("DetectAuth") == TCF_RETRY_SESSION);
    TCFT_CHECK(tcf_action_retry_class("GetEidToken") == TCF_RETRY_SESSION);
    TCFT_CHECK(tcf_action_retry_class("GetFaceIdToken") == TCF_RETRY_SESSION);
    TCFT_CHECK(tcf_action_retry_class("IdCardVerification") == TCF_RETRY_BILLABLE);
    TCFT_CHECK(tcf_action_retry_class("LivenessRecognition") == TCF_RETRY_BILLABLE);
    /* unknown or odd names: the safe assumption */
    TCFT_CHECK(tcf_action_retry_class("NoSuchAction") == TCF_RETRY_BILLABLE);
    TCFT_CHECK(tcf_action_retry_class("getdetectinfoenhanced") == TCF_RETRY_BILLABLE);
    TCFT_CHECK(tcf_action_retry_class(NULL) == TCF_RETRY_BILLABLE);
    TCFT_CHECK(tcf_action_default_qps("CheckEidTokenStatus") == 2000);
    TCFT_CHECK(tcf_action_default_qps("GetDetectInfo") == 50);
    TCFT_CHECK(tcf_action_default_qps("BankCard4EVerification") == 20);
    TCFT_CHECK(tcf_action_default_qps("DetectAIFakeFaces") == 0);
    TCFT_CHECK(tcf_action_default_qps("Nope") == 0);
}

TCFT_TEST(policy_daily_limits)
{
    TCFT_CHECK(tcf_daily_limit_result("IdCardVerification", "-7") == 1);
    TCFT_CHECK(tcf_daily_limit_result("IdCardVerification", "-8") == 0);
    TCFT_CHECK(tcf_daily_limit_result("CheckIdNameDate", "-8") == 1);
    TCFT_CHECK(tcf_daily_limit_result("PhoneVerification", "-12") == 1);
    TCFT_CHECK(tcf_daily_limit_result("CheckPhoneAndName", "-6") == 1);
    TCFT_CHECK(tcf_daily_limit_result("MobileStatus", "-4") == 1);
    TCFT_CHECK(tcf_daily_limit_result("MobileNetworkTimeVerification", "-5") == 1);
    TCFT_CHECK(tcf_daily_limit_result("BankCard2EVerification", "-17") == 1);
    TCFT_CHECK(tcf_daily_limit_result("BankCardVerification", "-18") == 1);
    TCFT_CHECK(tcf_daily_limit_result("BankCard4EVerification", "-19") == 1);
    TCFT_CHECK(tcf_daily_limit_result("CheckBankCardInformation", "-4") == 1);
    /* the same number means something else elsewhere */
    TCFT_CHECK(tcf_daily_limit_result("BankCard2EVerification", "-4") == 0);
    TCFT_CHECK(tcf_daily_limit_result("PhoneVerificationCMCC", "-12") == 0);
    /* PaaS comparisons with an identity: their limit may come as Result */
    TCFT_CHECK(tcf_daily_limit_result("LivenessRecognition",
                                      "FailedOperation.IdentityAuthLimitExceeded") == 1);
    TCFT_CHECK(tcf_daily_limit_result("ImageRecognitionV2",
                                      "FailedOperation.IdentityAuthLimitExceeded") == 1);
    TCFT_CHECK(tcf_daily_limit_result("LivenessCompare",
                                      "FailedOperation.IdentityAuthLimitExceeded") == 0);
    TCFT_CHECK(tcf_daily_limit_result("LivenessRecognition", "-7") == 0);
    TCFT_CHECK(tcf_daily_limit_result("IdCardVerification", NULL) == 0);
    TCFT_CHECK(tcf_daily_limit_result(NULL, "-7") == 0);
}

TCFT_TEST(policy_next_shanghai_midnight)
{
    /* 2024-01-01T15:59:59Z is 23:59:59 in Shanghai; the reset is 16:00:00Z */
    TCFT_CHECK(tcf_next_shanghai_midnight(1704124799LL) == 1704124800LL);
    /* exactly midnight in Shanghai: the next one, a day later */
    TCFT_CHECK(tcf_next_shanghai_midnight(1704124800LL) == 1704124800LL + 86400);
    /* 2024-01-01T00:00:00Z is 08:00 in Shanghai: the reset is 2024-01-01T16:00:00Z */
    TCFT_CHECK(tcf_next_shanghai_midnight(1704067200LL) == 1704124800LL);
    TCFT_CHECK(tcf_next_shanghai_midnight(0) == 57600);
    TCFT_CHECK(tcf_next_shanghai_midnight(-1) == 57600);
    /* 1969-12-31T15:40Z is 23:40 in Shanghai: the reset is 1970-01-01T00:00 there */
    TCFT_CHECK(tcf_next_shanghai_midnight(-30000) == -28800);
}

TCFT_TEST(policy_retry_decisions)
{
    tcf_error refused = make_err(TCF_ETRANSPORT, 1); /* connection not made */
    tcf_error reset = make_err(TCF_ETRANSPORT, 0);   /* reset after sending */
    tcf_error timeout = make_err(TCF_ETIMEOUT, 0);
    tcf_error http503 = make_err(TCF_EHTTP, 1);
    tcf_error http404 = make_err(TCF_EHTTP, 0);
    tcf_error internal = make_err(TCF_EAPI, 1);
    tcf_error invalid = make_err(TCF_EAPI, 0);
    tcf_error throttled = make_err(TCF_ETHROTTLED, 1);
    tcf_error truncated = make_err(TCF_EJSON, 1);
    tcf_error auth = make_err(TCF_EAUTH, 0);
    tcf_error tls = make_err(TCF_ETLS, 0);
    tcf_error ok = make_err(0, 0);

    const tcf_error *transient[] = {&refused,  &reset,     &timeout,  &http503,
                                    &internal, &throttled, &truncated};
    for (size_t i = 0; i < sizeof transient / sizeof transient[0]; i++)
        TCFT_CHECK(tcf_retry_decide(TCF_RETRY_READ, transient[i], 0) == TCF_RETRY_YES);
    const tcf_error *lasting[] = {&http404, &invalid, &auth, &tls, &ok};
    for (size_t i = 0; i < sizeof lasting / sizeof lasting[0]; i++) {
        TCFT_CHECK(tcf_retry_decide(TCF_RETRY_READ, lasting[i], 0) == TCF_RETRY_NO);
        TCFT_CHECK(tcf_retry_decide(TCF_RETRY_SESSION, lasting[i], 0) == TCF_RETRY_NO);
        TCFT_CHECK(tcf_retry_decide(TCF_RETRY_BILLABLE, lasting[i], 1) == TCF_RETRY_NO);
    }
    /* never sent or throttled: every class */
    TCFT_CHECK(tcf_retry_decide(TCF_RETRY_SESSION, &refused, 0) == TCF_RETRY_YES);
    TCFT_CHECK(tcf_retry_decide(TCF_RETRY_BILLABLE, &refused, 0) == TCF_RETRY_YES);
    TCFT_CHECK(tcf_retry_decide(TCF_RETRY_SESSION, &throttled, 0) == TCF_RETRY_YES);
    TCFT_CHECK(tcf_retry_decide(TCF_RETRY_BILLABLE, &throttled, 0) == TCF_RETRY_YES);
    /* may have reached the service */
    const tcf_error *maybe[] = {&reset, &timeout, &http503, &internal, &truncated};
    for (size_t i = 0; i < sizeof maybe / sizeof maybe[0]; i++) {
        TCFT_CHECK(tcf_retry_decide(TCF_RETRY_SESSION, maybe[i], 0) == TCF_RETRY_NO);
        TCFT_CHECK(tcf_retry_decide(TCF_RETRY_BILLABLE, maybe[i], 0) == TCF_RETRY_AMBIGUOUS);
        TCFT_CHECK(tcf_retry_decide(TCF_RETRY_BILLABLE, maybe[i], 1) == TCF_RETRY_YES);
    }
    TCFT_CHECK(tcf_retry_decide(TCF_RETRY_READ, NULL, 0) == TCF_RETRY_NO);
}

TCFT_TEST(policy_backoff_full_jitter)
{
    tcf_retry_options o = TCF_RETRY_OPTIONS_INIT;
    TCFT_CHECK(tcf_retry_delay_ms(&o, 1, 0, 0.0) == 0);
    TCFT_CHECK(tcf_retry_delay_ms(&o, 1, 0, 0.999) == 49);
    TCFT_CHECK(tcf_retry_delay_ms(&o, 2, 0, 0.5) == 50);
    TCFT_CHECK(tcf_retry_delay_ms(&o, 3, 0, 0.5) == 100);
    TCFT_CHECK(tcf_retry_delay_ms(&o, 1, 1, 0.5) == 500);
    TCFT_CHECK(tcf_retry_delay_ms(&o, 30, 0, 0.5) == 10000); /* capped at 20 s */
    TCFT_CHECK(tcf_retry_delay_ms(NULL, 2, 1, 0.25) == 500);
    o.base_delay_ms = 10;
    o.max_delay_ms = 35;
    TCFT_CHECK(tcf_retry_delay_ms(&o, 3, 0, 0.999) == 34);
    TCFT_CHECK(tcf_retry_delay_ms(&o, 0, 0, 0.5) == 5);
    TCFT_CHECK(tcf_retry_delay_ms(&o, 1, 0, -1.0) == 5); /* out of range: the middle */
    TCFT_CHECK(tcf_retry_delay_ms(&o, 1, 0, 1.0) == 5);
}

TCFT_TEST(policy_token_bucket)
{
    tcf_bucket b;
    tcf_bucket_init(&b, 2.0, 3.0, 1000);
    TCFT_CHECK(tcf_bucket_take(&b, 1, 1000) == 0);
    TCFT_CHECK(tcf_bucket_take(&b, 1, 1000) == 0);
    TCFT_CHECK(tcf_bucket_take(&b, 1, 1000) == 0);
    TCFT_CHECK(tcf_bucket_take(&b, 1, 1000) == 500); /* 2 per second: the next in 500 ms */
    TCFT_CHECK(tcf_bucket_take(&b, 1, 1250) == 250);
    TCFT_CHECK(tcf_bucket_take(&b, 1, 1500) == 0);
    TCFT_CHECK(tcf_bucket_take(&b, 1, 100000) == 0); /* refilled to the capacity only */
    TCFT_CHECK(tcf_bucket_take(&b, 2, 100000) == 0);
    TCFT_CHECK(tcf_bucket_take(&b, 1, 100000) == 500);
    tcf_bucket_add(&b, 10);
    TCFT_CHECK(b.tokens == 3.0);
    tcf_bucket_init(&b, 0, 1, 0); /* no refill */
    TCFT_CHECK(tcf_bucket_take(&b, 1, 0) == 0);
    TCFT_CHECK(tcf_bucket_take(&b, 1, 1000000) == -1);
    TCFT_CHECK(tcf_bucket_take(NULL, 1, 0) == 0);
}
