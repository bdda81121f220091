/*
 * The unit tests' shared segment: a fresh 16-slot segment made by the group
 * or test setup and destroyed by its teardown (tests/unit/test_shm.c,
 * tests/unit/test_names.c). Include once, after cmocka.h.
 */
#ifndef GW_TEST_SHM_FIXTURE_H
#define GW_TEST_SHM_FIXTURE_H

#include "shm/segment.h"

static gw_shm_t shm;

static int shm_setup(void **state)
{
    (void)state;
    gw_shm_params_t p = {.nslots = 16};
    return gw_shm_create(&shm, &p);
}

static int shm_teardown(void **state)
{
    (void)state;
    gw_shm_destroy(&shm);
    return 0;
}

#endif
