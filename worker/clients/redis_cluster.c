/*
 * The Redis Cluster client (see worker/redis_cluster.h), one per worker
 * process, on the worker's h2o loop through the adapter of worker/redis.c.
 *
 * Map: slot_node[16384] holds the index of each slot's master in nodes[],
 * loaded from CLUSTER SLOTS (sent to any connected node). The map is
 * reloaded after a MOVED, soon after any node's connection drops, every
 * REFRESH_DEGRADED_MS while some slot has no connected master, and every
 * REFRESH_STEADY_MS otherwise, so a replica promoted by a failover is
 * found without a reload.
 *
 * Commands: each is an rc_cmd_t holding the formatted command, so a MOVED
 * (retry on the named node; the map is fixed at once and refreshed) or an
 * ASK (ASKING, then the command, on the named node) can resend it; at most
 * MAX_REDIRECTS redirects per command. One timer (GW_REDIS_TIMEOUT_MS, as
 * the single-node client) covers the command and its redirects. A command
 * whose slot has no connected master fails fast: gw_rc_command returns
 * NULL (the callers' "Redis down" path) with the reason in last_error.
 * The record is freed when hiredis lets go of it (reply, or NULL reply at
 * disconnect), never before; an answered or abandoned record has cb NULL.
 *
 * Metrics: calls by node and result in the worker's metric slot (node
 * names in a bounded table), map loads, MOVED and ASK counts.
 */
#include "worker/clients/redis_cluster.h"

#include <async.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shm/metrics.h"
#include "core/log.h"
#include "worker/clients/redis_int.h"

#define MAX_NODES                 64
#define MAX_REDIRECTS             2 /* a MOVED, then an ASK during a migration */
#define RECONNECT_MIN_MS          100
#define RECONNECT_MAX_MS          2000
#define TIMEOUTS_BEFORE_RECONNECT 3
#define TICK_MS                   100
#define REFRESH_DEGRADED_MS       500
#define REFRESH_STEADY_MS         10000

typedef struct {
    char host[GW_RC_HOST_MAX];
    int port;
    char name[GW_RC_HOST_MAX + 8]; /* host:port, the metrics label */
    redisAsyncContext *ac;         /* NULL while down */
    bool up;                       /* connected */
    bool serves;                   /* a master in the current map */
    bool seed;                     /* named in REDIS_URL */
    unsigned consecutive_timeouts;
    uint64_t backoff_ms, retry_at_ms;
    int met; /* index in the metric slot's node table; -1 until first used */
} rc_node_t;

typedef struct {
    gw_worker_t *w;
    gw_rc_url_t url;
    rc_node_t nodes[MAX_NODES];
    unsigned nnodes;
    int16_t slot_node[GW_RC_SLOTS]; /* -1: no master known */
    int16_t scratch[GW_RC_SLOTS];   /* the map being loaded */
    bool have_map, refreshing;
    uint64_t next_refresh_ms;
    char last_error[192];
    h2o_timeout_t cmd_timeout, tick_timeout, soon_timeout;
    h2o_timeout_entry_t tick;
} rc_t;

typedef struct {
    gw_redis_cmd_t base; /* first member: gw_redis_abandon works on it */
    char *formatted;     /* redisFormatCommandArgv; owned, freed with the record */
    int len;
    unsigned redirects;
    int node;                     /* where it was last sent; -1 before */
    h2o_timeout_entry_t deferred; /* error answered on the next loop turn */
    const char *deferred_error;
} rc_cmd_t;

static rc_t *rc; /* one worker per process */

static void refresh_now(void);

/* ---- metrics -------------------------------------------------------------- */

