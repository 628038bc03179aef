/* Asynchronous calls (tcf_multi, tcf_op) driven by a small poll() loop, against the emulator
 * (TCF_TEST_ENDPOINT, started by tests/c/test_c_core.py). */
#include "emulator.h"
#include "internal.h"
#include "tcft.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FDS 512

/* The event loop: the sockets libcurl asked to watch and the one timer. */
typedef struct loop {
    struct pollfd fds[MAX_FDS];
    int nfds;
    long long timer_at; /* monotonic ms, -1: none */
    int watch_calls, timer_calls;
    int overflow;
} loop;

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void on_watch(void *user, int fd, int what)
{
    loop *l = user;
    l->watch_calls++;
    int i = 0;
    while (i < l->nfds && l->fds[i].fd != fd)
        i++;
    if (what == TCF_POLL_REMOVE) {
        if (i < l->nfds)
            l->fds[i] = l->fds[--l->nfds];
        return;
    }
    if (i == l->nfds) {
        if (l->nfds == MAX_FDS) {
            l->overflow = 1;
            return;
        }
        l->nfds++;
    }
    l->fds[i].fd = fd;
    l->fds[i].events =
        (short)(((what & TCF_POLL_IN) ? POLLIN : 0) | ((what & TCF_POLL_OUT) ? POLLOUT : 0));
}

static void on_timer(void *user, long ms)
{
    loop *l = user;
    l->timer_calls++;
    l->timer_at = ms < 0 ? -1 : mono_ms() + ms;
}

static tcf_multi *new_multi(loop *l, long max_connections)
{
    memset(l, 0, sizeof *l);
    l->timer_at = -1;
    tcf_multi_options o = TCF_MULTI_OPTIONS_INIT;
    o.user = l;
    o.watch = on_watch;
    o.timer = on_timer;
    o.max_connections = max_connections;
    tcf_multi *m = NULL;
    tcf_multi_new(&m, &o, NULL);
    return m;
}

/* Runs the loop until nothing is running (or limit_ms passes); returns the finished ops in
 * order in done[] (at most cap). */
static size_t run(loop *l, tcf_multi *m, tcf_op **done, size_t cap, long limit_ms)
{
    size_t n = 0;
    long long end = mono_ms() + limit_ms;
    for (;;) {
        tcf_op *op;
        while ((op = tcf_multi_next_done(m)) != NULL)
            if (n < cap)
                done[n++] = op;
        if (tcf_multi_running(m) == 0 || mono_ms() > end)
            break;
        long long now = mono_ms();
        int wait = l->timer_at < 0 ? 100 : (int)(l->timer_at > now ? l->timer_at - now : 0);
        if (wait > 100)
            wait = 100;
        struct pollfd ready[MAX_FDS];
        int nfds = l->nfds;
        memcpy(ready, l->fds, (size_t)nfds * sizeof ready[0]);
        int k = poll(ready, (nfds_t)nfds, wait);
        if (k > 0) {
            for (int i = 0; i < nfds; i++) {
                int ev = ((ready[i].revents & (POLLIN | POLLHUP | POLLERR)) ? TCF_POLL_IN : 0) |
                         ((ready[i].revents & POLLOUT) ? TCF_POLL_OUT : 0);
                if (ev)
                    tcf_multi_socket(m, ready[i].fd, ev);
            }
        }
        if (l->timer_at >= 0 && mono_ms() >= l->timer_at) {
            l->timer_at = -1;
            tcf_multi_timeout(m);
        }
    }
    return n;
}

#define KEY "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"

