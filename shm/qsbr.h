/*
 * Cross-process quiescent-state-based reclamation (QSBR) over the segment.
 *
 * liburcu's grace periods do not cross processes, so the segment carries its
 * own: a global epoch in the header and, in each worker record, the last
 * epoch that worker observed at a quiescent point (between two turns of its
 * event loop, where it holds no reference into a shared table).
 *
 *   reclaimer (the master's sweep)            worker (each loop turn)
 *   1. unpublish items (mark them retired)    ... use shared entries ...
 *   2. target = ++epoch  (full barrier)       gw_qsbr_quiescent():
 *   3. wait until every online record has       mb; qs_epoch = epoch; mb
 *      qs_epoch >= target                     ... next turn ...
 *   4. reuse the items
 *
 * After step 3 no worker can still hold a reference obtained before step 1.
 * Offline records (FREE) are skipped, and so are records whose process no
 * longer exists, so a worker killed at any instruction never stalls a grace
 * period for longer than it takes the master to notice the death.
 * Workers must not keep a pointer into a reclaimable table across a return
 * to the event loop (callbacks, timers): look entries up again instead.
 */
#ifndef GW_SHM_QSBR_H
#define GW_SHM_QSBR_H

#include <stdbool.h>
#include <stdint.h>

#include "shm/segment.h"

/* Worker: announce a quiescent state for the record in `slot`. */
void gw_qsbr_quiescent(const gw_shm_t *shm, unsigned slot);

/* Reclaimer: begin a grace period after unpublishing; returns its target. */
uint64_t gw_qsbr_begin(const gw_shm_t *shm);

/* Reclaimer: true once every online worker has passed `target`. If `blocker`
 * is not NULL it receives the slot still holding the grace period up. */
bool gw_qsbr_poll(const gw_shm_t *shm, uint64_t target, int *blocker);

/* Reclaimer: poll until done or timeout_ms elapses; true when done. */
bool gw_qsbr_wait(const gw_shm_t *shm, uint64_t target, uint64_t timeout_ms);

#endif
