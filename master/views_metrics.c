/*
 * The aggregated /metrics view: sums every worker slot of the segment and
 * writes Prometheus text (format 0.0.4) into the views region. Called by the
 * master's loop a few times a second (master/views.c); workers serve the
 * latest rendering. Families always carry HELP and TYPE, so dashboards and
 * alerts see every family from the first scrape.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "master/master.h"
#include "core/procstat.h"
#include "master/sweep.h"
#include "shm/breaker.h"
#include "shm/limiter.h"
#include "shm/revoke.h"
#include "master/views.h"
#include "shm/metrics.h"
#include "shm/names.h"
#include "core/route.h"

/* Room for a name of the names table with every byte escaped. */
#define LABEL_MAX (2 * GW_SHM_NAME_MAX)

static void family(gw_buf_t *b, const char *name, const char *type, const char *help)
{
    gw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void status_label(gw_buf_t *b, unsigned idx)
{
    int code = gw_met_status_codes[idx];
    if (code < 10)
        gw_buf_printf(b, "%dxx", code);
    else
        gw_buf_printf(b, "%d", code);
}

/* A slot's name as a Prometheus label value (text format 0.0.4 escapes
 * backslash, double quote and newline). Names come from the descriptor set
 * and the config, so they are escaped rather than trusted. */
static const char *label_value(const char *name, char out[LABEL_MAX])
{
    size_t n = 0;
    for (const char *p = name; *p != '\0' && n + 2 < LABEL_MAX; p++) {
        if (*p == '\\' || *p == '"' || *p == '\n')
            out[n++] = '\\';
        out[n++] = *p == '\n' ? 'n' : *p;
    }
    out[n] = '\0';
    return out;
}

/* Request families: one row per endpoint slot of the names table. */
static void render_requests(gw_buf_t *b, const gw_shm_t *shm, const gw_metrics_slot_t *sum)
{
    family(b, "api_gateway_requests_total", "counter",
           "Requests answered, by method, route template and HTTP status.");
    unsigned neps = gw_shm_nendpoints(shm);
    char name[LABEL_MAX];
    for (unsigned e = 0; e < neps; e++)
        for (unsigned m = 0; m < GW_MET_NMETHODS; m++)
            for (unsigned s = 0; s < GW_MET_NSTATUS; s++) {
                uint64_t v = sum->requests[e][m][s];
                if (v == 0)
                    continue;
                gw_buf_printf(b, "api_gateway_requests_total{method=\"%s\",endpoint=\"%s\",status=\"",
                              gw_method_names[m], label_value(gw_shm_endpoint_name(shm, e), name));
                status_label(b, s);
                gw_buf_printf(b, "\"} %llu\n", (unsigned long long)v);
            }
}

/* One histogram series: cumulative buckets, +Inf, sum (seconds), count. */
static void histogram(gw_buf_t *b, const char *name, const char *labels, const uint64_t *buckets,
                      uint64_t sum_us)
{
    uint64_t cum = 0;
    for (unsigned i = 0; i < GW_MET_NBUCKETS; i++) {
        cum += buckets[i];
        gw_buf_printf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels, gw_met_bucket_bounds[i],
                      (unsigned long long)cum);
    }
    cum += buckets[GW_MET_NBUCKETS];
    gw_buf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, (unsigned long long)cum);
    gw_buf_printf(b, "%s_sum{%s} %.6f\n", name, labels, (double)sum_us / 1e6);
    gw_buf_printf(b, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
}

static uint64_t total(const uint64_t *v, size_t n)
{
    uint64_t t = 0;
    for (size_t i = 0; i < n; i++)
        t += v[i];
    return t;
}

static void render_durations(gw_buf_t *b, const gw_shm_t *shm, const gw_metrics_slot_t *sum)
{
    family(b, "api_gateway_request_duration_seconds", "histogram",
           "Time from request arrival to the start of the response, by method and route template.");
    unsigned neps = gw_shm_nendpoints(shm);
    char name[LABEL_MAX];
    for (unsigned e = 0; e < neps; e++)
        for (unsigned m = 0; m < GW_MET_NMETHODS; m++) {
            const uint64_t *bk = sum->duration_bucket[e][m];
            if (total(bk, GW_MET_NBUCKETS + 1) == 0)
                continue;
            char labels[LABEL_MAX + 64];
            snprintf(labels, sizeof(labels), "method=\"%s\",endpoint=\"%s\"", gw_method_names[m],
                     label_value(gw_shm_endpoint_name(shm, e), name));
            histogram(b, "api_gateway_request_duration_seconds", labels, bk, sum->duration_sum_us[e][m]);
        }
}

