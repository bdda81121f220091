/*
 * The seeded 64-bit hash of our tables (shm/limiter.c keys of client
 * addresses and tenants, shm/revoke.c jtis, worker/token_cache.c tokens):
 * murmur3's finaliser over 8-byte words. Not a MAC, but the seed is random per
 * start (gw_hash_seed), which is what keeps a client from choosing keys that
 * all land in one probe window or cache set.
 */
#ifndef GW_HASH_H
#define GW_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t gw_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* `seed` already mixed with whatever separates key kinds. */
static inline uint64_t gw_hash(uint64_t seed, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    uint64_t acc = gw_mix64(seed ^ len);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        acc = gw_mix64(acc ^ w) * 0x9e3779b97f4a7c15ULL;
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, len);
    return gw_mix64(acc ^ tail ^ 0x8000000000000000ULL);
}

/* A random seed for gw_hash (getrandom; without entropy, the clock and the
 * pid, so tables still spread). Never 0. */
uint64_t gw_hash_seed(void);

#endif
