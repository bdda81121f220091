/*
 * Backend health probes: every PROBE_INTERVAL_MS the worker holding the
 * probe lease (shm/health.h) calls grpc.health.v1.Health/Check on each gRPC
 * upstream the client has a channel for (worker/clients/grpc_client.h) and
 * writes the outcome into the segment at the service's slot, where the
 * master's /health view reads it. One worker probes at a time; if it dies, another
 * takes the lease over when it expires.
 *
 * The notification service (HTTP, not gRPC) is probed by the same worker
 * with GET NOTIFICATION_HEALTH_PATH, one fresh connection per round: 2xx is
 * healthy, any other status or a transport failure is "unhealthy: <reason>"
 * with the proxy's transport wording (worker/clients/upstream_reason.h). The
 * master's view counts it as degrading /health, not failing it.
 */
#include "worker/health_probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pb.h" /* only the health messages are linked (Makefile, GW_OBJ) */
#include "shm/health.h"
#include "core/log.h"
#include "worker/clients/grpc_client.h"
#include "worker/clients/httpc.h"
#include "worker/clients/redis.h"
#include "worker/clients/redis_cluster.h"
#include "worker/clients/upstream_reason.h"

#define PROBE_INTERVAL_MS 2000
#define PROBE_TIMEOUT_MS  1500
#define LEASE_TTL_MS      (3 * PROBE_INTERVAL_MS)

static h2o_timeout_t probe_timeout;
static h2o_timeout_entry_t probe_entry;
static bool probing[GW_SVC_MAX]; /* by service slot: a Check is in flight */

static void write_result(unsigned s, gw_health_status_t status, const char *reason, uint64_t latency_us)
{
    gw_worker_t *w = gw_worker_self();
    gw_health_result_t prev, r = {.status = status, .checked_ms = gw_wall_ms(), .latency_us = latency_us};
    if (status != GW_HEALTH_OK && gw_health_read(w->shm, s, &prev) && prev.status == GW_HEALTH_FAILING)
        r.consecutive_failures = prev.consecutive_failures + 1;
    else if (status != GW_HEALTH_OK)
        r.consecutive_failures = 1;
    snprintf(r.reason, sizeof(r.reason), "%s", reason);
    gw_health_write(w->shm, s, &r);
}

static void on_probe_done(gw_grpc_call_t *call, void *data)
{
    unsigned s = (unsigned)(uintptr_t)data;
    gw_worker_t *w = gw_worker_self();
    const gw_grpc_result_t *res = gw_grpc_call_result(call);
    probing[s] = false;
    if (res->status != GRPC_STATUS_OK) {
        char message[256];
        bool transport;
        gw_grpc_error_response(w, s, res, message, sizeof(message), &transport);
        write_result(s, GW_HEALTH_FAILING, message, res->latency_us);
        return;
    }
    Grpc__Health__V1__HealthCheckResponse *reply =
        grpc__health__v1__health_check_response__unpack(NULL, res->reply_len, res->reply);
    if (reply == NULL) {
        write_result(s, GW_HEALTH_FAILING, "malformed health reply", res->latency_us);
        return;
    }
    if (reply->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING) {
        write_result(s, GW_HEALTH_OK, "", res->latency_us);
    } else {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            &grpc__health__v1__health_check_response__serving_status__descriptor, (int)reply->status);
        write_result(s, GW_HEALTH_FAILING, v ? v->name : "not serving", res->latency_us);
    }
    grpc__health__v1__health_check_response__free_unpacked(reply, NULL);
}

static void probe_all(gw_worker_t *w)
{
    static const uint8_t empty_request[1];
    for (unsigned s = 0; s < GW_SVC_MAX; s++) {
        if (probing[s] || gw_grpc_target(w, s) == NULL)
            continue;
        uint64_t deadline = gw_now_us() + PROBE_TIMEOUT_MS * 1000ULL;
        if (gw_grpc_call_start(w, s, "/grpc.health.v1.Health/Check", empty_request, 0, NULL, 0, deadline,
                               on_probe_done, (void *)(uintptr_t)s) != NULL)
            probing[s] = true;
    }
}

static bool pinging;

static void on_ping(const redisReply *reply, const char *error, void *data)
{
    uint64_t start = (uint64_t)(uintptr_t)data;
    pinging = false;
    if (reply != NULL && reply->type == REDIS_REPLY_STATUS)
        write_result(GW_HEALTH_REDIS, GW_HEALTH_OK, "", gw_now_us() - start);
    else
        write_result(GW_HEALTH_REDIS, GW_HEALTH_DEGRADED, error ? error : "unexpected PING reply",
                     gw_now_us() - start);
}

/* Redis only degrades the gateway: report it, never fail /health on it. */
static void probe_redis(gw_worker_t *w)
{
    if (!gw_redis_enabled(w) || pinging)
        return;
    unsigned lost = gw_rc_active() ? gw_rc_unreachable_slots() : 0;
    if (lost > 0) { /* a cluster with slots nobody serves: degraded, however PING goes */
        char why[64];
        snprintf(why, sizeof(why), "%u slots unreachable", lost);
        write_result(GW_HEALTH_REDIS, GW_HEALTH_DEGRADED, why, 0);
        return;
    }
    static const char *argv[] = {"PING"};
    static const size_t argvlen[] = {4};
    uint64_t start = gw_now_us();
    if (gw_redis_command(w, on_ping, (void *)(uintptr_t)start, 1, argv, argvlen) != NULL) {
        pinging = true;
        return;
    }
    const char *why = gw_redis_last_error(w);
    write_result(GW_HEALTH_REDIS, GW_HEALTH_DEGRADED, why[0] ? why : "not connected", 0);
}

