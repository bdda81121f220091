/*
 * The HTTP/1 request-head guard: framing rules (RFC 9112 §3.2, §6.1, §6.3),
 * head limits, and one error envelope for h2o's own parse errors.
 *
 * Mechanism. libh2o-evloop (2.2.5) parses every HTTP/1 request head in
 * lib/http1.c handle_incoming_request with picohttpparser's
 * phr_parse_request, called through libh2o's PLT. This file defines
 * phr_parse_request; the executable exports it (the linker exports a symbol
 * that a linked shared library also defines), so the dynamic linker binds
 * libh2o's call to ours, which calls the real parser (dlsym(RTLD_NEXT)) and
 * then checks the head. gw_h1guard_init() verifies the binding at start.
 *
 * h2o's own refusals write a fixed text/plain "400 Bad Request" straight to
 * the socket (send_bad_request), so we never let them happen: to refuse, we
 * return a successful parse of a *substitute head* instead — the client's
 * method and (at most 256 bytes of its) target, `connection: close`, the
 * client's correlation-id / user-agent / x-forwarded-for lines, and first a
 * marker field whose value points into this file's `marker` array (no
 * client can forge that pointer). It has no Content-Length or
 * Transfer-Encoding, so h2o reads no body and hands it straight to our
 * handler, where gw_h1guard_refused() answers with the envelope,
 * X-Correlation-ID, a metric (unmatched endpoint) and an access line. The
 * request is not persistent, so h2o adds `Connection: close` and closes
 * after the answer: bytes after the head (a body, a smuggled request) are
 * never parsed.
 *
 * Rules (a complete head):
 *   method not a token → 400; target over MAX_URI_SIZE → 414; header lines
 *   over GW_MAX_HEADER_BYTES → 431; obs-fold continuation line → 400;
 *   more than one Host, or none on HTTP/1.1 → 400; Transfer-Encoding on
 *   HTTP/1.0, repeated, or other than "chunked" → 400 / 400 / 501; repeated
 *   Content-Length → 400 (differing values "conflicting", identical ones
 *   "duplicate": we refuse both, like nginx), or not a number → 400;
 *   Transfer-Encoding with one Content-Length → the body is read as
 *   chunked (Content-Length dropped) and the connection closes after the
 *   response.
 * Incomplete heads are refused as soon as the target passes MAX_URI_SIZE
 * (414) or the header lines pass GW_MAX_HEADER_BYTES (431), instead of
 * waiting for h2o's H2O_MAX_REQLEN; the real parser's errors become 431
 * (more than H2O_MAX_HEADERS lines) or 400 "malformed request" (bad bytes:
 * NUL, CR, control characters). Two exceptions keep h2o's behaviour: the
 * HTTP/2 preface ("PRI * HTTP/2", h2c prior knowledge) and a few stray CRLFs
 * (closed silently).
 *
 * Everything runs on the worker's loop thread; nothing here allocates.
 */
#include "worker/h1guard.h"

#include <dlfcn.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "worker/respond.h"

typedef int (*phr_parse_request_fn)(const char *, size_t, const char **, size_t *, const char **, size_t *,
                                    int *, struct phr_header *, size_t *, size_t);

enum {
    R_NONE = -1,
    R_MALFORMED,
    R_METHOD,
    R_URI_TOO_LONG,
    R_HEADERS_TOO_LARGE,
    R_TOO_MANY_HEADERS,
    R_OBS_FOLD,
    R_HOST_MISSING,
    R_HOST_DUP,
    R_TE_HTTP10,
    R_TE_DUP,
    R_TE_UNSUPPORTED,
    R_CL_DUP,
    R_CL_CONFLICT,
    R_CL_INVALID,
    R_COUNT
};

