/*
 * Worker process lifecycle: set up h2o on the inherited listening socket,
 * run the event loop, announce quiescent states and heartbeats to the
 * segment every turn, and drain on SIGTERM (stop accepting, finish in-flight
 * requests, close keep-alive connections, exit). Accepting itself is
 * worker/accept.c. Entered from the master's
 * fork (master/supervisor.c) through gw_worker_main().
 */
#include "worker/worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "shm/qsbr.h"
#include "worker/accept.h"
#include "worker/drain.h"
#include "worker/errfilter.h"
#include "worker/features.h"
#include "worker/h1guard.h"
#include "core/log.h"
#include "worker/pipeline.h"
#include "core/tls.h"

#define LOOP_MAX_WAIT_MS      100 /* bounds the QSBR grace period and heartbeat age */
#define LOG_FLUSH_MS          100
#define DRAIN_IDLE_TIMEOUT_MS 1000
#define DRAIN_FLUSH_MS        500 /* after the 503s at SHUTDOWN_TIMEOUT, before exiting */

static gw_worker_t self;
static volatile sig_atomic_t stop_requested;

gw_worker_t *gw_worker_self(void)
{
    return &self;
}

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void setup_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL); /* reloads are the master's business */
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL); /* the master blocks signals for its signalfd */
}

static void setup_h2o(gw_worker_t *w)
{
    const gw_config_t *cfg = w->cfg;
    h2o_config_init(&w->h2o_config);
    w->h2o_config.server_name = h2o_iovec_init(H2O_STRLIT("api-gateway"));
    w->h2o_config.max_request_entity_size = (size_t)cfg->max_request_size;
    w->h2o_config.http2.graceful_shutdown_timeout = (uint64_t)cfg->shutdown_timeout * 1000;
    h2o_hostconf_t *host =
        h2o_config_register_host(&w->h2o_config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof(*handler));
    handler->on_req = gw_pipeline_on_req;
    h2o_compress_args_t gzip = {.min_size = 1024, .gzip = {.quality = 1}, .brotli = {.quality = -1}};
    h2o_compress_register(path, &gzip);
    gw_errfilter_register(&host->fallback_path);
    gw_h1guard_init(); /* HTTP/1 heads: framing, limits, parse errors (worker/h1guard.c) */

    h2o_context_init(&w->ctx, h2o_evloop_create(), &w->h2o_config);
    w->accept_ctx.ctx = &w->ctx;
    w->accept_ctx.hosts = w->h2o_config.hosts;
    w->accept_ctx.ssl_ctx = w->ssl_ctx;
}

static void begin_drain(gw_worker_t *w)
{
    w->draining = true;
    CMM_STORE_SHARED(w->rec->state, GW_WORKER_DRAINING);
    gw_accept_stop(w);
    /* HTTP/1 answers the next request with Connection: close; HTTP/2 sends
     * GOAWAY. Keep-alive connections idle for a second are closed. */
    h2o_context_request_shutdown(&w->ctx);
    if (w->ctx.http1.req_timeout.timeout > DRAIN_IDLE_TIMEOUT_MS)
        w->ctx.http1.req_timeout.timeout = DRAIN_IDLE_TIMEOUT_MS;
    w->drain_deadline_ms = gw_now_ms() + (uint64_t)w->cfg->shutdown_timeout * 1000;
    gw_logf(GW_LOG_INFO, "worker draining: %llu connections, %llu requests in flight",
            (unsigned long long)w->connections, (unsigned long long)w->inflight);
}

static void run_loop(gw_worker_t *w)
{
    uint64_t last_flush = gw_now_ms();
    for (;;) {
        h2o_evloop_run(w->ctx.loop, LOOP_MAX_WAIT_MS);
        uint64_t now = gw_now_ms();
        gw_qsbr_quiescent(w->shm, w->slot);
        CMM_STORE_SHARED(w->rec->heartbeat_ms, now);
        if (now - last_flush >= LOG_FLUSH_MS) {
            gw_log_flush();
            last_flush = now;
        }
        if (stop_requested && !w->draining)
            begin_drain(w);
        if (w->draining) {
            if (w->connections == 0 && w->inflight == 0)
                return;
            if (now >= w->drain_deadline_ms && !w->drain_cut) {
                /* Answer what is still in flight (503, logged, counted), then
                 * give those responses a moment to be written. */
                gw_logf(GW_LOG_WARN,
                        "drain timeout: %zu requests in flight answered 503; closing %llu connections",
                        gw_drain_cut(), (unsigned long long)w->connections);
                w->drain_cut = true;
                w->drain_deadline_ms = now + DRAIN_FLUSH_MS;
            } else if (now >= w->drain_deadline_ms) {
                return;
            }
        }
    }
}

void gw_worker_main(const gw_config_t *cfg, gw_shm_t *shm, unsigned slot, int listen_fd)
{
    gw_worker_t *w = &self;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != (pid_t)shm->hdr->master_pid)
        _exit(0); /* the master died before prctl took effect */
    setup_signals();
    gw_log_init(cfg->log_level, "worker");

    memset(w, 0, sizeof(*w));
    w->cfg = cfg;
    w->shm = shm;
    w->slot = slot;
    w->rec = gw_shm_worker(shm, slot);
    w->met = gw_shm_metrics(shm, slot);
    w->generation = CMM_LOAD_SHARED(w->rec->generation);
    w->started_ms = gw_now_ms();

    char err[512];
    if (gw_tls_server_ctx(cfg, &w->ssl_ctx, err, sizeof(err)) != 0) {
        gw_logf(GW_LOG_ERROR, "%s", err);
        _exit(1);
    }
    setup_h2o(w);
    if (gw_features_init(w, err, sizeof(err)) != 0) {
        gw_logf(GW_LOG_ERROR, "worker start failed: %s", err);
        _exit(1);
    }

    gw_accept_start(w, listen_fd);
    gw_qsbr_quiescent(shm, slot);
    CMM_STORE_SHARED(w->rec->state, GW_WORKER_READY);
    gw_logf(GW_LOG_INFO, "worker %u ready (generation %llu)", slot, (unsigned long long)w->generation);

    run_loop(w);

    gw_features_shutdown(w);
    gw_logf(GW_LOG_INFO, "worker exiting after %llu requests", (unsigned long long)w->rec->requests);
    gw_log_flush();
    _exit(0);
}
