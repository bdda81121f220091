/*
 * Shared circuit breakers (shm/breaker.c): the SPEC's transitions with the
 * default thresholds, exact half-open admission across processes, outcomes
 * of stale tickets ignored, a lost probe given up, and the operator reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "shm/breaker.h"

static const gw_cb_params_t P = {.failure_ratio = 0.6,
                                 .min_requests = 3,
                                 .interval_ms = 60000,
                                 .open_timeout_ms = 30000,
                                 .half_open_max = 3};

static void *region;

static int setup(void **state)
{
    (void)state;
    region = mmap(NULL, gw_breaker_region_size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return region == MAP_FAILED ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    munmap(region, gw_breaker_region_size());
    return 0;
}

static void call(unsigned s, bool failure, uint64_t now)
{
    gw_cb_ticket_t t = gw_breaker_acquire(region, s, &P, now);
    assert_true(t.allowed);
    gw_breaker_record(region, s, &P, &t, failure, now);
}

static void test_opens_at_ratio_after_min_requests(void **state)
{
    (void)state;
    uint64_t now = 1000000;
    call(0, true, now);
    call(0, true, now); /* 2 of 2 failed, but fewer than CB_MIN_REQUESTS */
    assert_int_equal(gw_breaker_state(region, 0, now), GW_CB_CLOSED);
    call(0, false, now);
    assert_int_equal(gw_breaker_state(region, 0, now), GW_CB_CLOSED); /* 2/3 but the last was a success */
    call(0, true, now);                                               /* 3/4 = 75% >= 60% */
    assert_int_equal(gw_breaker_state(region, 0, now), GW_CB_OPEN);
    gw_cb_ticket_t t = gw_breaker_acquire(region, 0, &P, now + 1000);
    assert_false(t.allowed);
    assert_int_equal(t.retry_after_s, 29);
    gw_cb_snapshot_t snap;
    gw_breaker_snapshot(region, 0, now, &snap);
    assert_int_equal(snap.opens_total, 1);
    assert_true(snap.opened_at_ms > 0);
    /* Below the ratio it stays closed: 1 failure in 3 on another service. */
    call(1, true, now);
    call(1, false, now);
    call(1, false, now);
    assert_int_equal(gw_breaker_state(region, 1, now), GW_CB_CLOSED);
}

static void test_counts_reset_each_interval(void **state)
{
    (void)state;
    uint64_t now = 5000000;
    call(1, true, now);
    call(1, true, now);
    call(1, true, now + P.interval_ms); /* a new window: 1 of 1 */
    assert_int_equal(gw_breaker_state(region, 1, now + P.interval_ms), GW_CB_CLOSED);
}

static void open_breaker(unsigned s, uint64_t now)
{
    for (int i = 0; i < 3; i++)
        call(s, true, now);
    assert_int_equal(gw_breaker_state(region, s, now), GW_CB_OPEN);
}

static void test_half_open_then_close(void **state)
{
    (void)state;
    uint64_t now = 9000000;
    open_breaker(2, now);
    assert_false(gw_breaker_acquire(region, 2, &P, now + P.open_timeout_ms - 1).allowed);
    uint64_t later = now + P.open_timeout_ms;
    gw_cb_ticket_t probes[3];
    for (int i = 0; i < 3; i++) {
        probes[i] = gw_breaker_acquire(region, 2, &P, later);
        assert_true(probes[i].allowed);
        assert_true(probes[i].probe);
    }
    assert_int_equal(gw_breaker_state(region, 2, later), GW_CB_HALF_OPEN);
    gw_cb_ticket_t extra = gw_breaker_acquire(region, 2, &P, later);
    assert_false(extra.allowed);
    assert_int_equal(extra.retry_after_s, 1);
    gw_cb_snapshot_t snap;
    gw_breaker_snapshot(region, 2, later, &snap);
    assert_int_equal(snap.half_open_in_flight, 3);
    for (int i = 0; i < 3; i++)
        gw_breaker_record(region, 2, &P, &probes[i], false, later);
    assert_int_equal(gw_breaker_state(region, 2, later), GW_CB_CLOSED);
    gw_breaker_snapshot(region, 2, later, &snap);
    assert_int_equal(snap.requests, 0); /* a fresh closed period */
}

