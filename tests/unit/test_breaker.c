/*
 * Shared circuit breakers (shm/breaker.c): the transitions (docs/API.md, Status mapping) with the
 * default thresholds, exact half-open admission across processes, outcomes
 * of stale tickets ignored, a lost probe given up, the operator reset, and
 * crash safety: a process killed at any instruction of any transition never
 * leaves a breaker refusing for longer than CB_OPEN_TIMEOUT; and each
 * transition handed (as a gw_cb_event_t, what gets logged) to exactly the
 * one call that made it, the master's tick racing workers' requests
 * included, without disturbing the half-open probe count.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
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
    gw_cb_ticket_t t = gw_breaker_acquire(region, s, &P, now, NULL);
    assert_true(t.allowed);
    gw_breaker_record(region, s, &P, &t, failure, now, NULL);
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
    gw_cb_ticket_t t = gw_breaker_acquire(region, 0, &P, now + 1000, NULL);
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
    assert_false(gw_breaker_acquire(region, 2, &P, now + P.open_timeout_ms - 1, NULL).allowed);
    uint64_t later = now + P.open_timeout_ms;
    gw_cb_ticket_t probes[3];
    for (int i = 0; i < 3; i++) {
        probes[i] = gw_breaker_acquire(region, 2, &P, later, NULL);
        assert_true(probes[i].allowed);
        assert_true(probes[i].probe);
    }
    assert_int_equal(gw_breaker_state(region, 2, later), GW_CB_HALF_OPEN);
    gw_cb_ticket_t extra = gw_breaker_acquire(region, 2, &P, later, NULL);
    assert_false(extra.allowed);
    assert_int_equal(extra.retry_after_s, 1);
    gw_cb_snapshot_t snap;
    gw_breaker_snapshot(region, 2, later, &snap);
    assert_int_equal(snap.half_open_in_flight, 3);
    for (int i = 0; i < 3; i++)
        gw_breaker_record(region, 2, &P, &probes[i], false, later, NULL);
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
    gw_cb_ticket_t a = gw_breaker_acquire(region, 3, &P, later, NULL);
    gw_cb_ticket_t b = gw_breaker_acquire(region, 3, &P, later, NULL);
    gw_breaker_record(region, 3, &P, &a, false, later, NULL);
    gw_breaker_record(region, 3, &P, &b, true, later, NULL);
    assert_int_equal(gw_breaker_state(region, 3, later), GW_CB_OPEN);
    gw_cb_snapshot_t snap;
    gw_breaker_snapshot(region, 3, later, &snap);
    assert_int_equal(snap.opens_total, 2);
    assert_int_equal(gw_breaker_acquire(region, 3, &P, later + 1, NULL).retry_after_s, 30);
}

/* A call admitted while closed that finishes after the breaker opened must
 * not count against (or for) the new state. */
static void test_stale_ticket_ignored(void **state)
{
    (void)state;
    uint64_t now = 30000000;
    gw_cb_ticket_t slow = gw_breaker_acquire(region, 4, &P, now, NULL);
    open_breaker(4, now);
    uint64_t later = now + P.open_timeout_ms;
    gw_cb_ticket_t probe = gw_breaker_acquire(region, 4, &P, later, NULL);
    gw_breaker_record(region, 4, &P, &slow, true, later, NULL); /* stale failure: ignored */
    assert_int_equal(gw_breaker_state(region, 4, later), GW_CB_HALF_OPEN);
    gw_breaker_record(region, 4, &P, &probe, false, later, NULL);
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
        assert_true(gw_breaker_acquire(region, 5, &P, later, NULL).allowed);
    assert_false(gw_breaker_acquire(region, 5, &P, later + 1000, NULL).allowed);
    gw_cb_ticket_t t = gw_breaker_acquire(region, 5, &P, later + P.open_timeout_ms, NULL);
    assert_true(t.allowed);
    assert_true(t.probe);
}

