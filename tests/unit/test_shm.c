/*
 * Shared segment tests with real forked processes: per-slot counters summed
 * exactly, multi-writer atomics, a writer SIGKILLed mid-update, the
 * cross-process QSBR protocol, and torn-read detection in the views.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "shm/health.h"
#include "shm/qsbr.h"
#include "shm/segment.h"
#include "tests/unit/shm_fixture.h"
#include "shm/view.h"

#define NPROCS     4
#define ITERATIONS 2000000

static void wait_all(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
}

/* Each process bumps its own slot (single writer) and a shared word with
 * uatomic_inc (many writers); a reader in the parent checks the sum never
 * goes backwards while they run. */
static void test_counters_exact(void **state)
{
    (void)state;
    pid_t pids[NPROCS];
    int slots[NPROCS];
    size_t off = offsetof(gw_metrics_slot_t, counters) + sizeof(uint64_t) * GW_CTR_RATELIMIT_ALLOWED;
    uint64_t base = gw_shm_sum_u64(&shm, off), shared_base = uatomic_read(&shm.hdr->swept_total);
    for (int i = 0; i < NPROCS; i++) {
        slots[i] = gw_shm_slot_claim(&shm, 1, (unsigned)i);
        assert_true(slots[i] >= 0);
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            gw_metrics_slot_t *m = gw_shm_metrics(&shm, (unsigned)slots[i]);
            for (int k = 0; k < ITERATIONS; k++) {
                gw_met_count(m, GW_CTR_RATELIMIT_ALLOWED);
                if ((k & 15) == 0)
                    uatomic_inc(&shm.hdr->swept_total);
            }
            _exit(0);
        }
        gw_shm_slot_set_pid(&shm, (unsigned)slots[i], pids[i]);
    }
    uint64_t last = base;
    for (int i = 0; i < 2000; i++) {
        uint64_t now = gw_shm_sum_u64(&shm, off);
        assert_true(now >= last);
        last = now;
    }
    wait_all(pids, NPROCS);
    assert_int_equal(gw_shm_sum_u64(&shm, off) - base, (uint64_t)NPROCS * ITERATIONS);
    assert_int_equal(uatomic_read(&shm.hdr->swept_total) - shared_base, (uint64_t)NPROCS * (ITERATIONS / 16));
    for (int i = 0; i < NPROCS; i++)
        gw_shm_slot_release(&shm, (unsigned)slots[i]);
}

/* A writer killed at an arbitrary instruction: the segment stays usable, the
 * slot's counts survive, and the next occupant of the slot continues them. */
static void test_sigkill_mid_update(void **state)
{
    (void)state;
    size_t off = offsetof(gw_metrics_slot_t, counters) + sizeof(uint64_t) * GW_CTR_CACHE_HIT;
    int slot = gw_shm_slot_claim(&shm, 1, 0);
    assert_true(slot >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        gw_metrics_slot_t *m = gw_shm_metrics(&shm, (unsigned)slot);
        for (;;) {
            gw_met_count(m, GW_CTR_CACHE_HIT);
            gw_met_gauge_add(&m->active_requests, 1);
            uatomic_inc(&shm.hdr->sweeps_total);
            gw_met_gauge_add(&m->active_requests, -1);
        }
    }
    gw_shm_slot_set_pid(&shm, (unsigned)slot, pid);
    while (gw_shm_sum_u64(&shm, off) < 100000)
        ;
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    uint64_t at_death = gw_shm_sum_u64(&shm, off);
    assert_true(at_death >= 100000);
    /* The master's reap: release zeroes the dead writer's gauges. */
    gw_shm_slot_release(&shm, (unsigned)slot);
    assert_int_equal(gw_shm_sum_i64(&shm, offsetof(gw_metrics_slot_t, active_requests)), 0);
    /* A grace period does not wait for the dead: its record is free. */
    uint64_t target = gw_qsbr_begin(&shm);
    assert_true(gw_qsbr_wait(&shm, target, 1000));
    /* The next occupant continues the count; sums never go backwards. */
    int again = gw_shm_slot_claim(&shm, 2, 0);
    assert_int_equal(again, slot);
    pid = fork();
    if (pid == 0) {
        for (int k = 0; k < 1000; k++)
            gw_met_count(gw_shm_metrics(&shm, (unsigned)again), GW_CTR_CACHE_HIT);
        _exit(0);
    }
    gw_shm_slot_set_pid(&shm, (unsigned)again, pid);
    wait_all(&pid, 1);
    assert_int_equal(gw_shm_sum_u64(&shm, off), at_death + 1000);
    gw_shm_slot_release(&shm, (unsigned)again);
}

