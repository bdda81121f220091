/*
 * hiredis async on the h2o event loop (see worker/clients/redis.h).
 *
 * Adapter: the connection's fd is wrapped in an h2o socket with
 * H2O_SOCKET_FLAG_DONT_READ, so h2o only reports readiness and hiredis does
 * the I/O. hiredis closes the fd itself; on cleanup the h2o socket is
 * exported (detached) rather than closed.
 *
 * Commands: each is a heap record with a timer. Whichever comes first — the
 * reply or the timeout — calls the user's callback; the record is freed
 * when hiredis lets go of it (reply, or NULL reply at disconnect). A run of
 * timeouts drops the connection, which then reconnects with backoff.
 *
 * REDIS_URL=redis-cluster://... : every entry point below hands over to
 * worker/redis_cluster.c (gw_rc_*), which reuses gw_redis_attach.
 *
 * Lifetime trap: hiredis frees the redisAsyncContext right after the
 * disconnect callback; nothing here touches it afterwards.
 */
#include "worker/clients/redis.h"

#include <async.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shm/metrics.h"
#include "core/log.h"
#include "worker/clients/redis_cluster.h"
#include "worker/clients/redis_int.h"

#define RECONNECT_MIN_MS          100
#define RECONNECT_MAX_MS          5000
#define TIMEOUTS_BEFORE_RECONNECT 3

typedef struct gw_redis {
    gw_worker_t *w;
    char host[256];
    int port;
    char unix_path[256];
    char password[256];
    int db;
    redisAsyncContext *ac; /* NULL while down */
    bool up;               /* connected (and AUTH/SELECT sent) */
    char last_error[160];
    unsigned consecutive_timeouts;
    uint64_t backoff_ms;
    h2o_timeout_t cmd_timeout;
    h2o_timeout_t retry_timeout; /* re-linked with varying delays via a 100 ms tick */
    h2o_timeout_entry_t retry_entry;
    uint64_t retry_at_ms;
} gw_redis_t;

typedef struct {
    h2o_socket_t *sock;
    redisAsyncContext *ac;
    bool want_write;
} adapter_t;

/* ---- adapter ------------------------------------------------------------ */

static void on_readable(h2o_socket_t *sock, const char *err)
{
    (void)err;
    adapter_t *a = sock->data;
    redisAsyncHandleRead(a->ac);
}

static void on_writable(h2o_socket_t *sock, const char *err)
{
    (void)err;
    adapter_t *a = sock->data;
    if (a->want_write) {
        a->want_write = false;
        redisAsyncHandleWrite(a->ac);
    }
}

static void add_read(void *p)
{
    adapter_t *a = p;
    if (!h2o_socket_is_reading(a->sock))
        h2o_socket_read_start(a->sock, on_readable);
}

static void del_read(void *p)
{
    adapter_t *a = p;
    if (h2o_socket_is_reading(a->sock))
        h2o_socket_read_stop(a->sock);
}

static void add_write(void *p)
{
    adapter_t *a = p;
    if (!a->want_write && !h2o_socket_is_writing(a->sock))
        h2o_socket_notify_write(a->sock, on_writable);
    a->want_write = true;
}

static void del_write(void *p)
{
    adapter_t *a = p;
    a->want_write = false;
}

static void cleanup(void *p)
{
    adapter_t *a = p;
    h2o_socket_export_t info;
    /* h2o 2.2.5 cannot cancel a pending write notification and refuses to
     * export a socket that has one: clear it (the socket is going away). */
    a->sock->_cb.write = NULL;
    del_read(a);
    if (h2o_socket_export(a->sock, &info) == 0)
        h2o_buffer_dispose(&info.input);
    free(a);
}

int gw_redis_attach(redisAsyncContext *ac, h2o_loop_t *loop)
{
    adapter_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return -1;
    a->ac = ac;
    a->sock = h2o_evloop_socket_create(loop, ac->c.fd, H2O_SOCKET_FLAG_DONT_READ);
    a->sock->data = a;
    ac->ev.data = a;
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    return 0;
}

/* ---- connection --------------------------------------------------------- */

static gw_redis_t *the_redis; /* per process: hiredis callbacks carry no user pointer */

static void count_error(gw_redis_t *r)
{
    gw_met_count(r->w->met, GW_CTR_REDIS_ERRORS);
}

