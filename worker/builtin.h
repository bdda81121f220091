/*
 * Built-in endpoints: /health, /ready, /metrics (worker/builtin.c, served
 * from the master's pre-rendered views in the segment) and the admin
 * endpoints (worker/admin.c). Handlers return 0 after answering.
 */
#ifndef GW_BUILTIN_H
#define GW_BUILTIN_H

#include "core/route.h"

struct gw_request;

int gw_builtin_health(struct gw_request *r);
int gw_builtin_ready(struct gw_request *r);
int gw_builtin_metrics(struct gw_request *r);
int gw_admin_workers(struct gw_request *r);
int gw_admin_shm(struct gw_request *r);
int gw_admin_breakers(struct gw_request *r);
int gw_admin_breaker_reset(struct gw_request *r);

/* The handler of a built-in route (core/route.h names them by id); NULL for
 * GW_BUILTIN_NONE. Called by the dispatch stage. */
typedef int (*gw_builtin_fn)(struct gw_request *r);
gw_builtin_fn gw_builtin_handler(gw_builtin_t id);

#endif
