/*
 * Per-process resource figures from /proc (CPU time, memory, descriptors):
 * the process_* metrics rendered by the master and the RSS column of
 * /debug/workers.
 */
#ifndef GW_PROCSTAT_H
#define GW_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

typedef struct {
    double cpu_seconds;
    uint64_t rss_bytes;
    uint64_t vsize_bytes;
    double start_time_seconds; /* since the epoch */
    long open_fds;
    long max_fds;
} gw_procstat_t;

/* Returns 0, or -1 if the process is gone or /proc is unreadable. */
int gw_procstat_read(pid_t pid, gw_procstat_t *out);

#endif
