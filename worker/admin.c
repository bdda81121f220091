/*
 * Admin endpoints (only from ADMIN_ALLOW, enforced by the admit stage):
 * /debug/workers and /debug/shm, rendered by the worker from the segment;
 * /admin/breakers and its reset, which name services by the segment's names
 * table (shm/names.h): every service slot ever named is listed, so a
 * breaker a reload left without routes can still be seen and reset.
 */
#include <string.h>

#include "core/procstat.h"
#include "shm/breaker.h"
#include "shm/health.h"
#include "shm/names.h"
#include "shm/qsbr.h"
#include "shm/view.h"
#include "worker/breaker_gate.h"
#include "core/buf.h"
#include "worker/builtin.h"
#include "core/log.h"
#include "worker/request.h"
#include "worker/respond.h"

static const char *state_name(uint64_t s)
{
    switch (s) {
    case GW_WORKER_STARTING:
        return "starting";
    case GW_WORKER_READY:
        return "ready";
    case GW_WORKER_DRAINING:
        return "draining";
    default:
        return "free";
    }
}

static void send_buf(gw_request_t *r, gw_buf_t *b)
{
    if (b->truncated)
        gw_respond_error(r, 500, NULL, "out of memory");
    else
        gw_respond_json(r, 200, b->data, b->len);
    gw_buf_free(b);
}

int gw_admin_workers(gw_request_t *r)
{
    const gw_shm_t *shm = r->w->shm;
    uint64_t now_wall = gw_wall_ms(), now = gw_now_ms();
    gw_buf_t b;
    gw_buf_init(&b, 2048);
    gw_buf_printf(&b, "{\"generation\":%llu,\"master_pid\":%llu,\"workers\":[",
                  (unsigned long long)shm->hdr->generation, (unsigned long long)shm->hdr->master_pid);
    bool first = true;
    for (unsigned i = 0; i < shm->hdr->nslots; i++) {
        gw_shm_worker_t *w = gw_shm_worker(shm, i);
        uint64_t state = CMM_LOAD_SHARED(w->state);
        if (state == GW_WORKER_FREE)
            continue;
        uint64_t pid = CMM_LOAD_SHARED(w->pid);
        gw_procstat_t ps = {0};
        gw_procstat_read((pid_t)pid, &ps);
        uint64_t hb = CMM_LOAD_SHARED(w->heartbeat_ms);
        gw_buf_printf(
            &b,
            "%s{\"slot\":%u,\"pid\":%llu,\"generation\":%llu,\"index\":%llu,\"state\":\"%s\","
            "\"uptime_s\":%.1f,\"requests\":%llu,\"connections\":%llu,\"heartbeat_age_ms\":%llu,"
            "\"accept_deferrals\":%llu,\"accept_paused\":%s,\"rss_bytes\":%llu,\"cpu_seconds\":%.2f,"
            "\"restarts\":%llu,\"self\":%s}",
            first ? "" : ",", i, (unsigned long long)pid, (unsigned long long)w->generation,
            (unsigned long long)w->index, state_name(state),
            (double)(now_wall - CMM_LOAD_SHARED(w->started_ms)) / 1000.0,
            (unsigned long long)CMM_LOAD_SHARED(w->requests),
            (unsigned long long)CMM_LOAD_SHARED(w->connections),
            (unsigned long long)(now > hb ? now - hb : 0), (unsigned long long)CMM_LOAD_SHARED(w->deferrals),
            CMM_LOAD_SHARED(w->paused) ? "true" : "false", (unsigned long long)ps.rss_bytes, ps.cpu_seconds,
            (unsigned long long)CMM_LOAD_SHARED(w->restarts), i == r->w->slot ? "true" : "false");
        first = false;
    }
    gw_buf_puts(&b, "]}");
    send_buf(r, &b);
    return 0;
}

/* "names":{"services":[...],"endpoints":[...]}: the names table, index = slot. */
static void names_json(gw_buf_t *b, const gw_shm_t *shm)
{
    gw_buf_puts(b, ",\"names\":{\"services\":[");
    unsigned n = gw_shm_nservices(shm);
    for (unsigned i = 0; i < n; i++) {
        gw_buf_puts(b, i ? "," : "");
        gw_buf_json_cstr(b, gw_shm_service_name(shm, i));
    }
    gw_buf_puts(b, "],\"endpoints\":[");
    n = gw_shm_nendpoints(shm);
    for (unsigned i = 0; i < n; i++) {
        gw_buf_puts(b, i ? "," : "");
        gw_buf_json_cstr(b, gw_shm_endpoint_name(shm, i));
    }
    gw_buf_puts(b, "]}");
}

