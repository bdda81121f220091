/*
 * Sequence locks for data with one writer at a time and many readers in other
 * processes (the master's views, the probe lease holder's health results).
 * Readers never block the writer and a writer killed mid-write is recovered
 * by the next writer (an odd sequence is bumped to even before reuse); a
 * reader that keeps seeing writes gives up after a bounded number of tries.
 */
#ifndef GW_SHM_SEQLOCK_H
#define GW_SHM_SEQLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <urcu/arch.h>
#include <urcu/system.h>

#define GW_SEQ_READ_TRIES 1000

/* Begin a write; returns the value to pass to gw_seq_write_end. */
static inline uint64_t gw_seq_write_begin(uint64_t *seq)
{
    uint64_t s = CMM_LOAD_SHARED(*seq);
    if (s & 1) /* a previous writer died mid-write */
        s++;
    CMM_STORE_SHARED(*seq, s + 1);
    cmm_smp_wmb();
    return s + 2;
}

static inline void gw_seq_write_end(uint64_t *seq, uint64_t end)
{
    cmm_smp_wmb();
    CMM_STORE_SHARED(*seq, end);
}

static inline uint64_t gw_seq_read_begin(const uint64_t *seq)
{
    uint64_t s = CMM_LOAD_SHARED(*seq);
    cmm_smp_rmb();
    return s;
}

/* True when the data read since gw_seq_read_begin may be torn. */
static inline bool gw_seq_read_retry(const uint64_t *seq, uint64_t begin)
{
    cmm_smp_rmb();
    return (begin & 1) != 0 || CMM_LOAD_SHARED(*seq) != begin;
}

#endif
