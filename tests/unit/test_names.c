/*
 * The segment's names table (shm/names.c): the slots a new segment starts
 * with, interning, full tables, names too long for a row, slots that never
 * move, and a forked reader that checks every name it can see while the
 * parent (the single writer, as the master is) interns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "shm/names.h"
#include "shm/segment.h"
#include "tests/unit/shm_fixture.h"

/* A distinct name per slot, long and of varying length, so that a reader
 * seeing part of one would notice. */
static void endpoint_name(unsigned i, char *out, size_t len)
{
    int n = snprintf(out, len, "/api/v9/things/%u/", i);
    size_t want = 80 + i % 40;
    for (size_t k = (size_t)n; k < want && k + 1 < len; k++)
        out[k] = (char)('a' + (i + k) % 26);
    out[want < len ? want : len - 1] = '\0';
}

static void test_first_slots(void **state)
{
    (void)state;
    assert_int_equal(gw_shm_nservices(&shm), 4);
    assert_string_equal(gw_shm_service_name(&shm, 0), "auth-service");
    assert_string_equal(gw_shm_service_name(&shm, 1), "user-service");
    assert_string_equal(gw_shm_service_name(&shm, 2), "tenant-service");
    assert_string_equal(gw_shm_service_name(&shm, GW_SVC_NOTIFICATION), "notification-service");
    assert_int_equal(gw_shm_nendpoints(&shm), 1);
    assert_string_equal(gw_shm_endpoint_name(&shm, GW_ENDPOINT_UNMATCHED), "unmatched");
    assert_string_equal(gw_shm_service_name(&shm, 4), "");
    assert_string_equal(gw_shm_endpoint_name(&shm, 1), "");
    assert_string_equal(gw_shm_service_name(&shm, 100000), "");
    assert_int_equal(gw_shm_names_region_size() <= shm.hdr->regions[GW_SHM_REGION_NAMES].size, 1);
}

static void test_intern_and_find(void **state)
{
    (void)state;
    assert_int_equal(gw_shm_service_slot(&shm, "user-service"), 1); /* already there */
    assert_int_equal(gw_shm_service_slot(&shm, "billing.v1.Billing"), 4);
    assert_int_equal(gw_shm_service_slot(&shm, "billing.v1.Billing"), 4);
    assert_int_equal(gw_shm_nservices(&shm), 5);
    assert_int_equal(gw_shm_service_find(&shm, "billing.v1.Billing", 18), 4);
    assert_int_equal(gw_shm_service_find(&shm, "billing.v1.Billingx", 18), 4); /* by length */
    assert_int_equal(gw_shm_service_find(&shm, "billing.v1", 10), GW_SVC_MAX); /* a prefix is not a name */
    assert_int_equal(gw_shm_service_find(&shm, "nope", 4), GW_SVC_MAX);
    assert_int_equal(gw_shm_endpoint_slot(&shm, "/api/v1/users"), 1);
    assert_int_equal(gw_shm_endpoint_slot(&shm, "unmatched"), GW_ENDPOINT_UNMATCHED);
    assert_int_equal(gw_shm_endpoint_find(&shm, "/api/v1/users", 13), 1);
    assert_int_equal(gw_shm_endpoint_find(&shm, "/api/v1/user", 12), GW_ENDPOINT_MAX);
    /* "" is what an unused slot reads as: never a name. */
    assert_int_equal(gw_shm_service_slot(&shm, ""), GW_SVC_MAX);
    assert_int_equal(gw_shm_endpoint_slot(&shm, ""), GW_ENDPOINT_MAX);
}

static void test_too_long(void **state)
{
    (void)state;
    char name[GW_SHM_NAME_MAX + 8];
    memset(name, 'x', sizeof(name));
    name[GW_SHM_NAME_MAX] = '\0'; /* GW_SHM_NAME_MAX bytes: no room for the NUL */
    assert_int_equal(gw_shm_service_slot(&shm, name), GW_SVC_MAX);
    assert_int_equal(gw_shm_endpoint_slot(&shm, name), GW_ENDPOINT_MAX);
    assert_int_equal(gw_shm_nservices(&shm), 4);
    assert_int_equal(gw_shm_nendpoints(&shm), 1);
    assert_int_equal(gw_shm_endpoint_find(&shm, name, GW_SHM_NAME_MAX), GW_ENDPOINT_MAX);
    name[GW_SHM_NAME_MAX - 1] = '\0'; /* the longest that fits */
    assert_int_equal(gw_shm_endpoint_slot(&shm, name), 1);
    assert_string_equal(gw_shm_endpoint_name(&shm, 1), name);
}

