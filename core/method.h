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

/* "GET", "HEAD", ... "OTHER" (core/router.c). */
extern const char *const gw_method_names[GW_METHOD_COUNT];

/* Endpoint slots (route templates + built-ins + "unmatched") in the
 * segment's names table (shm/names.h): the metric slots' row count. A
 * template keeps its slot for the segment's life, so this bounds the
 * templates ever served between restarts, across every reload. */
#define GW_ENDPOINT_MAX 128

#endif
