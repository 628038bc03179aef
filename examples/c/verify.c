/* examples/c/verify.c: a FaceID verification from C with libtcfaceid.
 *
 * One command, against an emulator that the command starts (and a simulated person who passes):
 *
 *     make example-c
 *
 * What it does:
 *   1. DetectAuth: the body built and validated by tcf_detect_auth_body (ID checksum, name,
 *      RedirectUrl; nothing is sent when an input is wrong), sent with tcf_client_call; the answer
 *      becomes a tcf_session (BizToken, Url, lifetimes), stored as tcf_session_to_json would be.
 *   2. The person opens the printed URL; meanwhile GetDetectInfoEnhanced (text only, InfoType 1)
 *      is asked about every second until the verdict is no longer PENDING (--wait seconds).
 *   3. The verdict (tcf_verdict_from_json: decided on codes only): status, ErrCode and its
 *      documented meaning, billed, attempts.
 *   4. An element check, IdCardVerification (name + ID number against the authority), with the
 *      typed helper tcf_id_card_verification: status, Result, meaning, billed.
 *
 * Usage: verify [--endpoint URL] [--rule-id ID] [--wait SECONDS] [NAME ID_NUMBER]
 *   endpoint: --endpoint, else $TCFACEID_ENDPOINT, else https://faceid.tencentcloudapi.com
 *   keys:     TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY, else the tccli profile file
 *   NAME ID_NUMBER: default the emulator's fictional library person
 * Exit status: 0 verified (PASSED and the element check matched), 1 not verified (FAILED, EXPIRED,
 * still PENDING, or a mismatch), 2 usage, 3 an error (its class, API code and RequestId printed).
 * Nothing printed contains the keys; the name and ID number are printed masked only.
 *
 * By hand, against an emulator already running (python -m tcfaceid.emulator):
 *     make lib example-c-build
 *     TENCENTCLOUD_SECRET_ID=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE \
 *     TENCENTCLOUD_SECRET_KEY=Gu5t9xGARNpq86cd98joQYCN3EXAMPLE \
 *         build/examples/verify --endpoint http://127.0.0.1:8455
 * and open the printed URL in a browser (the emulator's page has a button per outcome). */
#include "tcfaceid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* An error of the library: its class, and the service's code and RequestId when there are
 * some. The message never contains secrets or identity data. */
static int fail(const char *what, const tcf_error *err)
{
    fprintf(stderr, "verify: %s failed: %s (%d)", what, tcf_strerror(err->code), err->code);
    if (err->api_code[0] != '\0')
        fprintf(stderr, ", %s", err->api_code);
    if (err->request_id[0] != '\0')
        fprintf(stderr, ", RequestId %s", err->request_id);
    fprintf(stderr, ": %s\n", err->message);
    return err->code == TCF_EINVAL ? 2 : 3;
}

