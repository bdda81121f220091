/*
 * Pre-rendered views in the segment: the master renders the aggregated
 * /metrics text and the /health JSON a few times a second; workers copy the
 * latest one into their response. Each view is double-buffered and each
 * buffer carries its own sequence lock, so a reader copying buffer A is never
 * disturbed by the master writing buffer B, and detects the rare case where
 * the master came back round to A meanwhile.
 */
#ifndef GW_SHM_VIEW_H
#define GW_SHM_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shm/segment.h"

typedef enum { GW_VIEW_METRICS = 0, GW_VIEW_HEALTH, GW_VIEW_COUNT } gw_view_kind_t;

#define GW_VIEW_METRICS_CAP (2u << 20)
#define GW_VIEW_HEALTH_CAP  (16u << 10)

/* Bytes the views region needs. */
size_t gw_view_region_size(void);
size_t gw_view_capacity(gw_view_kind_t kind);

/* Master only: publish a new rendering with the HTTP status to serve it with.
 * Returns 0, or -1 when len exceeds the view's capacity. */
int gw_view_publish(const gw_shm_t *shm, gw_view_kind_t kind, const char *data, size_t len, int status);

/* Copy the latest rendering into dst (cap bytes). Returns its length and
 * sets *status; 0 when nothing has been published yet; -2 when it does not
 * fit in cap (retry with gw_view_length() bytes); -1 if it stayed torn for
 * GW_SEQ_READ_TRIES attempts. */
ssize_t gw_view_read(const gw_shm_t *shm, gw_view_kind_t kind, char *dst, size_t cap, int *status,
                     uint64_t *version);

/* Length of the latest rendering (to size the copy buffer). */
size_t gw_view_length(const gw_shm_t *shm, gw_view_kind_t kind);

#endif
