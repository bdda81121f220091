/*
 * Metric slots in the shared segment: one padded slot per worker record, with
 * exactly one writer (the worker holding the record), summed by readers (the
 * master's /metrics view, /debug endpoints, tests).
 *
 * Writers bump plain 64-bit words with CMM_STORE_SHARED (no lock prefix:
 * nobody else writes the slot); readers use CMM_LOAD_SHARED. Aligned 64-bit
 * stores are never torn on x86-64/arm64, so a worker killed at any
 * instruction loses at most the increment it was making. Slots outlive their
 * writers: a respawned worker continues the counts of the slot it takes over,
 * so sums never go backwards. Gauges (active requests) are zeroed by the
 * master when it reaps the slot's dead owner.
 */
#ifndef GW_SHM_METRICS_H
#define GW_SHM_METRICS_H

#include <stdint.h>
#include <urcu/system.h>

#include "core/method.h"
#include "core/route.h"

/* Rows are slots of the names table (shm/names.h): endpoint slots for the
 * request families, service slots for the backend families. */
#define GW_MET_MAX_ENDPOINTS GW_ENDPOINT_MAX /* route templates + built-ins + "unmatched" */
#define GW_MET_NMETHODS      GW_METHOD_COUNT
#define GW_MET_NLISTED       28 /* exact status codes; then 4 class buckets 2xx..5xx */
#define GW_MET_NSTATUS       32
#define GW_MET_NBUCKETS      11 /* .005 … 10 s; index GW_MET_NBUCKETS is +Inf */
#define GW_MET_MAX_SERVICES  GW_SVC_MAX
#define GW_MET_NCODES        23 /* gRPC codes 0..16, HTTP 2xx/4xx/5xx, local size refusals, transport */

/* Backend result codes beyond the 17 gRPC status codes (HTTP proxy results). */
#define GW_CODE_HTTP_2XX 17
#define GW_CODE_HTTP_4XX 18
#define GW_CODE_HTTP_5XX 19
/* The gateway itself refused a message over its size limits (gRPC client or
 * HTTP proxy): not the backend's answer, so not its RESOURCE_EXHAUSTED. */
#define GW_CODE_REQUEST_TOO_LARGE  20
#define GW_CODE_RESPONSE_TOO_LARGE 21
/* The HTTP proxy never got a response (connect, DNS, reset...): not a 5xx
 * from the backend. The `reason` label says which transport step failed. */
#define GW_CODE_TRANSPORT_ERROR 22

/* Backend requests: why a call failed below the protocol (the `reason`
 * label of api_gateway_backend_requests_total). NONE = the call completed
 * with a status from the backend (any code); the others are transport
 * failures, classified from gRPC core's status details or h2o's client
 * errors (worker/clients/upstream_reason.c). */
typedef enum {
    GW_REASON_NONE = 0,
    GW_REASON_REFUSED,         /* nothing listens: ECONNREFUSED */
    GW_REASON_DNS,             /* the host name does not resolve */
    GW_REASON_CONNECT_TIMEOUT, /* no TCP connection / no HTTP/2 SETTINGS in time */
    GW_REASON_TLS_HANDSHAKE,   /* TLS handshake failed (GRPC_TLS mismatch, certificate) */
    GW_REASON_RESET,           /* the backend reset or closed the connection */
    GW_REASON_PROTOCOL,        /* the peer does not speak the expected protocol */
    GW_REASON_OTHER,           /* a transport failure we do not recognise */
    GW_MET_NREASONS
} gw_backend_reason_t;

/* Miscellaneous counters and gauges; later features append here (the layout
 * version in segment.h changes when this enum does). */
typedef enum {
    GW_CTR_RATELIMIT_ALLOWED = 0,
    GW_CTR_RATELIMIT_LIMITED,
    GW_CTR_RATELIMIT_EVICTIONS,
    GW_CTR_CACHE_HIT,
    GW_CTR_CACHE_MISS,
    GW_CTR_CACHE_BYPASS,
    GW_CTR_CACHE_ERROR,
    GW_CTR_CACHE_SKIPPED_SIZE,
    GW_CTR_REDIS_ERRORS,
    GW_CTR_AUTH_FAILURES,
    GW_CTR_TRACE_SPANS_EXPORTED,
    GW_CTR_TRACE_SPANS_DROPPED,
    GW_CTR_TRACE_EXPORT_ERRORS,
    GW_CTR_LOG_LINES_DROPPED,
    GW_CTR_BREAKER_REJECTED,
    GW_CTR_ACCEPT_EMFILE, /* accept4 failures (worker/accept.c), by errno */
    GW_CTR_ACCEPT_ENFILE,
    GW_CTR_ACCEPT_ENOMEM, /* ENOBUFS or ENOMEM */
    GW_CTR_ACCEPT_OTHER,
    GW_CTR_SHUTDOWN_CUT,         /* requests answered 503 at the drain deadline (worker/drain.c) */
    GW_CTR_REDIS_SLOT_REFRESHES, /* Redis Cluster slot maps loaded (worker/clients/redis_cluster.c) */
    GW_CTR_REDIS_MOVED,          /* MOVED redirects followed */
    GW_CTR_REDIS_ASK,            /* ASK redirects followed */
    /* RATE_LIMIT_SCOPE=global (worker/limit_global.c) */
    GW_CTR_RLG_FALLBACKS,      /* host went from global to local limits */
    GW_CTR_RLG_RECOVERIES,     /* ... and back */
    GW_CTR_RLG_SETTLE_GRANTED, /* settle calls by result: all charged */
    GW_CTR_RLG_SETTLE_PARTIAL, /* some charged: the global bucket ran out */
    GW_CTR_RLG_SETTLE_DENIED,  /* none charged */
    GW_CTR_RLG_SETTLE_ERROR,   /* no answer / error reply */
    GW_CTR_COUNT,              /* counters in use (must stay <= GW_CTR_MAX) */
    GW_CTR_MAX = 48
} gw_counter_t;
_Static_assert(GW_CTR_COUNT <= GW_CTR_MAX, "raise GW_CTR_MAX (and GW_SHM_LAYOUT_VERSION)");

