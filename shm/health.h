/*
 * Backend health results in the segment. One worker at a time holds the probe
 * lease (a CAS'd word: owner slot + expiry) and writes results; every process
 * reads them. If the holder dies its lease expires and another worker takes
 * over, so probing never depends on one process.
 */
#ifndef GW_SHM_HEALTH_H
#define GW_SHM_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/route.h"
#include "shm/segment.h"

/* Entries 0..GW_SVC_MAX-1 are service slots (shm/names.h), then Redis. */
#define GW_HEALTH_MAX        (GW_SVC_MAX + 1)
#define GW_HEALTH_REASON_MAX 184
#define GW_HEALTH_REDIS      GW_SVC_MAX

typedef enum {
    GW_HEALTH_UNKNOWN = 0, /* "unhealthy: not checked yet" */
    GW_HEALTH_OK = 1,
    GW_HEALTH_FAILING = 2,
    GW_HEALTH_DEGRADED = 3, /* Redis: served, but without blacklist/cache */
} gw_health_status_t;

typedef struct {
    uint64_t status; /* gw_health_status_t */
    uint64_t checked_ms;
    uint64_t latency_us;
    uint64_t consecutive_failures;
    char reason[GW_HEALTH_REASON_MAX];
} gw_health_result_t;

size_t gw_health_region_size(void);

/* Writer (lease holder): store the result for target i. */
void gw_health_write(const gw_shm_t *shm, unsigned i, const gw_health_result_t *r);
/* Reader: copy target i's result; false if it stayed torn (treat as unknown). */
bool gw_health_read(const gw_shm_t *shm, unsigned i, gw_health_result_t *out);

/* Try to take or renew the probe lease for `slot` until now_ms + ttl_ms.
 * Returns true if this slot holds the lease. */
bool gw_health_lease_acquire(const gw_shm_t *shm, unsigned slot, uint64_t now_ms, uint64_t ttl_ms);

#endif
