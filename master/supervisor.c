/*
 * Worker supervision: forking generations, reaping, respawning crashed
 * workers with backoff, the reload hand-over (new generation ready → old one
 * drains) and the graceful stop. Called from the master's loop
 * (master/master.c); every function runs on the master's single thread.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "master/master.h"
#include "master/notify.h"
#include "core/log.h"
#include "core/tls.h"
#include "core/worker_entry.h"
#include "shm/limiter.h"

#define RESPAWN_BACKOFF_MAX_MS  5000
#define RESPAWN_STABLE_MS       10000 /* a worker alive this long resets the backoff */
#define RELOAD_READY_TIMEOUT_MS 15000
#define HEARTBEAT_STALE_MS      15000
#define KILL_GRACE_MS           1000

/* The configuration and generation that a fork for `generation` uses. */
static gw_config_t *cfg_for(gw_master_t *m, uint64_t generation)
{
    return (m->reload_pending && generation != m->generation) ? &m->prev_cfg : &m->cfg;
}

static int spawn(gw_master_t *m, uint64_t generation, unsigned index)
{
    if (m->nchildren >= GW_MAX_CHILDREN)
        return -1;
    int slot = gw_shm_slot_claim(&m->shm, generation, index);
    if (slot < 0) {
        gw_logf(GW_LOG_ERROR, "no free worker slot for worker %u of generation %llu (%u slots, all in use)",
                index, (unsigned long long)generation, m->shm.hdr->nslots);
        return -1;
    }
    gw_config_t *cfg = cfg_for(m, generation);
    pid_t pid = fork();
    if (pid < 0) {
        gw_logf(GW_LOG_ERROR, "fork: %s", strerror(errno));
        gw_shm_slot_release(&m->shm, (unsigned)slot);
        return -1;
    }
    if (pid == 0) {
        close(m->sigfd);
        gw_worker_main(cfg, &m->shm, (unsigned)slot, m->listen_fd);
    }
    gw_shm_slot_set_pid(&m->shm, (unsigned)slot, pid);
    gw_child_t *c = &m->children[m->nchildren++];
    *c = (gw_child_t){.pid = pid,
                      .slot = (unsigned)slot,
                      .generation = generation,
                      .index = index,
                      .started_ms = gw_now_ms()};
    return 0;
}

/* During a reload the new generation is m->generation and the serving one
 * is m->generation - 1 with m->prev_cfg; otherwise m->generation serves. */
int gw_supervisor_spawn_generation(gw_master_t *m)
{
    long n = gw_config_worker_count(&m->cfg);
    m->nworkers = n;
    for (long i = 0; i < n; i++)
        if (spawn(m, m->generation, (unsigned)i) != 0)
            return -1;
    return 0;
}

size_t gw_supervisor_count(const gw_master_t *m, uint64_t generation, uint64_t state)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nchildren; i++) {
        const gw_child_t *c = &m->children[i];
        if (c->generation == generation && CMM_LOAD_SHARED(gw_shm_worker(&m->shm, c->slot)->state) == state)
            n++;
    }
    return n;
}

static void signal_generation(gw_master_t *m, uint64_t generation, int sig, bool mark_draining)
{
    uint64_t now = gw_now_ms();
    for (size_t i = 0; i < m->nchildren; i++) {
        gw_child_t *c = &m->children[i];
        if (c->generation != generation)
            continue;
        if (mark_draining && !c->draining) {
            c->draining = true;
            c->kill_at_ms = now + (uint64_t)m->cfg.shutdown_timeout * 1000 + KILL_GRACE_MS;
        }
        kill(c->pid, sig);
    }
}

static void describe_exit(int status, char *buf, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
}

static void schedule_respawn(gw_master_t *m, const gw_child_t *c, uint64_t now)
{
    gw_respawn_t *rs = &m->respawn[c->index];
    if (now - c->started_ms >= RESPAWN_STABLE_MS)
        rs->failures = 0;
    uint64_t delay = rs->failures == 0 ? 0 : 100ULL << (rs->failures - 1);
    if (delay > RESPAWN_BACKOFF_MAX_MS)
        delay = RESPAWN_BACKOFF_MAX_MS;
    if (rs->failures < 16)
        rs->failures++;
    rs->pending = true;
    rs->due_ms = now + delay;
}

static void abort_reload(gw_master_t *m, const char *why);