static int met_index(rc_node_t *n)
{
    gw_met_redis_t *m = &rc->w->met->redis;
    if (n->met >= 0)
        return n->met;
    uint64_t used = CMM_LOAD_SHARED(m->nnodes);
    for (unsigned i = 0; i < used; i++) /* a respawned worker continues its slot's table */
        if (strcmp(m->name[i], n->name) == 0)
            return n->met = (int)i;
    unsigned i = used < GW_MET_REDIS_NODES - 1 ? (unsigned)used : GW_MET_REDIS_NODES - 1;
    if (used < GW_MET_REDIS_NODES) {
        snprintf(m->name[i], GW_MET_REDIS_NODE_NAME, "%s", i == GW_MET_REDIS_NODES - 1 ? "other" : n->name);
        cmm_smp_wmb(); /* the name before the count that publishes it */
        CMM_STORE_SHARED(m->nnodes, i + 1);
    }
    return n->met = (int)i;
}

static void count_call(rc_node_t *n, gw_met_redis_result_t result)
{
    gw_met_add(&rc->w->met->redis.calls[met_index(n)][result], 1);
}

/* ---- nodes ---------------------------------------------------------------- */

static int find_node(const char *host, size_t hlen, int port)
{
    for (unsigned i = 0; i < rc->nnodes; i++)
        if (rc->nodes[i].port == port && strlen(rc->nodes[i].host) == hlen &&
            memcmp(rc->nodes[i].host, host, hlen) == 0)
            return (int)i;
    if (rc->nnodes == MAX_NODES || hlen == 0 || hlen >= GW_RC_HOST_MAX)
        return -1;
    rc_node_t *n = &rc->nodes[rc->nnodes];
    memset(n, 0, sizeof(*n));
    memcpy(n->host, host, hlen);
    n->port = port;
    n->met = -1;
    char name[sizeof(n->name)]; /* via a copy: n->host and n->name share rc */
    snprintf(name, sizeof(name), "%.*s:%d", (int)hlen, host, port);
    memcpy(n->name, name, sizeof(name));
    return (int)rc->nnodes++;
}

static void node_down(rc_node_t *n, const char *why)
{
    bool was_up = n->up;
    n->up = false;
    n->ac = NULL;
    char msg[sizeof(rc->last_error)]; /* n->name lives inside rc too */
    snprintf(msg, sizeof(msg), "%s: %s", n->name, why);
    memcpy(rc->last_error, msg, sizeof(msg));
    if (was_up || n->backoff_ms == 0)
        gw_logf(GW_LOG_WARN, "redis cluster node %s unavailable: %s; refreshing the slot map", n->name, why);
    n->backoff_ms = n->backoff_ms == 0 ? RECONNECT_MIN_MS : n->backoff_ms * 2;
    if (n->backoff_ms > RECONNECT_MAX_MS)
        n->backoff_ms = RECONNECT_MAX_MS;
    n->retry_at_ms = gw_now_ms() + n->backoff_ms;
    rc->next_refresh_ms = 0; /* a failover may be under way: ask another node */
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    rc_node_t *n = ac->data;
    if (n->ac != ac)
        return;
    if (status != REDIS_OK) {
        gw_met_count(rc->w->met, GW_CTR_REDIS_ERRORS);
        node_down(n, ac->errstr[0] ? ac->errstr : "connect failed");
        return;
    }
    if (n->backoff_ms != 0)
        gw_logf(GW_LOG_INFO, "redis cluster node %s connected", n->name);
    n->up = true;
    n->backoff_ms = 0;
    n->consecutive_timeouts = 0;
    if (!rc->have_map)
        refresh_now();
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    rc_node_t *n = ac->data;
    if (n->ac != ac)
        return; /* a context we dropped ourselves */
    if (status != REDIS_OK)
        gw_met_count(rc->w->met, GW_CTR_REDIS_ERRORS);
    node_down(n, status == REDIS_OK ? "disconnected" : (ac->errstr[0] ? ac->errstr : "connection lost"));
}

static void connect_node(rc_node_t *n)
{
    redisAsyncContext *ac = redisAsyncConnect(n->host, n->port);
    if (ac == NULL || ac->err || gw_redis_attach(ac, rc->w->ctx.loop) != 0) {
        node_down(n, ac && ac->err ? ac->errstr : "out of memory");
        if (ac != NULL)
            redisAsyncFree(ac);
        return;
    }
    ac->data = n;
    n->ac = ac;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    if (rc->url.password[0] != '\0') /* queued; sent once connected */
        redisAsyncCommand(ac, NULL, NULL, "AUTH %s", rc->url.password);
}

