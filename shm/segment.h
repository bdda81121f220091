/*
 * The shared segment: one MAP_SHARED|MAP_ANONYMOUS mapping created by the
 * master before the first fork and inherited, at the same address, by every
 * generation of workers. It outlives reloads (the master keeps it), so rate
 * limits, breaker states and counters carry over a HUP.
 *
 * Layout (offsets in the header; every region 4 KiB aligned):
 *
 *   header            magic, layout version, sizes, region table,
 *                     master-written state (generation, reloads, epoch)
 *   workers[nslots]   per-worker records (pid, generation, heartbeat,
 *                     quiescent epoch), 128-byte padded
 *   metrics[nslots]   per-worker metric slots (shm/metrics.h)
 *   health            backend health results (shm/health.h)
 *   views             master-rendered /metrics and /health (shm/view.h)
 *   limiter           rate-limit token buckets (shm/limiter.h)
 *   breaker           circuit breakers (shm/breaker.h)
 *   revocation        recent logouts' jtis, Redis-loss safety (shm/revoke.h)
 *   names             service and endpoint names of the slots the breaker,
 *                     health and metric tables are indexed by (shm/names.h)
 *
 * Rules: every cross-process access uses liburcu's uatomic_* / CMM_*; nothing
 * in the segment is ever locked, so a process killed at any instruction
 * blocks nobody. Single-writer words are written with CMM_STORE_SHARED; words
 * with several writers change only by uatomic_cmpxchg / uatomic_add.
 */
#ifndef GW_SHM_SEGMENT_H
#define GW_SHM_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <urcu/system.h>
#include <urcu/uatomic.h>

#include "core/clock.h"
#include "shm/metrics.h"

#define GW_SHM_MAGIC          0x31474553574741ULL /* "AGWSEG1" */
#define GW_SHM_LAYOUT_VERSION 6
#define GW_SHM_MIN_SLOTS      16

typedef enum {
    GW_SHM_REGION_WORKERS = 0,
    GW_SHM_REGION_METRICS,
    GW_SHM_REGION_HEALTH,
    GW_SHM_REGION_VIEWS,
    GW_SHM_REGION_LIMITER,
    GW_SHM_REGION_BREAKER,
    GW_SHM_REGION_REVOKE,
    GW_SHM_REGION_NAMES,
    GW_SHM_NREGIONS
} gw_shm_region_t;

extern const char *const gw_shm_region_names[GW_SHM_NREGIONS];

/* Worker record states (gw_shm_worker_t.state). */
typedef enum {
    GW_WORKER_FREE = 0, /* slot unused; its metric slot keeps its counts */
    GW_WORKER_STARTING, /* forked, not yet accepting */
    GW_WORKER_READY,    /* accepting connections */
    GW_WORKER_DRAINING, /* stopped accepting, finishing in-flight requests */
} gw_worker_state_t;

/* Gateway state as the master announces it (header.state). */
typedef enum { GW_STATE_RUNNING = 0, GW_STATE_STOPPING = 1 } gw_gateway_state_t;

typedef struct {
    uint64_t pid;          /* written by the master */
    uint64_t generation;   /* master */
    uint64_t index;        /* worker index within its generation (master) */
    uint64_t state;        /* gw_worker_state_t: master (FREE/STARTING), worker (READY/DRAINING) */
    uint64_t started_ms;   /* wall clock, master */
    uint64_t heartbeat_ms; /* monotonic ms at the worker's last loop turn (worker) */
    uint64_t qs_epoch;     /* QSBR: last global epoch this worker observed at a quiescent point */
    uint64_t requests;     /* requests completed by the current occupant (worker) */
    uint64_t connections;  /* open client connections (worker gauge) */
    uint64_t restarts;     /* times the master re-forked this slot after a crash (master) */
    uint64_t deferrals;    /* times it left the accept queue to the others (worker/accept.c) */
    uint64_t paused;       /* 1 while accepting is paused on EMFILE/ENFILE/ENOMEM (worker) */
} __attribute__((aligned(128))) gw_shm_worker_t;

