/*
 * The balance rule of the accept path (gw_shm_above_share, used by
 * worker/accept.c): a worker defers only when it holds at least one
 * connection more than the mean of the ready workers of the serving
 * generation; never when alone, outside the serving generation, or when the
 * peers that would have to take the queue are paused or silent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "shm/segment.h"

#define STALE_MS 1000

static gw_shm_t shm;

static int setup(void **state)
{
    (void)state;
    gw_shm_params_t p = {.nslots = 16};
    if (gw_shm_create(&shm, &p) != 0)
        return -1;
    shm.hdr->generation = 1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gw_shm_destroy(&shm);
    return 0;
}

/* A ready worker of `generation` in `slot` with `conns` open connections and
 * a heartbeat at `hb`. */
static void worker(unsigned slot, uint64_t generation, uint64_t conns, uint64_t hb)
{
    gw_shm_worker_t *w = gw_shm_worker(&shm, slot);
    w->state = GW_WORKER_READY;
    w->generation = generation;
    w->connections = conns;
    w->heartbeat_ms = hb;
    w->paused = 0;
}

static void test_mean_plus_one(void **state)
{
    (void)state;
    uint64_t now = 10000;
    worker(0, 1, 0, now);
    worker(1, 1, 0, now);
    /* 2 workers: defer once 2 ahead of the other (own >= mean + 1). */
    assert_false(gw_shm_above_share(&shm, 0, 0, now, STALE_MS));
    assert_false(gw_shm_above_share(&shm, 0, 1, now, STALE_MS));
    assert_true(gw_shm_above_share(&shm, 0, 2, now, STALE_MS));
    gw_shm_worker(&shm, 1)->connections = 24;
    assert_false(gw_shm_above_share(&shm, 0, 25, now, STALE_MS));
    assert_true(gw_shm_above_share(&shm, 0, 26, now, STALE_MS));
    /* The one behind never defers. */
    gw_shm_worker(&shm, 0)->connections = 26;
    assert_false(gw_shm_above_share(&shm, 1, 24, now, STALE_MS));
}

/* Every vector of counts over 4 workers (0..5 each): the least loaded one
 * never defers, so on one snapshot they cannot all leave the queue. */
static void test_never_all_defer(void **state)
{
    (void)state;
    uint64_t now = 10000;
    for (unsigned v = 0; v < 6 * 6 * 6 * 6; v++) {
        uint64_t c[4] = {v % 6, v / 6 % 6, v / 36 % 6, v / 216 % 6};
        unsigned deferring = 0, min = 0;
        for (unsigned i = 0; i < 4; i++) {
            worker(i, 1, c[i], now);
            if (c[i] < c[min])
                min = i;
        }
        for (unsigned i = 0; i < 4; i++)
            deferring += gw_shm_above_share(&shm, i, c[i], now, STALE_MS);
        assert_false(gw_shm_above_share(&shm, min, c[min], now, STALE_MS));
        assert_true(deferring < 4);
    }
}

static void test_alone_or_not_serving(void **state)
{
    (void)state;
    uint64_t now = 10000;
    worker(0, 1, 100, now);
    assert_false(gw_shm_above_share(&shm, 0, 100, now, STALE_MS)); /* alone */
    worker(1, 2, 0, now);                                          /* the next generation, starting */
    assert_false(gw_shm_above_share(&shm, 0, 100, now, STALE_MS));
    /* During a reload the new generation is not yet serving: it takes all. */
    worker(2, 2, 0, now);
    assert_false(gw_shm_above_share(&shm, 1, 50, now, STALE_MS));
}

static void test_paused_silent_draining_left_out(void **state)
{
    (void)state;
    uint64_t now = 10000;
    worker(0, 1, 30, now);
    worker(1, 1, 0, now);
    assert_true(gw_shm_above_share(&shm, 0, 30, now, STALE_MS));
    gw_shm_worker(&shm, 1)->paused = 1; /* EMFILE: takes nothing */
    assert_false(gw_shm_above_share(&shm, 0, 30, now, STALE_MS));
    worker(1, 1, 0, now - STALE_MS - 1); /* hung */
    assert_false(gw_shm_above_share(&shm, 0, 30, now, STALE_MS));
    worker(1, 1, 0, now);
    gw_shm_worker(&shm, 1)->state = GW_WORKER_DRAINING;
    assert_false(gw_shm_above_share(&shm, 0, 30, now, STALE_MS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mean_plus_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_all_defer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alone_or_not_serving, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paused_silent_draining_left_out, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
