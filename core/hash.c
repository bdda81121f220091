/*
 * Seeds for core/hash.h's keyed hash. Called once per table at creation: by
 * the master for the segment's tables, by each worker for its token cache.
 */
#include "core/hash.h"

#include <sys/random.h>
#include <unistd.h>

#include "core/clock.h"

uint64_t gw_hash_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
        seed = gw_now_us() ^ ((uint64_t)getpid() << 32);
    return seed | 1;
}
