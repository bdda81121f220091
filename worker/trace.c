/*
 * Trace context and spans (see worker/trace.h): traceparent parsing, id
 * generation, sampling, and turning a finished request or backend call into
 * a span handed to the exporter (worker/trace_export.c).
 */
#include "worker/trace.h"

#include <string.h>
#include <time.h>

#include "core/digits.h"
#include "shm/names.h"
#include "worker/ident.h"
#include "worker/request.h"
#include "worker/trace_int.h"

/* n bytes from 2n lowercase hex digits (W3C: no uppercase); false if any
 * digit is bad. *nonzero tells whether any byte was. */
static bool parse_hex(const char *s, size_t n, uint8_t *out, bool *nonzero)
{
    *nonzero = false;
    for (size_t i = 0; i < 2 * n; i++)
        if (gw_hex_value(s[i]) < 0 || (s[i] >= 'A' && s[i] <= 'F'))
            return false;
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)(gw_hex_value(s[2 * i]) << 4 | gw_hex_value(s[2 * i + 1]));
        *nonzero |= out[i] != 0;
    }
    return true;
}

bool gw_trace_parse(const char *s, size_t len, uint8_t trace_id[16], uint8_t parent_id[8], uint8_t *flags)
{
    /* version "-" trace-id "-" parent-id "-" flags. Version 00 is exactly
     * that long; a later version may append "-..." fields; ff is invalid. */
    uint8_t version;
    bool nz, trace_nz, parent_nz;
    if (len < GW_TRACEPARENT_LEN || s[2] != '-' || s[35] != '-' || s[52] != '-' ||
        !parse_hex(s, 1, &version, &nz) || version == 0xff)
        return false;
    if (version == 0 ? len != GW_TRACEPARENT_LEN : (len > GW_TRACEPARENT_LEN && s[GW_TRACEPARENT_LEN] != '-'))
        return false;
    return parse_hex(s + 3, 16, trace_id, &trace_nz) && trace_nz &&
           parse_hex(s + 36, 8, parent_id, &parent_nz) && parent_nz && parse_hex(s + 53, 1, flags, &nz);
}

static void random_id(uint8_t *out, size_t n)
{
    do {
        for (size_t i = 0; i < n; i += 8) {
            uint64_t v = gw_random64();
            memcpy(out + i, &v, n - i < 8 ? n - i : 8);
        }
    } while (out[0] == 0 && memcmp(out, out + 1, n - 1) == 0); /* never all zero */
}

void gw_trace_hex(char *out, const uint8_t *bytes, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
}

uint64_t gw_trace_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void gw_trace_start(gw_request_t *r)
{
    const h2o_iovec_t *tp = gw_request_header(r, H2O_STRLIT("traceparent"));
    gw_trace_t *t = &r->trace;
    if (!r->w->cfg->enable_tracing) {
        if (tp != NULL && tp->len <= 128) /* propagated as is */
            r->traceparent = *tp;
        return;
    }
    if (tp != NULL && gw_trace_parse(tp->base, tp->len, t->trace_id, t->parent_id, &t->flags)) {
        t->has_parent = true;
        t->flags &= 1; /* we only know the sampled bit */
    } else {
        random_id(t->trace_id, 16);
        double ratio = r->w->cfg->trace_sample_ratio;
        t->flags = ratio >= 1 || (double)(gw_random64() >> 11) * 0x1.0p-53 < ratio;
    }
    t->on = (t->flags & 1) != 0;
    random_id(t->server_id, 8);
    random_id(t->client_id, 8);
    t->start_ns = gw_trace_now_ns();
    /* The backend's parent is our CLIENT span, child of our SERVER span. */
    memcpy(t->header, "00-", 3);
    gw_trace_hex(t->header + 3, t->trace_id, 16);
    t->header[35] = '-';
    gw_trace_hex(t->header + 36, t->client_id, 8);
    t->header[52] = '-';
    t->header[53] = '0';
    t->header[54] = (char)('0' + (t->flags & 1));
    t->header[55] = '\0';
    r->traceparent = h2o_iovec_init(t->header, GW_TRACEPARENT_LEN);
}

void gw_trace_client_end(gw_request_t *r, const char *service, const char *rpc, uint64_t latency_us,
                         int status, bool error)
{
    gw_trace_t *t = &r->trace;
    if (!t->on)
        return;
    uint64_t end = gw_trace_now_ns();
    gw_span_t s = {.kind = GW_SPAN_CLIENT,
                   .end_ns = end,
                   .start_ns = end - latency_us * 1000,
                   .name = rpc,
                   .method = gw_method_names[r->method],
                   .service = service,
                   .status = status,
                   .error = error,
                   .has_parent = true};
    memcpy(s.trace_id, t->trace_id, 16);
    memcpy(s.span_id, t->client_id, 8);
    memcpy(s.parent_id, t->server_id, 8);
    gw_trace_record(r->w, &s);
}

void gw_trace_server_end(gw_request_t *r, int status)
{
    gw_trace_t *t = &r->trace;
    if (!t->on || (r->match.route != NULL && r->match.route->kind == GW_ROUTE_BUILTIN))
        return; /* /ready, /health, /metrics and the admin pages are not traced */
    gw_span_t s = {.kind = GW_SPAN_SERVER,
                   .start_ns = t->start_ns,
                   .end_ns = gw_trace_now_ns(),
                   .name = gw_shm_endpoint_name(r->w->shm, r->endpoint),
                   .method = gw_method_names[r->method],
                   .status = status,
                   .error = status >= 500,
                   .has_parent = t->has_parent};
    memcpy(s.trace_id, t->trace_id, 16);
    memcpy(s.span_id, t->server_id, 8);
    memcpy(s.parent_id, t->parent_id, 8);
    gw_trace_record(r->w, &s);
}