/* A grace period waits for a live worker that has not passed a quiescent
 * point, and completes once it does. */
static void test_qsbr_waits_for_reader(void **state)
{
    (void)state;
    int slot = gw_shm_slot_claim(&shm, 1, 0);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        /* "inside a read-side section" until the parent writes */
        if (read(pipefd[0], &c, 1) != 1)
            _exit(1);
        gw_qsbr_quiescent(&shm, (unsigned)slot);
        pause();
        _exit(0);
    }
    gw_shm_slot_set_pid(&shm, (unsigned)slot, pid);
    uint64_t target = gw_qsbr_begin(&shm);
    int blocker = -1;
    assert_false(gw_qsbr_wait(&shm, target, 200));
    assert_false(gw_qsbr_poll(&shm, target, &blocker));
    assert_int_equal(blocker, slot);
    assert_int_equal(write(pipefd[1], "x", 1), 1);
    assert_true(gw_qsbr_wait(&shm, target, 5000));
    /* Killed without releasing its record: the grace period still ends. */
    target = gw_qsbr_begin(&shm);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_true(gw_qsbr_wait(&shm, target, 1000));
    gw_shm_slot_release(&shm, (unsigned)slot);
    close(pipefd[0]);
    close(pipefd[1]);
}

/* The protocol itself, under load: readers dereference a published index
 * into a pool of shared records and check the record is not recycled while
 * they hold it; the reclaimer republishes, waits for a grace period, then
 * poisons the old record. Without the grace period readers see poison. */
#define POOL 64
typedef struct {
    uint64_t published;
    uint64_t value[POOL];
    uint64_t violations;
    uint64_t reads;
    uint64_t stop;
} pool_t;

static void qsbr_reader(pool_t *pool, unsigned slot)
{
    while (!CMM_LOAD_SHARED(pool->stop)) {
        for (int turn = 0; turn < 64; turn++) { /* one "event loop turn" */
            uint64_t idx = CMM_LOAD_SHARED(pool->published);
            uint64_t v1 = CMM_LOAD_SHARED(pool->value[idx]);
            for (volatile int spin = 0; spin < 50; spin++)
                ;
            uint64_t v2 = CMM_LOAD_SHARED(pool->value[idx]);
            if (v1 == UINT64_MAX || v1 != v2)
                uatomic_inc(&pool->violations);
            uatomic_inc(&pool->reads);
        }
        gw_qsbr_quiescent(&shm, slot);
    }
    _exit(0);
}

static void test_qsbr_protocol_under_load(void **state)
{
    (void)state;
    pool_t *pool = (pool_t *)gw_shm_region(&shm, GW_SHM_REGION_VIEWS); /* scratch shared memory */
    memset(pool, 0, sizeof(*pool));
    for (int i = 0; i < POOL; i++)
        pool->value[i] = (uint64_t)i + 1;
    pid_t pids[2];
    int slots[2];
    for (int i = 0; i < 2; i++) {
        slots[i] = gw_shm_slot_claim(&shm, 1, (unsigned)i);
        pids[i] = fork();
        if (pids[i] == 0)
            qsbr_reader(pool, (unsigned)slots[i]);
        gw_shm_slot_set_pid(&shm, (unsigned)slots[i], pids[i]);
    }
    uint64_t cur = 0;
    for (int round = 0; round < 2000 || uatomic_read(&pool->reads) < 200000; round++) {
        uint64_t next = (cur + 1) % POOL;
        CMM_STORE_SHARED(pool->value[next], (uint64_t)round + 1000);
        cmm_smp_wmb();
        CMM_STORE_SHARED(pool->published, next); /* unpublish cur */
        uint64_t target = gw_qsbr_begin(&shm);
        assert_true(gw_qsbr_wait(&shm, target, 5000));
        CMM_STORE_SHARED(pool->value[cur], UINT64_MAX); /* reclaim: poison */
        cur = next;
    }
    CMM_STORE_SHARED(pool->stop, 1);
    wait_all(pids, 2);
    for (int i = 0; i < 2; i++)
        gw_shm_slot_release(&shm, (unsigned)slots[i]);
    assert_true(pool->reads > 10000);
    assert_int_equal(pool->violations, 0);
    memset(pool, 0, sizeof(*pool));
}

