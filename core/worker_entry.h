/*
 * The worker's entry point as the master sees it: master/supervisor.c calls
 * gw_worker_main() right after fork(); worker/worker.c implements it. Declared
 * here, beneath both, so that the master starts a worker without including
 * anything from worker/ (dependency inversion).
 */
#ifndef GW_WORKER_ENTRY_H
#define GW_WORKER_ENTRY_H

#include "core/config.h"

struct gw_shm;

/* Serve until drained, then exit the process; never returns. */
void gw_worker_main(const gw_config_t *cfg, struct gw_shm *shm, unsigned slot, int listen_fd)
    __attribute__((noreturn));

#endif