static void schedule_reconnect(gw_redis_t *r)
{
    r->backoff_ms = r->backoff_ms == 0 ? RECONNECT_MIN_MS : r->backoff_ms * 2;
    if (r->backoff_ms > RECONNECT_MAX_MS)
        r->backoff_ms = RECONNECT_MAX_MS;
    r->retry_at_ms = gw_now_ms() + r->backoff_ms;
}

static void set_down(gw_redis_t *r, const char *why)
{
    bool was_up = r->up;
    r->up = false;
    r->ac = NULL;
    snprintf(r->last_error, sizeof(r->last_error), "%s", why);
    if (was_up || r->backoff_ms == 0)
        gw_logf(GW_LOG_WARN, "redis unavailable: %s; retrying with backoff", why);
    schedule_reconnect(r);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    gw_redis_t *r = the_redis;
    if (status != REDIS_OK) {
        count_error(r);
        set_down(r, ac->errstr[0] ? ac->errstr : "connect failed");
        return;
    }
    if (!r->up && r->last_error[0] != '\0')
        gw_logf(GW_LOG_INFO, "redis connection restored");
    r->up = true;
    r->backoff_ms = 0;
    r->consecutive_timeouts = 0;
    r->last_error[0] = '\0';
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    gw_redis_t *r = the_redis;
    if (r->ac != ac)
        return; /* an old context we already gave up on */
    if (status != REDIS_OK)
        count_error(r);
    set_down(r, status == REDIS_OK ? "disconnected" : (ac->errstr[0] ? ac->errstr : "connection lost"));
}

static void connect_now(gw_redis_t *r)
{
    redisAsyncContext *ac =
        r->unix_path[0] ? redisAsyncConnectUnix(r->unix_path) : redisAsyncConnect(r->host, r->port);
    if (ac == NULL || ac->err) {
        set_down(r, ac ? ac->errstr : "out of memory");
        if (ac != NULL)
            redisAsyncFree(ac);
        return;
    }
    if (gw_redis_attach(ac, r->w->ctx.loop) != 0) {
        redisAsyncFree(ac);
        set_down(r, "out of memory");
        return;
    }
    r->ac = ac;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    /* Queued now, sent as soon as the connection is up. */
    if (r->password[0] != '\0')
        redisAsyncCommand(ac, NULL, NULL, "AUTH %s", r->password);
    if (r->db != 0)
        redisAsyncCommand(ac, NULL, NULL, "SELECT %d", r->db);
}

static void on_retry_tick(h2o_timeout_entry_t *e)
{
    gw_redis_t *r = H2O_STRUCT_FROM_MEMBER(gw_redis_t, retry_entry, e);
    if (r->ac == NULL && gw_now_ms() >= r->retry_at_ms)
        connect_now(r);
    h2o_timeout_link(r->w->ctx.loop, &r->retry_timeout, &r->retry_entry);
}

/* redis://[:password@]host[:port][/db] or unix:///path */
static int parse_url(gw_redis_t *r, const char *url, char *err, size_t errlen)
{
    r->port = 6379;
    if (strncmp(url, "unix://", 7) == 0) {
        snprintf(r->unix_path, sizeof(r->unix_path), "%s", url + 7);
        return 0;
    }
    const char *p = url + 8; /* after redis:// (validated by the config loader) */
    const char *at = strchr(p, '@');
    if (at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;
        snprintf(r->password, sizeof(r->password), "%.*s", (int)(at - pw), pw);
        p = at + 1;
    }
    size_t hostlen = strcspn(p, ":/");
    if (hostlen == 0 || hostlen >= sizeof(r->host)) {
        snprintf(err, errlen, "REDIS_URL: no host in %s", url);
        return -1;
    }
    memcpy(r->host, p, hostlen);
    r->host[hostlen] = '\0';
    p += hostlen;
    if (*p == ':')
        r->port = (int)strtol(p + 1, (char **)&p, 10);
    if (*p == '/')
        r->db = (int)strtol(p + 1, NULL, 10);
    return 0;
}

int gw_redis_init(gw_worker_t *w, char *err, size_t errlen)
{
    if (w->cfg->redis_url[0] == '\0')
        return 0;
    if (gw_rc_is_cluster_url(w->cfg->redis_url))
        return gw_rc_init(w, w->cfg->redis_url, err, errlen);
    gw_redis_t *r = calloc(1, sizeof(*r));
    if (r == NULL || parse_url(r, w->cfg->redis_url, err, errlen) != 0) {
        free(r);
        return -1;
    }
    r->w = w;
    the_redis = r;
    w->redis = r;
    h2o_timeout_init(w->ctx.loop, &r->cmd_timeout, GW_REDIS_TIMEOUT_MS);
    h2o_timeout_init(w->ctx.loop, &r->retry_timeout, 100);
    r->retry_entry.cb = on_retry_tick;
    h2o_timeout_link(w->ctx.loop, &r->retry_timeout, &r->retry_entry);
    connect_now(r);
    return 0;
}

