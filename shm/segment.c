/*
 * Creation of the shared segment and the master's bookkeeping of worker
 * records (layout in shm/segment.h). The master calls create/claim/release;
 * any process may read.
 */
#include "shm/segment.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "shm/health.h"
#include "shm/names.h"
#include "shm/view.h"

const char *const gw_shm_region_names[GW_SHM_NREGIONS] = {"workers", "metrics", "health",     "views",
                                                          "limiter", "breaker", "revocation", "names"};

#define ALIGN_UP(n, a) (((n) + (a)-1) & ~((size_t)(a)-1))

int gw_shm_create(gw_shm_t *shm, const gw_shm_params_t *params)
{
    uint32_t nslots = params->nslots < GW_SHM_MIN_SLOTS ? GW_SHM_MIN_SLOTS : params->nslots;
    size_t sizes[GW_SHM_NREGIONS] = {
        [GW_SHM_REGION_WORKERS] = sizeof(gw_shm_worker_t) * nslots,
        [GW_SHM_REGION_METRICS] = sizeof(gw_metrics_slot_t) * nslots,
        [GW_SHM_REGION_HEALTH] = gw_health_region_size(),
        [GW_SHM_REGION_VIEWS] = gw_view_region_size(),
        [GW_SHM_REGION_LIMITER] = params->limiter_bytes,
        [GW_SHM_REGION_BREAKER] = params->breaker_bytes,
        [GW_SHM_REGION_REVOKE] = params->revoke_bytes,
        [GW_SHM_REGION_NAMES] = gw_shm_names_region_size(),
    };
    size_t off = ALIGN_UP(sizeof(gw_shm_header_t), 4096);
    size_t offsets[GW_SHM_NREGIONS];
    for (int r = 0; r < GW_SHM_NREGIONS; r++) {
        offsets[r] = off;
        off = ALIGN_UP(off + sizes[r], 4096);
    }
    void *p = mmap(NULL, off, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    /* Anonymous shared memory is zero-filled: every record starts FREE and
     * every counter at zero. */
    gw_shm_header_t *h = p;
    h->magic = GW_SHM_MAGIC;
    h->layout_version = GW_SHM_LAYOUT_VERSION;
    h->nslots = nslots;
    h->total_size = off;
    h->created_ms = gw_wall_ms();
    for (int r = 0; r < GW_SHM_NREGIONS; r++) {
        h->regions[r].offset = offsets[r];
        h->regions[r].size = sizes[r];
    }
    shm->hdr = h;
    shm->size = off;
    gw_shm_names_init(shm); /* the bundled services' slots, "unmatched" */
    return 0;
}

void gw_shm_destroy(gw_shm_t *shm)
{
    if (shm->hdr != NULL)
        munmap(shm->hdr, shm->size);
    shm->hdr = NULL;
    shm->size = 0;
}

int gw_shm_slot_claim(gw_shm_t *shm, uint64_t generation, unsigned index)
{
    for (unsigned i = 0; i < shm->hdr->nslots; i++) {
        gw_shm_worker_t *w = gw_shm_worker(shm, i);
        if (CMM_LOAD_SHARED(w->state) != GW_WORKER_FREE)
            continue;
        CMM_STORE_SHARED(w->pid, 0);
        CMM_STORE_SHARED(w->generation, generation);
        CMM_STORE_SHARED(w->index, index);
        CMM_STORE_SHARED(w->started_ms, gw_wall_ms());
        CMM_STORE_SHARED(w->heartbeat_ms, gw_now_ms());
        CMM_STORE_SHARED(w->requests, 0);
        CMM_STORE_SHARED(w->connections, 0);
        CMM_STORE_SHARED(w->deferrals, 0);
        CMM_STORE_SHARED(w->paused, 0);
        CMM_STORE_SHARED(w->qs_epoch, uatomic_read(&shm->hdr->qsbr_epoch));
        cmm_smp_mb();
        CMM_STORE_SHARED(w->state, GW_WORKER_STARTING);
        return (int)i;
    }
    return -1;
}

void gw_shm_slot_set_pid(gw_shm_t *shm, unsigned slot, pid_t pid)
{
    CMM_STORE_SHARED(gw_shm_worker(shm, slot)->pid, (uint64_t)pid);
}

void gw_shm_slot_release(gw_shm_t *shm, unsigned slot)
{
    gw_shm_worker_t *w = gw_shm_worker(shm, slot);
    /* The owner is dead: the master may now write its single-writer gauges. */
    CMM_STORE_SHARED(gw_shm_metrics(shm, slot)->active_requests, 0);
    CMM_STORE_SHARED(w->connections, 0);
    CMM_STORE_SHARED(w->pid, 0);
    cmm_smp_mb();
    CMM_STORE_SHARED(w->state, GW_WORKER_FREE);
}

int gw_shm_slot_find(const gw_shm_t *shm, pid_t pid)
{
    for (unsigned i = 0; i < shm->hdr->nslots; i++) {
        gw_shm_worker_t *w = gw_shm_worker(shm, i);
        if (CMM_LOAD_SHARED(w->state) != GW_WORKER_FREE && CMM_LOAD_SHARED(w->pid) == (uint64_t)pid)
            return (int)i;
    }
    return -1;
}

bool gw_shm_above_share(const gw_shm_t *shm, unsigned slot, uint64_t own, uint64_t now_ms, uint64_t stale_ms)
{
    uint64_t serving = CMM_LOAD_SHARED(shm->hdr->generation);
    if (CMM_LOAD_SHARED(gw_shm_worker(shm, slot)->generation) != serving)
        return false;
    uint64_t total = own, n = 1;
    for (unsigned i = 0; i < shm->hdr->nslots; i++) {
        gw_shm_worker_t *w = gw_shm_worker(shm, i);
        if (i == slot || CMM_LOAD_SHARED(w->state) != GW_WORKER_READY ||
            CMM_LOAD_SHARED(w->generation) != serving || CMM_LOAD_SHARED(w->paused))
            continue;
        uint64_t hb = CMM_LOAD_SHARED(w->heartbeat_ms);
        if (now_ms > hb + stale_ms)
            continue;
        total += CMM_LOAD_SHARED(w->connections);
        n++;
    }
    /* own >= total / n + 1, in integers. */
    return own * n >= total + n;
}

uint64_t gw_shm_sum_u64(const gw_shm_t *shm, size_t offset)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < shm->hdr->nslots; i++)
        sum += CMM_LOAD_SHARED(*(uint64_t *)((char *)gw_shm_metrics(shm, i) + offset));
    return sum;
}

int64_t gw_shm_sum_i64(const gw_shm_t *shm, size_t offset)
{
    int64_t sum = 0;
    for (unsigned i = 0; i < shm->hdr->nslots; i++)
        sum += CMM_LOAD_SHARED(*(int64_t *)((char *)gw_shm_metrics(shm, i) + offset));
    return sum;
}
