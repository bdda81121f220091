/*
 * libFuzzer target for the JSON <-> protobuf transcoder (worker/transcode*.c).
 *
 * Input: byte 0 picks the message type, byte 1 holds flags, the rest is the
 * request. With flag 1 the request starts with a query string line
 * ("a=1&b=2\n", not percent-decoded) and flag 2 makes its last parameter a
 * path variable; the remainder is the JSON body. Bits 2-3 pick the route's
 * body rule (0 "*", 1 a field, 2 none, 3 a field of a sub-message) and bits
 * 4-7 which field; the same field is the response_body of the reply checks.
 *
 * Checks, besides the sanitizers: the parser's grammar is jansson's; a
 * failure leaves *out alone and explains itself; a success renders valid
 * JSON that, fed back, renders the same; pack -> unpack -> JSON agrees with
 * the arena reply path; a body field's value rendered as response_body and
 * fed back as the body renders the same; and the same bytes read as
 * protobuf wire data render valid JSON, whole and as response_body.
 *
 * Build: `make build/fuzz/fuzz_transcode` (clang -fsanitize=fuzzer,address,
 * undefined; links the test protos of tests/unit/transcode_p*.proto and the
 * well-known wrappers besides build/fuzz/libgw.a). Seeds:
 * tests/fuzz/corpus/transcode.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto/pb.h"
#include "tests/unit/transcode_kitchen.h"
#include "transcode_p2.pb-c.h"
#include "transcode_p3.pb-c.h"
#include "worker/transcode/transcode.h"
#include "worker/transcode/transcode_int.h"

#define MAX_PARAMS 16

static const ProtobufCMessageDescriptor *const types[] = {
    &user__create_user_request__descriptor,             /* 0: repeated strings */
    &user__list_users_request__descriptor,              /* 1: ints */
    &tenant__update_tenant_config_request__descriptor,  /* 2: nested, maps */
    &tenant__update_service_config_request__descriptor, /* 3: nested, repeated messages, maps */
    &auth__get_tenant_login_config_response__descriptor,
    &grpc__health__v1__health_check_response__descriptor, /* 5: enum */
    &user__list_users_response__descriptor,               /* 6: repeated messages */
    &auth__login_response__descriptor,                    /* 7: int64 */
    &kitchen_descriptor,                                  /* 8: every other field kind, recursion */
    &tc3__put_item_request__descriptor,                   /* 9: body fields, oneof of a message */
    &tc3__wrapped__descriptor,                            /* 10: every wrapper */
    &tc2__opt__descriptor,                                /* 11: optional fields, proto2 defaults */
    &google__protobuf__int64_value__descriptor,           /* 12: a wrapper as the whole message */
};

/* The route's body rule (and response_body) the flags pick: "*" or NULL
 * (*field NULL), a field ("item"), or a field of a sub-message
 * ("item.name", into buf). */
static const char *pick_rule(const ProtobufCMessageDescriptor *d, unsigned flags, char *buf, size_t cap,
                             const char **field)
{
    unsigned mode = (flags >> 2) & 3;
    const ProtobufCFieldDescriptor *f = &d->fields[(flags >> 4) % d->n_fields];
    *field = NULL;
    if (mode == 0)
        return "*";
    if (mode == 2)
        return NULL;
    *field = f->name;
    if (mode == 3 && f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED) {
        const ProtobufCMessageDescriptor *sd = f->descriptor;
        snprintf(buf, cap, "%s.%s", f->name, sd->fields[(flags >> 4) % sd->n_fields].name);
        *field = buf;
    }
    return *field;
}

/* "a=1&b=2" split in place into params (the input's memory). */
static size_t split_query(const char *q, size_t len, gw_transcode_param_t *out)
{
    size_t n = 0;
    const char *end = q + len;
    while (q < end && n < MAX_PARAMS) {
        const char *amp = memchr(q, '&', (size_t)(end - q)), *stop = amp != NULL ? amp : end;
        const char *eq = memchr(q, '=', (size_t)(stop - q));
        const char *value = eq != NULL ? eq + 1 : stop;
        out[n++] =
            (gw_transcode_param_t){q, (size_t)((eq != NULL ? eq : stop) - q), value, (size_t)(stop - value)};
        q = stop + 1;
    }
    return n;
}

/* Valid JSON by jansson, allowing only the one thing jansson cannot read:
 * an integer above INT64_MAX (uint64 values are written as numbers). */
static void assert_valid_json(const char *json, size_t len)
{
    json_error_t e;
    json_t *j = json_loadb(json, len, JSON_DECODE_ANY, &e);
    if (j == NULL && strncmp(e.text, "too big integer", 15) != 0)
        abort();
    json_decref(j);
}

