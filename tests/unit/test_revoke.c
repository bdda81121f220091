/*
 * The shared revocation table (shm/revoke.c): a recorded jti is refused
 * until the token's expiry and free after it, a full window evicts the
 * revocation expiring soonest, and workers recording at once from several
 * processes (one of them killed mid-way) lose nothing and block nobody.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "shm/revoke.h"

#define NOW 1800000000LL /* 2027-01-15: any wall-clock second will do */

typedef struct {
    void *region;
    uint32_t capacity;
} table_t;

static table_t make_table(uint32_t capacity)
{
    table_t t = {.capacity = capacity};
    t.region = mmap(NULL, gw_revoke_region_size(capacity), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                    -1, 0);
    assert_true(t.region != MAP_FAILED);
    gw_revoke_init(t.region, capacity, 0x5eed);
    return t;
}

static void drop_table(table_t *t)
{
    munmap(t->region, gw_revoke_region_size(t->capacity));
}

static size_t jti(char *buf, const char *prefix, unsigned i)
{
    return (size_t)snprintf(buf, 64, "%s-%08x-4a1b-9c2d", prefix, i);
}

static bool revoked(table_t *t, const char *prefix, unsigned i, int64_t now)
{
    char b[64];
    size_t n = jti(b, prefix, i);
    return gw_revoke_check(t->region, b, n, now);
}

static gw_revoke_result_t add(table_t *t, const char *prefix, unsigned i, int64_t until, int64_t now)
{
    char b[64];
    size_t n = jti(b, prefix, i);
    return gw_revoke_add(t->region, b, n, until, now);
}

static void test_recorded_until_expiry(void **state)
{
    (void)state;
    table_t t = make_table(256);
    assert_false(revoked(&t, "a", 1, NOW));
    assert_int_equal(add(&t, "a", 1, NOW + 600, NOW), GW_REVOKE_RECORDED);
    assert_true(revoked(&t, "a", 1, NOW));
    assert_true(revoked(&t, "a", 1, NOW + 599));
    assert_false(revoked(&t, "a", 2, NOW));       /* another token of the same user */
    assert_false(revoked(&t, "a", 1, NOW + 660)); /* past exp (+ at most a minute of rounding) */
    assert_int_equal(add(&t, "a", 1, NOW + 600, NOW), GW_REVOKE_RECORDED); /* twice: one entry */
    assert_int_equal(add(&t, "a", 3, NOW - 1, NOW), GW_REVOKE_EXPIRED);
    assert_false(revoked(&t, "a", 3, NOW - 10));
    /* a later logout of the same jti with a later expiry extends it */
    assert_int_equal(add(&t, "a", 1, NOW + 3600, NOW), GW_REVOKE_RECORDED);
    assert_true(revoked(&t, "a", 1, NOW + 3000));
    /* an exp far past the 24-bit minute range is clamped, not wrapped */
    assert_int_equal(add(&t, "far", 1, (int64_t)1 << 40, NOW), GW_REVOKE_RECORDED);
    assert_true(revoked(&t, "far", 1, NOW + 86400LL * 3650));
    gw_revoke_stats_t st;
    gw_revoke_stats(t.region, &st);
    assert_int_equal(st.capacity, 256);
    assert_int_equal(st.recorded_total, 3);
    assert_int_equal(st.evicted_total, 0);
    assert_int_equal(st.refused_total, 4);
    assert_int_equal(gw_revoke_count_live(t.region, NOW), 2);
    assert_int_equal(gw_revoke_count_live(t.region, NOW + 7200), 1);
    drop_table(&t);
}

/* Entries past their expiry are free: a table filled with revocations of
 * short-lived tokens takes as many new ones later without evicting. */
static void test_expired_entries_are_free(void **state)
{
    (void)state;
    table_t t = make_table(256);
    for (unsigned i = 0; i < 256; i++)
        add(&t, "old", i, NOW + 60, NOW);
    gw_revoke_stats_t before, st;
    gw_revoke_stats(t.region, &before);
    int64_t later = NOW + 3600;
    for (unsigned i = 0; i < 128; i++)
        assert_int_equal(add(&t, "new", i, later + 600, later), GW_REVOKE_RECORDED);
    for (unsigned i = 0; i < 128; i++)
        assert_true(revoked(&t, "new", i, later));
    gw_revoke_stats(t.region, &st);
    assert_int_equal(st.evicted_total, before.evicted_total);
    drop_table(&t);
}