/* The notification probe: one request at a time, state owned by this file.
 * The request head (call.reqbufs[0]) is malloc'd once at start and freed at stop. */
static struct {
    gw_httpc_t c;
    bool ready, busy;
    gw_httpc_call_t call;
    uint64_t start_us;
} notif;

static void notif_report(gw_health_status_t status, const char *reason)
{
    notif.busy = false;
    notif.call.client = NULL;
    write_result(GW_SVC_NOTIFICATION, status, reason, gw_now_us() - notif.start_us);
}

static void notif_fail(const char *errstr, bool connected)
{
    char message[128];
    if (gw_reason_http_is_deadline(errstr, connected))
        snprintf(message, sizeof(message), "context deadline exceeded");
    else
        gw_reason_message(gw_reason_from_http(errstr, connected), notif.c.url.host.base, notif.c.url.host.len,
                          message, sizeof(message));
    notif_report(GW_HEALTH_FAILING, message);
}

static void notif_status(void)
{
    if (notif.call.status >= 200 && notif.call.status <= 299) {
        notif_report(GW_HEALTH_OK, "");
    } else {
        char reason[32];
        snprintf(reason, sizeof(reason), "HTTP %d", notif.call.status);
        notif_report(GW_HEALTH_FAILING, reason);
    }
}

static void notif_done(gw_httpc_call_t *call, int status, const char *errstr, bool connected)
{
    (void)call, (void)status;
    if (errstr != NULL)
        notif_fail(errstr, connected);
    else
        notif_status();
}

/* A request-target we can put on the request line as is. */
static bool valid_path(const char *p)
{
    if (p[0] != '/')
        return false;
    for (; *p != '\0'; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    return true;
}

static void notif_start(gw_worker_t *w)
{
    char err[256];
    const char *path = w->cfg->notification_health_path;
    if (gw_httpc_init(&notif.c, &w->ctx, "NOTIFICATION_SERVICE_URL", w->cfg->notification_service_url, 1,
                      PROBE_TIMEOUT_MS, err, sizeof(err)) != 0)
        return; /* the proxy's own init reports the bad URL */
    notif.ready = true;
    if (!valid_path(path))
        return; /* reported as unhealthy on every round */
    gw_buf_t b;
    gw_buf_init(&b, 256);
    gw_buf_printf(&b, "GET %s HTTP/1.1\r\nHost: ", path);
    gw_buf_add(&b, notif.c.url.authority.base, notif.c.url.authority.len);
    /* A fresh connection each round: the probe tests connecting too, and
     * never reports a pooled socket the service closed meanwhile. */
    gw_buf_puts(&b, "\r\nUser-Agent: api-gateway-health-probe\r\nConnection: close\r\n\r\n");
    notif.call.reqbufs[0] = h2o_strdup(NULL, b.data, b.len);
    gw_buf_free(&b);
}

static void probe_notification(void)
{
    if (!notif.ready || notif.busy)
        return;
    if (notif.call.reqbufs[0].base == NULL) {
        write_result(GW_SVC_NOTIFICATION, GW_HEALTH_FAILING, "invalid NOTIFICATION_HEALTH_PATH", 0);
        return;
    }
    notif.busy = true;
    notif.start_us = gw_now_us();
    notif.call.on_done = notif_done; /* the body is not needed: discarded */
    gw_httpc_send(&notif.c, &notif.call);
}

static void notif_stop(void)
{
    if (notif.call.client != NULL)
        h2o_http1client_cancel(notif.call.client);
    notif.call.client = NULL;
    notif.busy = false;
    if (notif.ready)
        gw_httpc_dispose(&notif.c);
    notif.ready = false;
    free(notif.call.reqbufs[0].base);
    notif.call.reqbufs[0] = h2o_iovec_init(NULL, 0);
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    (void)entry;
    gw_worker_t *w = gw_worker_self();
    if (!w->draining && gw_health_lease_acquire(w->shm, w->slot, gw_now_ms(), LEASE_TTL_MS)) {
        probe_all(w);
        probe_notification();
        probe_redis(w);
    }
    h2o_timeout_link(w->ctx.loop, &probe_timeout, &probe_entry);
}

void gw_health_probe_start(gw_worker_t *w)
{
    h2o_timeout_init(w->ctx.loop, &probe_timeout, PROBE_INTERVAL_MS);
    probe_entry.cb = on_tick;
    notif_start(w);
    /* First round right away, so /health is meaningful within a second. */
    if (gw_health_lease_acquire(w->shm, w->slot, gw_now_ms(), LEASE_TTL_MS)) {
        probe_all(w);
        probe_notification();
    }
    h2o_timeout_link(w->ctx.loop, &probe_timeout, &probe_entry);
}

void gw_health_probe_stop(gw_worker_t *w)
{
    if (h2o_timeout_is_linked(&probe_entry))
        h2o_timeout_unlink(&probe_entry);
    h2o_timeout_dispose(w->ctx.loop, &probe_timeout);
    notif_stop();
}
