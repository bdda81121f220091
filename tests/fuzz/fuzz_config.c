/*
 * libFuzzer target for the KEY=VALUE configuration parser and validator
 * (core/config.c): any text either loads or fails with one non-empty
 * error line; everything it allocated is freed either way (LeakSanitizer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_config_t cfg;
    char err[512];
    err[0] = '\0';
    int rc = gw_config_load_text(&cfg, (const char *)data, size, err, sizeof(err));
    if (rc != 0 && (err[0] == '\0' || strchr(err, '\n') != NULL))
        abort(); /* a failure must explain itself in one line */
    gw_config_free(&cfg);
    return 0;
}