TCFT_TEST(async_many_concurrent_calls)
{
    loop l;
    tcf_multi *m = new_multi(&l, 0);
    tcf_client *c = emulator_client(KEY, 3); /* a read: retried if a connect fails under load */
    TCFT_CHECK(m != NULL && c != NULL);
    if (m == NULL || c == NULL)
        return;
    enum { N = 100 };
    tcf_op *ops[N];
    int tags[N];
    for (int i = 0; i < N; i++) {
        tags[i] = i;
        TCFT_CHECK(tcf_op_start(&ops[i], m, c, "GetLiveCode", "{}", 2, NULL, &tags[i], NULL) == 0);
    }
    TCFT_CHECK(tcf_multi_running(m) == N);
    tcf_op *done[N];
    size_t n = run(&l, m, done, N, 20000);
    TCFT_CHECK(n == N && tcf_multi_running(m) == 0);
    int ok = 0;
    for (size_t i = 0; i < n; i++) {
        tcf_response *r = NULL;
        tcf_error err;
        tcf_error_clear(&err);
        int *tag = tcf_op_user(done[i]);
        if (tcf_op_done(done[i]) && tcf_op_result(done[i], &r, &err) == 0 && tag != NULL &&
            ops[*tag] == done[i] && strstr(tcf_response_json(r, NULL), "LiveCode") != NULL)
            ok++;
        tcf_response_free(r);
        TCFT_CHECK(tcf_op_result(done[i], &r, NULL) == TCF_ESTATE); /* taken once */
    }
    TCFT_CHECK(ok == N);
    TCFT_CHECK(!l.overflow && l.watch_calls > 0 && l.timer_calls > 0);
    for (int i = 0; i < N; i++)
        tcf_op_free(ops[i]);
    tcf_multi_free(m);
    TCFT_CHECK(l.nfds == 0); /* every socket unwatched */
    tcf_client_free(c);
}

TCFT_TEST(async_errors_retries_and_checks)
{
    loop l;
    tcf_multi *m = new_multi(&l, 0);
    tcf_client *bad = emulator_client("wrong-secret-key-0000000000000000", 1);
    tcf_client *c = emulator_client(KEY, 3);
    TCFT_CHECK(m != NULL && bad != NULL && c != NULL);
    if (m == NULL || bad == NULL || c == NULL)
        return;
    tcf_op *auth = NULL, *retried = NULL, *check = NULL, *routed = NULL, *invalid = NULL;
    TCFT_CHECK(tcf_op_start(&auth, m, bad, "GetLiveCode", NULL, 0, NULL, NULL, NULL) == 0);
    /* a read retried after a 5xx: the backoff is a timer */
    TCFT_CHECK(emulator_control("faults",
                                "{\"kind\": \"http_5xx\", \"status\": 502, \"count\": 1, "
                                "\"action\": \"GetActionSequence\"}",
                                NULL) == 0);
    TCFT_CHECK(tcf_op_start(&retried, m, c, "GetActionSequence", NULL, 0, NULL, NULL, NULL) == 0);
    tcf_check_params p = TCF_CHECK_PARAMS_INIT;
    p.id_card = "110101199003071233";
    p.name = "\xe5\xbc\xa0\xe4\xb8\x89";
    TCFT_CHECK(tcf_op_start_check(&check, m, c, "IdCardVerification", &p, NULL, NULL, NULL) == 0);
    tcf_check_params ph = TCF_CHECK_PARAMS_INIT;
    ph.id_card = "440304198512010027";
    ph.name = "\xe6\x9d\x8e\xe5\x9b\x9b";
    ph.phone = "18612345678";
    ph.phone_route = TCF_PHONE_ROUTE_AUTO;
    /* the carrier action is refused once: the op falls back to PhoneVerification */
    TCFT_CHECK(emulator_control("faults",
                                "{\"kind\": \"internal_error\", \"code\": "
                                "\"UnauthorizedOperation.Nonactivated\", \"count\": 1, "
                                "\"action\": \"PhoneVerificationCUCC\"}",
                                NULL) == 0);
    TCFT_CHECK(tcf_op_start_check(&routed, m, c, "PhoneVerification", &ph, NULL, NULL, NULL) == 0);
    /* bad input: nothing starts */
    tcf_error err;
    tcf_error_clear(&err);
    p.id_card = "110101199003071234";
    TCFT_CHECK(tcf_op_start_check(&invalid, m, c, "IdCardVerification", &p, NULL, NULL, &err) ==
                   TCF_EINVAL &&
               invalid == NULL && tcf_multi_running(m) == 4);
    tcf_op *done[8];
    size_t n = run(&l, m, done, 8, 20000);
    TCFT_CHECK(n == 4);
    tcf_response *r = NULL;
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_op_result(auth, &r, &err) == TCF_EAUTH && r == NULL && err.attempts == 1);
    TCFT_CHECK(tcf_op_result(retried, &r, NULL) == 0 && r != NULL);
    tcf_response_free(r);
    tcf_check_outcome *o = NULL;
    TCFT_CHECK(tcf_op_result(check, &r, NULL) == TCF_EINVAL); /* a check op */
    TCFT_CHECK(tcf_op_check_result(check, &o, NULL) == 0 &&
               tcf_check_outcome_status(o) == TCF_CHECK_MATCHED);
    tcf_check_outcome_free(o);
    TCFT_CHECK(tcf_op_check_result(routed, &o, NULL) == 0);
    TCFT_CHECK_STR(tcf_check_outcome_action(o), "PhoneVerification");
    TCFT_CHECK(tcf_check_outcome_status(o) == TCF_CHECK_MATCHED);
    tcf_check_outcome_free(o);
    tcf_op_free(auth);
    tcf_op_free(retried);
    tcf_op_free(check);
    tcf_op_free(routed);
    tcf_multi_free(m);
    tcf_client_free(bad);
    tcf_client_free(c);
}