static void test_reset(void **state)
{
    (void)state;
    uint64_t now = 50000000;
    open_breaker(6, now);
    gw_breaker_reset(region, 6, NULL);
    assert_int_equal(gw_breaker_state(region, 6, now), GW_CB_CLOSED);
    assert_true(gw_breaker_acquire(region, 6, &P, now, NULL).allowed);
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
                n += gw_breaker_acquire(region, 7, &P, later + (uint64_t)i / 10, NULL).allowed;
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

/* ---- crash safety ------------------------------------------------------ */

#define SLOT_BYTES (gw_breaker_region_size() / GW_BREAKER_MAX)

static void *fresh_region(void)
{
    void *r = mmap(NULL, gw_breaker_region_size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(r != MAP_FAILED);
    return r;
}

/* After a breaker was left in `r` at (phase) time `t`, requests made from
 * t + CB_OPEN_TIMEOUT on must reach the backend again. */
static void assert_recovers(void *r, unsigned s, uint64_t t)
{
    gw_cb_ticket_t k = gw_breaker_acquire(r, s, &P, t + P.open_timeout_ms, NULL);
    assert_true(k.allowed);
}

/* The state a process leaves when it is killed right after the CAS of the
 * state word and before any other store of the transition: the slot as it
 * was before the tripping call, with only the state word as after it. (The
 * old layout kept the deadline in a second word; this state then refused
 * every request until an operator reset.) */
static void test_killed_after_state_cas_recovers(void **state)
{
    (void)state;
    void *r = fresh_region();
    unsigned char before[512], after[512];
    assert_true(SLOT_BYTES <= sizeof(before));
    uint64_t now = 70000000;
    for (int i = 0; i < 2; i++) {
        gw_cb_ticket_t t = gw_breaker_acquire(r, 0, &P, now, NULL);
        gw_breaker_record(r, 0, &P, &t, true, now, NULL);
    }
    memcpy(before, r, SLOT_BYTES);
    gw_cb_ticket_t t = gw_breaker_acquire(r, 0, &P, now, NULL);
    gw_breaker_record(r, 0, &P, &t, true, now, NULL); /* trips */
    memcpy(after, r, SLOT_BYTES);
    memcpy(r, before, SLOT_BYTES);
    memcpy(r, after, sizeof(uint64_t)); /* the state word alone */
    assert_int_equal(gw_breaker_state(r, 0, now), GW_CB_OPEN);
    gw_cb_ticket_t early = gw_breaker_acquire(r, 0, &P, now + 1000, NULL);
    assert_false(early.allowed);
    assert_int_equal(early.retry_after_s, 29);
    gw_cb_ticket_t probe = gw_breaker_acquire(r, 0, &P, now + P.open_timeout_ms, NULL);
    assert_true(probe.allowed);
    assert_true(probe.probe);
    munmap(r, gw_breaker_region_size());
}

/* A breaker opened and then left alone for days, or opened under a much
 * longer CB_OPEN_TIMEOUT before a reload, is not held open by its old
 * deadline; a worker whose clock reading lags the opener's still sees the
 * breaker open. */
static void test_old_deadline_never_holds(void **state)
{
    (void)state;
    void *r = fresh_region();
    uint64_t now = 80000000;
    for (int i = 0; i < 3; i++) {
        gw_cb_ticket_t t = gw_breaker_acquire(r, 1, &P, now, NULL);
        gw_breaker_record(r, 1, &P, &t, true, now, NULL);
    }
    assert_int_equal(gw_breaker_state(r, 1, now), GW_CB_OPEN);
    gw_cb_ticket_t lagging = gw_breaker_acquire(r, 1, &P, now - 500, NULL);
    assert_false(lagging.allowed);
    assert_int_equal(lagging.retry_after_s, 30);
    /* 100 hours later: the deadline's 28-bit clock has wrapped */
    assert_true(gw_breaker_acquire(r, 1, &P, now + 100ULL * 3600 * 1000, NULL).allowed);
    gw_breaker_reset(r, 1, NULL);
    gw_cb_params_t longer = P, shorter = P;
    longer.open_timeout_ms = 3600000;
    shorter.open_timeout_ms = 5000;
    for (int i = 0; i < 3; i++) {
        gw_cb_ticket_t t = gw_breaker_acquire(r, 1, &longer, now, NULL);
        gw_breaker_record(r, 1, &longer, &t, true, now, NULL);
    }
    assert_false(gw_breaker_acquire(r, 1, &longer, now + 6000, NULL).allowed);
    assert_true(gw_breaker_acquire(r, 1, &shorter, now + 6000, NULL).allowed);
    munmap(r, gw_breaker_region_size());
}

typedef struct {
    uint64_t phase_ms; /* time of the scenario's current phase, written by the child */
} scenario_clock_t;

/* A breaker's whole cycle at fixed times: closed → open, → half-open, a
 * failed probe → open, → half-open, successful probes → closed, then open
 * again and an operator reset. */
static void scenario(void *r, volatile scenario_clock_t *clk, uint64_t t0)
{
    uint64_t T = P.open_timeout_ms;
    clk->phase_ms = t0;
    for (int i = 0; i < 3; i++) {
        gw_cb_ticket_t t = gw_breaker_acquire(r, 2, &P, t0, NULL);
        gw_breaker_record(r, 2, &P, &t, true, t0, NULL);
    }
    clk->phase_ms = t0 + T;
    gw_cb_ticket_t a = gw_breaker_acquire(r, 2, &P, t0 + T, NULL);
    gw_cb_ticket_t b = gw_breaker_acquire(r, 2, &P, t0 + T, NULL);
    gw_breaker_record(r, 2, &P, &a, false, t0 + T, NULL);
    gw_breaker_record(r, 2, &P, &b, true, t0 + T, NULL);
    clk->phase_ms = t0 + 2 * T;
    gw_cb_ticket_t probes[3];
    for (int i = 0; i < 3; i++)
        probes[i] = gw_breaker_acquire(r, 2, &P, t0 + 2 * T, NULL);
    for (int i = 0; i < 3; i++)
        gw_breaker_record(r, 2, &P, &probes[i], false, t0 + 2 * T, NULL);
    for (int i = 0; i < 3; i++) {
        gw_cb_ticket_t t = gw_breaker_acquire(r, 2, &P, t0 + 2 * T, NULL);
        gw_breaker_record(r, 2, &P, &t, true, t0 + 2 * T, NULL);
    }
    gw_breaker_reset(r, 2, NULL);
}

/* Fork a child that runs the scenario under ptrace, stopped before its
 * first instruction; -1 (test skipped) where ptrace is not allowed. */
static pid_t traced_child(void *r, scenario_clock_t *clk, uint64_t t0)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
            _exit(3);
        raise(SIGSTOP);
        scenario(r, clk, t0);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFSTOPPED(st))
        return -1;
    return pid;
}

