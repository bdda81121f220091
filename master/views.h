/*
 * The master's renderers of the aggregated views (/metrics, /health) that
 * workers serve from the segment. gw_views_render (master.h) runs both and
 * publishes them; the pieces are split by view.
 */
#ifndef GW_VIEWS_H
#define GW_VIEWS_H

#include "master/master.h"
#include "shm/metrics.h"
#include "core/buf.h"

void gw_views_render_metrics(gw_master_t *m, gw_buf_t *b, gw_metrics_slot_t *scratch);
/* Returns the HTTP status to serve the body with. */
int gw_views_render_health(gw_master_t *m, gw_buf_t *b);

#endif