/* ---- commands --------------------------------------------------------------- */

static void free_cmd(rc_cmd_t *c)
{
    redisFreeCommand(c->formatted);
    free(c);
}

static void answer(rc_cmd_t *c, const redisReply *reply, const char *error)
{
    gw_redis_cb cb = c->base.cb;
    c->base.cb = NULL;
    if (h2o_timeout_is_linked(&c->base.timer))
        h2o_timeout_unlink(&c->base.timer);
    if (cb != NULL)
        cb(reply, error, c->base.data);
}

static void on_reply(redisAsyncContext *ac, void *reply_p, void *priv);

/* Queue c on node i (connecting it if needed). false: not sent. */
static bool send_to(rc_cmd_t *c, int i, bool asking)
{
    rc_node_t *n = &rc->nodes[i];
    if (n->ac == NULL)
        connect_node(n);
    if (n->ac == NULL)
        return false;
    if (asking)
        redisAsyncCommand(n->ac, NULL, NULL, "ASKING");
    if (redisAsyncFormattedCommand(n->ac, on_reply, c, c->formatted, (size_t)c->len) != REDIS_OK)
        return false;
    c->node = i;
    return true;
}

/* "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381": resend c there.
 * An empty host ("MOVED 3999 :6381") means the node that answered. */
static bool redirect(rc_cmd_t *c, const redisReply *reply, const rc_node_t *from)
{
    bool ask = strncmp(reply->str, "ASK ", 4) == 0;
    char *end;
    long slot = strtol(reply->str + (ask ? 4 : 6), &end, 10);
    const char *addr = end + (*end == ' ');
    const char *colon = strrchr(addr, ':');
    if (slot < 0 || slot >= GW_RC_SLOTS || colon == NULL || c->redirects >= MAX_REDIRECTS)
        return false;
    int port = atoi(colon + 1);
    const char *host = colon == addr ? from->host : addr;
    int i = find_node(host, colon == addr ? strlen(from->host) : (size_t)(colon - addr), port);
    if (i < 0)
        return false;
    c->redirects++;
    gw_met_count(rc->w->met, ask ? GW_CTR_REDIS_ASK : GW_CTR_REDIS_MOVED);
    if (!ask) {
        rc->slot_node[slot] = (int16_t)i; /* right away; the refresh fixes the rest */
        rc->next_refresh_ms = 0;
    }
    return send_to(c, i, ask);
}

static bool is_redirect(const redisReply *reply)
{
    return reply->type == REDIS_REPLY_ERROR &&
           (strncmp(reply->str, "MOVED ", 6) == 0 || strncmp(reply->str, "ASK ", 4) == 0);
}

static void on_reply(redisAsyncContext *ac, void *reply_p, void *priv)
{
    rc_cmd_t *c = priv;
    rc_node_t *n = ac->data;
    redisReply *reply = reply_p;
    bool live = c->base.cb != NULL;
    if (reply == NULL) {
        if (live) {
            count_call(n, GW_MET_REDIS_ERROR);
            gw_met_count(rc->w->met, GW_CTR_REDIS_ERRORS);
            answer(c, NULL, "redis connection lost");
        }
    } else if (is_redirect(reply)) {
        if (live) {
            count_call(n, GW_MET_REDIS_OK);
            if (redirect(c, reply, n))
                return; /* the record lives on, queued on the target node */
            gw_met_count(rc->w->met, GW_CTR_REDIS_ERRORS);
            answer(c, reply, reply->str);
        }
    } else if (reply->type == REDIS_REPLY_ERROR) {
        if (live) {
            count_call(n, GW_MET_REDIS_ERROR);
            gw_met_count(rc->w->met, GW_CTR_REDIS_ERRORS);
            answer(c, reply, reply->str);
        }
    } else {
        n->consecutive_timeouts = 0;
        if (live) {
            count_call(n, GW_MET_REDIS_OK);
            answer(c, reply, NULL);
        }
    }
    free_cmd(c);
}