typedef struct {
    unsigned char slot[512];
    uint64_t phase_ms;
} crash_state_t;

/* A process killed at instruction N leaves the segment exactly as it is
 * after N instructions: single-step a child through the whole scenario,
 * keep every distinct breaker state it leaves behind, then check that each
 * one admits requests again within CB_OPEN_TIMEOUT of its phase. Finally
 * kill a child for real (SIGKILL) right after the CAS that opens the
 * breaker, and check the same. */
static void test_killed_at_every_instruction_recovers(void **state)
{
    (void)state;
    enum { MAX_STATES = 256, MAX_STEPS = 20000000 };
    void *r = fresh_region();
    scenario_clock_t *clk =
        mmap(NULL, sizeof(*clk), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(clk != MAP_FAILED);
    uint64_t t0 = 90000000;
    pid_t pid = traced_child(r, clk, t0);
    if (pid < 0) {
        munmap(clk, sizeof(*clk));
        munmap(r, gw_breaker_region_size());
        skip(); /* no ptrace here (seccomp) */
    }
    static crash_state_t seen[MAX_STATES];
    size_t nseen = 0;
    int st = 0;
    for (long steps = 0; steps < MAX_STEPS; steps++) {
        if (nseen == 0 || memcmp(seen[nseen - 1].slot, (char *)r + 2 * SLOT_BYTES, SLOT_BYTES) != 0) {
            assert_true(nseen < MAX_STATES);
            memcpy(seen[nseen].slot, (char *)r + 2 * SLOT_BYTES, SLOT_BYTES);
            seen[nseen++].phase_ms = clk->phase_ms;
        }
        assert_int_equal(ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL), 0);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!WIFSTOPPED(st))
            break;
    }
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_true(nseen >= 8); /* opened twice, half-open twice, closed, reset */
    for (size_t i = 0; i < nseen; i++) {
        memcpy((char *)r + 2 * SLOT_BYTES, seen[i].slot, SLOT_BYTES);
        assert_recovers(r, 2, seen[i].phase_ms);
    }

    /* A real SIGKILL right after the opening CAS. */
    memset(r, 0, gw_breaker_region_size());
    clk->phase_ms = 0;
    pid = traced_child(r, clk, t0);
    assert_true(pid > 0);
    uint64_t *word0 = (uint64_t *)((char *)r + 2 * SLOT_BYTES);
    while (*word0 == 0) {
        assert_int_equal(ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL), 0);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSTOPPED(st));
    }
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    assert_int_equal(gw_breaker_state(r, 2, t0), GW_CB_OPEN);
    assert_false(gw_breaker_acquire(r, 2, &P, t0 + 1, NULL).allowed);
    assert_recovers(r, 2, t0);
    munmap(clk, sizeof(*clk));
    munmap(r, gw_breaker_region_size());
}

/* ---- transitions reported once ----------------------------------------- */

enum { RACE_PROCS = 3, RACE_ROUNDS = 300 };