static void on_child_exit(gw_master_t *m, gw_child_t c, int status)
{
    char how[96];
    describe_exit(status, how, sizeof(how));
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (c.draining || m->stopping) {
        gw_logf(clean ? GW_LOG_INFO : GW_LOG_WARN, "worker %d (generation %llu) %s after draining",
                (int)c.pid, (unsigned long long)c.generation, how);
        return;
    }
    if (m->reload_pending && c.generation == m->generation) {
        abort_reload(m, how);
        return;
    }
    uint64_t serving = m->reload_pending ? m->generation - 1 : m->generation;
    if (c.generation != serving)
        return;
    if (!m->started) {
        gw_logf(GW_LOG_ERROR, "worker %d %s during start-up", (int)c.pid, how);
        m->startup_failed = true;
        gw_supervisor_stop(m, true);
        return;
    }
    uatomic_inc(&m->shm.hdr->worker_restarts_total);
    gw_logf(GW_LOG_ERROR, "worker %d (slot %u) %s; restarting it", (int)c.pid, c.slot, how);
    schedule_respawn(m, &c, gw_now_ms());
}

void gw_supervisor_reap(gw_master_t *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < m->nchildren; i++) {
            if (m->children[i].pid != pid)
                continue;
            gw_child_t c = m->children[i];
            m->children[i] = m->children[--m->nchildren];
            gw_shm_slot_release(&m->shm, c.slot);
            /* A dead worker cannot take back its "Redis down" mark. */
            gw_limiter_global_mark(gw_shm_region(&m->shm, GW_SHM_REGION_LIMITER), c.slot, false);
            on_child_exit(m, c, status);
            break;
        }
    }
}

static void finish_reload(gw_master_t *m)
{
    uint64_t old = m->generation - 1;
    signal_generation(m, old, SIGTERM, true);
    gw_config_free(&m->prev_cfg);
    m->reload_pending = false;
    memset(m->respawn, 0, sizeof(m->respawn));
    CMM_STORE_SHARED(m->shm.hdr->generation, m->generation);
    uatomic_inc(&m->shm.hdr->reloads_total);
    gw_log_set_level(m->cfg.log_level);
    gw_logf(GW_LOG_INFO, "reload complete: generation %llu serving, generation %llu draining",
            (unsigned long long)m->generation, (unsigned long long)old);
    gw_notify_ready();
}

static void abort_reload(gw_master_t *m, const char *why)
{
    gw_logf(GW_LOG_ERROR, "reload failed: a new worker %s; keeping generation %llu", why,
            (unsigned long long)(m->generation - 1));
    signal_generation(m, m->generation, SIGKILL, true);
    gw_config_free(&m->cfg);
    m->cfg = m->prev_cfg;
    memset(&m->prev_cfg, 0, sizeof(m->prev_cfg));
    m->generation--;
    m->nworkers = gw_config_worker_count(&m->cfg);
    m->reload_pending = false;
    uatomic_inc(&m->shm.hdr->reload_failures_total);
    gw_notify_ready();
}

/* A restart-only number keeps its running value; every reload whose file
 * still differs says so again. */
static void keep_long(const char *key, long running, long *next)
{
    if (*next == running)
        return;
    gw_logf(GW_LOG_WARN, "%s change (%ld -> %ld) needs a restart; keeping %ld", key, running, *next, running);
    *next = running;
}

/* Settings fixed at start-up (the listening socket, the segment's tables)
 * keep their running value in the new configuration, so the master's view
 * of them stays true and the next reload compares against what runs. */
static void keep_restart_only(gw_master_t *m, gw_config_t *next)
{
    keep_long("RATE_LIMIT_TABLE_SIZE", m->cfg.rate_limit_table_size, &next->rate_limit_table_size);
    keep_long("REVOCATION_TABLE_SIZE", m->cfg.revocation_table_size, &next->revocation_table_size);
    if (next->port == m->cfg.port && strcmp(next->host, m->cfg.host) == 0)
        return;
    gw_logf(GW_LOG_WARN, "API_GATEWAY_HOST/PORT change (%s:%ld) needs a restart; still listening on %s:%ld",
            next->host, next->port, m->cfg.host, m->cfg.port);
    char *host = strdup(m->cfg.host);
    if (host == NULL)
        return; /* out of memory: the new value is only reported wrongly */
    free(next->host);
    next->host = host;
    next->port = m->cfg.port;
}