static const struct {
    int status;
    const char *message;
} refusals[R_COUNT] = {
    [R_MALFORMED] = {400, "malformed request"},
    [R_METHOD] = {400, "invalid request method"},
    [R_URI_TOO_LONG] = {414, "request URI too long"},
    [R_HEADERS_TOO_LARGE] = {431, "request header fields too large"},
    [R_TOO_MANY_HEADERS] = {431, "too many header fields"},
    [R_OBS_FOLD] = {400, "obsolete line folding in header"},
    [R_HOST_MISSING] = {400, "missing Host header"},
    [R_HOST_DUP] = {400, "duplicate Host header"},
    [R_TE_HTTP10] = {400, "Transfer-Encoding not allowed in HTTP/1.0"},
    [R_TE_DUP] = {400, "duplicate Transfer-Encoding header"},
    [R_TE_UNSUPPORTED] = {501, "unsupported Transfer-Encoding"},
    [R_CL_DUP] = {400, "duplicate Content-Length header"},
    [R_CL_CONFLICT] = {400, "conflicting Content-Length headers"},
    [R_CL_INVALID] = {400, "invalid Content-Length header"},
};

/* Substitute-head fields. h2o lowercases header names in place, so names
 * are writable arrays; the marker's value points at marker[reason]. */
static char marker_name[] = "x-gw-h1guard";
static char marker[R_COUNT];
static char connection_name[] = "connection";
static char close_value[] = "close";
static const char dash[] = "-";

#define SUBST_TARGET_MAX  256  /* bytes of the client's target kept for the access line */
#define SUBST_VALUE_MAX   1024 /* longer pass-through values are dropped */
#define SUBST_MAX_HEADERS 8

static phr_parse_request_fn real_parser(void)
{
    static phr_parse_request_fn real;
    static bool looked_up;
    if (!looked_up) {
        looked_up = true;
        real = (phr_parse_request_fn)dlsym(RTLD_NEXT, "phr_parse_request");
    }
    return real;
}

void gw_h1guard_init(void)
{
    void *bound = dlsym(RTLD_DEFAULT, "phr_parse_request");
    if (real_parser() == NULL || bound != (void *)phr_parse_request)
        gw_logf(GW_LOG_ERROR, "HTTP/1 head guard not in libh2o's path (binary linked without it exported): "
                              "framing checks and parse-error envelopes are off");
}

static size_t max_uri(void)
{
    gw_worker_t *w = gw_worker_self();
    return w != NULL && w->cfg != NULL ? (size_t)w->cfg->max_uri_size : 8192;
}

/* RFC 9110 §5.6.2 tchar. */
static bool is_token(const char *s, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
        if (!ok)
            return false;
    }
    return true;
}

