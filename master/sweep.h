/*
 * The master's share of rate limiting and circuit breaking: sizing and
 * initialising their segment regions at start-up, and the periodic limiter
 * cleanup sweep (retire idle entries → QSBR grace period → free them),
 * driven from the master's loop without ever blocking it, and the breakers'
 * tick (an open breaker whose CB_OPEN_TIMEOUT has passed becomes half-open
 * even with no traffic, so the views show the state a request would meet).
 */
#ifndef GW_SWEEP_H
#define GW_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "shm/segment.h"

struct gw_master;

size_t gw_sweep_limiter_bytes(const gw_config_t *cfg);
size_t gw_sweep_breaker_bytes(void);
/* Initialise the limiter region of a fresh segment. */
void gw_sweep_init_regions(gw_shm_t *shm, const gw_config_t *cfg);

void gw_sweep_tick(struct gw_master *m, uint64_t now_ms);

/* One CAS attempt per breaker (shm/breaker.h gw_breaker_tick), logging the
 * transitions it makes. Run on every loop tick and before each rendering. */
void gw_sweep_breakers(struct gw_master *m, uint64_t now_ms);

/* Active limiter entries, refreshed by the sweep's periodic scan. */
uint64_t gw_sweep_active_limiters(const struct gw_master *m);

#endif