/* Redis Cluster calls by node (worker/redis_cluster.c). Node names differ
 * from slot to slot, so readers aggregate these by name slot by slot (the
 * word-by-word sum of this block is meaningless). The writer fills a name,
 * then publishes it by storing nnodes; once the table is full, further
 * nodes are counted in the last entry, named "other". */
#define GW_MET_REDIS_NODES     16
#define GW_MET_REDIS_NODE_NAME 72
typedef enum {
    GW_MET_REDIS_OK = 0, /* a reply (including a MOVED/ASK that was followed) */
    GW_MET_REDIS_ERROR,  /* an error reply or a lost connection */
    GW_MET_REDIS_TIMEOUT,
    GW_MET_REDIS_NRESULTS
} gw_met_redis_result_t;

typedef struct {
    uint64_t nnodes;
    char name[GW_MET_REDIS_NODES][GW_MET_REDIS_NODE_NAME];
    uint64_t calls[GW_MET_REDIS_NODES][GW_MET_REDIS_NRESULTS];
} gw_met_redis_t;

typedef struct {
    uint64_t requests[GW_MET_MAX_ENDPOINTS][GW_MET_NMETHODS][GW_MET_NSTATUS];
    uint64_t duration_bucket[GW_MET_MAX_ENDPOINTS][GW_MET_NMETHODS][GW_MET_NBUCKETS + 1]; /* not cumulative */
    uint64_t duration_sum_us[GW_MET_MAX_ENDPOINTS][GW_MET_NMETHODS];
    uint64_t backend_requests[GW_MET_MAX_SERVICES][GW_MET_NCODES][GW_MET_NREASONS];
    uint64_t backend_bucket[GW_MET_MAX_SERVICES][GW_MET_NBUCKETS + 1];
    uint64_t backend_sum_us[GW_MET_MAX_SERVICES];
    uint64_t counters[GW_CTR_MAX];
    int64_t active_requests; /* gauge */
    gw_met_redis_t redis;
} __attribute__((aligned(128))) gw_metrics_slot_t;

/* index → HTTP status; the last four entries are classes 2..5 ("2xx"…"5xx") */
extern const int gw_met_status_codes[GW_MET_NSTATUS];
extern const double gw_met_bucket_bounds[GW_MET_NBUCKETS];
extern const char *const gw_met_code_names[GW_MET_NCODES];
extern const char *const gw_met_reason_names[GW_MET_NREASONS];

/* Index of an HTTP status in gw_met_status_codes (unlisted codes → their class). */
unsigned gw_met_status_index(int status);
unsigned gw_met_bucket_index(uint64_t micros);

/* Single-writer increments: only the slot's owner calls these. */
static inline void gw_met_add(uint64_t *word, uint64_t n)
{
    CMM_STORE_SHARED(*word, CMM_LOAD_SHARED(*word) + n);
}

static inline void gw_met_gauge_add(int64_t *word, int64_t n)
{
    CMM_STORE_SHARED(*word, CMM_LOAD_SHARED(*word) + n);
}

void gw_met_observe_request(gw_metrics_slot_t *slot, unsigned endpoint, gw_method_t method, int status,
                            uint64_t micros);
/* A backend call that completed (reason "none"), or failed for `reason`. */
void gw_met_observe_backend(gw_metrics_slot_t *slot, unsigned service, unsigned code, uint64_t micros);
void gw_met_observe_backend_reason(gw_metrics_slot_t *slot, unsigned service, unsigned code,
                                   gw_backend_reason_t reason, uint64_t micros);

static inline void gw_met_count(gw_metrics_slot_t *slot, gw_counter_t c)
{
    gw_met_add(&slot->counters[c], 1);
}

#endif
