/*
 * Built-in endpoints: /health, /ready, /metrics (worker/builtin.c, served
 * from the master's pre-rendered views in the segment) and the admin
 * endpoints (worker/admin.c). Handlers return 0 after answering.
 */
#ifndef GW_BUILTIN_H
#define GW_BUILTIN_H

struct gw_request;

int gw_builtin_health(struct gw_request *r);
int gw_builtin_ready(struct gw_request *r);
int gw_builtin_metrics(struct gw_request *r);
int gw_admin_workers(struct gw_request *r);
int gw_admin_shm(struct gw_request *r);
int gw_admin_breakers(struct gw_request *r);
int gw_admin_breaker_reset(struct gw_request *r);

#endif
