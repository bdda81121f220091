/*
 * The /health view: overall status plus one check per upstream service (the
 * list and its labels come from gw_master_health_checks, master/api_bind.c)
 * and Redis when configured, from the results the probing worker writes
 * into the segment by service slot (shm/health.h). A gRPC backend failing its check makes the
 * gateway "unhealthy" (503). The notification service (HTTP GET on
 * NOTIFICATION_HEALTH_PATH) and Redis only make it "degraded" (200): the
 * gateway still serves everything else, and a 503 would take every instance
 * out of its load balancer for a side service all of them share.
 */
#include <stdio.h>

#include "master/views.h"
#include "shm/health.h"
#include "shm/names.h"

/* Results older than this are stale: the probing worker is gone or stuck. */
#define STALE_MS 30000

static const char *describe(const gw_health_result_t *r, uint64_t now, char *buf, size_t len)
{
    if (r->status == GW_HEALTH_UNKNOWN)
        return "unhealthy: not checked yet";
    if (now > r->checked_ms + STALE_MS) {
        snprintf(buf, len, "unhealthy: last checked %llu s ago",
                 (unsigned long long)((now - r->checked_ms) / 1000));
        return buf;
    }
    if (r->status == GW_HEALTH_OK)
        return "healthy";
    snprintf(buf, len, "%s: %s", r->status == GW_HEALTH_DEGRADED ? "degraded" : "unhealthy", r->reason);
    return buf;
}

int gw_views_render_health(gw_master_t *m, gw_buf_t *b)
{
    uint64_t now = gw_wall_ms();
    bool unhealthy = false, degraded = false;
    char checks[(GW_SVC_MAX + 1) * (GW_SHM_NAME_MAX + GW_HEALTH_REASON_MAX + 64)], reason[256];
    gw_buf_t c;
    gw_buf_init_fixed(&c, checks, sizeof(checks));
    gw_health_check_t list[GW_SVC_MAX];
    size_t n = gw_master_health_checks(m, list, GW_SVC_MAX);
    for (size_t i = 0; i < n; i++) {
        gw_health_result_t r;
        if (!gw_health_read(&m->shm, list[i].slot, &r))
            r.status = GW_HEALTH_UNKNOWN;
        const char *text = describe(&r, now, reason, sizeof(reason));
        if (list[i].degrades_only)
            degraded |= text[0] != 'h'; /* an HTTP side service */
        else
            unhealthy |= text[0] != 'h';
        gw_buf_puts(&c, c.len ? "," : "");
        gw_buf_json_cstr(&c, list[i].label);
        gw_buf_putc(&c, ':');
        gw_buf_json_cstr(&c, text);
    }
    if (m->cfg.redis_url[0] != '\0') {
        gw_health_result_t r;
        if (!gw_health_read(&m->shm, GW_HEALTH_REDIS, &r))
            r.status = GW_HEALTH_UNKNOWN;
        const char *text = r.status == GW_HEALTH_UNKNOWN ? "degraded: not checked yet"
                                                         : describe(&r, now, reason, sizeof(reason));
        degraded |= text[0] != 'h';
        gw_buf_puts(&c, ",\"redis\":");
        gw_buf_json_cstr(&c, text);
    }
    const char *status = unhealthy ? "unhealthy" : degraded ? "degraded" : "healthy";
    gw_buf_printf(b, "{\"status\":\"%s\",\"timestamp\":\"", status);
    gw_buf_time_s(b, now);
    gw_buf_puts(b, "\",\"checks\":{");
    gw_buf_add(b, c.data, c.len);
    gw_buf_puts(b, "}}");
    return unhealthy ? 503 : 200;
}