static void on_cmd_timeout(h2o_timeout_entry_t *e)
{
    rc_cmd_t *c = (rc_cmd_t *)H2O_STRUCT_FROM_MEMBER(gw_redis_cmd_t, timer, e);
    rc_node_t *n = &rc->nodes[c->node];
    count_call(n, GW_MET_REDIS_TIMEOUT);
    gw_met_count(rc->w->met, GW_CTR_REDIS_ERRORS);
    answer(c, NULL, "redis command timed out");
    /* A stuck node loses its connection; its pending records come back
     * with NULL replies (already answered) and are freed then. */
    if (++n->consecutive_timeouts >= TIMEOUTS_BEFORE_RECONNECT && n->ac != NULL) {
        redisAsyncContext *ac = n->ac;
        node_down(n, "not answering");
        redisAsyncFree(ac);
    }
}

static void on_deferred(h2o_timeout_entry_t *e)
{
    rc_cmd_t *c = H2O_STRUCT_FROM_MEMBER(rc_cmd_t, deferred, e);
    if (c->base.cb != NULL) {
        gw_met_count(rc->w->met, GW_CTR_REDIS_ERRORS);
        answer(c, NULL, c->deferred_error);
    }
    free_cmd(c);
}

static rc_cmd_t *new_cmd(gw_redis_cb cb, void *data)
{
    rc_cmd_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->base.cb = cb;
    c->base.data = data;
    c->base.timer.cb = on_cmd_timeout;
    c->node = -1;
    return c;
}

/* A connected master for slot (or any connected master), or -1. */
static int pick_node(int slot)
{
    if (slot >= 0) {
        int i = rc->have_map ? rc->slot_node[slot] : -1;
        return i >= 0 && rc->nodes[i].ac != NULL ? i : -1;
    }
    /* A master when the map names some (a keyless script may write), else
     * any connected node (the seeds, for CLUSTER SLOTS). */
    unsigned start = (unsigned)rand();
    int any = -1;
    for (unsigned k = 0; k < rc->nnodes; k++) {
        unsigned i = (start + k) % rc->nnodes;
        if (rc->nodes[i].up && rc->nodes[i].serves)
            return (int)i;
        if (rc->nodes[i].up && any < 0)
            any = (int)i;
    }
    return any;
}

gw_redis_cmd_t *gw_rc_command(gw_redis_cb cb, void *data, int argc, const char **argv, const size_t *argvlen)
{
    int slot = gw_rc_command_slot(argc, argv, argvlen);
    rc_cmd_t *c = new_cmd(cb, data);
    if (c == NULL)
        return NULL;
    if (slot == GW_RC_CROSS_SLOT) { /* a caller's bug: say so through the callback */
        c->deferred.cb = on_deferred;
        c->deferred_error = "CROSSSLOT the keys of one script must share a {hash tag}";
        h2o_timeout_link(rc->w->ctx.loop, &rc->soon_timeout, &c->deferred);
        return &c->base;
    }
    int i = pick_node(slot);
    if (i < 0) {
        if (!rc->have_map)
            snprintf(rc->last_error, sizeof(rc->last_error), "cluster slot map not loaded yet");
        else if (slot >= 0)
            snprintf(rc->last_error, sizeof(rc->last_error), "cluster slot %d has no reachable master", slot);
        free(c);
        return NULL;
    }
    c->len = redisFormatCommandArgv(&c->formatted, argc, argv, argvlen);
    if (c->len < 0 || !send_to(c, i, false)) {
        free_cmd(c);
        gw_met_count(rc->w->met, GW_CTR_REDIS_ERRORS);
        return NULL;
    }
    h2o_timeout_link(rc->w->ctx.loop, &rc->cmd_timeout, &c->base.timer);
    return &c->base;
}

