/*
 * Names of the segment's service and endpoint slots. Breakers, health
 * results and backend metrics are indexed by service slot; request metrics
 * by endpoint slot. A name keeps its slot for the segment's life, so counts
 * and breaker states follow a service or a route template across reloads
 * that add, drop or reorder them.
 *
 * Single writer: the master interns names (master/api_bind.c) before it forks
 * a generation; a name is written first and published by a release store of
 * the count, so readers (workers, the master's views) that load the count
 * first see only complete names. At segment creation, service slots 0..3 are
 * auth-service, user-service, tenant-service and notification-service
 * (GW_SVC_NOTIFICATION), and endpoint slot 0 is "unmatched"
 * (GW_ENDPOINT_UNMATCHED).
 */
#ifndef GW_SHM_NAMES_H
#define GW_SHM_NAMES_H

#include <stddef.h>

#include "core/method.h"
#include "core/route.h"

#define GW_SHM_NAME_MAX 128 /* bytes per name, NUL included */

typedef struct gw_shm gw_shm_t;

/* The slot of `name`, interned if new (master only). Returns GW_SVC_MAX /
 * GW_ENDPOINT_MAX when the table is full or the name too long. */
unsigned gw_shm_service_slot(gw_shm_t *shm, const char *name);
unsigned gw_shm_endpoint_slot(gw_shm_t *shm, const char *name);

/* Slots in use, and the name of one ("" past the count). */
unsigned gw_shm_nservices(const gw_shm_t *shm);
const char *gw_shm_service_name(const gw_shm_t *shm, unsigned slot);
unsigned gw_shm_nendpoints(const gw_shm_t *shm);
const char *gw_shm_endpoint_name(const gw_shm_t *shm, unsigned slot);

/* The slot already holding `name` (any process; nothing is interned), or
 * GW_SVC_MAX / GW_ENDPOINT_MAX if none. `len` bytes, not NUL-terminated. */
unsigned gw_shm_service_find(const gw_shm_t *shm, const char *name, size_t len);
unsigned gw_shm_endpoint_find(const gw_shm_t *shm, const char *name, size_t len);

/* shm/segment.c: the region's size, and its first names at creation. */
size_t gw_shm_names_region_size(void);
void gw_shm_names_init(gw_shm_t *shm);

#endif
