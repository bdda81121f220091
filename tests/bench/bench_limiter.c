/*
 * Limiter decisions per second on the shared table (shm/limiter.c): N
 * processes take tokens from a 262,144-entry table in one MAP_SHARED region,
 * over KEYS keys (IP-shaped, so every call hashes and probes; default 100,000). Prints one
 * line: procs, decisions, seconds, decisions/s.
 *
 *   bench_limiter NPROCS SECONDS [KEYS]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm/limiter.h"
#include "shm/segment.h"

#define CAP 262144

int main(int argc, char **argv)
{
    int nprocs = argc > 1 ? atoi(argv[1]) : 1;
    double secs = argc > 2 ? atof(argv[2]) : 2;
    uint32_t nkeys = argc > 3 ? (uint32_t)atoi(argv[3]) : 100000;
    size_t size = gw_limiter_region_size(CAP);
    void *region = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    uint64_t *counts =
        mmap(NULL, 64 * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED || counts == MAP_FAILED)
        return 1;
    gw_limiter_init(region, CAP, 12345);
    uint64_t start = gw_now_us(), stop = start + (uint64_t)(secs * 1e6);
    for (int p = 0; p < nprocs; p++) {
        if (fork() == 0) {
            uint64_t n = 0;
            uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8};
            uint32_t i = (uint32_t)p * 7919;
            for (;;) {
                for (int k = 0; k < 1024; k++, i++) {
                    uint32_t id = i % nkeys;
                    memcpy(ip + 12, &id, sizeof(id));
                    uint64_t key = gw_limiter_key(region, ip, sizeof(ip), 1);
                    gw_limiter_take(region, key, 100, 200, gw_now_us());
                }
                n += 1024;
                if (gw_now_us() >= stop)
                    break;
            }
            counts[p] = n;
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    uint64_t total = 0;
    for (int p = 0; p < nprocs; p++)
        total += counts[p];
    double took = (double)(gw_now_us() - start) / 1e6;
    printf("%d %llu %.3f %.0f\n", nprocs, (unsigned long long)total, took, (double)total / took);
    return 0;
}
