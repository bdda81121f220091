/*
 * Label tables and single-writer observation helpers for the per-worker
 * metric slots (layout in shm/metrics.h). Workers call the observe functions
 * on the request path; the master's view renderer uses the label tables.
 */
#include "shm/metrics.h"

#include <string.h>

const int gw_met_status_codes[GW_MET_NSTATUS] = {
    200, 201, 202, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405, 408, 409, 411, 413,
    414, 415, 422, 429, 431, 499, 500, 501, 502, 503, 504, 2,   3,   4,   5, /* unlisted codes, by class */
};

const double gw_met_bucket_bounds[GW_MET_NBUCKETS] = {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};

/* clang-format off */
const char *const gw_met_code_names[GW_MET_NCODES] = {
    "OK",        "CANCELLED",       "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS",  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",    "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED", "HTTP_2XX",          "HTTP_4XX",           "HTTP_5XX",
    "REQUEST_TOO_LARGE", "RESPONSE_TOO_LARGE", /* the gateway's own size limits */
    "TRANSPORT_ERROR",                         /* the HTTP proxy got no response */
};
/* clang-format on */

unsigned gw_met_status_index(int status)
{
    /* The listed part of the table is sorted: binary search it. */
    unsigned lo = 0, hi = GW_MET_NLISTED;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (gw_met_status_codes[mid] < status)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < GW_MET_NLISTED && gw_met_status_codes[lo] == status)
        return lo;
    int cls = status / 100;
    if (cls < 2)
        cls = 2;
    if (cls > 5)
        cls = 5;
    return GW_MET_NLISTED + (unsigned)(cls - 2);
}

unsigned gw_met_bucket_index(uint64_t micros)
{
    double s = (double)micros / 1e6;
    unsigned i = 0;
    while (i < GW_MET_NBUCKETS && s > gw_met_bucket_bounds[i])
        i++;
    return i;
}

void gw_met_observe_request(gw_metrics_slot_t *slot, unsigned endpoint, gw_method_t method, int status,
                            uint64_t micros)
{
    if (endpoint >= GW_MET_MAX_ENDPOINTS)
        return;
    gw_met_add(&slot->requests[endpoint][method][gw_met_status_index(status)], 1);
    gw_met_add(&slot->duration_bucket[endpoint][method][gw_met_bucket_index(micros)], 1);
    gw_met_add(&slot->duration_sum_us[endpoint][method], micros);
}

const char *const gw_met_reason_names[GW_MET_NREASONS] = {
    "none", "refused", "dns", "connect_timeout", "tls_handshake", "reset", "protocol", "other",
};

void gw_met_observe_backend(gw_metrics_slot_t *slot, unsigned service, unsigned code, uint64_t micros)
{
    gw_met_observe_backend_reason(slot, service, code, GW_REASON_NONE, micros);
}

void gw_met_observe_backend_reason(gw_metrics_slot_t *slot, unsigned service, unsigned code,
                                   gw_backend_reason_t reason, uint64_t micros)
{
    if (service >= GW_MET_MAX_SERVICES || code >= GW_MET_NCODES || (unsigned)reason >= GW_MET_NREASONS)
        return;
    gw_met_add(&slot->backend_requests[service][code][reason], 1);
    gw_met_add(&slot->backend_bucket[service][gw_met_bucket_index(micros)], 1);
    gw_met_add(&slot->backend_sum_us[service], micros);
}
