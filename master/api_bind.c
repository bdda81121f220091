/*
 * Binding what a generation serves to the segment's names table
 * (shm/names.h): before it forks a generation's workers, the master interns
 * every upstream's label and every route template and writes the slots into
 * the generation's API (upstream->slot, route->endpoint), which the workers
 * inherit; and it says which service slots /health shows. A name keeps its
 * slot for the segment's life, so counts and breaker states follow a route
 * template or a service across reloads that add, drop or reorder them.
 * Called at start (master/main.c) and on every reload (master/supervisor.c).
 */
#include <stdio.h>

#include "core/api.h"
#include "core/config.h"
#include "master/master.h"
#include "shm/names.h"

int gw_master_bind_api(gw_master_t *m, gw_api_t *api, char *err, size_t errlen)
{
    for (size_t i = 0; i < api->nupstreams; i++) {
        gw_upstream_t *u = &api->upstreams[i];
        u->slot = gw_shm_service_slot(&m->shm, u->label);
        if (u->slot >= GW_SVC_MAX) {
            snprintf(err, errlen,
                     "upstream %s: no service slot left (%u in use since start, or the name is %u bytes or "
                     "more); restart the gateway to reclaim the slots of removed services",
                     u->label, gw_shm_nservices(&m->shm), GW_SHM_NAME_MAX);
            return -1;
        }
    }
    for (size_t i = 0; i < api->nroutes; i++) {
        gw_route_t *r = &api->routes[i];
        r->endpoint = gw_shm_endpoint_slot(&m->shm, r->tmpl);
        if (r->endpoint >= GW_ENDPOINT_MAX) {
            snprintf(err, errlen,
                     "route template %s: no endpoint slot left (%u in use since start, or the name is "
                     "%u bytes or more); restart the gateway to reclaim the slots of removed routes",
                     r->tmpl, gw_shm_nendpoints(&m->shm), GW_SHM_NAME_MAX);
            return -1;
        }
    }
    return 0;
}

size_t gw_master_health_checks(const gw_master_t *m, gw_health_check_t *out, size_t max)
{
    const gw_api_t *api = m->cfg.api;
    size_t n = 0;
    for (size_t i = 0; i < api->nupstreams && n < max; i++)
        out[n++] = (gw_health_check_t){.slot = api->upstreams[i].slot,
                                       .label = api->upstreams[i].label,
                                       .degrades_only = api->upstreams[i].service == NULL};
    return n;
}
