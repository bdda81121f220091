/*
 * libFuzzer target for the KEY=VALUE configuration parser and validator
 * (core/config.c) and, for a text that loads, the API built from it
 * (core/api.c, core/api_policy.c: PUBLIC_METHODS, METHOD_ROLES,
 * CACHE_METHODS, GRPC_UPSTREAMS, TENANT_FIELD over the bundled descriptor
 * set): any text either loads or fails with one non-empty error line;
 * everything allocated is freed either way (LeakSanitizer). A text naming
 * PROTO_DESCRIPTOR_SET files gets no API (the fuzzer must not read random
 * paths; fuzz_descset covers the sets themselves).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/api.h"
#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_config_t cfg;
    char err[512];
    err[0] = '\0';
    int rc = gw_config_load_text(&cfg, (const char *)data, size, err, sizeof(err));
    if (rc != 0 && (err[0] == '\0' || strchr(err, '\n') != NULL))
        abort(); /* a failure must explain itself in one line */
    if (rc == 0 && cfg.proto_descriptor_set[0] == '\0') {
        err[0] = '\0';
        cfg.api = gw_api_load(&cfg, err, sizeof(err));
        if (cfg.api == NULL && (err[0] == '\0' || strchr(err, '\n') != NULL))
            abort();
    }
    gw_config_free(&cfg); /* frees the API too */
    return 0;
}
