/*
 * The host credit table of RATE_LIMIT_SCOPE=global (shm/limiter.c): N forked
 * processes admitting on one key's credit never owe more than the lease
 * together, one settler at a time, settling pays the debt back, a settle
 * claim lapses when its worker dies, the per-worker "Redis down" mask, and
 * the host-bucket token given back when the global limit refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "shm/limiter.h"
#include "shm/segment.h"

#define CAP 4096

static void *new_region(void)
{
    size_t n = gw_limiter_region_size(CAP);
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    gw_limiter_init(p, CAP, 42);
    return p;
}

/* Counts of admissions per process, in shared memory. */
static void test_debt_bounded_by_lease_across_processes(void **state)
{
    (void)state;
    void *region = new_region();
    uint64_t key = gw_limiter_key(region, "10.0.0.1", 8, 1);
    enum { PROCS = 4, TRIES = 500, LEASE = 17 };
    long *admitted =
        mmap(NULL, sizeof(long) * PROCS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t pids[PROCS];
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            long n = 0;
            uint32_t debt;
            for (int t = 0; t < TRIES; t++)
                n += gw_limiter_credit_take(region, key, LEASE, gw_now_us(), &debt);
            admitted[i] = n;
            _exit(0);
        }
    }
    long total = 0;
    for (int i = 0; i < PROCS; i++) {
        int st;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        total += admitted[i];
    }
    assert_int_equal(total, LEASE); /* nothing settled: exactly the lease */
    uint32_t debt;
    assert_false(gw_limiter_credit_take(region, key, LEASE, gw_now_us(), &debt));
    assert_int_equal(debt, LEASE);
}

static void test_settle_single_flight_and_pays_back(void **state)
{
    (void)state;
    void *region = new_region();
    uint64_t key = gw_limiter_key(region, "tenant-a", 8, 2);
    uint32_t debt, want, want2;
    uint64_t now = gw_now_us();
    assert_false(gw_limiter_settle_claim(region, key, 1, 1000, now, &want)); /* unknown key */
    for (int i = 0; i < 6; i++)
        assert_true(gw_limiter_credit_take(region, key, 10, now, &debt));
    assert_int_equal(debt, 6);
    assert_false(gw_limiter_settle_claim(region, key, 7, 1000, now, &want)); /* below min_debt */
    assert_true(gw_limiter_settle_claim(region, key, 5, 1000, now, &want));
    assert_int_equal(want, 6);
    assert_false(gw_limiter_settle_claim(region, key, 1, 1000, now, &want2)); /* one settler */
    assert_true(gw_limiter_credit_take(region, key, 10, now, &debt));         /* admits meanwhile */
    gw_limiter_settle_done(region, key, 6, 0, now);
    assert_true(gw_limiter_settle_claim(region, key, 1, 1000, now, &want2));
    assert_int_equal(want2, 1); /* only what was admitted during the call */
    /* Global bucket short: 0 granted, back-off before the next claim. */
    gw_limiter_settle_done(region, key, 0, 200, now);
    assert_false(gw_limiter_settle_claim(region, key, 1, 1000, now + 100000, &want2));
    assert_true(gw_limiter_settle_claim(region, key, 1, 1000, now + 250000, &want2));
    /* The settler died: its claim lapses after hold_ms. */
    assert_false(gw_limiter_settle_claim(region, key, 1, 1000, now + 900000, &want2));
    assert_true(gw_limiter_settle_claim(region, key, 1, 1000, now + 1300000, &want2));
}

static void test_down_mask(void **state)
{
    (void)state;
    void *region = new_region();
    assert_int_equal(gw_limiter_global_down(region), 0);
    assert_int_equal(gw_limiter_global_mark(region, 3, true), 0); /* first mark: the fallback */
    assert_int_equal(gw_limiter_global_mark(region, 5, true), 1ULL << 3);
    assert_int_equal(gw_limiter_global_mark(region, 3, false), (1ULL << 3) | (1ULL << 5));
    assert_int_equal(gw_limiter_global_mark(region, 5, false), 1ULL << 5); /* last unmark: recovery */
    assert_int_equal(gw_limiter_global_down(region), 0);
}

/* A request refused by the global limit gives its host-bucket token back. */
static void test_untake_returns_the_token(void **state)
{
    (void)state;
    void *region = new_region();
    uint64_t key = gw_limiter_key(region, "10.0.0.2", 8, 1);
    uint64_t now = gw_now_us();
    for (int i = 0; i < 3; i++)
        assert_true(gw_limiter_take(region, key, 0.001, 3, now).allowed);
    assert_false(gw_limiter_take(region, key, 0.001, 3, now).allowed);
    gw_limiter_untake(region, key, 0.001, now);
    assert_true(gw_limiter_take(region, key, 0.001, 3, now).allowed);
    assert_false(gw_limiter_take(region, key, 0.001, 3, now).allowed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debt_bounded_by_lease_across_processes),
        cmocka_unit_test(test_settle_single_flight_and_pays_back),
        cmocka_unit_test(test_down_mask),
        cmocka_unit_test(test_untake_returns_the_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
