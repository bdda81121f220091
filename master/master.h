/*
 * The master process: owns the configuration, the listening socket and the
 * shared segment; forks, watches and replaces workers; turns SIGHUP into a
 * new worker generation and SIGTERM/SIGINT into a graceful stop; renders the
 * aggregated views; runs the limiter sweep. It never serves traffic and
 * never touches gRPC.
 *
 * The master is single-threaded: signals arrive through a signalfd and all
 * work happens in gw_master_run()'s poll loop.
 */
#ifndef GW_MASTER_H
#define GW_MASTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/config.h"
#include "shm/segment.h"

#define GW_MAX_CHILDREN 256

typedef struct {
    pid_t pid;
    unsigned slot;
    uint64_t generation;
    unsigned index;
    uint64_t started_ms;
    bool draining;
    uint64_t kill_at_ms; /* draining: SIGKILL after this (0 = not set) */
} gw_child_t;

typedef struct {
    bool pending;
    uint64_t due_ms;
    unsigned failures; /* consecutive quick crashes, for the backoff */
} gw_respawn_t;

typedef struct gw_master {
    gw_config_t cfg;      /* current configuration */
    gw_config_t prev_cfg; /* during a reload: the one to roll back to */
    bool reload_pending;  /* new generation forked, not yet all ready */
    bool reload_queued;   /* a SIGHUP came during that reload: run another after it */
    uint64_t reload_deadline_ms;
    const char *config_path;

    gw_shm_t shm;
    int listen_fd;
    int sigfd;
    uint64_t generation;
    long nworkers; /* of the current generation */

    gw_child_t children[GW_MAX_CHILDREN];
    size_t nchildren;
    gw_respawn_t respawn[GW_MAX_CHILDREN]; /* by worker index, current generation */

    bool started;        /* the first generation reported ready */
    bool startup_failed; /* a worker of the first generation died starting */
    bool stopping;
    uint64_t stop_deadline_ms;
    uint64_t next_render_ms;
    struct gw_sweep *sweep; /* master/sweep.c */
} gw_master_t;

/* Run until stopped; returns the process exit code. */
int gw_master_run(gw_master_t *m);

/* master/supervisor.c */
int gw_supervisor_spawn_generation(gw_master_t *m);
void gw_supervisor_reap(gw_master_t *m);
void gw_supervisor_tick(gw_master_t *m, uint64_t now);
void gw_supervisor_reload(gw_master_t *m);
void gw_supervisor_stop(gw_master_t *m, bool fast);
size_t gw_supervisor_count(const gw_master_t *m, uint64_t generation, uint64_t state);

/* master/views_metrics.c, master/views_health.c */
void gw_views_render(gw_master_t *m);

struct gw_api;

/* master/api_bind.c: the routes and upstreams a generation serves, bound to
 * the segment's names table (shm/names.h). gw_master_bind_api interns every
 * upstream label and route template and writes the slots into `api`; it
 * runs before a generation forks. 0, or -1 with a line in err (a table is
 * full). */
int gw_master_bind_api(gw_master_t *m, struct gw_api *api, char *err, size_t errlen);

/* One check of /health: a service slot, its label, and whether a failure
 * only degrades the gateway (the HTTP proxy) instead of failing it. */
typedef struct {
    unsigned slot;
    const char *label; /* the current configuration's API owns it */
    bool degrades_only;
} gw_health_check_t;

/* The upstreams /health shows, in order; returns how many (<= max). */
size_t gw_master_health_checks(const gw_master_t *m, gw_health_check_t *out, size_t max);

#endif
