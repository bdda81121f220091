/*
 * libFuzzer target for the W3C traceparent parser (worker/trace.c): any
 * bytes are either rejected or yield non-zero ids whose re-encoding (version
 * 00) parses back to the same ids.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "worker/trace.h"
#include "worker/trace_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t trace[16], parent[8], flags;
    if (!gw_trace_parse((const char *)data, size, trace, parent, &flags))
        return 0;
    char again[GW_TRACEPARENT_LEN];
    memcpy(again, "00-", 3);
    gw_trace_hex(again + 3, trace, 16);
    again[35] = '-';
    gw_trace_hex(again + 36, parent, 8);
    again[52] = '-';
    gw_trace_hex(again + 53, &flags, 1);
    uint8_t t2[16], p2[8], f2;
    if (!gw_trace_parse(again, sizeof(again), t2, p2, &f2) || memcmp(trace, t2, 16) != 0 ||
        memcmp(parent, p2, 8) != 0 || flags != f2)
        abort();
    return 0;
}