/* ---- the slot map ------------------------------------------------------------ */

unsigned gw_rc_unreachable_slots(void)
{
    if (rc == NULL || !rc->have_map)
        return GW_RC_SLOTS;
    unsigned n = 0;
    for (unsigned s = 0; s < GW_RC_SLOTS; s++)
        n += rc->slot_node[s] < 0 || !rc->nodes[rc->slot_node[s]].up;
    return n;
}

/* One CLUSTER SLOTS entry: [start, end, [host, port, id...], replicas...]. */
static bool load_range(const redisReply *e, const rc_node_t *from)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || e->element[0]->type != REDIS_REPLY_INTEGER ||
        e->element[1]->type != REDIS_REPLY_INTEGER || e->element[2]->type != REDIS_REPLY_ARRAY ||
        e->element[2]->elements < 2 || e->element[2]->element[0]->type != REDIS_REPLY_STRING ||
        e->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
        return false;
    long long lo = e->element[0]->integer, hi = e->element[1]->integer;
    const redisReply *host = e->element[2]->element[0];
    bool same = host->len == 0 || (host->len == 1 && host->str[0] == '?');
    int i = find_node(same ? from->host : host->str, same ? strlen(from->host) : host->len,
                      (int)e->element[2]->element[1]->integer);
    if (lo < 0 || hi >= GW_RC_SLOTS || lo > hi || i < 0)
        return false;
    for (long long s = lo; s <= hi; s++)
        rc->scratch[s] = (int16_t)i;
    return true;
}

static void on_slots(const redisReply *reply, const char *error, void *data)
{
    rc_node_t *from = &rc->nodes[(intptr_t)data];
    rc->refreshing = false;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        gw_logf(GW_LOG_WARN, "redis cluster: CLUSTER SLOTS on %s failed: %s", from->name,
                error ? error : "unexpected reply");
        rc->next_refresh_ms = gw_now_ms() + REFRESH_DEGRADED_MS;
        return;
    }
    memset(rc->scratch, 0xff, sizeof(rc->scratch)); /* -1 everywhere */
    for (size_t k = 0; k < reply->elements; k++)
        if (!load_range(reply->element[k], from)) {
            gw_logf(GW_LOG_WARN, "redis cluster: ignoring a malformed CLUSTER SLOTS entry from %s",
                    from->name);
            rc->next_refresh_ms = gw_now_ms() + REFRESH_DEGRADED_MS;
            return;
        }
    bool changed = !rc->have_map || memcmp(rc->scratch, rc->slot_node, sizeof(rc->scratch)) != 0;
    memcpy(rc->slot_node, rc->scratch, sizeof(rc->scratch));
    rc->have_map = true;
    gw_met_count(rc->w->met, GW_CTR_REDIS_SLOT_REFRESHES);
    for (unsigned i = 0; i < rc->nnodes; i++)
        rc->nodes[i].serves = false;
    for (unsigned s = 0; s < GW_RC_SLOTS; s++)
        if (rc->slot_node[s] >= 0)
            rc->nodes[rc->slot_node[s]].serves = true;
    for (unsigned i = 0; i < rc->nnodes; i++)
        if (rc->nodes[i].serves && rc->nodes[i].ac == NULL && gw_now_ms() >= rc->nodes[i].retry_at_ms)
            connect_node(&rc->nodes[i]);
    unsigned down = gw_rc_unreachable_slots();
    if (changed)
        gw_logf(GW_LOG_INFO, "redis cluster slot map loaded from %s: %u of %u slots reachable", from->name,
                GW_RC_SLOTS - down, GW_RC_SLOTS);
    rc->next_refresh_ms = gw_now_ms() + (down ? REFRESH_DEGRADED_MS : REFRESH_STEADY_MS);
}