static void check_success(ProtobufCMessage *m)
{
    size_t len;
    char *json = gw_transcode_response(m, &len);
    if (json == NULL || strlen(json) != len)
        abort();
    assert_valid_json(json, len);
    /* what we write, we read back to the same text */
    ProtobufCMessage *again = NULL;
    char err[256];
    int rc = gw_transcode_request(m->descriptor, json, len, "*", NULL, 0, NULL, 0, &again, err, sizeof(err));
    if (rc == GW_TRANSCODE_OK) {
        char *json2 = gw_transcode_response(again, NULL);
        if (strcmp(json, json2) != 0)
            abort();
        free(json2);
        protobuf_c_message_free_unpacked(again, NULL);
    } else if (strstr(err, "too big integer") == NULL) {
        abort();
    }
    /* both reply paths agree on the wire form */
    size_t plen = protobuf_c_message_get_packed_size(m);
    uint8_t *wire = malloc(plen + 1);
    protobuf_c_message_pack(m, wire);
    ProtobufCMessage *back = protobuf_c_message_unpack(m->descriptor, NULL, plen, wire);
    char *via_unpack = back != NULL ? gw_transcode_response(back, NULL) : NULL, *via_arena = NULL;
    size_t arena_len;
    if (via_unpack == NULL ||
        gw_transcode_response_packed(m->descriptor, wire, plen, &via_arena, &arena_len) != GW_TRANSCODE_OK ||
        strcmp(via_unpack, via_arena) != 0)
        abort();
    free(via_unpack);
    free(via_arena);
    protobuf_c_message_free_unpacked(back, NULL);
    free(wire);
    free(json);
}

/* A body field's value, rendered as response_body and read back as the
 * body, renders the same (both after the wire, which drops -0). */
static void check_field_round_trip(const ProtobufCMessage *m, const char *field)
{
    size_t plen = protobuf_c_message_get_packed_size(m), len, len2;
    uint8_t *wire = malloc(plen + 1);
    protobuf_c_message_pack(m, wire);
    char *json = NULL, *json2 = NULL, err[512];
    if (gw_transcode_response_redacted(m->descriptor, wire, plen, NULL, field, &json, &len) !=
        GW_TRANSCODE_OK)
        abort();
    assert_valid_json(json, len);
    ProtobufCMessage *again = NULL;
    int rc =
        gw_transcode_request(m->descriptor, json, len, field, NULL, 0, NULL, 0, &again, err, sizeof(err));
    if (rc == GW_TRANSCODE_OK) {
        size_t plen2 = protobuf_c_message_get_packed_size(again);
        uint8_t *wire2 = malloc(plen2 + 1);
        protobuf_c_message_pack(again, wire2);
        if (gw_transcode_response_redacted(m->descriptor, wire2, plen2, NULL, field, &json2, &len2) !=
                GW_TRANSCODE_OK ||
            strcmp(json, json2) != 0)
            abort();
        free(json2);
        free(wire2);
        protobuf_c_message_free_unpacked(again, NULL);
    } else if (strstr(err, "too big integer") == NULL) {
        abort();
    }
    free(json);
    free(wire);
}

static void check_failure(const ProtobufCMessage *out, const char *err)
{
    if (out != NULL ||
        (strncmp(err, "invalid JSON body: ", 19) != 0 && strncmp(err, "invalid query parameter ", 24) != 0 &&
         strncmp(err, "invalid path variable ", 22) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const ProtobufCMessageDescriptor *desc = types[data[0] % (sizeof(types) / sizeof(types[0]))];
    unsigned flags = data[1];
    const char *rest = (const char *)data + 2;
    size_t rest_len = size - 2;

    char path[256];
    const char *field;
    const char *body_field = pick_rule(desc, flags, path, sizeof(path), &field);

    /* the bytes as wire data: any message protobuf-c accepts renders valid
     * JSON, whole or one field of it */
    char *json = NULL;
    size_t json_len;
    if (gw_transcode_response_packed(desc, (const uint8_t *)rest, rest_len, &json, &json_len) ==
        GW_TRANSCODE_OK) {
        assert_valid_json(json, json_len);
        free(json);
        if (field != NULL) {
            if (gw_transcode_response_redacted(desc, (const uint8_t *)rest, rest_len, "name", field, &json,
                                               &json_len) != GW_TRANSCODE_OK)
                abort();
            assert_valid_json(json, json_len);
            free(json);
        }
    }

    gw_transcode_param_t params[MAX_PARAMS];
    size_t nparams = 0, nvars = 0;
    const char *body = rest;
    size_t body_len = rest_len;
    if (flags & 1) {
        const char *nl = memchr(rest, '\n', rest_len);
        size_t qlen = nl != NULL ? (size_t)(nl - rest) : rest_len;
        nparams = split_query(rest, qlen, params);
        body = nl != NULL ? nl + 1 : rest + rest_len;
        body_len = rest_len - (size_t)(body - rest);
        if ((flags & 2) && nparams > 0)
            nvars = 1;
    }
    if (body_len > 0) { /* the parser's grammar is exactly jansson's... */
        json_t *j = json_loadb(body, body_len, 0, NULL);
        bool ours = gw_tc_json_valid(body, body_len);
        /* ...but for jansson skipping a NUL byte after a number or literal */
        if (ours != (j != NULL) && (ours || memchr(body, '\0', body_len) == NULL))
            abort();
        json_decref(j);
    }
    ProtobufCMessage *out = NULL;
    char err[512];
    int rc = gw_transcode_request(desc, body, body_len, body_field, params, nparams - nvars,
                                  params + nparams - nvars, nvars, &out, err, sizeof(err));
    if (rc == GW_TRANSCODE_OK) {
        check_success(out);
        if (field != NULL && nparams == 0)
            check_field_round_trip(out, field);
        protobuf_c_message_free_unpacked(out, NULL);
    } else {
        check_failure(out, err);
    }
    return 0;
}
