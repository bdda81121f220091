/*
 * Helpers shared by the transcoder's unit tests (test_transcode.c,
 * test_transcode_errors.c): build a message from JSON/parameters and fail
 * the test on error, check the JSON a message renders to (and that it
 * survives the wire and, optionally, being read back), and check an exact
 * error message. Header-only; every helper frees what it makes.
 */
#ifndef GW_TEST_TRANSCODE_CHECK_H
#define GW_TEST_TRANSCODE_CHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/pb.h"
#include "tests/unit/transcode_kitchen.h"
#include "worker/transcode/transcode.h"

/* A gw_transcode_param_t from two string literals (which may hold NULs). */
#define P(n, v)                                                                                              \
    {                                                                                                        \
        n, sizeof(n) - 1, v, sizeof(v) - 1                                                                   \
    }
#define NPARAMS(a) (sizeof(a) / sizeof((a)[0]))

#define CREATE_USER   (&user__create_user_request__descriptor)
#define LIST_USERS    (&user__list_users_request__descriptor)
#define UPDATE_CONFIG (&tenant__update_tenant_config_request__descriptor)
#define HEALTH        (&grpc__health__v1__health_check_response__descriptor)
#define KITCHEN       (&kitchen_descriptor)

/* A request whose route's body rule is `body_field` ("*", a field path, NULL). */
static inline ProtobufCMessage *build_as(const ProtobufCMessageDescriptor *d, const char *body_field,
                                         const char *body, const gw_transcode_param_t *q, size_t nq,
                                         const gw_transcode_param_t *v, size_t nv)
{
    ProtobufCMessage *m = NULL;
    char err[512] = "";
    int rc = gw_transcode_request(d, body, body != NULL ? strlen(body) : 0, body_field, q, nq, v, nv, &m, err,
                                  sizeof(err));
    if (rc != GW_TRANSCODE_OK)
        fail_msg("unexpected error for %s: %s", body != NULL ? body : "(no body)", err);
    assert_non_null(m);
    return m;
}

static inline ProtobufCMessage *build(const ProtobufCMessageDescriptor *d, const char *body,
                                      const gw_transcode_param_t *q, size_t nq, const gw_transcode_param_t *v,
                                      size_t nv)
{
    return build_as(d, "*", body, q, nq, v, nv);
}

static inline ProtobufCMessage *parse(const ProtobufCMessageDescriptor *d, const char *body)
{
    return build(d, body, NULL, 0, NULL, 0);
}

/* Render m and compare; then check the same text comes back after a trip
 * through the wire format (both reply paths) and, when `reparse`, that the
 * output is itself acceptable input that renders the same. */
static inline void check_json(const ProtobufCMessage *m, const char *want, bool reparse)
{
    size_t len = 0;
    char *json = gw_transcode_response(m, &len);
    assert_non_null(json);
    assert_string_equal(json, want);
    assert_int_equal(len, strlen(want));

    size_t plen = protobuf_c_message_get_packed_size(m);
    uint8_t *wire = malloc(plen + 1);
    protobuf_c_message_pack(m, wire);
    ProtobufCMessage *back = protobuf_c_message_unpack(m->descriptor, NULL, plen, wire);
    assert_non_null(back);
    char *json2 = gw_transcode_response(back, NULL);
    assert_string_equal(json2, want);
    char *json3 = NULL;
    size_t len3 = 0;
    assert_int_equal(gw_transcode_response_packed(m->descriptor, wire, plen, &json3, &len3), GW_TRANSCODE_OK);
    assert_string_equal(json3, want);
    assert_int_equal(len3, len);
    if (reparse) {
        ProtobufCMessage *again = parse(m->descriptor, json);
        char *json4 = gw_transcode_response(again, NULL);
        assert_string_equal(json4, want);
        free(json4);
        protobuf_c_message_free_unpacked(again, NULL);
    }
    free(json);
    free(json2);
    free(json3);
    free(wire);
    protobuf_c_message_free_unpacked(back, NULL);
}

static inline void expect_json(const ProtobufCMessageDescriptor *d, const char *body, const char *want)
{
    ProtobufCMessage *m = parse(d, body);
    check_json(m, want, true);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* The request fails with return code `want_rc` and message `want`. */
static inline void expect_fail_rc(const ProtobufCMessageDescriptor *d, const char *body_field,
                                  const char *body, size_t len, const gw_transcode_param_t *q, size_t nq,
                                  const gw_transcode_param_t *v, size_t nv, int want_rc, const char *want)
{
    ProtobufCMessage *sentinel = (ProtobufCMessage *)&sentinel, *m = sentinel;
    char err[512];
    memset(err, 'x', sizeof(err));
    int rc = gw_transcode_request(d, body, len, body_field, q, nq, v, nv, &m, err, sizeof(err));
    if (rc != want_rc)
        fail_msg("expected failure for %.*s, got %d", (int)len, body != NULL ? body : "", rc);
    assert_ptr_equal(m, sentinel);
    if (strcmp(err, want) != 0)
        fail_msg("body %.*s:\n  got  %s\n  want %s", (int)(len > 200 ? 200 : len), body != NULL ? body : "",
                 err, want);
}

static inline void expect_fail(const ProtobufCMessageDescriptor *d, const char *body, size_t len,
                               const gw_transcode_param_t *q, size_t nq, const gw_transcode_param_t *v,
                               size_t nv, const char *want)
{
    expect_fail_rc(d, "*", body, len, q, nq, v, nv, GW_TRANSCODE_INVALID, want);
}

static inline void expect_body_error(const ProtobufCMessageDescriptor *d, const char *body, const char *want)
{
    expect_fail(d, body, strlen(body), NULL, 0, NULL, 0, want);
}

#endif
