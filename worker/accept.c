/*
 * The accept path of a worker (see worker/accept.h).
 *
 * The listening socket is level-triggered and shared by every worker (each
 * one's epoll watches the same queue; all of them wake for a new connection
 * and the first accept4 wins, the others get EAGAIN). A connection stays with
 * the worker that accepted it, so left alone a burst of keep-alive
 * connections lands mostly on whichever worker woke first (48/2 was measured).
 *
 * Balance (as Envoy's exact balance does for its threads): every worker
 * publishes its open connections in its segment record, and before each
 * accept compares its own with the mean of the ready workers of the serving
 * generation (gw_shm_above_share). A worker holding at least one connection
 * more than the mean leaves the queue to the others: it stops reading the
 * listener and looks again after BALANCE_RECHECK_MS, or at once when one of
 * its connections closes. The recheck is short because the mean moves while
 * a worker waits: a decision taken on a stale mean would otherwise keep it
 * out while the others, one by one, reach the mean too and defer as well.
 * The timer runs only while this worker defers, and costs one poll(2). At any
 * instant the worker at or below the mean accepts, so the rule cannot starve
 * the queue; a worker alone, one outside the serving generation (during a
 * reload, or on its way out) and one whose peers are all paused (EMFILE) or
 * silent (no heartbeat) never defers. Should the others still leave a
 * connection queued for BALANCE_MAX_DEFER_MS, the deferring worker takes the
 * queue until it is empty.
 *
 * When accept4 fails for lack of resources (EMFILE: this process is at
 * RLIMIT_NOFILE; ENFILE: the system table is full; ENOBUFS/ENOMEM) the
 * connection stays queued, so retrying at once would spin at full CPU
 * without making progress. Instead, as nginx does, the worker stops reading
 * the listener for ACCEPT_BACKOFF_MS or until one of its own connections
 * closes (which frees a descriptor), whichever comes first; other workers
 * keep taking the queue meanwhile, and its record says it is paused so they
 * do not leave the queue to it.
 *
 * Each failure is counted (api_gateway_accept_errors_total{reason}) and a
 * warn line goes out at most once per ACCEPT_LOG_INTERVAL_MS per worker,
 * saying how many failures it stands for.
 */
#include "worker/accept.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "core/log.h"

#define ACCEPT_BATCH           16 /* connections per wake-up, so one busy listener cannot starve requests */
#define ACCEPT_BACKOFF_MS      200
#define ACCEPT_LOG_INTERVAL_MS 1000
#define BALANCE_RECHECK_MS     1    /* a worker above its share looks again this often */
#define BALANCE_MAX_DEFER_MS   1000 /* a connection the others leave queued this long is taken anyway */
#define BALANCE_STALE_MS       1000 /* peers without a heartbeat this long are left out of the mean */

/* Per-process state (a worker has one listener). */
static struct {
    int fd; /* this process's copy of the listening socket, -1 once stopped */
    h2o_timeout_t backoff;
    h2o_timeout_entry_t resume; /* in backoff: the EMFILE pause */
    h2o_timeout_t recheck;
    h2o_timeout_entry_t rearm; /* in recheck: the balance deferral */
    bool paused;               /* listener not being read until resume() */
    uint64_t deferred_since;   /* when a deferral began with connections queued; 0 = none */
    uint64_t next_log_ms;      /* no warn line before this */
    uint64_t unlogged;         /* failures since the last warn line */
} acc;

static void on_accept(h2o_socket_t *listener, const char *err);

static void resume(gw_worker_t *w)
{
    if (!acc.paused)
        return;
    acc.paused = false;
    CMM_STORE_SHARED(w->rec->paused, 0);
    if (h2o_timeout_is_linked(&acc.resume))
        h2o_timeout_unlink(&acc.resume);
    if (h2o_timeout_is_linked(&acc.rearm))
        h2o_timeout_unlink(&acc.rearm);
    if (w->listener != NULL)
        h2o_socket_read_start(w->listener, on_accept);
}

