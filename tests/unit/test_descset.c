/*
 * Runtime descriptors from FileDescriptorSets (core/descset*.c).
 *
 * (1) Against protoc-c 1.4.1: for every message reachable from the bundled
 *     services and from the fixtures tests/unit/descset_*.proto (compiled by
 *     protoc-c into build/tests/gen and by protoc into GW_TEST_PB), the
 *     runtime descriptor equals the generated one field by field (names,
 *     numbers, labels, types, offsets, quantifiers, flags, defaults, sizes,
 *     name index, ranges; enums likewise), and filled messages packed with one
 *     descriptor unpack with the other and pack again to the same bytes.
 * (2) Errors: bad wire data, unknown types, groups, a file loaded twice with
 *     different content, missing imports, bad google.api.http rules; each a
 *     single line naming the element, and the set freed without leaks (ASan).
 *     Files link in any order, in one set or across sets.
 * (3) google.api.http rules flattened in order (primary, then bindings).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/descset.h"
#include "core/descset_int.h" /* gw_ds_message_at */
#include "descset_kitchen.pb-c.h"
#include "descset_p2.pb-c.h"
#include "proto/pb.h"
#include "tests/unit/table.h"

#include "tests/unit/descset_check.h"

/* ---- (1) the bundled set and the fixtures against protoc-c --------------- */