static void test_half_open_failure_reopens(void **state)
{
    (void)state;
    uint64_t now = 20000000;
    open_breaker(3, now);
    uint64_t later = now + P.open_timeout_ms;
    gw_cb_ticket_t a = gw_breaker_acquire(region, 3, &P, later);
    gw_cb_ticket_t b = gw_breaker_acquire(region, 3, &P, later);
    gw_breaker_record(region, 3, &P, &a, false, later);
    gw_breaker_record(region, 3, &P, &b, true, later);
    assert_int_equal(gw_breaker_state(region, 3, later), GW_CB_OPEN);
    gw_cb_snapshot_t snap;
    gw_breaker_snapshot(region, 3, later, &snap);
    assert_int_equal(snap.opens_total, 2);
    assert_int_equal(gw_breaker_acquire(region, 3, &P, later + 1).retry_after_s, 30);
}

/* A call admitted while closed that finishes after the breaker opened must
 * not count against (or for) the new state. */
static void test_stale_ticket_ignored(void **state)
{
    (void)state;
    uint64_t now = 30000000;
    gw_cb_ticket_t slow = gw_breaker_acquire(region, 4, &P, now);
    open_breaker(4, now);
    uint64_t later = now + P.open_timeout_ms;
    gw_cb_ticket_t probe = gw_breaker_acquire(region, 4, &P, later);
    gw_breaker_record(region, 4, &P, &slow, true, later); /* stale failure: ignored */
    assert_int_equal(gw_breaker_state(region, 4, later), GW_CB_HALF_OPEN);
    gw_breaker_record(region, 4, &P, &probe, false, later);
    assert_int_equal(gw_breaker_state(region, 4, later), GW_CB_HALF_OPEN);
}

/* Probes whose worker died never report: after another open timeout the
 * breaker starts a new half-open period instead of refusing forever. */
static void test_lost_probe_given_up(void **state)
{
    (void)state;
    uint64_t now = 40000000;
    open_breaker(5, now);
    uint64_t later = now + P.open_timeout_ms;
    for (int i = 0; i < 3; i++)
        assert_true(gw_breaker_acquire(region, 5, &P, later).allowed);
    assert_false(gw_breaker_acquire(region, 5, &P, later + 1000).allowed);
    gw_cb_ticket_t t = gw_breaker_acquire(region, 5, &P, later + P.open_timeout_ms);
    assert_true(t.allowed);
    assert_true(t.probe);
}

static void test_reset(void **state)
{
    (void)state;
    uint64_t now = 50000000;
    open_breaker(6, now);
    gw_breaker_reset(region, 6);
    assert_int_equal(gw_breaker_state(region, 6, now), GW_CB_CLOSED);
    assert_true(gw_breaker_acquire(region, 6, &P, now).allowed);
}

/* Half-open admits exactly CB_HALF_OPEN_MAX_REQUESTS across processes. */
static void test_half_open_exact_across_processes(void **state)
{
    (void)state;
    enum { NPROC = 4, TRIES = 5000 };
    uint64_t now = 60000000;
    open_breaker(7, now);
    uint64_t later = now + P.open_timeout_ms;
    uint64_t *admitted =
        mmap(NULL, sizeof(uint64_t) * NPROC, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(admitted != MAP_FAILED);
    pid_t pids[NPROC];
    for (int p = 0; p < NPROC; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            uint64_t n = 0;
            for (int i = 0; i < TRIES; i++)
                n += gw_breaker_acquire(region, 7, &P, later + (uint64_t)i / 10).allowed;
            admitted[p] = n;
            _exit(0);
        }
    }
    uint64_t total = 0;
    for (int p = 0; p < NPROC; p++) {
        int st;
        assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        total += admitted[p];
    }
    assert_int_equal(total, P.half_open_max);
    munmap(admitted, sizeof(uint64_t) * NPROC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opens_at_ratio_after_min_requests),
        cmocka_unit_test(test_counts_reset_each_interval),
        cmocka_unit_test(test_half_open_then_close),
        cmocka_unit_test(test_half_open_failure_reopens),
        cmocka_unit_test(test_stale_ticket_ignored),
        cmocka_unit_test(test_lost_probe_given_up),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_half_open_exact_across_processes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