/* 110101199003071233 -> 110***********1233 (never print identity data in clear). */
static void print_masked_id(const char *id)
{
    size_t n = strlen(id);
    for (size_t i = 0; i < n; i++)
        putchar(i < 3 || i + 4 >= n ? id[i] : '*');
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Step 2 and 3: ask for the text result until it is decided or `wait_s` seconds have passed. */
static int fetch_verdict(tcf_client *client, const tcf_session *session, long wait_s,
                         tcf_verdict_outcome *outcome)
{
    tcf_error err = {0};
    time_t deadline = time(NULL) + wait_s;
    for (;;) {
        /* Locally first: another RuleId, or past results_until (no paid call then). */
        if (tcf_session_check_result_request(session, NULL, (long long)time(NULL), &err) != 0) {
            if (err.code != TCF_ETOKEN_EXPIRED)
                return fail("the result request", &err);
            *outcome = TCF_VERDICT_EXPIRED;
            printf("3. verdict: EXPIRED (the 3-day results window has passed)\n");
            return 0;
        }
        tcf_result_request rq = TCF_RESULT_REQUEST_INIT;
        rq.kind = TCF_SESSION_SAAS;
        rq.token = tcf_session_biz_token(session);
        rq.rule_id = tcf_session_rule_id(session); /* the same RuleId as DetectAuth */
        rq.info_type = "1";                        /* the text only: the verdict needs no media */
        char *body = NULL;
        size_t body_len = 0;
        if (tcf_result_body(&body, &body_len, &rq, &err) != 0)
            return fail("the result request", &err);
        tcf_response *resp = NULL;
        int rc = tcf_client_call(client, "GetDetectInfoEnhanced", body, body_len, &resp, &err);
        tcf_string_free(body);
        if (rc == TCF_ETOKEN_EXPIRED) { /* not finished within the BizToken's 2 hours */
            *outcome = TCF_VERDICT_EXPIRED;
            printf("3. verdict: EXPIRED (%s)\n", err.api_code);
            return 0;
        }
        if (rc != 0)
            return fail("GetDetectInfoEnhanced", &err);

        size_t len = 0;
        const char *json = tcf_response_json(resp, &len);
        tcf_verdict *v = NULL;
        rc = tcf_verdict_from_json(&v, json, len, &err);
        tcf_response_free(resp); /* wipes the identity data the text carries */
        if (rc != 0)
            return fail("reading the verdict", &err);
        *outcome = tcf_verdict_status(v);
        if (*outcome != TCF_VERDICT_PENDING || time(NULL) >= deadline) {
            static const char *const names[] = {"?", "PASSED", "FAILED", "PENDING", "EXPIRED"};
            int code = 0;
            int has_code = tcf_verdict_code(v, &code) == 0;
            const char *meaning = has_code ? tcf_errcode_meaning(code) : NULL;
            int billed = tcf_verdict_billed(v);
            printf("3. verdict: %s\n", names[*outcome <= TCF_VERDICT_EXPIRED ? *outcome : 0]);
            if (has_code)
                printf("  ErrCode %d (%s)\n", code, meaning != NULL ? meaning : "undocumented");
            printf("  billed: %s\n", billed == 1 ? "yes" : billed == 0 ? "no" : "unknown");
            printf("  %s\n", tcf_verdict_reason(v));
            for (size_t i = 0; i < tcf_verdict_attempt_count(v); i++) {
                tcf_attempt a;
                if (tcf_verdict_attempt(v, i, &a) == 0)
                    printf("  attempt %zu: Errcode %d, Sim %.2f\n", i + 1,
                           a.has_errcode ? a.errcode : -1, a.has_sim ? a.sim : 0.0);
            }
            tcf_verdict_free(v);
            return 0;
        }
        tcf_verdict_free(v);
        sleep_ms(1000); /* the person has not finished: ask again */
    }
}

int main(int argc, char **argv)
{
    const char *endpoint = getenv("TCFACEID_ENDPOINT");
    const char *rule_id = "1"; /* the emulator's RuleId; yours comes from the console */
    const char *name = "张三", *id_card = "110101199003071233"; /* fictional */
    long wait_s = 120;
    int positional = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc) {
            endpoint = argv[++i];
        } else if (strcmp(argv[i], "--rule-id") == 0 && i + 1 < argc) {
            rule_id = argv[++i];
        } else if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc) {
            wait_s = strtol(argv[++i], NULL, 10);
        } else if (argv[i][0] != '-' && positional == 0) {
            name = argv[i];
            positional++;
        } else if (argv[i][0] != '-' && positional == 1) {
            id_card = argv[i];
            positional++;
        } else {
            fputs("usage: verify [--endpoint URL] [--rule-id ID] [--wait SECONDS] "
                  "[NAME ID_NUMBER]\n",
                  stderr);
            return 2;
        }
    }
    if (positional == 1) {
        fputs("verify: give both NAME and ID_NUMBER\n", stderr);
        return 2;
    }

    tcf_error err = {0};
    tcf_credentials *creds = NULL;
    if (tcf_credentials_new_chain(&creds, &err) != 0)
        return fail("finding credentials", &err);
    tcf_config_options cfg = TCF_CONFIG_OPTIONS_INIT;
    cfg.endpoint = endpoint; /* NULL: https://faceid.tencentcloudapi.com */
    cfg.credentials = creds;
    tcf_client *client = NULL;
    int rc = tcf_client_new(&client, &cfg, NULL, &err);
    tcf_credentials_free(creds); /* the client keeps its own copy */
    if (rc != 0)
        return fail("creating the client", &err);
    printf("tcfaceid %s, endpoint %s\n", tcf_version(),
           endpoint != NULL ? endpoint : "https://faceid.tencentcloudapi.com");

    /* 1. DetectAuth: validated locally, then sent. */
    tcf_detect_auth_params p = TCF_DETECT_AUTH_PARAMS_INIT;
    p.rule_id = rule_id;
    p.name = name;
    p.id_card = id_card;
    p.redirect_url = "https://shop.example/faceid/return"; /* your landing page */
    char *body = NULL;
    size_t body_len = 0;
    int status = 3;
    tcf_session *session = NULL;
    if (tcf_detect_auth_body(&body, &body_len, &p, (long long)time(NULL), &err) != 0) {
        status = fail("checking the DetectAuth inputs (nothing was sent)", &err);
        goto out;
    }
    long long created_at = (long long)time(NULL);
    tcf_response *resp = NULL;
    rc = tcf_client_call(client, "DetectAuth", body, body_len, &resp, &err);
    tcf_string_free(body); /* wipes the name and ID number */
    if (rc != 0) {
        status = fail("DetectAuth", &err);
        goto out;
    }
    size_t len = 0;
    const char *json = tcf_response_json(resp, &len);
    rc = tcf_session_new(&session, json, len, rule_id, NULL, created_at, &err);
    tcf_response_free(resp);
    if (rc != 0) {
        status = fail("reading the DetectAuth answer", &err);
        goto out;
    }
    printf("1. DetectAuth: a session for ");
    print_masked_id(id_card);
    printf(", to start within %lld s, results kept %lld s\n",
           tcf_session_expires_at(session) - created_at,
           tcf_session_results_until(session) - created_at);
    /* A backend stores tcf_session_to_json(session) keyed by the BizToken here. */
    const char *url = tcf_session_url(session);
    printf("2. the person verifies at: %s\n", url != NULL ? url : "(no H5 page for this RuleId)");
    fflush(stdout);

    /* 2 and 3. The result, once the person is done. */
    tcf_verdict_outcome outcome = TCF_VERDICT_PENDING;
    status = fetch_verdict(client, session, wait_s, &outcome);
    if (status != 0)
        goto out;

    /* 4. An element check with a typed helper: name + ID number against the authority. */
    tcf_check_params cp = TCF_CHECK_PARAMS_INIT;
    cp.name = name;
    cp.id_card = id_card;
    tcf_check_outcome *o = NULL;
    if (tcf_id_card_verification(client, &cp, NULL, &o, &err) != 0) {
        status = fail("IdCardVerification", &err);
        goto out;
    }
    int billed = tcf_check_outcome_billed(o);
    printf("4. IdCardVerification: %s (Result %s: %s), billed: %s\n",
           tcf_check_status_name(tcf_check_outcome_status(o)), tcf_check_outcome_result(o),
           tcf_check_outcome_meaning(o),
           billed == 1   ? "yes"
           : billed == 0 ? "no"
                         : "unknown");
    int matched = tcf_check_outcome_matched(o) == 1;
    tcf_check_outcome_free(o);
    status = outcome == TCF_VERDICT_PASSED && matched ? 0 : 1;
    printf("%s\n", status == 0 ? "verified" : "not verified");

out:
    tcf_session_free(session);
    tcf_client_free(client);
    return status;
}