static void test_full_tables(void **state)
{
    (void)state;
    char name[GW_SHM_NAME_MAX];
    for (unsigned i = gw_shm_nservices(&shm); i < GW_SVC_MAX; i++) {
        snprintf(name, sizeof(name), "svc%u.v1.Service", i);
        assert_int_equal(gw_shm_service_slot(&shm, name), i);
    }
    assert_int_equal(gw_shm_service_slot(&shm, "one.too.Many"), GW_SVC_MAX);
    assert_int_equal(gw_shm_nservices(&shm), GW_SVC_MAX);
    assert_int_equal(gw_shm_service_slot(&shm, "svc7.v1.Service"), 7); /* a known name still resolves */
    assert_int_equal(gw_shm_service_slot(&shm, "auth-service"), 0);
    for (unsigned i = gw_shm_nendpoints(&shm); i < GW_ENDPOINT_MAX; i++) {
        endpoint_name(i, name, sizeof(name));
        assert_int_equal(gw_shm_endpoint_slot(&shm, name), i);
    }
    assert_int_equal(gw_shm_endpoint_slot(&shm, "/one/too/many"), GW_ENDPOINT_MAX);
    assert_int_equal(gw_shm_nendpoints(&shm), GW_ENDPOINT_MAX);
    endpoint_name(GW_ENDPOINT_MAX - 1, name, sizeof(name));
    assert_int_equal(gw_shm_endpoint_slot(&shm, name), GW_ENDPOINT_MAX - 1);
    assert_string_equal(gw_shm_endpoint_name(&shm, GW_ENDPOINT_MAX - 1), name);
}

/* Reloads add, drop and reorder templates: a name keeps its first slot. */
static void test_slots_stable(void **state)
{
    (void)state;
    const char *gen1[] = {"/api/v1/users", "/api/v1/users/{user_id}", "/api/v1/tenants"};
    const char *gen2[] = {"/v1/{name=invoices/*}", "/api/v1/tenants", "/api/v1/users"};
    unsigned slot1[3], slot2[3];
    for (int i = 0; i < 3; i++)
        slot1[i] = gw_shm_endpoint_slot(&shm, gen1[i]);
    for (int i = 0; i < 3; i++)
        slot2[i] = gw_shm_endpoint_slot(&shm, gen2[i]);
    assert_int_equal(slot2[1], slot1[2]);
    assert_int_equal(slot2[2], slot1[0]);
    assert_int_equal(slot2[0], 4); /* the new one after the three */
    /* The dropped template keeps its slot and name for a later reload. */
    assert_int_equal(gw_shm_endpoint_slot(&shm, gen1[1]), slot1[1]);
    assert_string_equal(gw_shm_endpoint_name(&shm, slot1[1]), gen1[1]);
    assert_int_equal(gw_shm_nendpoints(&shm), 5);
}

/* The reader (a forked process, as workers are) loops over every name the
 * count publishes and checks each byte; it exits 0 once it has seen
 * the full table, 1 on a wrong or partial name. */
static int reader(const gw_shm_t *seg, int ready_fd)
{
    char want[GW_SHM_NAME_MAX];
    unsigned last = 0;
    (void)!write(ready_fd, "r", 1);
    for (long spins = 0; spins < 200000000L; spins++) {
        unsigned n = gw_shm_nendpoints(seg);
        if (n < last)
            return 2; /* the count went back */
        last = n;
        /* The newest row on every turn (a tight loop, so a name published
         * before it was complete is caught), every row now and then. */
        for (unsigned i = n - 1; i >= 1 && (i == n - 1 || spins % 64 == 0 || n == GW_ENDPOINT_MAX); i--) {
            endpoint_name(i, want, sizeof(want));
            if (strcmp(gw_shm_endpoint_name(seg, i), want) != 0)
                return 1;
        }
        /* Past the count a slot reads as "", unless the writer published it
         * meanwhile: then it is whole. */
        const char *next = gw_shm_endpoint_name(seg, n);
        endpoint_name(n, want, sizeof(want));
        if (next[0] != '\0' && strcmp(next, want) != 0)
            return 3;
        if (n == GW_ENDPOINT_MAX)
            return 0;
    }
    return 4; /* never saw the writer finish */
}

/* One round on a fresh segment: fork the reader, then intern every slot. */
static void race_once(void)
{
    gw_shm_t seg;
    gw_shm_params_t p = {.nslots = 16};
    assert_int_equal(gw_shm_create(&seg, &p), 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        _exit(reader(&seg, fds[1]));
    }
    close(fds[1]);
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    char name[GW_SHM_NAME_MAX];
    for (unsigned i = 1; i < GW_ENDPOINT_MAX; i++) {
        endpoint_name(i, name, sizeof(name));
        assert_int_equal(gw_shm_endpoint_slot(&seg, name), i);
        for (volatile int spin = 0; spin < 20000; spin++)
            ; /* let the reader look at each intermediate count */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    gw_shm_destroy(&seg);
}

static void test_concurrent_reader(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++)
        race_once();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_slots, shm_setup, shm_teardown),
        cmocka_unit_test_setup_teardown(test_intern_and_find, shm_setup, shm_teardown),
        cmocka_unit_test_setup_teardown(test_too_long, shm_setup, shm_teardown),
        cmocka_unit_test_setup_teardown(test_full_tables, shm_setup, shm_teardown),
        cmocka_unit_test_setup_teardown(test_slots_stable, shm_setup, shm_teardown),
        cmocka_unit_test(test_concurrent_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