void gw_redis_shutdown(gw_worker_t *w)
{
    gw_redis_t *r = w->redis;
    gw_rc_shutdown();
    if (r == NULL)
        return;
    if (h2o_timeout_is_linked(&r->retry_entry))
        h2o_timeout_unlink(&r->retry_entry);
    if (r->ac != NULL) {
        redisAsyncContext *ac = r->ac;
        r->ac = NULL; /* on_disconnect ignores it now */
        redisAsyncFree(ac);
    }
    w->redis = NULL;
    the_redis = NULL;
    free(r);
}

bool gw_redis_enabled(const gw_worker_t *w)
{
    return w->redis != NULL || gw_rc_active();
}

bool gw_redis_up(const gw_worker_t *w)
{
    if (gw_rc_active())
        return gw_rc_up();
    return w->redis != NULL && w->redis->up;
}

const char *gw_redis_last_error(const gw_worker_t *w)
{
    if (gw_rc_active())
        return gw_rc_last_error();
    return w->redis ? w->redis->last_error : "";
}

/* ---- commands ------------------------------------------------------------ */

static void answer(gw_redis_cmd_t *cmd, const redisReply *reply, const char *error)
{
    gw_redis_cb cb = cmd->cb;
    cmd->cb = NULL;
    if (h2o_timeout_is_linked(&cmd->timer))
        h2o_timeout_unlink(&cmd->timer);
    if (cb != NULL)
        cb(reply, error, cmd->data);
}

static void on_cmd_timeout(h2o_timeout_entry_t *e)
{
    gw_redis_cmd_t *cmd = H2O_STRUCT_FROM_MEMBER(gw_redis_cmd_t, timer, e);
    gw_redis_t *r = cmd->redis;
    count_error(r);
    answer(cmd, NULL, "redis command timed out");
    /* The record stays until hiredis hands it back. A stuck server gets its
     * connection dropped; pending callbacks then run with NULL. */
    if (++r->consecutive_timeouts >= TIMEOUTS_BEFORE_RECONNECT && r->ac != NULL) {
        redisAsyncContext *ac = r->ac;
        set_down(r, "redis not answering");
        redisAsyncFree(ac); /* pending callbacks run with NULL; ours are already answered */
    }
}

static void on_reply(redisAsyncContext *ac, void *reply_p, void *priv)
{
    (void)ac;
    gw_redis_cmd_t *cmd = priv;
    redisReply *reply = reply_p;
    if (cmd->cb != NULL) {
        if (reply == NULL) {
            count_error(cmd->redis);
            answer(cmd, NULL, "redis connection lost");
        } else if (reply->type == REDIS_REPLY_ERROR) {
            count_error(cmd->redis);
            answer(cmd, reply, reply->str);
        } else {
            cmd->redis->consecutive_timeouts = 0;
            answer(cmd, reply, NULL);
        }
    }
    free(cmd);
}

gw_redis_cmd_t *gw_redis_command(gw_worker_t *w, gw_redis_cb cb, void *data, int argc, const char **argv,
                                 const size_t *argvlen)
{
    gw_redis_t *r = w->redis;
    if (r == NULL && gw_rc_active())
        return gw_rc_command(cb, data, argc, argv, argvlen);
    if (r == NULL || !r->up || r->ac == NULL)
        return NULL;
    gw_redis_cmd_t *cmd = calloc(1, sizeof(*cmd));
    if (cmd == NULL)
        return NULL;
    cmd->redis = r;
    cmd->cb = cb;
    cmd->data = data;
    cmd->timer.cb = on_cmd_timeout;
    if (redisAsyncCommandArgv(r->ac, on_reply, cmd, argc, argv, argvlen) != REDIS_OK) {
        free(cmd);
        count_error(r);
        return NULL;
    }
    h2o_timeout_link(w->ctx.loop, &r->cmd_timeout, &cmd->timer);
    return cmd;
}

void gw_redis_abandon(gw_redis_cmd_t *cmd)
{
    cmd->cb = NULL;
    if (h2o_timeout_is_linked(&cmd->timer))
        h2o_timeout_unlink(&cmd->timer);
}