int gw_admin_shm(gw_request_t *r)
{
    const gw_shm_t *shm = r->w->shm;
    const gw_shm_header_t *h = shm->hdr;
    gw_buf_t b;
    gw_buf_init(&b, 2048);
    gw_buf_printf(&b, "{\"layout_version\":%u,\"total_bytes\":%llu,\"slots\":%u,\"regions\":{",
                  h->layout_version, (unsigned long long)h->total_size, h->nslots);
    for (int i = 0; i < GW_SHM_NREGIONS; i++)
        gw_buf_printf(&b, "%s\"%s\":{\"offset\":%llu,\"bytes\":%llu}", i ? "," : "", gw_shm_region_names[i],
                      (unsigned long long)h->regions[i].offset, (unsigned long long)h->regions[i].size);
    gw_buf_printf(&b, "},\"qsbr\":{\"epoch\":%llu,\"workers\":[",
                  (unsigned long long)uatomic_read(&shm->hdr->qsbr_epoch));
    bool first = true;
    for (unsigned i = 0; i < h->nslots; i++) {
        gw_shm_worker_t *w = gw_shm_worker(shm, i);
        if (CMM_LOAD_SHARED(w->state) == GW_WORKER_FREE)
            continue;
        gw_buf_printf(&b, "%s{\"slot\":%u,\"pid\":%llu,\"qs_epoch\":%llu}", first ? "" : ",", i,
                      (unsigned long long)CMM_LOAD_SHARED(w->pid),
                      (unsigned long long)CMM_LOAD_SHARED(w->qs_epoch));
        first = false;
    }
    gw_buf_printf(&b, "]},\"views\":{\"metrics_bytes\":%zu,\"health_bytes\":%zu}",
                  gw_view_length(shm, GW_VIEW_METRICS), gw_view_length(shm, GW_VIEW_HEALTH));
    gw_buf_printf(&b, ",\"sweeps_total\":%llu,\"swept_total\":%llu", (unsigned long long)h->sweeps_total,
                  (unsigned long long)h->swept_total);
    names_json(&b, shm);
    gw_buf_putc(&b, '}');
    send_buf(r, &b);
    return 0;
}

static const char *const cb_state_names[] = {"closed", "open", "half-open"};

static void breaker_json(gw_buf_t *b, const void *region, unsigned s, uint64_t now)
{
    gw_cb_snapshot_t snap;
    gw_breaker_snapshot(region, s, now, &snap);
    gw_buf_printf(b,
                  "{\"state\":\"%s\",\"requests\":%llu,\"failures\":%llu,\"opened_at_ms\":%llu,"
                  "\"half_open_in_flight\":%u,\"opens_total\":%llu}",
                  cb_state_names[snap.state], (unsigned long long)snap.requests,
                  (unsigned long long)snap.failures, (unsigned long long)snap.opened_at_ms,
                  snap.half_open_in_flight, (unsigned long long)snap.opens_total);
}

int gw_admin_breakers(gw_request_t *r)
{
    const void *region = gw_shm_region(r->w->shm, GW_SHM_REGION_BREAKER);
    uint64_t now = gw_now_ms();
    gw_buf_t b;
    gw_buf_init(&b, 1024);
    gw_buf_printf(&b, "{\"enabled\":%s,\"breakers\":{",
                  r->w->cfg->circuit_breaker_enabled ? "true" : "false");
    unsigned n = gw_shm_nservices(r->w->shm);
    for (unsigned s = 0; s < n; s++) {
        gw_buf_puts(&b, s ? "," : "");
        gw_buf_json_cstr(&b, gw_shm_service_name(r->w->shm, s));
        gw_buf_putc(&b, ':');
        breaker_json(&b, region, s, now);
    }
    gw_buf_puts(&b, "}}");
    send_buf(r, &b);
    return 0;
}

int gw_admin_breaker_reset(gw_request_t *r)
{
    const gw_shm_t *shm = r->w->shm;
    const gw_path_var_t *v = &r->match.vars[0];
    unsigned s = gw_shm_service_find(shm, v->value, v->value_len);
    if (s < GW_SVC_MAX) {
        void *region = gw_shm_region(shm, GW_SHM_REGION_BREAKER);
        gw_breaker_gate_reset(r->w, s, r->ip); /* logs the transition */
        gw_buf_t b;
        gw_buf_init(&b, 256);
        gw_buf_puts(&b, "{\"service\":");
        gw_buf_json_cstr(&b, gw_shm_service_name(shm, s));
        gw_buf_puts(&b, ",\"breaker\":");
        breaker_json(&b, region, s, gw_now_ms());
        gw_buf_putc(&b, '}');
        send_buf(r, &b);
        return 0;
    }
    /* The message lists what exists: the names table, in slot order. */
    char known[512];
    gw_buf_t k;
    gw_buf_init_fixed(&k, known, sizeof(known));
    unsigned n = gw_shm_nservices(shm);
    for (unsigned i = 0; i < n; i++)
        gw_buf_printf(&k, "%s%s", i ? ", " : "", gw_shm_service_name(shm, i));
    gw_respond_errorf(r, 404, NULL, "unknown service \"%.*s\" (one of %.*s%s)", (int)v->value_len, v->value,
                      (int)k.len, k.data, k.truncated ? ", ..." : "");
    return 0;
}