static void refresh_now(void)
{
    if (rc->refreshing)
        return;
    int i = pick_node(GW_RC_ANY_NODE);
    if (i < 0)
        return; /* the tick reconnects nodes and seeds */
    rc_cmd_t *c = new_cmd(on_slots, (void *)(intptr_t)i);
    static const char *argv[] = {"CLUSTER", "SLOTS"};
    static const size_t argvlen[] = {7, 5};
    if (c == NULL || (c->len = redisFormatCommandArgv(&c->formatted, 2, argv, argvlen)) < 0 ||
        !send_to(c, i, false)) {
        if (c != NULL)
            free_cmd(c);
        return;
    }
    h2o_timeout_link(rc->w->ctx.loop, &rc->cmd_timeout, &c->base.timer);
    rc->refreshing = true;
    rc->next_refresh_ms = gw_now_ms() + REFRESH_DEGRADED_MS; /* until the answer sets it */
}

/* Every TICK_MS: reconnect masters (and, with none up, the seeds) after
 * their backoff; refresh the map when due. */
static void on_tick(h2o_timeout_entry_t *e)
{
    (void)e;
    uint64_t now = gw_now_ms();
    bool any_up = pick_node(GW_RC_ANY_NODE) >= 0;
    for (unsigned i = 0; i < rc->nnodes; i++) {
        rc_node_t *n = &rc->nodes[i];
        bool wanted = n->serves || (n->seed && (!rc->have_map || !any_up));
        if (wanted && n->ac == NULL && now >= n->retry_at_ms)
            connect_node(n);
    }
    if (now >= rc->next_refresh_ms)
        refresh_now();
    h2o_timeout_link(rc->w->ctx.loop, &rc->tick_timeout, &rc->tick);
}

/* ---- lifecycle ----------------------------------------------------------------- */

int gw_rc_init(gw_worker_t *w, const char *url, char *err, size_t errlen)
{
    rc_t *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return snprintf(err, errlen, "out of memory"), -1;
    if (gw_rc_parse_url(url, &r->url, err, errlen) != 0) {
        free(r);
        return -1;
    }
    r->w = w;
    memset(r->slot_node, 0xff, sizeof(r->slot_node));
    rc = r;
    for (unsigned i = 0; i < r->url.nseeds; i++) {
        int k = find_node(r->url.seeds[i].host, strlen(r->url.seeds[i].host), r->url.seeds[i].port);
        if (k >= 0)
            r->nodes[k].seed = true;
    }
    snprintf(r->last_error, sizeof(r->last_error), "cluster slot map not loaded yet");
    h2o_timeout_init(w->ctx.loop, &r->cmd_timeout, GW_REDIS_TIMEOUT_MS);
    h2o_timeout_init(w->ctx.loop, &r->tick_timeout, TICK_MS);
    h2o_timeout_init(w->ctx.loop, &r->soon_timeout, 0);
    r->tick.cb = on_tick;
    h2o_timeout_link(w->ctx.loop, &r->tick_timeout, &r->tick);
    for (unsigned i = 0; i < r->nnodes; i++)
        connect_node(&r->nodes[i]);
    return 0;
}

void gw_rc_shutdown(void)
{
    if (rc == NULL)
        return;
    if (h2o_timeout_is_linked(&rc->tick))
        h2o_timeout_unlink(&rc->tick);
    for (unsigned i = 0; i < rc->nnodes; i++) {
        redisAsyncContext *ac = rc->nodes[i].ac;
        rc->nodes[i].ac = NULL; /* on_disconnect ignores it now */
        if (ac != NULL)
            redisAsyncFree(ac); /* pending callbacks run with NULL */
    }
    free(rc);
    rc = NULL;
}

bool gw_rc_active(void)
{
    return rc != NULL;
}

bool gw_rc_up(void)
{
    return rc != NULL && rc->have_map && pick_node(GW_RC_ANY_NODE) >= 0;
}

const char *gw_rc_last_error(void)
{
    return rc == NULL ? "" : (gw_rc_up() && gw_rc_unreachable_slots() == 0 ? "" : rc->last_error);
}
