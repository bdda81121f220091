/*
 * The segment's cross-process QSBR (protocol in shm/qsbr.h and
 * docs/ARCHITECTURE.md). Workers call gw_qsbr_quiescent once per loop turn;
 * the master's limiter sweep drives begin/poll.
 */
#include "shm/qsbr.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

void gw_qsbr_quiescent(const gw_shm_t *shm, unsigned slot)
{
    gw_shm_worker_t *w = gw_shm_worker(shm, slot);
    /* Order every earlier access to shared entries before the announcement,
     * and the announcement before any later access. */
    cmm_smp_mb();
    CMM_STORE_SHARED(w->qs_epoch, uatomic_read(&shm->hdr->qsbr_epoch));
    cmm_smp_mb();
}

uint64_t gw_qsbr_begin(const gw_shm_t *shm)
{
    cmm_smp_mb();
    return uatomic_add_return(&shm->hdr->qsbr_epoch, 1);
}

static bool process_gone(uint64_t pid)
{
    return pid != 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

bool gw_qsbr_poll(const gw_shm_t *shm, uint64_t target, int *blocker)
{
    for (unsigned i = 0; i < shm->hdr->nslots; i++) {
        gw_shm_worker_t *w = gw_shm_worker(shm, i);
        if (CMM_LOAD_SHARED(w->state) == GW_WORKER_FREE)
            continue;
        if (CMM_LOAD_SHARED(w->qs_epoch) >= target)
            continue;
        if (process_gone(CMM_LOAD_SHARED(w->pid)))
            continue;
        if (blocker != NULL)
            *blocker = (int)i;
        return false;
    }
    cmm_smp_mb(); /* the reuse that follows must not move before the check */
    return true;
}

bool gw_qsbr_wait(const gw_shm_t *shm, uint64_t target, uint64_t timeout_ms)
{
    uint64_t deadline = gw_now_ms() + timeout_ms;
    while (!gw_qsbr_poll(shm, target, NULL)) {
        if (gw_now_ms() >= deadline)
            return false;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return true;
}
