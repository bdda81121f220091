/*
 * The names region (see shm/names.h): which service or route template each
 * slot of the breaker, health and metric tables belongs to. The master is
 * the only writer (master/api_bind.c, and gw_shm_create for the first
 * names); every process reads.
 *
 * A table is append-only: a name is copied into the first free row, a write
 * barrier orders it before the count, and the count is published with
 * CMM_STORE_SHARED. A reader loads the count, issues a read barrier, and only
 * then reads rows below it, so it never sees a half-written name; rows are
 * never rewritten, so a name read once stays valid for the segment's life.
 */
#include "shm/names.h"

#include <string.h>
#include <urcu/arch.h>
#include <urcu/system.h>

#include "shm/segment.h"

typedef struct {
    uint64_t nservices; /* published count (master) */
    uint64_t nendpoints;
    char service[GW_SVC_MAX][GW_SHM_NAME_MAX];
    char endpoint[GW_ENDPOINT_MAX][GW_SHM_NAME_MAX];
} names_t;

/* The bundled services keep these slots whatever the configuration says
 * (core/route.h: GW_SVC_LABEL_*, GW_SVC_NOTIFICATION). */
static const char *const first_services[] = {GW_SVC_LABEL_AUTH, GW_SVC_LABEL_USER, GW_SVC_LABEL_TENANT,
                                             GW_SVC_LABEL_NOTIFICATION};

static names_t *region(const gw_shm_t *shm)
{
    return gw_shm_region(shm, GW_SHM_REGION_NAMES);
}

size_t gw_shm_names_region_size(void)
{
    return sizeof(names_t);
}

static unsigned published(const uint64_t *count, unsigned max)
{
    uint64_t n = CMM_LOAD_SHARED(*count);
    cmm_smp_rmb(); /* rows below n were written before n was stored */
    return n > max ? max : (unsigned)n;
}

static unsigned find(const char (*rows)[GW_SHM_NAME_MAX], unsigned n, const char *name, size_t len)
{
    if (len >= GW_SHM_NAME_MAX)
        return (unsigned)-1;
    for (unsigned i = 0; i < n; i++)
        if (memcmp(rows[i], name, len) == 0 && rows[i][len] == '\0')
            return i;
    return (unsigned)-1;
}

/* The single writer: an existing row, or a new one published by the count. */
static unsigned intern(uint64_t *count, char (*rows)[GW_SHM_NAME_MAX], unsigned max, const char *name)
{
    size_t len = strlen(name);
    unsigned n = published(count, max);
    unsigned i = find((const char(*)[GW_SHM_NAME_MAX])rows, n, name, len);
    if (i != (unsigned)-1)
        return i;
    if (len == 0 || len >= GW_SHM_NAME_MAX || n >= max)
        return max;
    memcpy(rows[n], name, len + 1);
    cmm_smp_wmb(); /* the name before the count that publishes it */
    CMM_STORE_SHARED(*count, (uint64_t)n + 1);
    return n;
}

unsigned gw_shm_service_slot(gw_shm_t *shm, const char *name)
{
    names_t *r = region(shm);
    return intern(&r->nservices, r->service, GW_SVC_MAX, name);
}

unsigned gw_shm_endpoint_slot(gw_shm_t *shm, const char *name)
{
    names_t *r = region(shm);
    return intern(&r->nendpoints, r->endpoint, GW_ENDPOINT_MAX, name);
}

unsigned gw_shm_nservices(const gw_shm_t *shm)
{
    return published(&region(shm)->nservices, GW_SVC_MAX);
}

unsigned gw_shm_nendpoints(const gw_shm_t *shm)
{
    return published(&region(shm)->nendpoints, GW_ENDPOINT_MAX);
}

const char *gw_shm_service_name(const gw_shm_t *shm, unsigned slot)
{
    return slot < gw_shm_nservices(shm) ? region(shm)->service[slot] : "";
}

const char *gw_shm_endpoint_name(const gw_shm_t *shm, unsigned slot)
{
    return slot < gw_shm_nendpoints(shm) ? region(shm)->endpoint[slot] : "";
}

unsigned gw_shm_service_find(const gw_shm_t *shm, const char *name, size_t len)
{
    unsigned i = find((const char(*)[GW_SHM_NAME_MAX])region(shm)->service, gw_shm_nservices(shm), name, len);
    return i == (unsigned)-1 ? GW_SVC_MAX : i;
}

unsigned gw_shm_endpoint_find(const gw_shm_t *shm, const char *name, size_t len)
{
    unsigned i =
        find((const char(*)[GW_SHM_NAME_MAX])region(shm)->endpoint, gw_shm_nendpoints(shm), name, len);
    return i == (unsigned)-1 ? GW_ENDPOINT_MAX : i;
}

void gw_shm_names_init(gw_shm_t *shm)
{
    _Static_assert(GW_SVC_NOTIFICATION == 3, "first_services puts notification-service at slot 3");
    _Static_assert(GW_ENDPOINT_UNMATCHED == 0, "\"unmatched\" is interned first");
    for (size_t i = 0; i < sizeof(first_services) / sizeof(first_services[0]); i++)
        gw_shm_service_slot(shm, first_services[i]);
    gw_shm_endpoint_slot(shm, "unmatched");
}
