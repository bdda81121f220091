/*
 * Binding what a generation serves to the segment's names table
 * (shm/names.h): the master interns every endpoint label and hands each
 * route its slot before it forks the workers, which count requests in that
 * slot; and it says which service slots /health shows. A name keeps its
 * slot for the segment's life, so counts and breaker states follow a route
 * template or a service across reloads.
 *
 * Today the routes are the compiled-in table (core/route_table.c) and the
 * services are the four bundled ones, whose slots the segment fixed when it
 * was made. With descriptor sets (core/api.h) these two functions walk the
 * generation's gw_api_t instead: route->endpoint and upstream->slot.
 */
#include <stdio.h>

#include "core/route.h"
#include "master/master.h"
#include "shm/names.h"

int gw_master_bind_routes(gw_master_t *m, char *err, size_t errlen)
{
    gw_router_init();
    unsigned n = gw_router_endpoint_count(); /* templates, then "unmatched" */
    for (unsigned i = 0; i < n; i++) {
        const char *name = gw_router_endpoint_name(i);
        unsigned slot = gw_shm_endpoint_slot(&m->shm, name);
        if (slot >= GW_ENDPOINT_MAX) {
            snprintf(err, errlen,
                     "route template %s: no endpoint slot left (%u in use since start, or the name is "
                     "%u bytes or more); restart the gateway to reclaim the slots of removed routes",
                     name, gw_shm_nendpoints(&m->shm), GW_SHM_NAME_MAX);
            return -1;
        }
        gw_router_bind_endpoint(i, slot);
    }
    return 0;
}

size_t gw_master_health_checks(const gw_master_t *m, gw_health_check_t *out, size_t max)
{
    static const unsigned shown[] = {GW_SVC_AUTH, GW_SVC_USER, GW_SVC_TENANT, GW_SVC_NOTIFICATION};
    size_t n = 0;
    for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]) && n < max; i++)
        out[n++] = (gw_health_check_t){.slot = shown[i],
                                       .label = gw_shm_service_name(&m->shm, shown[i]),
                                       .degrades_only = shown[i] == GW_SVC_NOTIFICATION};
    return n;
}
