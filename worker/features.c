/*
 * Feature start-up order for a worker (see worker/features.h).
 */
#include "worker/features.h"

int gw_features_init(gw_worker_t *w, char *err, size_t errlen)
{
    (void)w;
    (void)err;
    (void)errlen;
    return 0;
}

void gw_features_shutdown(gw_worker_t *w)
{
    (void)w;
}
