/*
 * Backend health probes: every PROBE_INTERVAL_MS the worker holding the
 * probe lease (shm/health.h) calls grpc.health.v1.Health/Check on each gRPC
 * backend and writes the outcome into the segment, where the master's
 * /health view reads it. One worker probes at a time; if it dies, another
 * takes the lease over when it expires.
 */
#include "worker/health_probe.h"

#include <stdio.h>
#include <string.h>

#include "proto/pb.h"
#include "shm/health.h"
#include "worker/grpc_client.h"
#include "worker/log.h"
#include "worker/redis.h"

#define PROBE_INTERVAL_MS 2000
#define PROBE_TIMEOUT_MS  1500
#define LEASE_TTL_MS      (3 * PROBE_INTERVAL_MS)

static h2o_timeout_t probe_timeout;
static h2o_timeout_entry_t probe_entry;
static bool probing[GW_SVC_COUNT];

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
    gw_service_t s = (gw_service_t)(uintptr_t)data;
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
    for (int s = 0; s < GW_SVC_COUNT; s++) {
        if (s == GW_SVC_NOTIFICATION || probing[s])
            continue;
        uint64_t deadline = gw_now_us() + PROBE_TIMEOUT_MS * 1000ULL;
        if (gw_grpc_call_start(w, (gw_service_t)s, "/grpc.health.v1.Health/Check", empty_request, 0, NULL, 0,
                               deadline, on_probe_done, (void *)(uintptr_t)s) != NULL)
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

static void on_tick(h2o_timeout_entry_t *entry)
{
    (void)entry;
    gw_worker_t *w = gw_worker_self();
    if (!w->draining && gw_health_lease_acquire(w->shm, w->slot, gw_now_ms(), LEASE_TTL_MS)) {
        probe_all(w);
        probe_redis(w);
    }
    h2o_timeout_link(w->ctx.loop, &probe_timeout, &probe_entry);
}

void gw_health_probe_start(gw_worker_t *w)
{
    h2o_timeout_init(w->ctx.loop, &probe_timeout, PROBE_INTERVAL_MS);
    probe_entry.cb = on_tick;
    /* First round right away, so /health is meaningful within a second. */
    if (gw_health_lease_acquire(w->shm, w->slot, gw_now_ms(), LEASE_TTL_MS))
        probe_all(w);
    h2o_timeout_link(w->ctx.loop, &probe_timeout, &probe_entry);
}

void gw_health_probe_stop(gw_worker_t *w)
{
    if (h2o_timeout_is_linked(&probe_entry))
        h2o_timeout_unlink(&probe_entry);
    h2o_timeout_dispose(w->ctx.loop, &probe_timeout);
}