static gw_descset_t *load(const char *extra_pb)
{
    char err[512] = "";
    gw_descset_t *set = gw_descset_new();
    assert_non_null(set);
    if (gw_descset_add_bundled(set, err, sizeof(err)) != 0 ||
        (extra_pb != NULL && gw_descset_add_file(set, extra_pb, err, sizeof(err)) != 0) ||
        gw_descset_link(set, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    return set;
}

static void test_bundled_matches_generated(void **state)
{
    (void)state;
    gw_descset_t *set = load(NULL);
    const ProtobufCServiceDescriptor *svcs[] = {&auth__auth_service__descriptor,
                                                &user__user_service__descriptor,
                                                &tenant__tenant_service__descriptor};
    check_seen_t seen = {0};
    size_t nmethods = 0;
    for (size_t i = 0; i < N(svcs); i++) {
        for (unsigned j = 0; j < svcs[i]->n_methods; j++, nmethods++) {
            check_message(set, svcs[i]->methods[j].input, &seen);
            check_message(set, svcs[i]->methods[j].output, &seen);
        }
    }
    /* That reached every message of the set but the imported google.*
     * ones (google.api.HttpRule, google.protobuf.*: options, not messages
     * the services carry). */
    size_t nmsgs = 0;
    for (size_t i = 0; gw_ds_message_at(set, i) != NULL; i++)
        nmsgs += strncmp(gw_ds_message_at(set, i)->name, "google.", 7) != 0;
    assert_int_equal(seen.n, nmsgs);
    assert_true(nmsgs >= 60);
    /* Services in file order (auth, user, tenant), methods in declaration order. */
    assert_int_equal(gw_descset_nservices(set), N(svcs));
    for (size_t i = 0; i < N(svcs); i++) {
        const gw_desc_service_t *s = gw_descset_service(set, i);
        assert_string_equal(s->full_name, svcs[i]->name);
        assert_int_equal(s->nmethods, svcs[i]->n_methods);
        for (size_t j = 0; j < s->nmethods; j++) {
            const gw_desc_method_t *m = &s->methods[j];
            char want[256];
            assert_string_equal(m->name, svcs[i]->methods[j].name);
            snprintf(want, sizeof(want), "/%s/%s", svcs[i]->name, m->name);
            assert_string_equal(m->rpc, want);
            assert_string_equal(m->full_name, want + 1);
            assert_ptr_equal(m->input, gw_descset_message(set, svcs[i]->methods[j].input->name));
            assert_ptr_equal(m->output, gw_descset_message(set, svcs[i]->methods[j].output->name));
            assert_false(m->client_streaming || m->server_streaming);
        }
    }
    assert_null(gw_descset_service(set, N(svcs)));
    assert_null(gw_descset_message(set, "user.Nope"));
    assert_null(gw_descset_message(set, ".user.User"));
    assert_null(gw_descset_enum(set, "user.User"));
    gw_descset_free(set);
}

static void test_fixtures_match_generated(void **state)
{
    (void)state;
    gw_descset_t *set = load(GW_TEST_PB);
    check_seen_t seen = {0};
    check_message(set, &dstest__kitchen__descriptor, &seen);
    check_message(set, &dstest__empty__descriptor, &seen);
    check_message(set, &dstest2__p__descriptor, &seen);
    check_message(set, &dstest2__opt__descriptor, &seen);
    check_enum(gw_descset_enum(set, "dstest.Color"), &dstest__color__descriptor);
    assert_int_equal(seen.n, 10);
    gw_descset_free(set);
}

/* proto3 `optional` (which protoc-c cannot compile) is laid out and packed
 * like its proto2 twin dstest2.Opt. */
static void test_proto3_optional(void **state)
{
    (void)state;
    gw_descset_t *set = load(GW_TEST_PB);
    const ProtobufCMessageDescriptor *rt = gw_descset_message(set, "dstest3.Opt"),
                                     *gen = &dstest2__opt__descriptor;
    assert_non_null(rt);
    assert_int_equal(rt->n_fields, gen->n_fields);
    for (unsigned i = 0; i < rt->n_fields; i++) {
        const ProtobufCFieldDescriptor *a = &rt->fields[i], *b = &gen->fields[i];
        bool plain = strcmp(a->name, "plain") == 0;
        assert_int_equal(a->label, plain ? PROTOBUF_C_LABEL_NONE : PROTOBUF_C_LABEL_OPTIONAL);
        assert_int_equal(a->flags, 0);
        assert_null(a->default_value); /* NULL = unset, also for the string */
        if (!plain) {
            assert_int_equal(a->offset, b->offset);
            assert_int_equal(a->quantifier_offset, b->quantifier_offset);
        }
    }
    /* Explicit zeros and empty strings are present, so they are packed. */
    Dstest2__Opt__Sub sub = DSTEST2__OPT__SUB__INIT;
    Dstest2__Opt m = DSTEST2__OPT__INIT;
    m.has_oi = 1, m.os = "", m.has_ob = 1, m.om = &sub, m.has_od = 1, m.has_plain = 1, m.plain = 3;
    check_roundtrip(&m.base, rt);
    Dstest2__Opt none = DSTEST2__OPT__INIT;
    none.has_plain = 1, none.plain = 3;
    check_roundtrip(&none.base, rt);
    gw_descset_free(set);
}

static void test_roundtrip_kitchen(void **state)
{
    (void)state;
    gw_descset_t *set = load(GW_TEST_PB);
    const ProtobufCMessageDescriptor *rt = gw_descset_message(set, "dstest.Kitchen");
    assert_non_null(rt);

    Dstest__Kitchen__Inner__Deep deep = DSTEST__KITCHEN__INNER__DEEP__INIT;
    Dstest__Kitchen__Inner in1 = DSTEST__KITCHEN__INNER__INIT, in2 = DSTEST__KITCHEN__INNER__INIT;
    Dstest__Kitchen back = DSTEST__KITCHEN__INIT, k = DSTEST__KITCHEN__INIT;
    back.s = "recursion";
    back.i64 = -1;
    Dstest__Kitchen *backs[] = {&back, &back};
    deep.n_back = 2, deep.back = backs, deep.e = DSTEST__KITCHEN__INNER__DEEP__E__E_ONE;
    in1.name = "one", in1.v = -7, in1.deep = &deep;
    in2.name = "", in2.v = 1 << 30;
    k.i32 = -123456, k.i64 = INT64_MIN, k.u32 = UINT32_MAX, k.u64 = UINT64_MAX, k.s32 = -2, k.s64 = INT64_MAX;
    k.f32 = 0xdeadbeef, k.f64 = 1ull << 63, k.sf32 = INT32_MIN, k.sf64 = -3, k.f = 1.5f, k.d = -2.25;
    k.b = 1, k.s = "héllo", k.by = (ProtobufCBinaryData){3, (uint8_t *)"\0\1\2"};
    k.color = DSTEST__COLOR__NEGATIVE, k.inner = &in1, k.gap = 99, k.big = -1;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    k.old = 5; /* [deprecated = true] */
#pragma GCC diagnostic pop
    int32_t ri[] = {1, -1, 300};
    int64_t rs[] = {-5, 5};
    char *strs[] = {"a", "", "ccc"};
    ProtobufCBinaryData blobs[] = {{0, NULL}, {2, (uint8_t *)"\xff\x00"}};
    Dstest__Color colors[] = {DSTEST__COLOR__FAR, DSTEST__COLOR__RED, DSTEST__COLOR__COLOR_UNSPECIFIED};
    Dstest__Kitchen__Inner *inners[] = {&in1, &in2};
    double ds[] = {0.5, -0.0, 1e300};
    protobuf_c_boolean bs[] = {1, 0, 1};
    uint32_t f32s[] = {7, 0};
    k.n_ri32 = N(ri), k.ri32 = ri, k.n_rs64 = N(rs), k.rs64 = rs, k.n_rs = N(strs), k.rs = strs;
    k.n_rby = N(blobs), k.rby = blobs, k.n_rcolor = N(colors), k.rcolor = colors;
    k.n_rinner = N(inners), k.rinner = inners, k.n_rd = N(ds), k.rd = ds, k.n_rb = N(bs), k.rb = bs;
    k.n_rf32 = N(f32s), k.rf32 = f32s;
    Dstest__Kitchen__SmapEntry se1 = DSTEST__KITCHEN__SMAP_ENTRY__INIT,
                               se2 = DSTEST__KITCHEN__SMAP_ENTRY__INIT;
    se1.key = "k1", se1.value = "v1", se2.key = "k2", se2.value = "";
    Dstest__Kitchen__SmapEntry *smap[] = {&se1, &se2};
    Dstest__Kitchen__ImapEntry ie = DSTEST__KITCHEN__IMAP_ENTRY__INIT;
    ie.key = -9, ie.value = &in2;
    Dstest__Kitchen__ImapEntry *imap[] = {&ie};
    Dstest__Kitchen__CmapEntry ce = DSTEST__KITCHEN__CMAP_ENTRY__INIT;
    ce.key = 1ull << 40, ce.value = DSTEST__COLOR__BLUE;
    Dstest__Kitchen__CmapEntry *cmap[] = {&ce};
    k.n_smap = N(smap), k.smap = smap, k.n_imap = N(imap), k.imap = imap, k.n_cmap = N(cmap), k.cmap = cmap;
    Dstest__Empty empty = DSTEST__EMPTY__INIT;
    k.empty = &empty;

    /* Each member of both oneofs, and neither. */
    for (int c = 0; c < 6; c++) {
        k.choice_case = DSTEST__KITCHEN__CHOICE__NOT_SET;
        k.other_case = DSTEST__KITCHEN__OTHER__NOT_SET;
        if (c == 1)
            k.choice_case = DSTEST__KITCHEN__CHOICE_ONE_S, k.one_s = "";
        if (c == 2)
            k.choice_case = DSTEST__KITCHEN__CHOICE_ONE_I, k.one_i = 0,
            k.other_case = DSTEST__KITCHEN__OTHER_TWO_D, k.two_d = 0.0;
        if (c == 3)
            k.choice_case = DSTEST__KITCHEN__CHOICE_ONE_M, k.one_m = &in1;
        if (c == 4)
            k.choice_case = DSTEST__KITCHEN__CHOICE_ONE_B, k.one_b = (ProtobufCBinaryData){1, (uint8_t *)"z"},
            k.other_case = DSTEST__KITCHEN__OTHER_TWO_C, k.two_c = DSTEST__COLOR__GREEN;
        check_roundtrip(&k.base, rt);
    }
    Dstest__Kitchen zero = DSTEST__KITCHEN__INIT;
    check_roundtrip(&zero.base, rt);
    gw_descset_free(set);
}

static void test_roundtrip_proto2(void **state)
{
    (void)state;
    gw_descset_t *set = load(GW_TEST_PB);
    const ProtobufCMessageDescriptor *rt = gw_descset_message(set, "dstest2.P");
    assert_non_null(rt);
    Dstest2__P child = DSTEST2__P__INIT, p = DSTEST2__P__INIT;
    child.r = 1;
    check_roundtrip(&child.base, rt); /* defaults stay unset */
    int32_t ri[] = {3, 4}, ru[] = {5};
    p.r = -1, p.has_o = 1, p.o = 0, p.s = "x", p.has_e = 1, p.e = DSTEST2__P__E__A, p.s2 = "";
    p.has_d = 1, p.d = 2, p.has_u = 1, p.u = 1, p.n_ri = 2, p.ri = ri, p.n_ru = 1, p.ru = ru,
    p.child = &child;
    p.pick_case = DSTEST2__P__PICK_PB, p.pb = "pb";
    check_roundtrip(&p.base, rt);
    /* A missing required field fails to unpack with both descriptors. */
    static const uint8_t no_r[] = {0x10, 0x01};
    assert_null(protobuf_c_message_unpack(rt, NULL, sizeof(no_r), no_r));
    /* The runtime init puts proto2 defaults in place like the generated one. */
    static const uint8_t only_r[] = {0x08, 0x02};
    Dstest2__P *u = (Dstest2__P *)protobuf_c_message_unpack(rt, NULL, sizeof(only_r), only_r);
    assert_non_null(u);
    assert_int_equal(u->o, 7);
    assert_string_equal(u->s, "hi");
    assert_int_equal(u->e, DSTEST2__P__E__B);
    assert_int_equal(u->by.len, 5);
    assert_memory_equal(u->by.data, "x\001\"y\n", 5);
    assert_true(u->d == 1.5 && u->f == -2.5f && u->bo && u->u == UINT64_MAX && u->s64 == -INT64_MAX);
    protobuf_c_message_free_unpacked(&u->base, NULL);
    gw_descset_free(set);
}

/* 1000 precompiled inits are shared by the live sets; past them a message
 * has message_init NULL and still works (protobuf-c's generic init); a
 * freed set gives its inits back. */
static void test_init_slots(void **state)
{
    (void)state;
    gw_descset_t *sets[14];
    size_t without = 0;
    for (size_t i = 0; i < N(sets); i++)
        sets[i] = load(NULL);
    for (size_t i = 0; gw_ds_message_at(sets[N(sets) - 1], i) != NULL; i++)
        without += gw_ds_message_at(sets[N(sets) - 1], i)->message_init == NULL;
    assert_true(without > 0);
    const ProtobufCMessageDescriptor *rt = gw_descset_message(sets[N(sets) - 1], "user.GetUserRequest");
    assert_null(rt->message_init);
    User__GetUserRequest req = USER__GET_USER_REQUEST__INIT;
    req.user_id = "u1";
    check_roundtrip(&req.base, rt);
    for (size_t i = 0; i < N(sets); i++)
        gw_descset_free(sets[i]);
    gw_descset_t *set = load(NULL);
    for (size_t i = 0; gw_ds_message_at(set, i) != NULL; i++)
        assert_non_null(gw_ds_message_at(set, i)->message_init);
    gw_descset_free(set);
}

#include "tests/unit/descset_errors.h"

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bundled_matches_generated),
        cmocka_unit_test(test_fixtures_match_generated),
        cmocka_unit_test(test_proto3_optional),
        cmocka_unit_test(test_roundtrip_kitchen),
        cmocka_unit_test(test_roundtrip_proto2),
        cmocka_unit_test(test_init_slots),
        cmocka_unit_test(test_wire_errors),
        cmocka_unit_test(test_model_errors),
        cmocka_unit_test(test_duplicate_files),
        cmocka_unit_test(test_files_any_order),
        cmocka_unit_test(test_http_rules),
        cmocka_unit_test(test_http_rule_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
