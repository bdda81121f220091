/*
 * /proc readers behind the process_* metrics (see core/procstat.h).
 * Called by the master's renderer a few times a second and by the admin
 * endpoint; everything is read with plain read() into stack buffers.
 */
#include "core/procstat.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static ssize_t read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

static double boot_time_seconds(void)
{
    static double cached;
    if (cached > 0)
        return cached;
    char buf[8192];
    if (read_file("/proc/stat", buf, sizeof(buf)) < 0)
        return 0;
    const char *p = strstr(buf, "\nbtime ");
    if (p != NULL)
        cached = strtod(p + 7, NULL);
    return cached;
}

static long count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static long max_fds(pid_t pid)
{
    struct rlimit rl;
    if (prlimit(pid, RLIMIT_NOFILE, NULL, &rl) != 0)
        return -1;
    return rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
}

int gw_procstat_read(pid_t pid, gw_procstat_t *out)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if (read_file(path, buf, sizeof(buf)) < 0)
        return -1;
    /* Fields after the command name, which is in parentheses and may
     * contain spaces: start after the last ')'. */
    const char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    unsigned long long utime, stime, starttime, vsize;
    long rss;
    int n = sscanf(
        p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %ld",
        &utime, &stime, &starttime, &vsize, &rss);
    if (n != 5)
        return -1;
    double hz = (double)sysconf(_SC_CLK_TCK);
    out->cpu_seconds = (double)(utime + stime) / hz;
    out->vsize_bytes = vsize;
    out->rss_bytes = (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
    out->start_time_seconds = boot_time_seconds() + (double)starttime / hz;
    out->open_fds = count_fds(pid);
    out->max_fds = max_fds(pid);
    return 0;
}
