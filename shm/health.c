/*
 * Backend health table and the probe lease (see shm/health.h). Written by
 * the worker holding the lease (worker/health_probe.c), read by the master's
 * /health renderer and /debug endpoints.
 */
#include "shm/health.h"

#include <string.h>

#include "shm/seqlock.h"

typedef struct {
    uint64_t seq;
    gw_health_result_t r;
} __attribute__((aligned(128))) health_entry_t;

size_t gw_health_region_size(void)
{
    return sizeof(health_entry_t) * GW_HEALTH_MAX;
}

static health_entry_t *entry(const gw_shm_t *shm, unsigned i)
{
    return (health_entry_t *)gw_shm_region(shm, GW_SHM_REGION_HEALTH) + i;
}

void gw_health_write(const gw_shm_t *shm, unsigned i, const gw_health_result_t *r)
{
    if (i >= GW_HEALTH_MAX)
        return;
    health_entry_t *e = entry(shm, i);
    uint64_t end = gw_seq_write_begin(&e->seq);
    memcpy(&e->r, r, sizeof(*r));
    e->r.reason[GW_HEALTH_REASON_MAX - 1] = '\0';
    gw_seq_write_end(&e->seq, end);
}

bool gw_health_read(const gw_shm_t *shm, unsigned i, gw_health_result_t *out)
{
    if (i >= GW_HEALTH_MAX)
        return false;
    health_entry_t *e = entry(shm, i);
    for (int tries = 0; tries < GW_SEQ_READ_TRIES; tries++) {
        uint64_t s = gw_seq_read_begin(&e->seq);
        memcpy(out, &e->r, sizeof(*out));
        if (!gw_seq_read_retry(&e->seq, s)) {
            out->reason[GW_HEALTH_REASON_MAX - 1] = '\0';
            return true;
        }
    }
    return false;
}

/* Lease word: (slot + 1) << 44 | expiry in monotonic ms (44 bits ≈ 557 years). */
#define LEASE_SHIFT   44
#define LEASE_MS_MASK ((UINT64_C(1) << LEASE_SHIFT) - 1)

bool gw_health_lease_acquire(const gw_shm_t *shm, unsigned slot, uint64_t now_ms, uint64_t ttl_ms)
{
    uint64_t *lease = &shm->hdr->probe_lease;
    uint64_t cur = uatomic_read(lease);
    uint64_t owner = cur >> LEASE_SHIFT, expiry = cur & LEASE_MS_MASK;
    if (owner != 0 && owner != slot + 1 && expiry > now_ms)
        return false;
    uint64_t want = ((uint64_t)(slot + 1) << LEASE_SHIFT) | ((now_ms + ttl_ms) & LEASE_MS_MASK);
    return uatomic_cmpxchg(lease, cur, want) == cur;
}
