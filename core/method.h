/*
 * HTTP methods as the gateway counts and routes them. Used by the route
 * table (core/route.h), the metric slots (shm/metrics.h, one row per
 * method) and the worker's per-request state; also the number of endpoint
 * labels both of them size their tables by.
 */
#ifndef GW_METHOD_H
#define GW_METHOD_H

typedef enum {
    GW_METHOD_GET = 0,
    GW_METHOD_HEAD,
    GW_METHOD_POST,
    GW_METHOD_PUT,
    GW_METHOD_DELETE,
    GW_METHOD_PATCH,
    GW_METHOD_OPTIONS,
    GW_METHOD_OTHER,
} gw_method_t;

#define GW_METHOD_COUNT 8

/* "GET", "HEAD", ... "OTHER" (core/method.c). */
extern const char *const gw_method_names[GW_METHOD_COUNT];

#include <stddef.h>

/* The method named by the len bytes at s (case-sensitive, RFC 9110);
 * GW_METHOD_OTHER for any other. */
gw_method_t gw_method_parse(const char *s, size_t len);

/* "GET, HEAD, PUT": the methods of bit set `set` (1 << gw_method_t) in
 * table order, for Allow and Access-Control-Allow-Methods; NUL-terminated
 * into out (cap >= 64 holds them all). Returns the length. */
size_t gw_method_list(unsigned set, char *out, size_t cap);

/* Endpoint slots (route templates + built-ins + "unmatched") in the
 * segment's names table (shm/names.h): the metric slots' row count. A
 * template keeps its slot for the segment's life, so this bounds the
 * templates ever served between restarts, across every reload. */
#define GW_ENDPOINT_MAX 128

#endif
