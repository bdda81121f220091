/*
 * Rendering and publishing the views (see master/views.h). The buffers are
 * the master's own, reused from one rendering to the next. Each rendering
 * first lets the breakers' timeouts take effect (master/sweep.c), so the
 * breaker gauge is never a tick behind.
 */
#include "master/views.h"

#include <stdlib.h>

#include "master/sweep.h"
#include "shm/view.h"
#include "core/log.h"

void gw_views_render(gw_master_t *m)
{
    static gw_buf_t metrics, health;
    static gw_metrics_slot_t *scratch;
    if (scratch == NULL && (scratch = malloc(sizeof(*scratch))) == NULL)
        return;
    /* Breakers first, so the gauge shows the state a request would meet now. */
    gw_sweep_breakers(m, gw_now_ms());
    metrics.len = 0;
    metrics.truncated = false;
    if (m->cfg.enable_metrics) {
        gw_views_render_metrics(m, &metrics, scratch);
        if (metrics.truncated ||
            gw_view_publish(&m->shm, GW_VIEW_METRICS, metrics.data, metrics.len, 200) != 0)
            gw_logf(GW_LOG_ERROR, "metrics view: %zu bytes do not fit the %u-byte view", metrics.len,
                    (unsigned)gw_view_capacity(GW_VIEW_METRICS));
    }
    health.len = 0;
    health.truncated = false;
    int status = gw_views_render_health(m, &health);
    if (health.truncated || gw_view_publish(&m->shm, GW_VIEW_HEALTH, health.data, health.len, status) != 0)
        gw_logf(GW_LOG_ERROR, "health view does not fit");
}