/* 1*DIGIT, as h2o_strtosize reads it (at most 19 digits). */
static bool is_length(const char *s, size_t len)
{
    if (len == 0 || len > 19)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool name_is(const struct phr_header *h, const char *name, size_t len)
{
    return h->name_len == len && strncasecmp(h->name, name, len) == 0;
}

/* The request line as far as it has arrived: method and target (each
 * possibly incomplete; NULL when absent). phr skips one leading empty line. */
typedef struct {
    const char *method, *target, *line_end; /* line_end: the '\n', NULL if not yet */
    size_t method_len, target_len;
    bool target_done; /* the SP after the target has arrived */
} reqline_t;

static reqline_t peek_request_line(const char *buf, size_t len)
{
    reqline_t l = {0};
    size_t i = 0;
    if (len >= 2 && buf[0] == '\r' && buf[1] == '\n')
        i = 2;
    else if (len >= 1 && buf[0] == '\n')
        i = 1;
    const char *p = buf + i, *end = buf + len;
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    if (sp == NULL)
        return l;
    l.method = p;
    l.method_len = (size_t)(sp - p);
    l.target = sp + 1;
    const char *sp2 = memchr(l.target, ' ', (size_t)(end - l.target));
    l.target_done = sp2 != NULL;
    l.target_len = (size_t)((sp2 ? sp2 : end) - l.target);
    if (sp2 != NULL)
        l.line_end = memchr(sp2, '\n', (size_t)(end - sp2));
    return l;
}

/* A head that has not fully arrived: refuse it as soon as it cannot fit. */
static int check_partial(const char *buf, size_t len)
{
    if (len >= H2O_MAX_REQLEN) /* h2o would answer its own text 400 next */
        return R_HEADERS_TOO_LARGE;
    reqline_t l = peek_request_line(buf, len);
    if (l.method == NULL)
        return len > 256 ? R_METHOD : R_NONE;
    if (l.target_len > max_uri())
        return R_URI_TOO_LONG;
    if (!l.target_done)
        return R_NONE;
    if (l.line_end == NULL)
        return (size_t)(buf + len - l.target) - l.target_len > 64 ? R_MALFORMED : R_NONE;
    return (size_t)(buf + len - (l.line_end + 1)) > GW_MAX_HEADER_BYTES ? R_HEADERS_TOO_LARGE : R_NONE;
}

/* The real parser failed: the HTTP/2 preface and stray CRLFs stay h2o's. */
static int check_error(const char *buf, size_t len, size_t num_headers, size_t cap)
{
    if (len >= 12 && memcmp(buf, "PRI * HTTP/2", 12) == 0)
        return R_NONE;
    if (len <= 4) {
        size_t i = 0;
        while (i < len && (buf[i] == '\r' || buf[i] == '\n'))
            i++;
        if (i == len)
            return R_NONE;
    }
    /* phr stops with -1 when the next line would exceed its array. */
    if (num_headers == cap)
        return R_TOO_MANY_HEADERS;
    reqline_t l = peek_request_line(buf, len);
    if (l.target_len > max_uri())
        return R_URI_TOO_LONG;
    return R_MALFORMED;
}

/* Transfer-Encoding wins over Content-Length (h2o reads chunked already):
 * drop Content-Length and append `connection: close` (h2o keeps the last
 * Connection line), so no byte after the body is read as a request. */
static void close_after_chunked(struct phr_header *h, size_t *n)
{
    size_t out = 0;
    for (size_t i = 0; i < *n; i++)
        if (!name_is(&h[i], "content-length", 14))
            h[out++] = h[i];
    h[out++] = (struct phr_header){connection_name, sizeof(connection_name) - 1, close_value, 5};
    *n = out;
}

static int check_framing(const char *buf, int ret, const char *method, size_t method_len, size_t path_len,
                         int minor, struct phr_header *h, size_t *n)
{
    if (!is_token(method, method_len))
        return R_METHOD;
    if (path_len == 0)
        return R_MALFORMED;
    if (path_len > max_uri())
        return R_URI_TOO_LONG;
    reqline_t l = peek_request_line(buf, (size_t)ret);
    if (l.line_end == NULL || (size_t)(buf + ret - (l.line_end + 1)) > GW_MAX_HEADER_BYTES)
        return R_HEADERS_TOO_LARGE;
    size_t hosts = 0, tes = 0, cls = 0;
    const struct phr_header *te = NULL, *cl = NULL;
    bool cl_differs = false;
    for (size_t i = 0; i < *n; i++) {
        if (h[i].name == NULL || h[i].name_len == 0)
            return R_OBS_FOLD;
        if (name_is(&h[i], "host", 4)) {
            hosts++;
        } else if (name_is(&h[i], "transfer-encoding", 17)) {
            tes++;
            te = &h[i];
        } else if (name_is(&h[i], "content-length", 14)) {
            if (!is_length(h[i].value, h[i].value_len))
                return R_CL_INVALID;
            if (cls++ > 0)
                cl_differs |=
                    h[i].value_len != cl->value_len || memcmp(h[i].value, cl->value, cl->value_len) != 0;
            cl = &h[i];
        }
    }
    if (hosts > 1)
        return R_HOST_DUP;
    if (hosts == 0 && minor >= 1)
        return R_HOST_MISSING;
    if (tes > 0 && minor == 0)
        return R_TE_HTTP10;
    if (tes > 1)
        return R_TE_DUP;
    if (te != NULL && !(te->value_len == 7 && strncasecmp(te->value, "chunked", 7) == 0))
        return R_TE_UNSUPPORTED;
    if (cls > 1)
        return cl_differs ? R_CL_CONFLICT : R_CL_DUP;
    if (te != NULL && cl != NULL)
        close_after_chunked(h, n);
    return R_NONE;
}

/* Replace the parse result by the substitute head described at the top. */
static int substitute(int why, const char *buf, size_t consumed, const char **method, size_t *method_len,
                      const char **path, size_t *path_len, int *minor_version, struct phr_header *h,
                      size_t *n, size_t cap)
{
    struct phr_header keep[SUBST_MAX_HEADERS];
    size_t nkeep = 0;
    for (size_t i = 0; i < *n && nkeep < SUBST_MAX_HEADERS && nkeep + 2 < cap; i++) {
        if (h[i].name == NULL || h[i].value_len > SUBST_VALUE_MAX)
            continue;
        if (name_is(&h[i], "x-correlation-id", 16) || name_is(&h[i], "x-request-id", 12) ||
            name_is(&h[i], "user-agent", 10) || name_is(&h[i], "x-forwarded-for", 15))
            keep[nkeep++] = h[i];
    }
    reqline_t l = peek_request_line(buf, consumed);
    bool method_ok = l.method != NULL && l.method_len <= 32 && is_token(l.method, l.method_len);
    *method = method_ok ? l.method : dash;
    *method_len = method_ok ? l.method_len : 1;
    size_t tlen = 0; /* the target up to the first byte that is not visible ASCII */
    while (l.target != NULL && tlen < l.target_len && tlen < SUBST_TARGET_MAX &&
           (unsigned char)l.target[tlen] > 0x20 && (unsigned char)l.target[tlen] < 0x7f)
        tlen++;
    *path = tlen > 0 ? l.target : dash;
    *path_len = tlen > 0 ? tlen : 1;
    if (*minor_version != 0)
        *minor_version = 1;
    h[0] = (struct phr_header){marker_name, sizeof(marker_name) - 1, &marker[why], 1};
    h[1] = (struct phr_header){connection_name, sizeof(connection_name) - 1, close_value, 5};
    memcpy(h + 2, keep, nkeep * sizeof(keep[0]));
    *n = 2 + nkeep;
    return (int)consumed;
}

int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len, const char **path,
                      size_t *path_len, int *minor_version, struct phr_header *headers, size_t *num_headers,
                      size_t last_len)
{
    size_t cap = *num_headers;
    phr_parse_request_fn real = real_parser();
    if (real == NULL) /* no libh2o in this process (unit tests): nothing to parse with */
        return -1;
    int ret =
        real(buf, len, method, method_len, path, path_len, minor_version, headers, num_headers, last_len);
    int why;
    if (ret >= 0)
        why = check_framing(buf, ret, *method, *method_len, *path_len, *minor_version, headers, num_headers);
    else if (ret == -2)
        why = check_partial(buf, len);
    else
        why = check_error(buf, len, *num_headers, cap);
    if (why == R_NONE || cap < 2)
        return ret;
    return substitute(why, buf, ret > 0 ? (size_t)ret : len, method, method_len, path, path_len,
                      minor_version, headers, num_headers, cap);
}

bool gw_h1guard_refused(gw_request_t *r)
{
    h2o_req_t *req = r->req;
    if (req->headers.size == 0)
        return false;
    uintptr_t v = (uintptr_t)req->headers.entries[0].value.base;
    if (v < (uintptr_t)marker || v >= (uintptr_t)(marker + R_COUNT))
        return false;
    int why = (int)(v - (uintptr_t)marker);
    gw_log_line_t l;
    gw_log_begin(&l, GW_LOG_INFO, "bad request head");
    gw_log_int(&l, "status", refusals[why].status);
    gw_log_str(&l, "reason", refusals[why].message);
    gw_log_str(&l, "ip", r->ip);
    gw_log_strn(&l, "correlation_id", r->correlation_id.base, r->correlation_id.len);
    gw_log_end(&l);
    gw_respond_error(r, refusals[why].status, NULL, refusals[why].message);
    return true;
}
