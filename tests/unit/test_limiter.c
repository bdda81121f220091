/*
 * Shared rate-limit table (shm/limiter.c) with real forked processes: a
 * bucket hammered by N processes admits exactly its burst, refill and
 * headers, two million keys through a fixed table with hot keys still
 * limited, and the master's sweep reclaiming entries (through the segment's
 * QSBR grace periods) while workers keep taking tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "shm/limiter.h"
#include "shm/qsbr.h"
#include "shm/segment.h"

#define SLOW_RATE 0.001 /* one token per 1000 s: no refill during a test */

static void *shared_alloc(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    return p;
}

static void wait_children(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        int st;
        assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
}

static uint64_t key_of(void *region, uint32_t i, uint8_t kind)
{
    uint8_t b[16] = {0x20, 0x01, 0x0d, 0xb8};
    memcpy(b + 12, &i, sizeof(i));
    return gw_limiter_key(region, b, sizeof(b), kind);
}

/* N processes hammer one bucket of burst B: exactly B are admitted. */
static void test_burst_exact_across_processes(void **state)
{
    (void)state;
    enum { NPROC = 4, TRIES = 20000, BURST = 5000 };
    size_t size = gw_limiter_region_size(1024);
    void *region = shared_alloc(size);
    gw_limiter_init(region, 1024, 42);
    uint64_t *admitted = shared_alloc(sizeof(uint64_t) * NPROC);
    uint64_t key = key_of(region, 7, 1);
    pid_t pids[NPROC];
    for (int p = 0; p < NPROC; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            uint64_t n = 0;
            for (int i = 0; i < TRIES; i++)
                n += gw_limiter_take(region, key, SLOW_RATE, BURST, gw_now_us()).allowed;
            admitted[p] = n;
            _exit(0);
        }
    }
    wait_children(pids, NPROC);
    uint64_t total = 0;
    for (int p = 0; p < NPROC; p++)
        total += admitted[p];
    assert_int_equal(total, BURST);
    munmap(admitted, sizeof(uint64_t) * NPROC);
    munmap(region, size);
}

/* Refill at `rate`, and the numbers behind the X-RateLimit-* headers. */
static void test_refill_and_headers(void **state)
{
    (void)state;
    size_t size = gw_limiter_region_size(64);
    void *region = shared_alloc(size);
    gw_limiter_init(region, 64, 1);
    uint64_t key = key_of(region, 1, 1), t = gw_now_us();
    for (uint32_t i = 0; i < 5; i++) {
        gw_limit_result_t r = gw_limiter_take(region, key, 10, 5, t);
        assert_true(r.allowed);
        assert_int_equal(r.limit, 5);
        assert_int_equal(r.remaining, 4 - i);
    }
    gw_limit_result_t r = gw_limiter_take(region, key, 10, 5, t);
    assert_false(r.allowed);
    assert_int_equal(r.remaining, 0);
    assert_int_equal(r.retry_after_s, 1);
    assert_true(r.reset_s >= 1);
    /* 100 ms later one token has come back, and only one. */
    assert_true(gw_limiter_take(region, key, 10, 5, t + 100000).allowed);
    assert_false(gw_limiter_take(region, key, 10, 5, t + 100000).allowed);
    /* Another key has its own bucket. */
    assert_true(gw_limiter_take(region, key_of(region, 2, 1), 10, 5, t).allowed);
    /* Limits raised (HUP): the exhausted slow bucket becomes an empty bucket
     * under the new limits and refills at the new rate, not in 1000 s. */
    uint64_t k3 = key_of(region, 3, 1);
    for (int i = 0; i < 3; i++)
        gw_limiter_take(region, k3, SLOW_RATE, 3, t);
    assert_false(gw_limiter_take(region, k3, SLOW_RATE, 3, t).allowed);
    assert_false(gw_limiter_take(region, k3, 100, 100, t).allowed);
    assert_true(gw_limiter_take(region, k3, 100, 100, t + 10000).allowed);
    /* Same bytes, other kind: another bucket. */
    assert_true(key_of(region, 1, 1) != key_of(region, 1, 2));
    munmap(region, size);
}

/* 2,000,000 distinct keys through a 262,144-entry table: the table never
 * grows (it cannot: fixed region), evicts idle entries, and hot keys that
 * are being limited keep their buckets and stay limited exactly. */
static void test_two_million_keys_fixed_table(void **state)
{
    (void)state;
    enum { CAP = 262144, KEYS = 2000000, HOT = 8, BURST = 50 };
    size_t size = gw_limiter_region_size(CAP);
    void *region = shared_alloc(size);
    gw_limiter_init(region, CAP, 99);
    uint64_t hot[HOT], hot_admitted[HOT] = {0}, evictions = 0, t = gw_now_us();
    for (int h = 0; h < HOT; h++)
        hot[h] = key_of(region, 0xfff00000u + (uint32_t)h, 1);
    for (uint32_t i = 0; i < KEYS; i++) {
        t += 1; /* one microsecond per request: 2 s of traffic */
        gw_limit_result_t r = gw_limiter_take(region, key_of(region, i, 1), 100, 10, t);
        assert_true(r.allowed); /* every new client gets its full burst */
        evictions += r.evicted;
        if (i % 100 == 0) {
            int h = (int)((i / 100) % HOT);
            hot_admitted[h] += gw_limiter_take(region, hot[h], SLOW_RATE, BURST, t).allowed;
        }
    }
    for (int h = 0; h < HOT; h++)
        assert_int_equal(hot_admitted[h], BURST);
    gw_limiter_stats_t st;
    gw_limiter_stats(region, &st);
    assert_int_equal(st.capacity, CAP);
    assert_true(st.used <= CAP);
    assert_true(evictions >= KEYS - CAP);
    assert_int_equal(gw_limiter_region_size(CAP), size);
    printf("# 2M keys: %llu evictions, %llu entries in use of %llu\n", (unsigned long long)evictions,
           (unsigned long long)st.used, (unsigned long long)st.capacity);
    munmap(region, size);
}