typedef struct {
    uint64_t offset;
    uint64_t size;
} gw_shm_region_desc_t;

typedef struct {
    uint64_t magic;
    uint32_t layout_version;
    uint32_t nslots;
    uint64_t total_size;
    uint64_t created_ms; /* wall clock */
    gw_shm_region_desc_t regions[GW_SHM_NREGIONS];

    /* Written by the master only. */
    uint64_t generation __attribute__((aligned(128)));
    uint64_t state; /* gw_gateway_state_t */
    uint64_t reloads_total;
    uint64_t reload_failures_total;
    uint64_t worker_restarts_total;
    uint64_t workers_configured;
    uint64_t master_pid;
    uint64_t sweeps_total;
    uint64_t swept_total;

    /* QSBR global epoch: advanced by reclaimers (shm/qsbr.h). */
    uint64_t qsbr_epoch __attribute__((aligned(128)));

    /* Health-probe lease: which worker probes the backends (shm/health.h). */
    uint64_t probe_lease __attribute__((aligned(128)));
} gw_shm_header_t;

typedef struct gw_shm {
    gw_shm_header_t *hdr;
    size_t size;
} gw_shm_t;

/* Sizes of the feature regions, decided by the master from its config. */
typedef struct {
    uint32_t nslots;
    size_t limiter_bytes;
    size_t breaker_bytes;
    size_t revoke_bytes; /* shm/revoke.h: gw_revoke_region_size(REVOCATION_TABLE_SIZE) */
} gw_shm_params_t;

/* Create the segment (master, before forking). Returns 0 or -1 with errno. */
int gw_shm_create(gw_shm_t *shm, const gw_shm_params_t *params);
void gw_shm_destroy(gw_shm_t *shm);

static inline void *gw_shm_region(const gw_shm_t *shm, gw_shm_region_t r)
{
    return (char *)shm->hdr + shm->hdr->regions[r].offset;
}

static inline gw_shm_worker_t *gw_shm_worker(const gw_shm_t *shm, unsigned slot)
{
    return (gw_shm_worker_t *)gw_shm_region(shm, GW_SHM_REGION_WORKERS) + slot;
}

static inline gw_metrics_slot_t *gw_shm_metrics(const gw_shm_t *shm, unsigned slot)
{
    return (gw_metrics_slot_t *)gw_shm_region(shm, GW_SHM_REGION_METRICS) + slot;
}

/* Master: claim a FREE worker record for a new process; -1 when none. The
 * record is filled (generation, index, STARTING, qs_epoch = current epoch)
 * before fork so the child never runs unannounced. */
int gw_shm_slot_claim(gw_shm_t *shm, uint64_t generation, unsigned index);
/* Master: publish the child's pid once fork() returned. */
void gw_shm_slot_set_pid(gw_shm_t *shm, unsigned slot, pid_t pid);
/* Master: release a reaped worker's record; zero its gauges. */
void gw_shm_slot_release(gw_shm_t *shm, unsigned slot);
/* Any process: find the slot whose record holds pid; -1 if none. */
int gw_shm_slot_find(const gw_shm_t *shm, pid_t pid);

/* Balanced accepting (worker/accept.c): true when the worker in `slot`, with
 * `own` open connections, holds at least one more than the mean of the ready
 * workers of the serving generation (itself included), so it should leave
 * the next queued connection to one of them. A worker outside the serving
 * generation (a reload in progress, a generation on its way out) and a
 * worker alone are never above their share; workers paused on a resource
 * error and records whose heartbeat is older than `stale_ms` are left out
 * (they take nothing, so the others must not wait for them). Some worker is
 * always at or below the mean, so they cannot all defer at once. */
bool gw_shm_above_share(const gw_shm_t *shm, unsigned slot, uint64_t own, uint64_t now_ms, uint64_t stale_ms);

/* Sum of a uint64 field across every metric slot: `offset` is the byte
 * offset of the word inside gw_metrics_slot_t. */
uint64_t gw_shm_sum_u64(const gw_shm_t *shm, size_t offset);
int64_t gw_shm_sum_i64(const gw_shm_t *shm, size_t offset);

#endif