/* Views: a reader never returns a torn rendering while the writer publishes
 * continuously; every rendering is one byte repeated. */
static void test_view_never_torn(void **state)
{
    (void)state;
    static char body[64 * 1024];
    pid_t pid = fork();
    if (pid == 0) {
        for (int v = 0; v < 20000; v++) {
            size_t len = 1000 + (size_t)(v * 7919) % (sizeof(body) - 1000);
            memset(body, 'a' + v % 26, len);
            gw_view_publish(&shm, GW_VIEW_METRICS, body, len, 200 + v % 2);
        }
        _exit(0);
    }
    static char copy[GW_VIEW_METRICS_CAP];
    int good = 0;
    while (waitpid(pid, NULL, WNOHANG) == 0) {
        int status = 0;
        ssize_t n = gw_view_read(&shm, GW_VIEW_METRICS, copy, sizeof(copy), &status, NULL);
        if (n <= 0)
            continue;
        for (ssize_t i = 1; i < n; i++)
            assert_int_equal(copy[i], copy[0]);
        assert_true(status == 200 || status == 201);
        good++;
    }
    assert_true(good > 0);
    /* Too small a buffer is reported, not truncated silently. */
    int status;
    assert_int_equal(gw_view_read(&shm, GW_VIEW_METRICS, copy, 10, &status, NULL), -2);
}

static void test_health_lease(void **state)
{
    (void)state;
    uint64_t now = 1000000;
    assert_true(gw_health_lease_acquire(&shm, 3, now, 5000));
    assert_false(gw_health_lease_acquire(&shm, 4, now + 1000, 5000)); /* held */
    assert_true(gw_health_lease_acquire(&shm, 3, now + 1000, 5000));  /* renewed */
    assert_true(gw_health_lease_acquire(&shm, 4, now + 7000, 5000));  /* expired: taken over */
    gw_health_result_t r = {.status = GW_HEALTH_FAILING, .checked_ms = 42};
    strcpy(r.reason, "connection refused");
    gw_health_write(&shm, 1, &r);
    gw_health_result_t out;
    assert_true(gw_health_read(&shm, 1, &out));
    assert_int_equal(out.status, GW_HEALTH_FAILING);
    assert_string_equal(out.reason, "connection refused");
}

static void test_layout(void **state)
{
    (void)state;
    const gw_shm_header_t *h = shm.hdr;
    assert_int_equal(h->magic, GW_SHM_MAGIC);
    assert_int_equal(h->layout_version, GW_SHM_LAYOUT_VERSION);
    assert_true(h->nslots >= GW_SHM_MIN_SLOTS);
    for (int r = 0; r < GW_SHM_NREGIONS; r++) {
        assert_int_equal(h->regions[r].offset % 4096, 0);
        assert_true(h->regions[r].offset + h->regions[r].size <= h->total_size);
        if (r > 0)
            assert_true(h->regions[r].offset >= h->regions[r - 1].offset + h->regions[r - 1].size);
    }
    assert_int_equal((uintptr_t)gw_shm_metrics(&shm, 1) % 128, 0);
    assert_int_equal((uintptr_t)gw_shm_worker(&shm, 1) % 128, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_counters_exact),
        cmocka_unit_test(test_sigkill_mid_update),
        cmocka_unit_test(test_qsbr_waits_for_reader),
        cmocka_unit_test(test_qsbr_protocol_under_load),
        cmocka_unit_test(test_view_never_torn),
        cmocka_unit_test(test_health_lease),
    };
    return cmocka_run_group_tests_name("shm", tests, shm_setup, shm_teardown);
}