TCFT_TEST(async_cancel_deadline_and_free)
{
    loop l;
    tcf_multi *m = new_multi(&l, 0);
    tcf_client *c = emulator_client(KEY, 1);
    TCFT_CHECK(m != NULL && c != NULL);
    if (m == NULL || c == NULL)
        return;
    /* both answers take 3 s; the slow op is cancelled, the timed one has a 300 ms deadline (robust
     * against a loaded machine: nothing here finishes by itself before 3 s but the deadline) */
    TCFT_CHECK(emulator_control("faults",
                                "{\"kind\": \"latency\", \"seconds\": 3.0, \"count\": 2, "
                                "\"action\": \"GetLiveCode\"}",
                                NULL) == 0);
    tcf_op *slow = NULL, *timed = NULL, *left = NULL;
    TCFT_CHECK(tcf_op_start(&slow, m, c, "GetLiveCode", "{}", 2, NULL, NULL, NULL) == 0);
    tcf_retry_options quick = TCF_RETRY_OPTIONS_INIT;
    quick.max_attempts = 1;
    quick.deadline_ms = 300;
    tcf_call_options opts = TCF_CALL_OPTIONS_INIT;
    opts.retry = &quick;
    TCFT_CHECK(tcf_op_start(&timed, m, c, "GetLiveCode", "{}", 2, &opts, NULL, NULL) == 0);
    /* let the transfers start, then cancel one mid-flight */
    tcf_op *done[4];
    size_t n = run(&l, m, done, 4, 100);
    TCFT_CHECK(!tcf_op_done(slow) && n <= 1);
    tcf_op_cancel(slow);
    TCFT_CHECK(tcf_op_done(slow) && tcf_multi_running(m) <= 1);
    tcf_error err;
    tcf_error_clear(&err);
    tcf_response *r = NULL;
    TCFT_CHECK(tcf_op_result(slow, &r, &err) == TCF_ECANCELLED && r == NULL);
    n += run(&l, m, done + n, 4 - n, 2500);
    TCFT_CHECK(n == 1 && done[0] == timed); /* the cancelled op is not listed */
    tcf_error_clear(&err);
    TCFT_CHECK(tcf_op_result(timed, &r, &err) == TCF_ETIMEOUT);
    /* freeing the multi cancels what still runs; the op can be freed afterwards */
    TCFT_CHECK(tcf_op_start(&left, m, c, "GetLiveCode", "{}", 2, NULL, NULL, NULL) == 0);
    tcf_op_free(slow);
    tcf_op_free(timed);
    tcf_multi_free(m);
    TCFT_CHECK(tcf_op_done(left));
    TCFT_CHECK(tcf_op_result(left, &r, NULL) == TCF_ECANCELLED);
    tcf_op_free(left);
    TCFT_CHECK(l.nfds == 0);
    /* argument checks */
    tcf_multi_options none = TCF_MULTI_OPTIONS_INIT;
    TCFT_CHECK(tcf_multi_new(&m, &none, NULL) == TCF_EINVAL && m == NULL);
    none.watch = on_watch;
    none.timer = on_timer;
    none.max_connections = -1;
    TCFT_CHECK(tcf_multi_new(&m, &none, NULL) == TCF_EINVAL && m == NULL);
    none.version = 2;
    TCFT_CHECK(tcf_multi_new(&m, &none, NULL) == TCF_EINVAL && m == NULL);
    TCFT_CHECK(tcf_op_start(&left, NULL, c, "GetLiveCode", NULL, 0, NULL, NULL, NULL) ==
               TCF_EINVAL);
    tcf_multi_free(NULL);
    tcf_op_free(NULL);
    tcf_op_cancel(NULL);
    tcf_client_free(c);
}