/* The sweep retires and frees idle entries (QSBR grace in between) while two
 * worker processes keep admitting: hot buckets admit exactly their burst (no
 * token lost or doubled by a free), cold entries come and go. */
static void test_sweep_while_admitting(void **state)
{
    (void)state;
    enum { NPROC = 2, HOT = 64, BURST = 300, COLD = 40000, ROUNDS = 40 };
    gw_shm_t shm;
    gw_shm_params_t params = {.nslots = 16, .limiter_bytes = gw_limiter_region_size(262144)};
    assert_int_equal(gw_shm_create(&shm, &params), 0);
    void *region = gw_shm_region(&shm, GW_SHM_REGION_LIMITER);
    gw_limiter_init(region, 262144, 7);
    uint64_t *out = shared_alloc(sizeof(uint64_t) * (NPROC * HOT + NPROC));
    uint64_t *done = out + NPROC * HOT;
    pid_t pids[NPROC];
    for (int p = 0; p < NPROC; p++) {
        int slot = gw_shm_slot_claim(&shm, 1, (unsigned)p);
        assert_true(slot >= 0);
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            uint64_t evicted = 0;
            for (int round = 0; round < ROUNDS; round++) {
                for (uint32_t c = 0; c < COLD; c++) {
                    gw_limit_result_t r = gw_limiter_take(region, key_of(region, c, 2), 1e6, 1, gw_now_us());
                    evicted += r.evicted;
                    if (c % 8 == 0) {
                        int h = (int)((c / 8 + (uint32_t)round) % HOT);
                        r = gw_limiter_take(region, key_of(region, (uint32_t)h, 1), SLOW_RATE, BURST,
                                            gw_now_us());
                        out[p * HOT + h] += r.allowed;
                        evicted += r.evicted;
                    }
                    if (c % 64 == 0)
                        gw_qsbr_quiescent(&shm, (unsigned)slot);
                }
            }
            done[p] = 1 + evicted;
            _exit(0);
        }
        gw_shm_slot_set_pid(&shm, (unsigned)slot, pids[p]);
    }
    uint64_t sweeps = 0, retired = 0, freed = 0;
    while (uatomic_read(&done[0]) == 0 || uatomic_read(&done[1]) == 0) {
        retired += gw_limiter_sweep_retire(region, gw_now_us(), 2000);
        uint64_t target = gw_qsbr_begin(&shm);
        if (gw_qsbr_wait(&shm, target, 5000))
            freed += gw_limiter_sweep_free(region);
        sweeps++;
    }
    wait_children(pids, NPROC);
    assert_int_equal(done[0] - 1 + done[1] - 1, 0); /* no eviction muddles the count */
    for (int h = 0; h < HOT; h++)
        assert_int_equal(out[h] + out[HOT + h], BURST);
    assert_true(freed > 0);
    printf("# sweep under load: %llu sweeps, %llu retired, %llu freed\n", (unsigned long long)sweeps,
           (unsigned long long)retired, (unsigned long long)freed);
    munmap(out, sizeof(uint64_t) * (NPROC * HOT + NPROC));
    gw_shm_destroy(&shm);
}

/* An idle entry is retired, resurrected by a request, and not freed. */
static void test_retired_entry_resurrects(void **state)
{
    (void)state;
    size_t size = gw_limiter_region_size(64);
    void *region = shared_alloc(size);
    gw_limiter_init(region, 64, 3);
    uint64_t a = key_of(region, 1, 1), b = key_of(region, 2, 1), t = gw_now_us();
    gw_limiter_take(region, a, 1000, 10, t);
    gw_limiter_take(region, b, 1000, 10, t);
    assert_int_equal(gw_limiter_sweep_retire(region, t + 10000000, 1000000), 2);
    gw_limiter_take(region, a, 1000, 10, t + 10000000); /* a comes back */
    assert_int_equal(gw_limiter_sweep_free(region), 1);
    gw_limiter_stats_t st;
    gw_limiter_stats(region, &st);
    assert_int_equal(st.used, 1);
    assert_int_equal(st.retired, 0);
    munmap(region, size);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_exact_across_processes),
        cmocka_unit_test(test_refill_and_headers),
        cmocka_unit_test(test_retired_entry_resurrects),
        cmocka_unit_test(test_two_million_keys_fixed_table),
        cmocka_unit_test(test_sweep_while_admitting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
