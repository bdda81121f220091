/*
 * The HTTP/1 request-head guard (worker/h1guard.c): RFC 9112 framing rules,
 * head size limits, and h2o's own parse errors turned into requests that our
 * handler refuses in the envelope of docs/API.md, Envelope. Initialised by worker/worker.c;
 * gw_pipeline_on_req (worker/pipeline.c) asks gw_h1guard_refused() first.
 */
#ifndef GW_H1GUARD_H
#define GW_H1GUARD_H

#include <stdbool.h>
#include <stddef.h>

#include "worker/request.h"

/* picohttpparser's header entry as libh2o passes it (its header is not
 * installed); name is NULL for an obs-fold continuation line. */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* Our phr_parse_request (libh2o's parser calls land here): the real parser,
 * then the checks of this file. Also what the unit test and fuzzer call. */
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len, const char **path,
                      size_t *path_len, int *minor_version, struct phr_header *headers, size_t *num_headers,
                      size_t last_len);

/* Request-header bytes (HTTP/1: the raw header lines; HTTP/2: names +
 * values + 4 per field) past which we answer 431, as nginx refuses past its
 * large_client_header_buffers. */
#define GW_MAX_HEADER_BYTES (64 * 1024)

/* Check once per worker that libh2o's parser calls reach this guard; logs an
 * error (the checks are then inactive) if the binary was linked so that
 * they do not. */
void gw_h1guard_init(void);

/* If the guard refused this request's head, answer it (400/414/431/501 in
 * the envelope; h2o closes the connection after it) and return true. */
bool gw_h1guard_refused(gw_request_t *r);

#endif