/* Whether a connection waits in the shared queue right now. */
static bool queue_nonempty(void)
{
    struct pollfd p = {.fd = acc.fd, .events = POLLIN};
    return acc.fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

static void on_recheck(h2o_timeout_entry_t *entry)
{
    (void)entry;
    /* The others emptied the queue meanwhile: the next deferral starts a
     * new BALANCE_MAX_DEFER_MS. */
    if (!queue_nonempty())
        acc.deferred_since = 0;
    resume(gw_worker_self()); /* on_accept decides again if one is queued */
}

/* Leave the queue to the others while this worker is above its share,
 * unless they have left a connection waiting too long. */
static bool defer_to_others(gw_worker_t *w, uint64_t now)
{
    if (!gw_shm_above_share(w->shm, w->slot, w->connections, now, BALANCE_STALE_MS))
        return false;
    if (acc.deferred_since != 0 && now - acc.deferred_since >= BALANCE_MAX_DEFER_MS)
        return false;
    if (acc.deferred_since == 0)
        acc.deferred_since = now;
    CMM_STORE_SHARED(w->rec->deferrals, w->rec->deferrals + 1); /* single writer */
    acc.paused = true;
    h2o_socket_read_stop(w->listener);
    h2o_timeout_link(w->ctx.loop, &acc.recheck, &acc.rearm);
    return true;
}

static void on_backoff_over(h2o_timeout_entry_t *entry)
{
    (void)entry;
    resume(gw_worker_self());
}

static void on_conn_close(void *data)
{
    gw_worker_t *w = data;
    w->connections--;
    CMM_STORE_SHARED(w->rec->connections, w->connections);
    resume(w); /* a descriptor just came free */
}

/* Errors that concern one connection only (the client went away, a network
 * error accept(2) reports early on Linux): take the next one. */
static bool per_connection_error(int err)
{
    switch (err) {
    case ECONNABORTED:
    case EINTR:
    case EPROTO:
    case EPERM:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
        return true;
    default:
        return false;
    }
}

static gw_counter_t error_counter(int err, const char **name)
{
    switch (err) {
    case EMFILE:
        *name = "EMFILE";
        return GW_CTR_ACCEPT_EMFILE;
    case ENFILE:
        *name = "ENFILE";
        return GW_CTR_ACCEPT_ENFILE;
    case ENOBUFS:
        *name = "ENOBUFS";
        return GW_CTR_ACCEPT_ENOMEM;
    case ENOMEM:
        *name = "ENOMEM";
        return GW_CTR_ACCEPT_ENOMEM;
    default:
        *name = "other";
        return GW_CTR_ACCEPT_OTHER;
    }
}

static void log_pause(gw_worker_t *w, int err, const char *name)
{
    uint64_t now = gw_now_ms();
    acc.unlogged++;
    if (now < acc.next_log_ms)
        return;
    acc.next_log_ms = now + ACCEPT_LOG_INTERVAL_MS;
    struct rlimit rl = {0};
    getrlimit(RLIMIT_NOFILE, &rl);
    char msg[256];
    snprintf(msg, sizeof(msg), "accept: %s (%s); worker %u pauses accepting for %d ms", strerror(err), name,
             w->slot, ACCEPT_BACKOFF_MS);
    gw_log_line_t l;
    gw_log_begin(&l, GW_LOG_WARN, msg);
    gw_log_str(&l, "errno", name);
    gw_log_int(&l, "worker", w->slot);
    gw_log_int(&l, "failures", (int64_t)acc.unlogged); /* since the previous line */
    gw_log_int(&l, "connections", (int64_t)w->connections);
    gw_log_int(&l, "nofile_limit", rl.rlim_cur == RLIM_INFINITY ? -1 : (int64_t)rl.rlim_cur);
    gw_log_end(&l);
    acc.unlogged = 0;
}

static void pause_accepting(gw_worker_t *w, int err)
{
    const char *name;
    gw_met_count(w->met, error_counter(err, &name));
    log_pause(w, err, name);
    acc.paused = true;
    CMM_STORE_SHARED(w->rec->paused, 1); /* the others stop leaving the queue to this worker */
    h2o_socket_read_stop(w->listener);
    h2o_timeout_link(w->ctx.loop, &acc.backoff, &acc.resume);
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    gw_worker_t *w = listener->data;
    if (err != NULL)
        return;
    uint64_t now = gw_now_ms();
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        if (defer_to_others(w, now))
            return;
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL) {
            int e = errno; /* accept4's: h2o returns right after it fails */
            if (e == EAGAIN || e == EWOULDBLOCK) {
                acc.deferred_since = 0; /* queue empty */
                return;
            }
            if (per_connection_error(e))
                continue;
            pause_accepting(w, e);
            return;
        }
        w->connections++;
        CMM_STORE_SHARED(w->rec->connections, w->connections);
        sock->on_close.cb = on_conn_close;
        sock->on_close.data = w;
        h2o_accept(&w->accept_ctx, sock);
    }
}

void gw_accept_start(gw_worker_t *w, int listen_fd)
{
    h2o_timeout_init(w->ctx.loop, &acc.backoff, ACCEPT_BACKOFF_MS);
    acc.resume.cb = on_backoff_over;
    h2o_timeout_init(w->ctx.loop, &acc.recheck, BALANCE_RECHECK_MS);
    acc.rearm.cb = on_recheck;
    acc.fd = listen_fd;
    w->listener = h2o_evloop_socket_create(w->ctx.loop, listen_fd, H2O_SOCKET_FLAG_DONT_READ);
    w->listener->data = w;
    h2o_socket_read_start(w->listener, on_accept);
}

void gw_accept_stop(gw_worker_t *w)
{
    if (h2o_timeout_is_linked(&acc.resume))
        h2o_timeout_unlink(&acc.resume);
    if (h2o_timeout_is_linked(&acc.rearm))
        h2o_timeout_unlink(&acc.rearm);
    acc.paused = false;
    CMM_STORE_SHARED(w->rec->paused, 0); /* the record says DRAINING now */
    acc.fd = -1;
    if (w->listener == NULL)
        return;
    /* Closes only this process's copy of the listening socket: queued
     * connections stay in the kernel's queue for the other workers. */
    h2o_socket_read_stop(w->listener);
    h2o_socket_close(w->listener);
    w->listener = NULL;
}
