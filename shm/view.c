/*
 * Double-buffered, seqlock-protected views (see shm/view.h). Written by the
 * master's renderer (master/views*.c), read by workers' built-in handlers.
 */
#include "shm/view.h"

#include <string.h>

#include "shm/seqlock.h"

typedef struct {
    uint64_t active;  /* buffer index readers should copy */
    uint64_t version; /* bumped on every publish */
    uint64_t seq[2];
    uint64_t len[2];
    uint64_t status[2];
} __attribute__((aligned(128))) view_hdr_t;

static const size_t caps[GW_VIEW_COUNT] = {GW_VIEW_METRICS_CAP, GW_VIEW_HEALTH_CAP};

size_t gw_view_capacity(gw_view_kind_t kind)
{
    return caps[kind];
}

size_t gw_view_region_size(void)
{
    size_t n = sizeof(view_hdr_t) * GW_VIEW_COUNT;
    for (int k = 0; k < GW_VIEW_COUNT; k++)
        n += 2 * caps[k];
    return n;
}

static view_hdr_t *hdr_of(const gw_shm_t *shm, gw_view_kind_t kind)
{
    return (view_hdr_t *)gw_shm_region(shm, GW_SHM_REGION_VIEWS) + kind;
}

static char *buf_of(const gw_shm_t *shm, gw_view_kind_t kind, unsigned which)
{
    char *p = (char *)gw_shm_region(shm, GW_SHM_REGION_VIEWS) + sizeof(view_hdr_t) * GW_VIEW_COUNT;
    for (int k = 0; k < (int)kind; k++)
        p += 2 * caps[k];
    return p + which * caps[kind];
}

int gw_view_publish(const gw_shm_t *shm, gw_view_kind_t kind, const char *data, size_t len, int status)
{
    if (len > caps[kind])
        return -1;
    view_hdr_t *h = hdr_of(shm, kind);
    unsigned next = (unsigned)(CMM_LOAD_SHARED(h->active) ^ 1);
    uint64_t end = gw_seq_write_begin(&h->seq[next]);
    memcpy(buf_of(shm, kind, next), data, len);
    CMM_STORE_SHARED(h->len[next], len);
    CMM_STORE_SHARED(h->status[next], (uint64_t)status);
    gw_seq_write_end(&h->seq[next], end);
    cmm_smp_wmb();
    CMM_STORE_SHARED(h->active, next);
    CMM_STORE_SHARED(h->version, CMM_LOAD_SHARED(h->version) + 1);
    return 0;
}

size_t gw_view_length(const gw_shm_t *shm, gw_view_kind_t kind)
{
    view_hdr_t *h = hdr_of(shm, kind);
    return (size_t)CMM_LOAD_SHARED(h->len[CMM_LOAD_SHARED(h->active) & 1]);
}

ssize_t gw_view_read(const gw_shm_t *shm, gw_view_kind_t kind, char *dst, size_t cap, int *status,
                     uint64_t *version)
{
    view_hdr_t *h = hdr_of(shm, kind);
    for (int tries = 0; tries < GW_SEQ_READ_TRIES; tries++) {
        uint64_t ver = CMM_LOAD_SHARED(h->version);
        if (ver == 0)
            return 0;
        cmm_smp_rmb();
        unsigned which = (unsigned)(CMM_LOAD_SHARED(h->active) & 1);
        uint64_t s = gw_seq_read_begin(&h->seq[which]);
        size_t len = (size_t)CMM_LOAD_SHARED(h->len[which]);
        int st = (int)CMM_LOAD_SHARED(h->status[which]);
        if (len > cap) {
            if (gw_seq_read_retry(&h->seq[which], s))
                continue;
            return -2;
        }
        memcpy(dst, buf_of(shm, kind, which), len);
        if (gw_seq_read_retry(&h->seq[which], s))
            continue;
        *status = st;
        if (version != NULL)
            *version = ver;
        return (ssize_t)len;
    }
    return -1;
}
