/*
 * libFuzzer target for the path router (core/router.c): the first byte
 * picks the method, the rest is the request path (with or without a query).
 * Checks the matcher's promises: variables point inside the path, are never
 * empty and contain no '/', and a match names a real endpoint label.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        gw_router_init();
        ready = 1;
    }
    if (size == 0)
        return 0;
    gw_method_t method = (gw_method_t)(data[0] % 8);
    const char *path = (const char *)data + 1;
    size_t len = size - 1;
    gw_match_t m;
    memset(&m, 0, sizeof(m));
    if (gw_router_match(method, path, len, &m) != GW_MATCH_OK)
        return 0;
    if (m.route == NULL || gw_router_endpoint_name(m.endpoint) == NULL)
        abort();
    for (size_t i = 0; i < m.nvars; i++) {
        const gw_path_var_t *v = &m.vars[i];
        if (v->value < path || v->value + v->value_len > path + len || v->value_len == 0 ||
            memchr(v->value, '/', v->value_len) != NULL)
            abort();
    }
    return 0;
}