/* Backend families: one row per service slot of the names table. */
static void render_backends(gw_buf_t *b, const gw_shm_t *shm, const gw_metrics_slot_t *sum)
{
    unsigned nsvc = gw_shm_nservices(shm);
    char name[LABEL_MAX];
    family(b, "api_gateway_backend_requests_total", "counter",
           "Backend calls by service, result (gRPC status name, HTTP_2XX/4XX/5XX for the HTTP proxy, "
           "TRANSPORT_ERROR when the proxy got no response, REQUEST_TOO_LARGE/RESPONSE_TOO_LARGE for the "
           "gateway's own size limits) and transport failure reason (none when the call completed).");
    for (unsigned s = 0; s < nsvc; s++)
        for (unsigned c = 0; c < GW_MET_NCODES; c++)
            for (unsigned k = 0; k < GW_MET_NREASONS; k++)
                if (sum->backend_requests[s][c][k] != 0)
                    gw_buf_printf(
                        b,
                        "api_gateway_backend_requests_total{service=\"%s\",code=\"%s\",reason=\"%s\"} "
                        "%llu\n",
                        label_value(gw_shm_service_name(shm, s), name), gw_met_code_names[c],
                        gw_met_reason_names[k], (unsigned long long)sum->backend_requests[s][c][k]);
    family(b, "api_gateway_backend_duration_seconds", "histogram", "Backend call latency by service.");
    for (unsigned s = 0; s < nsvc; s++) {
        if (total(sum->backend_bucket[s], GW_MET_NBUCKETS + 1) == 0)
            continue;
        char labels[LABEL_MAX + 16];
        snprintf(labels, sizeof(labels), "service=\"%s\"", label_value(gw_shm_service_name(shm, s), name));
        histogram(b, "api_gateway_backend_duration_seconds", labels, sum->backend_bucket[s],
                  sum->backend_sum_us[s]);
    }
}

