/*
 * protobuf-c unpack + pack + free_unpacked of user.GetUserRequest (one field
 * set: the common small request), user.GetUserResponse and
 * user.ListUsersResponse (20 users) with protoc-c's generated descriptors and
 * with the runtime ones built from the bundled descriptor set
 * (core/descset.c). The issue asks the runtime path to stay within 5% of the
 * generated one. Rounds alternate the two; each side's best round counts, so
 * a busy machine slows both rather than skewing one. Prints ns/op and the
 * ratio per message; exits 1 when a ratio is above MAX_RATIO (default 1.05).
 *
 *   bench_descset [ITERATIONS] [MAX_RATIO]      (`make bench-transcode`)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/descset.h"
#include "proto/pb.h"

#define ROUNDS 21
#define NUSERS 20

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per unpack + pack + free of `len` bytes with descriptor d. */
static double run(const ProtobufCMessageDescriptor *d, const uint8_t *bytes, size_t len, uint8_t *out,
                  long iters)
{
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, bytes);
        if (m == NULL || protobuf_c_message_pack(m, out) != len) {
            fprintf(stderr, "bench_descset: %s does not round-trip\n", d->name);
            exit(2);
        }
        protobuf_c_message_free_unpacked(m, NULL);
    }
    return (now_ns() - t0) / (double)iters;
}

static void fill_user(User__User *u, int i, char *buf, size_t size)
{
    snprintf(buf, size, "%08d", i);
    u->id = buf;
    u->email = "someone@example.com";
    u->username = "someone";
    u->phone = "+15550100";
    u->document_number = "123-45-678";
    u->first_name = "Some";
    u->last_name = "One";
    u->avatar_url = "https://cdn.example.com/a/someone.png";
    u->is_active = 1;
    u->created_at = "2026-01-02T03:04:05Z";
    u->updated_at = "2026-02-03T04:05:06Z";
}

static int compare(const char *what, const ProtobufCMessage *msg, const ProtobufCMessageDescriptor *rt,
                   long iters, double max_ratio)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *bytes = malloc(len), *out = malloc(len);
    if (bytes == NULL || out == NULL || rt == NULL)
        return 2;
    protobuf_c_message_pack(msg, bytes);
    double best_gen = 1e18, best_rt = 1e18;
    run(msg->descriptor, bytes, len, out, iters / 10 + 1); /* warm-up */
    run(rt, bytes, len, out, iters / 10 + 1);
    for (int r = 0; r < ROUNDS; r++) {
        double g = run(msg->descriptor, bytes, len, out, iters), t = run(rt, bytes, len, out, iters);
        best_gen = g < best_gen ? g : best_gen;
        best_rt = t < best_rt ? t : best_rt;
    }
    double ratio = best_rt / best_gen;
    printf("%-24s %5zu bytes  generated %8.1f ns/op  runtime %8.1f ns/op  ratio %.3f %s\n", what, len,
           best_gen, best_rt, ratio, ratio <= max_ratio ? "ok" : "SLOWER");
    free(bytes);
    free(out);
    return ratio <= max_ratio ? 0 : 1;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 5000;
    double max_ratio = argc > 2 ? atof(argv[2]) : 1.05;
    char err[256];
    gw_descset_t *set = gw_descset_new();
    if (set == NULL || gw_descset_add_bundled(set, err, sizeof(err)) != 0 ||
        gw_descset_link(set, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_descset: %s\n", err);
        return 2;
    }
    User__User users[NUSERS], *ptrs[NUSERS];
    char ids[NUSERS][16];
    for (int i = 0; i < NUSERS; i++) {
        user__user__init(&users[i]);
        fill_user(&users[i], i, ids[i], sizeof(ids[i]));
        ptrs[i] = &users[i];
    }
    User__GetUserResponse get = USER__GET_USER_RESPONSE__INIT;
    get.user = &users[0];
    User__ListUsersResponse list = USER__LIST_USERS_RESPONSE__INIT;
    list.n_users = NUSERS, list.users = ptrs, list.total = 1234, list.page = 3, list.page_size = NUSERS;
    User__GetUserRequest req = USER__GET_USER_REQUEST__INIT;
    req.user_id = "u-0001";
    int rc = compare("user.GetUserRequest", &req.base, gw_descset_message(set, "user.GetUserRequest"),
                     iters * 40, max_ratio);
    rc |= compare("user.GetUserResponse", &get.base, gw_descset_message(set, "user.GetUserResponse"),
                  iters * 10, max_ratio);
    rc |= compare("user.ListUsersResponse", &list.base, gw_descset_message(set, "user.ListUsersResponse"),
                  iters, max_ratio);
    gw_descset_free(set);
    return rc;
}