static void assert_event(const gw_cb_event_t *ev, gw_cb_state_t from, gw_cb_state_t to, const char *reason)
{
    assert_true(ev->happened);
    assert_int_equal(ev->from, from);
    assert_int_equal(ev->to, to);
    assert_string_equal(ev->reason, reason);
}

/* Each transition is handed to the one call that made it, with the counts
 * that caused it; the calls around it get none. The master's tick moves an
 * open breaker to half-open at its deadline with no request at all. */
static void test_each_transition_reported_once(void **state)
{
    (void)state;
    void *r = fresh_region();
    uint64_t now = 100000000, T = P.open_timeout_ms;
    gw_cb_event_t ev;
    gw_cb_ticket_t t = gw_breaker_acquire(r, 0, &P, now, &ev);
    assert_false(ev.happened);
    gw_breaker_record(r, 0, &P, &t, false, now, &ev);
    assert_false(ev.happened);
    t = gw_breaker_acquire(r, 0, &P, now, NULL);
    gw_breaker_record(r, 0, &P, &t, false, now, NULL);
    for (int i = 0; i < 3; i++) {
        t = gw_breaker_acquire(r, 0, &P, now, NULL);
        gw_breaker_record(r, 0, &P, &t, true, now, &ev);
        assert_int_equal(ev.happened, i == 2); /* 3 of 5 failed: >= 60% */
    }
    assert_event(&ev, GW_CB_CLOSED, GW_CB_OPEN, "failure_ratio");
    assert_int_equal(ev.requests, 5);
    assert_int_equal(ev.failures, 3);

    gw_breaker_tick(r, 0, &P, now + T - 1, &ev); /* not yet */
    assert_false(ev.happened);
    assert_int_equal(gw_breaker_state(r, 0, now + T - 1), GW_CB_OPEN);
    gw_breaker_tick(r, 0, &P, now + T, &ev);
    assert_event(&ev, GW_CB_OPEN, GW_CB_HALF_OPEN, "open_timeout");
    assert_int_equal(ev.open_timeout_ms, T);
    assert_int_equal(gw_breaker_state(r, 0, now + T), GW_CB_HALF_OPEN);
    gw_breaker_tick(r, 0, &P, now + T, &ev); /* half-open: the tick leaves it */
    assert_false(ev.happened);

    /* the probes the workers take after the tick's move decide */
    gw_cb_ticket_t probes[3];
    for (int i = 0; i < 3; i++) {
        probes[i] = gw_breaker_acquire(r, 0, &P, now + T, &ev);
        assert_true(probes[i].probe);
        assert_false(ev.happened);
    }
    gw_breaker_tick(r, 0, &P, now + 3 * T, &ev); /* never cuts probes in flight */
    assert_false(ev.happened);
    gw_breaker_record(r, 0, &P, &probes[0], false, now + T, &ev);
    assert_false(ev.happened);
    gw_breaker_record(r, 0, &P, &probes[1], true, now + T, &ev);
    assert_event(&ev, GW_CB_HALF_OPEN, GW_CB_OPEN, "probe_failed");
    assert_int_equal(ev.probes_admitted, 3);
    assert_int_equal(ev.probes_succeeded, 1);
    gw_breaker_record(r, 0, &P, &probes[2], false, now + T, &ev); /* stale now */
    assert_false(ev.happened);

    /* half-open again, by a request this time; all probes succeed */
    for (int i = 0; i < 3; i++) {
        probes[i] = gw_breaker_acquire(r, 0, &P, now + 2 * T, &ev);
        assert_int_equal(ev.happened, i == 0);
        if (i == 0)
            assert_event(&ev, GW_CB_OPEN, GW_CB_HALF_OPEN, "open_timeout");
    }
    for (int i = 0; i < 3; i++) {
        gw_breaker_record(r, 0, &P, &probes[i], false, now + 2 * T, &ev);
        assert_int_equal(ev.happened, i == 2);
    }
    assert_event(&ev, GW_CB_HALF_OPEN, GW_CB_CLOSED, "probes_succeeded");
    assert_int_equal(ev.probes_admitted, 3);
    assert_int_equal(ev.probes_succeeded, 3);

    t = gw_breaker_acquire(r, 0, &P, now + 2 * T, NULL);
    gw_breaker_record(r, 0, &P, &t, true, now + 2 * T, NULL);
    gw_breaker_reset(r, 0, &ev);
    assert_event(&ev, GW_CB_CLOSED, GW_CB_CLOSED, "reset");
    assert_int_equal(ev.requests, 1);
    assert_int_equal(ev.failures, 1);
    munmap(r, gw_breaker_region_size());
}