static void counter(gw_buf_t *b, const char *name, const char *help, uint64_t v)
{
    family(b, name, "counter", help);
    gw_buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* One counter family with one label, a sample per slot counter. */
typedef struct {
    const char *value;
    gw_counter_t c;
} labelled_t;
#define NLABELLED(a) (sizeof(a) / sizeof((a)[0]))

static void counter_by(gw_buf_t *b, const char *name, const char *help, const char *label,
                       const labelled_t *v, size_t n, const uint64_t *c)
{
    family(b, name, "counter", help);
    for (size_t i = 0; i < n; i++)
        gw_buf_printf(b, "%s{%s=\"%s\"} %llu\n", name, label, v[i].value, (unsigned long long)c[v[i].c]);
}

static void render_counters(gw_buf_t *b, const gw_metrics_slot_t *sum)
{
    const uint64_t *c = sum->counters;
    static const labelled_t decisions[] = {{"allowed", GW_CTR_RATELIMIT_ALLOWED},
                                           {"limited", GW_CTR_RATELIMIT_LIMITED}};
    counter_by(b, "api_gateway_rate_limit_requests_total", "Rate-limit decisions by result.", "result",
               decisions, NLABELLED(decisions), c);
    counter(b, "api_gateway_rate_limit_evictions_total",
            "Limiter entries evicted because their probe window was full.", c[GW_CTR_RATELIMIT_EVICTIONS]);
    static const labelled_t cache[] = {{"hit", GW_CTR_CACHE_HIT},
                                       {"miss", GW_CTR_CACHE_MISS},
                                       {"bypass", GW_CTR_CACHE_BYPASS},
                                       {"error", GW_CTR_CACHE_ERROR},
                                       {"too_large", GW_CTR_CACHE_SKIPPED_SIZE}};
    counter_by(b, "api_gateway_cache_requests_total", "Response-cache lookups and stores by result.",
               "result", cache, NLABELLED(cache), c);
    counter(b, "api_gateway_redis_errors_total", "Redis commands that failed or timed out.",
            c[GW_CTR_REDIS_ERRORS]);
    counter(b, "api_gateway_auth_failures_total", "Requests refused with 401.", c[GW_CTR_AUTH_FAILURES]);
    counter(b, "api_gateway_shutdown_cut_requests_total",
            "Requests still in flight at SHUTDOWN_TIMEOUT, answered 503 by a draining worker.",
            c[GW_CTR_SHUTDOWN_CUT]);
    counter(b, "api_gateway_circuit_breaker_rejections_total", "Requests failed fast by an open breaker.",
            c[GW_CTR_BREAKER_REJECTED]);
    static const labelled_t accept_errors[] = {{"emfile", GW_CTR_ACCEPT_EMFILE},
                                               {"enfile", GW_CTR_ACCEPT_ENFILE},
                                               {"enomem", GW_CTR_ACCEPT_ENOMEM},
                                               {"other", GW_CTR_ACCEPT_OTHER}};
    counter_by(b, "api_gateway_accept_errors_total",
               "Failed accepts of client connections by cause; each pauses the worker's accepting briefly.",
               "reason", accept_errors, NLABELLED(accept_errors), c);
    counter(b, "api_gateway_trace_spans_exported_total", "Spans delivered to JAEGER_URL.",
            c[GW_CTR_TRACE_SPANS_EXPORTED]);
    counter(b, "api_gateway_trace_spans_dropped_total", "Spans dropped (queue full or export failed).",
            c[GW_CTR_TRACE_SPANS_DROPPED]);
    counter(b, "api_gateway_trace_export_errors_total", "Failed span export attempts.",
            c[GW_CTR_TRACE_EXPORT_ERRORS]);
}

static void render_limits_breakers(gw_buf_t *b, const gw_master_t *m)
{
    family(b, "api_gateway_rate_limit_active_limiters", "gauge",
           "Limiter entries in use (clients and tenants seen recently).");
    gw_buf_printf(b, "api_gateway_rate_limit_active_limiters %llu\n",
                  (unsigned long long)gw_sweep_active_limiters(m));
    family(b, "api_gateway_rate_limit_table_capacity", "gauge",
           "Limiter table size (RATE_LIMIT_TABLE_SIZE).");
    gw_buf_printf(b, "api_gateway_rate_limit_table_capacity %ld\n", m->cfg.rate_limit_table_size);
    counter(b, "api_gateway_rate_limit_sweeps_total", "Cleanup sweeps of the limiter table.",
            uatomic_read(&m->shm.hdr->sweeps_total));
    counter(b, "api_gateway_rate_limit_swept_total", "Idle limiter entries freed by the sweep.",
            uatomic_read(&m->shm.hdr->swept_total));
    /* The live state: gw_views_render has just let every open breaker whose
     * CB_OPEN_TIMEOUT passed turn half-open (gw_sweep_breakers). */
    family(b, "api_gateway_circuit_breaker_state", "gauge",
           "Circuit breaker state per backend: 0 closed, 1 open, 2 half-open.");
    const void *region = gw_shm_region(&m->shm, GW_SHM_REGION_BREAKER);
    uint64_t now = gw_now_ms();
    unsigned nsvc = gw_shm_nservices(&m->shm);
    char name[LABEL_MAX];
    for (unsigned s = 0; s < nsvc; s++)
        gw_buf_printf(b, "api_gateway_circuit_breaker_state{service=\"%s\"} %d\n",
                      label_value(gw_shm_service_name(&m->shm, s), name),
                      (int)gw_breaker_state(region, s, now));
}

/* RATE_LIMIT_SCOPE=global (worker/limit_global.c, docs/SCALING.md). */
static void render_global_limits(gw_buf_t *b, const gw_master_t *m, const gw_metrics_slot_t *sum)
{
    const uint64_t *c = sum->counters;
    const void *region = gw_shm_region(&m->shm, GW_SHM_REGION_LIMITER);
    family(b, "api_gateway_rate_limit_global", "gauge",
           "1 while limits are global (RATE_LIMIT_SCOPE=global and Redis reachable), 0 otherwise.");
    gw_buf_printf(b, "api_gateway_rate_limit_global %d\n",
                  m->cfg.rate_limit_global && gw_limiter_global_down(region) == 0);
    counter(b, "api_gateway_rate_limit_global_fallbacks_total",
            "Times this host fell back from global to local limits because Redis was unavailable.",
            c[GW_CTR_RLG_FALLBACKS]);
    counter(b, "api_gateway_rate_limit_global_recoveries_total",
            "Times this host went back to global limits after a fallback.", c[GW_CTR_RLG_RECOVERIES]);
    static const labelled_t res[] = {{"granted", GW_CTR_RLG_SETTLE_GRANTED},
                                     {"partial", GW_CTR_RLG_SETTLE_PARTIAL},
                                     {"denied", GW_CTR_RLG_SETTLE_DENIED},
                                     {"error", GW_CTR_RLG_SETTLE_ERROR}};
    counter_by(b, "api_gateway_rate_limit_global_leases_total",
               "Lease settlements with Redis (one EVAL each) by result.", "result", res, NLABELLED(res), c);
}

/* The revocation table (shm/revoke.h). Counting live entries scans the
 * whole table, so it is redone at most every 2 s; the counters are read on
 * every rendering. */
static void render_revocations(gw_buf_t *b, const gw_master_t *m)
{
    static uint64_t next_scan_ms, live;
    const void *table = gw_shm_region(&m->shm, GW_SHM_REGION_REVOKE);
    gw_revoke_stats_t st = {0};
    if (m->shm.hdr->regions[GW_SHM_REGION_REVOKE].size == 0)
        table = NULL; /* a segment made without the table */
    if (table != NULL)
        gw_revoke_stats(table, &st);
    if (table != NULL && gw_now_ms() >= next_scan_ms) {
        live = gw_revoke_count_live(table, (int64_t)(gw_wall_ms() / 1000));
        next_scan_ms = gw_now_ms() + 2000;
    }
    family(b, "api_gateway_revocation_table_entries", "gauge",
           "Logged-out tokens remembered in the shared segment (not yet expired).");
    gw_buf_printf(b, "api_gateway_revocation_table_entries %llu\n", (unsigned long long)live);
    family(b, "api_gateway_revocation_table_capacity", "gauge",
           "Revocation table size (REVOCATION_TABLE_SIZE).");
    gw_buf_printf(b, "api_gateway_revocation_table_capacity %llu\n", (unsigned long long)st.capacity);
    counter(b, "api_gateway_revocations_recorded_total", "Logouts recorded in the revocation table.",
            st.recorded_total);
    counter(b, "api_gateway_revocations_refused_total",
            "Requests refused because the revocation table holds their token's jti.", st.refused_total);
    counter(b, "api_gateway_revocation_evictions_total",
            "Unexpired revocations overwritten because their probe window was full.", st.evicted_total);
}

static void render_process(gw_buf_t *b, const gw_master_t *m)
{
    struct {
        char labels[64];
        gw_procstat_t ps;
    } procs[GW_MAX_CHILDREN + 1];
    size_t n = 0;
    if (gw_procstat_read(getpid(), &procs[n].ps) == 0)
        snprintf(procs[n++].labels, sizeof(procs[0].labels), "role=\"master\"");
    for (size_t i = 0; i < m->nchildren; i++) {
        const gw_child_t *c = &m->children[i];
        if (gw_procstat_read(c->pid, &procs[n].ps) == 0)
            snprintf(procs[n++].labels, sizeof(procs[0].labels), "role=\"worker\",slot=\"%u\"", c->slot);
    }
    family(b, "process_cpu_seconds_total", "counter", "User and system CPU time spent, per process.");
    for (size_t i = 0; i < n; i++)
        gw_buf_printf(b, "process_cpu_seconds_total{%s} %.2f\n", procs[i].labels, procs[i].ps.cpu_seconds);
    family(b, "process_resident_memory_bytes", "gauge", "Resident memory size, per process.");
    for (size_t i = 0; i < n; i++)
        gw_buf_printf(b, "process_resident_memory_bytes{%s} %llu\n", procs[i].labels,
                      (unsigned long long)procs[i].ps.rss_bytes);
    family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size, per process.");
    for (size_t i = 0; i < n; i++)
        gw_buf_printf(b, "process_virtual_memory_bytes{%s} %llu\n", procs[i].labels,
                      (unsigned long long)procs[i].ps.vsize_bytes);
    family(b, "process_open_fds", "gauge", "Open file descriptors, per process.");
    for (size_t i = 0; i < n; i++)
        gw_buf_printf(b, "process_open_fds{%s} %ld\n", procs[i].labels, procs[i].ps.open_fds);
    family(b, "process_max_fds", "gauge", "Maximum number of open file descriptors, per process.");
    for (size_t i = 0; i < n; i++)
        gw_buf_printf(b, "process_max_fds{%s} %ld\n", procs[i].labels, procs[i].ps.max_fds);
    family(b, "process_start_time_seconds", "gauge", "Start time since the Unix epoch, per process.");
    for (size_t i = 0; i < n; i++)
        gw_buf_printf(b, "process_start_time_seconds{%s} %.2f\n", procs[i].labels,
                      procs[i].ps.start_time_seconds);
}

static void render_gateway(gw_buf_t *b, const gw_master_t *m, const gw_metrics_slot_t *sum)
{
    const gw_shm_header_t *h = m->shm.hdr;
    family(b, "api_gateway_active_requests", "gauge", "Requests being processed now, all workers.");
    gw_buf_printf(b, "api_gateway_active_requests %lld\n", (long long)sum->active_requests);
    family(b, "api_gateway_workers", "gauge", "Worker processes by state.");
    static const char *states[] = {NULL, "starting", "ready", "draining"};
    size_t counts[4] = {0};
    for (size_t i = 0; i < m->nchildren; i++)
        counts[CMM_LOAD_SHARED(gw_shm_worker(&m->shm, m->children[i].slot)->state) & 3]++;
    for (int s = 1; s < 4; s++)
        gw_buf_printf(b, "api_gateway_workers{state=\"%s\"} %zu\n", states[s], counts[s]);
    counter(b, "api_gateway_worker_restarts_total", "Workers restarted after a crash.",
            uatomic_read(&h->worker_restarts_total));
    counter(b, "api_gateway_reloads_total", "Successful configuration reloads (SIGHUP).",
            uatomic_read(&h->reloads_total));
    counter(b, "api_gateway_reload_failures_total",
            "Reloads refused (invalid configuration or workers failing).",
            uatomic_read(&h->reload_failures_total));
    family(b, "api_gateway_shm_bytes", "gauge", "Shared segment size by region.");
    for (int r = 0; r < GW_SHM_NREGIONS; r++)
        gw_buf_printf(b, "api_gateway_shm_bytes{kind=\"%s\"} %llu\n", gw_shm_region_names[r],
                      (unsigned long long)h->regions[r].size);
    gw_buf_printf(b, "api_gateway_shm_bytes{kind=\"total\"} %llu\n", (unsigned long long)h->total_size);
}

/* Redis Cluster calls: node names differ from slot to slot, so aggregate
 * them by name here (the word-by-word sum of the block is meaningless). */
static void render_redis_cluster(gw_buf_t *b, const gw_shm_t *shm, const gw_metrics_slot_t *sum)
{
    enum { MAX = 64 };
    static char names[MAX][GW_MET_REDIS_NODE_NAME];
    static uint64_t calls[MAX][GW_MET_REDIS_NRESULTS];
    unsigned n = 0;
    memset(calls, 0, sizeof(calls));
    for (unsigned s = 0; s < shm->hdr->nslots; s++) {
        const gw_met_redis_t *r = &gw_shm_metrics(shm, s)->redis;
        uint64_t used = CMM_LOAD_SHARED(r->nnodes);
        cmm_smp_rmb(); /* the names published by nnodes */
        for (unsigned i = 0; i < used && i < GW_MET_REDIS_NODES; i++) {
            char name[GW_MET_REDIS_NODE_NAME];
            snprintf(name, sizeof(name), "%.*s", GW_MET_REDIS_NODE_NAME - 1, r->name[i]);
            unsigned k = 0;
            while (k < n && strcmp(names[k], name) != 0)
                k++;
            if (k == n && n < MAX)
                memcpy(names[n++], name, sizeof(name));
            for (unsigned res = 0; k < n && res < GW_MET_REDIS_NRESULTS; res++)
                calls[k][res] += CMM_LOAD_SHARED(r->calls[i][res]);
        }
    }
    static const char *results[GW_MET_REDIS_NRESULTS] = {"ok", "error", "timeout"};
    family(b, "api_gateway_redis_calls_total", "counter",
           "Redis Cluster commands by node (host:port) and result (a followed MOVED/ASK counts as ok).");
    for (unsigned k = 0; k < n; k++)
        for (unsigned res = 0; res < GW_MET_REDIS_NRESULTS; res++) {
            gw_buf_puts(b, "api_gateway_redis_calls_total{node=");
            gw_buf_json_cstr(b, names[k]);
            gw_buf_printf(b, ",result=\"%s\"} %llu\n", results[res], (unsigned long long)calls[k][res]);
        }
    counter(b, "api_gateway_redis_slot_map_refreshes_total",
            "Redis Cluster slot maps loaded (CLUSTER SLOTS).", sum->counters[GW_CTR_REDIS_SLOT_REFRESHES]);
    static const labelled_t redirects[] = {{"moved", GW_CTR_REDIS_MOVED}, {"ask", GW_CTR_REDIS_ASK}};
    counter_by(b, "api_gateway_redis_redirects_total", "Redis Cluster redirects followed, by kind.", "kind",
               redirects, NLABELLED(redirects), sum->counters);
}

/* Add bytes [off, off + len) of every slot into `out`, word by word. */
static void sum_range(const gw_shm_t *shm, gw_metrics_slot_t *out, size_t off, size_t len)
{
    uint64_t *dst = (uint64_t *)((char *)out + off);
    size_t nwords = len / 8;
    for (unsigned s = 0; s < shm->hdr->nslots; s++) {
        const uint64_t *src = (const uint64_t *)((const char *)gw_shm_metrics(shm, s) + off);
        for (size_t i = 0; i < nwords; i++)
            dst[i] += CMM_LOAD_SHARED(src[i]);
    }
}

/* Sum every slot into `out`: the slot is an array of 64-bit words (the
 * static assert keeps it that way). Of the three per-endpoint arrays only
 * the rows of slots in use are summed (the renderers read no others), so a
 * rendering costs what the routes use, not GW_ENDPOINT_MAX rows a slot. */
static void sum_slots(const gw_shm_t *shm, gw_metrics_slot_t *out)
{
    _Static_assert(sizeof(gw_metrics_slot_t) % 8 == 0, "metric slots are arrays of 64-bit words");
    _Static_assert(offsetof(gw_metrics_slot_t, requests) == 0 &&
                       offsetof(gw_metrics_slot_t, backend_requests) ==
                           offsetof(gw_metrics_slot_t, duration_sum_us) + sizeof(out->duration_sum_us),
                   "the per-endpoint arrays come first, everything else after them");
    size_t neps = gw_shm_nendpoints(shm);
    size_t tail = offsetof(gw_metrics_slot_t, backend_requests);
    memset(out, 0, sizeof(*out));
    sum_range(shm, out, offsetof(gw_metrics_slot_t, requests), neps * sizeof(out->requests[0]));
    sum_range(shm, out, offsetof(gw_metrics_slot_t, duration_bucket), neps * sizeof(out->duration_bucket[0]));
    sum_range(shm, out, offsetof(gw_metrics_slot_t, duration_sum_us), neps * sizeof(out->duration_sum_us[0]));
    sum_range(shm, out, tail, sizeof(*out) - tail);
}

void gw_views_render_metrics(gw_master_t *m, gw_buf_t *b, gw_metrics_slot_t *sum)
{
    sum_slots(&m->shm, sum);
    render_requests(b, &m->shm, sum);
    render_durations(b, &m->shm, sum);
    render_gateway(b, m, sum);
    render_counters(b, sum);
    render_redis_cluster(b, &m->shm, sum);
    render_backends(b, &m->shm, sum);
    render_limits_breakers(b, m);
    render_global_limits(b, m, sum);
    render_revocations(b, m);
    render_process(b, m);
}