void gw_supervisor_reload(gw_master_t *m)
{
    if (m->stopping)
        return;
    if (m->reload_pending) {
        /* Re-read the file once this reload is done, so an edit made after
         * it read the file is not lost; several HUPs collapse into one. */
        if (!m->reload_queued)
            gw_logf(GW_LOG_INFO, "reload in progress (generation %llu starting); queued another one",
                    (unsigned long long)m->generation);
        m->reload_queued = true;
        return;
    }
    gw_notify_reloading();
    gw_config_t next;
    char err[GW_CONFIG_ERR_MAX];
    if (gw_config_load(&next, m->config_path, err, sizeof(err)) != 0 ||
        gw_tls_check(&next, err, sizeof(err)) != 0 ||
        gw_master_bind_api(m, next.api, err, sizeof(err)) != 0) {
        if (next.host != NULL)
            gw_config_free(&next);
        uatomic_inc(&m->shm.hdr->reload_failures_total);
        gw_logf(GW_LOG_ERROR, "reload failed: %s; keeping the current configuration", err);
        gw_notify_ready();
        return;
    }
    keep_restart_only(m, &next);
    m->prev_cfg = m->cfg;
    m->cfg = next;
    m->generation++;
    m->reload_pending = true;
    m->reload_deadline_ms = gw_now_ms() + RELOAD_READY_TIMEOUT_MS;
    gw_logf(GW_LOG_INFO, "reloading: starting generation %llu", (unsigned long long)m->generation);
    if (gw_supervisor_spawn_generation(m) != 0)
        abort_reload(m, "could not be started");
}

void gw_supervisor_stop(gw_master_t *m, bool fast)
{
    if (m->stopping && !fast)
        return;
    if (!m->stopping) {
        m->stopping = true;
        CMM_STORE_SHARED(m->shm.hdr->state, GW_STATE_STOPPING);
        gw_notify_stopping();
        m->stop_deadline_ms = gw_now_ms() + (uint64_t)m->cfg.shutdown_timeout * 1000 + KILL_GRACE_MS;
        /* Once the workers close their copies too, new connections are
         * refused instead of waiting in a queue nobody accepts from. */
        close(m->listen_fd);
        m->listen_fd = -1;
        gw_logf(GW_LOG_INFO, "stopping: draining %zu workers (up to %ld s)", m->nchildren,
                m->cfg.shutdown_timeout);
    }
    for (size_t i = 0; i < m->nchildren; i++) {
        m->children[i].draining = true;
        kill(m->children[i].pid, fast ? SIGKILL : SIGTERM);
    }
}

static void check_heartbeats(gw_master_t *m, uint64_t now)
{
    for (size_t i = 0; i < m->nchildren; i++) {
        gw_child_t *c = &m->children[i];
        gw_shm_worker_t *rec = gw_shm_worker(&m->shm, c->slot);
        uint64_t hb = CMM_LOAD_SHARED(rec->heartbeat_ms);
        if (CMM_LOAD_SHARED(rec->state) == GW_WORKER_READY && now > hb + HEARTBEAT_STALE_MS) {
            gw_logf(GW_LOG_ERROR, "worker %d unresponsive for %llu ms; killing it", (int)c->pid,
                    (unsigned long long)(now - hb));
            kill(c->pid, SIGKILL);
        }
        if (c->draining && c->kill_at_ms != 0 && now >= c->kill_at_ms) {
            gw_logf(GW_LOG_WARN, "worker %d still draining after SHUTDOWN_TIMEOUT; killing it", (int)c->pid);
            kill(c->pid, SIGKILL);
            c->kill_at_ms = 0;
        }
    }
}

void gw_supervisor_tick(gw_master_t *m, uint64_t now)
{
    if (m->stopping) {
        if (now >= m->stop_deadline_ms && m->nchildren > 0) {
            gw_logf(GW_LOG_WARN, "SHUTDOWN_TIMEOUT reached; killing %zu workers", m->nchildren);
            gw_supervisor_stop(m, true);
            m->stop_deadline_ms = UINT64_MAX;
        }
        return;
    }
    if (!m->started && gw_supervisor_count(m, m->generation, GW_WORKER_READY) == (size_t)m->nworkers) {
        m->started = true;
        gw_logf(GW_LOG_INFO, "api-gateway ready: %ld workers on %s:%ld", m->nworkers, m->cfg.host,
                m->cfg.port);
        gw_notify_ready();
    }
    if (m->reload_pending) {
        if (gw_supervisor_count(m, m->generation, GW_WORKER_READY) == (size_t)m->nworkers)
            finish_reload(m);
        else if (now >= m->reload_deadline_ms)
            abort_reload(m, "did not become ready in time");
    }
    if (m->reload_queued && !m->reload_pending) {
        m->reload_queued = false;
        gw_logf(GW_LOG_INFO, "running the queued reload");
        gw_supervisor_reload(m);
    }
    uint64_t serving = m->reload_pending ? m->generation - 1 : m->generation;
    for (long i = 0; i < m->nworkers && i < GW_MAX_CHILDREN; i++) {
        gw_respawn_t *rs = &m->respawn[i];
        if (rs->pending && now >= rs->due_ms && !m->reload_pending) {
            rs->pending = false;
            spawn(m, serving, (unsigned)i);
        }
    }
    check_heartbeats(m, now);
}