/* A probe whose worker died: the request that gives it up reports it. */
static void test_lost_probe_reported(void **state)
{
    (void)state;
    void *r = fresh_region();
    uint64_t now = 110000000, T = P.open_timeout_ms;
    gw_cb_event_t ev;
    for (int i = 0; i < 3; i++) {
        gw_cb_ticket_t t = gw_breaker_acquire(r, 1, &P, now, NULL);
        gw_breaker_record(r, 1, &P, &t, true, now, NULL);
    }
    gw_breaker_tick(r, 1, &P, now + T, NULL);
    for (int i = 0; i < 3; i++)
        assert_true(gw_breaker_acquire(r, 1, &P, now + T, NULL).allowed);
    gw_cb_ticket_t t = gw_breaker_acquire(r, 1, &P, now + 2 * T, &ev);
    assert_true(t.probe);
    assert_event(&ev, GW_CB_HALF_OPEN, GW_CB_HALF_OPEN, "probes_lost");
    assert_int_equal(ev.probes_admitted, 3);
    assert_int_equal(ev.probes_succeeded, 0);
    munmap(r, gw_breaker_region_size());
}

/* The master's tick racing workers' requests at the deadline: the move to
 * half-open is reported exactly once, and exactly CB_HALF_OPEN_MAX_REQUESTS
 * probes are still admitted. Repeated over many open periods. */
typedef struct {
    uint64_t moves, admitted, done;
} race_t;

static void race_child(void *r, race_t *res, volatile uint64_t *go, int p, uint64_t t0)
{
    for (uint64_t round = 0; round < RACE_ROUNDS; round++) {
        while (__atomic_load_n(go, __ATOMIC_ACQUIRE) <= round)
            ;
        uint64_t at = t0 + (2 * round + 1) * P.open_timeout_ms; /* the deadline */
        race_t *mine = &res[round * RACE_PROCS + (uint64_t)p];
        for (int i = 0; i < 5; i++) {
            gw_cb_event_t ev;
            if (p == 0) /* the master */
                gw_breaker_tick(r, 2, &P, at, &ev);
            else
                mine->admitted += gw_breaker_acquire(r, 2, &P, at, &ev).allowed;
            mine->moves += ev.happened;
        }
        __atomic_store_n(&mine->done, 1, __ATOMIC_RELEASE);
    }
    _exit(0);
}

static void test_tick_races_requests_once(void **state)
{
    (void)state;
    void *r = fresh_region();
    size_t bytes = sizeof(race_t) * RACE_PROCS * RACE_ROUNDS + sizeof(uint64_t);
    race_t *res = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(res != MAP_FAILED);
    volatile uint64_t *go = (uint64_t *)&res[RACE_PROCS * RACE_ROUNDS];
    uint64_t t0 = 120000000;
    pid_t pids[RACE_PROCS];
    for (int p = 0; p < RACE_PROCS; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0)
            race_child(r, res, go, p, t0);
    }
    for (uint64_t round = 0; round < RACE_ROUNDS; round++) {
        uint64_t at = t0 + 2 * round * P.open_timeout_ms;
        gw_breaker_reset(r, 2, NULL);
        for (int i = 0; i < 3; i++) {
            gw_cb_ticket_t t = gw_breaker_acquire(r, 2, &P, at, NULL);
            gw_breaker_record(r, 2, &P, &t, true, at, NULL);
        }
        assert_int_equal(gw_breaker_state(r, 2, at), GW_CB_OPEN);
        __atomic_store_n(go, round + 1, __ATOMIC_RELEASE);
        for (int p = 0; p < RACE_PROCS; p++)
            while (!__atomic_load_n(&res[round * RACE_PROCS + (uint64_t)p].done, __ATOMIC_ACQUIRE))
                ;
    }
    for (int p = 0; p < RACE_PROCS; p++) {
        int st;
        assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    for (uint64_t round = 0; round < RACE_ROUNDS; round++) {
        uint64_t moves = 0, admitted = 0;
        for (int p = 0; p < RACE_PROCS; p++) {
            moves += res[round * RACE_PROCS + (uint64_t)p].moves;
            admitted += res[round * RACE_PROCS + (uint64_t)p].admitted;
        }
        assert_int_equal(moves, 1);
        assert_int_equal(admitted, P.half_open_max);
    }
    munmap(res, bytes);
    munmap(r, gw_breaker_region_size());
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
        cmocka_unit_test(test_killed_after_state_cas_recovers),
        cmocka_unit_test(test_old_deadline_never_holds),
        cmocka_unit_test(test_killed_at_every_instruction_recovers),
        cmocka_unit_test(test_each_transition_reported_once),
        cmocka_unit_test(test_lost_probe_reported),
        cmocka_unit_test(test_tick_races_requests_once),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
