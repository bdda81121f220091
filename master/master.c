/*
 * The master's event loop: signals through a signalfd, a poll with a short
 * timeout for the periodic work (views, respawns, drain deadlines, sweep).
 * Entered from main() after the config, socket and segment are ready.
 */
#include "master/master.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "master/sweep.h"
#include "core/log.h"

#define TICK_MS            50
#define RENDER_INTERVAL_MS 250

static int setup_signalfd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void handle_signals(gw_master_t *m)
{
    struct signalfd_siginfo si;
    while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        switch (si.ssi_signo) {
        case SIGHUP:
            gw_logf(GW_LOG_INFO, "SIGHUP: reloading %s",
                    m->config_path ? m->config_path : "(environment only)");
            gw_supervisor_reload(m);
            break;
        case SIGTERM:
        case SIGINT:
        case SIGQUIT:
            /* A second stop signal while draining means "now". */
            gw_logf(GW_LOG_INFO, "%s: %s stop", strsignal((int)si.ssi_signo),
                    m->stopping ? "fast" : "graceful");
            gw_supervisor_stop(m, m->stopping);
            break;
        case SIGCHLD:
            break; /* reaped below */
        }
    }
}

int gw_master_run(gw_master_t *m)
{
    m->sigfd = setup_signalfd();
    if (m->sigfd < 0) {
        gw_logf(GW_LOG_ERROR, "signalfd: %s", strerror(errno));
        return 1;
    }
    m->shm.hdr->master_pid = (uint64_t)getpid();
    m->generation = 1;
    m->shm.hdr->generation = 1;
    gw_views_render(m); /* workers serve /health and /metrics from the first request */
    if (gw_supervisor_spawn_generation(m) != 0)
        return 1;
    gw_sweep_tick(m, gw_now_ms()); /* schedules the first sweep from the start-up config */
    for (;;) {
        struct pollfd pfd = {.fd = m->sigfd, .events = POLLIN};
        poll(&pfd, 1, TICK_MS);
        handle_signals(m);
        gw_supervisor_reap(m);
        uint64_t now = gw_now_ms();
        gw_supervisor_tick(m, now);
        if (m->stopping && m->nchildren == 0)
            break;
        if (now >= m->next_render_ms) {
            gw_views_render(m);
            m->next_render_ms = now + RENDER_INTERVAL_MS;
        }
        gw_sweep_tick(m, now);
    }
    gw_logf(GW_LOG_INFO, "api-gateway stopped");
    return m->startup_failed ? 1 : 0;
}