/* A full table evicts the entry expiring soonest: with 3/8 of the table held
 * by long-lived revocations and many short-lived ones recorded after them,
 * only short-lived ones are evicted. */
static void test_full_table_evicts_soonest(void **state)
{
    (void)state;
    table_t t = make_table(1024);
    for (unsigned i = 0; i < 384; i++)
        assert_int_equal(add(&t, "long", i, NOW + 86400, NOW), GW_REVOKE_RECORDED);
    unsigned evicted = 0;
    for (unsigned i = 0; i < 4096; i++)
        evicted += add(&t, "short", i, NOW + 600 + i, NOW) == GW_REVOKE_EVICTED;
    assert_true(evicted > 0);
    for (unsigned i = 0; i < 384; i++)
        assert_true(revoked(&t, "long", i, NOW));
    for (unsigned i = 4096 - 64; i < 4096; i++) /* the newest short ones expire last: kept */
        assert_true(revoked(&t, "short", i, NOW));
    gw_revoke_stats_t st;
    gw_revoke_stats(t.region, &st);
    assert_int_equal(st.evicted_total, evicted);
    assert_int_equal(gw_revoke_count_live(t.region, NOW), 1024);
    drop_table(&t);
}

/* Four processes record disjoint jtis (and one common jti) at once: every
 * one is visible to every process afterwards. */
static void test_concurrent_processes(void **state)
{
    (void)state;
    enum { NPROC = 4, PER = 1024 };
    table_t t = make_table(16384);
    pid_t pids[NPROC];
    for (int p = 0; p < NPROC; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            char prefix[16];
            snprintf(prefix, sizeof(prefix), "p%d", p);
            for (unsigned i = 0; i < PER; i++) {
                if (add(&t, prefix, i, NOW + 600, NOW) != GW_REVOKE_RECORDED ||
                    add(&t, "common", 0, NOW + 600, NOW) != GW_REVOKE_RECORDED)
                    _exit(1);
            }
            _exit(0);
        }
    }
    for (int p = 0; p < NPROC; p++) {
        int st;
        assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    for (int p = 0; p < NPROC; p++) {
        char prefix[16];
        snprintf(prefix, sizeof(prefix), "p%d", p);
        for (unsigned i = 0; i < PER; i++)
            assert_true(revoked(&t, prefix, i, NOW));
    }
    assert_true(revoked(&t, "common", 0, NOW));
    assert_false(revoked(&t, "common", 1, NOW));
    gw_revoke_stats_t st;
    gw_revoke_stats(t.region, &st);
    assert_int_equal(st.evicted_total, 0);
    assert_true(st.recorded_total >= NPROC * PER + 1);
    drop_table(&t);
}

/* A process killed while recording (SIGKILL at whatever instruction it is)
 * leaves every revocation it completed in place and blocks nobody. */
static void test_killed_recorder_blocks_nobody(void **state)
{
    (void)state;
    table_t t = make_table(16384);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (unsigned i = 0;; i++)
            add(&t, "k", i % 8192, NOW + 600 + i, NOW);
    }
    gw_revoke_stats_t st;
    do {
        gw_revoke_stats(t.region, &st);
    } while (st.recorded_total < 2000);
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    gw_revoke_stats(t.region, &st);
    unsigned done = (unsigned)st.recorded_total < 8192 ? (unsigned)st.recorded_total : 8192;
    for (unsigned i = 0; i < done; i++)
        assert_true(revoked(&t, "k", i, NOW));
    assert_int_equal(add(&t, "after", 1, NOW + 600, NOW), GW_REVOKE_RECORDED);
    assert_true(revoked(&t, "after", 1, NOW));
    drop_table(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recorded_until_expiry),         cmocka_unit_test(test_expired_entries_are_free),
        cmocka_unit_test(test_full_table_evicts_soonest),     cmocka_unit_test(test_concurrent_processes),
        cmocka_unit_test(test_killed_recorder_blocks_nobody),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
