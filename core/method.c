/*
 * HTTP method names (core/method.h): the one table of names and the one
 * parser, used per request by the worker (worker/request.c), by the route
 * table for google.api.http verbs (core/api.c) and by every printer of a
 * method (metrics, traces, Allow, -t).
 */
#include "core/method.h"

#include <stdio.h>
#include <string.h>

const char *const gw_method_names[GW_METHOD_COUNT] = {"GET",    "HEAD",  "POST",    "PUT",
                                                      "DELETE", "PATCH", "OPTIONS", "OTHER"};

gw_method_t gw_method_parse(const char *m, size_t len)
{
    switch (len) {
    case 3:
        if (memcmp(m, "GET", 3) == 0)
            return GW_METHOD_GET;
        if (memcmp(m, "PUT", 3) == 0)
            return GW_METHOD_PUT;
        break;
    case 4:
        if (memcmp(m, "POST", 4) == 0)
            return GW_METHOD_POST;
        if (memcmp(m, "HEAD", 4) == 0)
            return GW_METHOD_HEAD;
        break;
    case 5:
        if (memcmp(m, "PATCH", 5) == 0)
            return GW_METHOD_PATCH;
        break;
    case 6:
        if (memcmp(m, "DELETE", 6) == 0)
            return GW_METHOD_DELETE;
        break;
    case 7:
        if (memcmp(m, "OPTIONS", 7) == 0)
            return GW_METHOD_OPTIONS;
        break;
    }
    return GW_METHOD_OTHER;
}

size_t gw_method_list(unsigned set, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int m = 0; m < GW_METHOD_COUNT; m++) {
        if (!(set & (1u << m)))
            continue;
        int w = snprintf(out + n, cap - n, "%s%s", n ? ", " : "", gw_method_names[m]);
        if (w < 0 || (size_t)w >= cap - n)
            break; /* cap >= 64 holds every name */
        n += (size_t)w;
    }
    return n;
}
