/*
 * The transcoder (worker/transcode/) on what descriptor-built routes bring:
 * descriptors without message_init (built at run time by core/descset.c),
 * the well-known wrappers (google.protobuf.Int32Value... as bare values),
 * fields with explicit presence (`optional`), oneofs both ways, a route's
 * google.api.http `body` naming a field, and its `response_body`. Messages
 * from tests/unit/transcode_p3.proto and transcode_p2.proto, compiled by
 * protoc-c for this test only (Makefile, TEST_PROTO). Meant to pass under
 * valgrind and ASan as well.
 */
#include "tests/unit/transcode_check.h"

#include "transcode_p2.pb-c.h"
#include "transcode_p3.pb-c.h"

#define PUT_ITEM (&tc3__put_item_request__descriptor)
#define WRAPPED  (&tc3__wrapped__descriptor)
#define OPT      (&tc2__opt__descriptor)

/* The error text for a request with route body rule `body_field`. */
static void expect_field_error(const char *body_field, const char *body, const char *want)
{
    expect_fail_rc(PUT_ITEM, body_field, body, strlen(body), NULL, 0, NULL, 0, GW_TRANSCODE_INVALID, want);
}

/* Pack m, then render `field` of it through the reply path. */
static char *reply_field(const ProtobufCMessage *m, const char *redact, const char *field, int want_rc)
{
    size_t plen = protobuf_c_message_get_packed_size(m), len = 0;
    uint8_t *wire = malloc(plen + 1);
    protobuf_c_message_pack(m, wire);
    char *json = NULL;
    assert_int_equal(gw_transcode_response_redacted(m->descriptor, wire, plen, redact, field, &json, &len),
                     want_rc);
    free(wire);
    if (json != NULL)
        assert_int_equal(len, strlen(json));
    return json;
}

static void expect_reply_field(const ProtobufCMessage *m, const char *redact, const char *field,
                               const char *want)
{
    char *json = reply_field(m, redact, field, GW_TRANSCODE_OK);
    assert_non_null(json);
    if (strcmp(json, want) != 0)
        fail_msg("response field %s:\n  got  %s\n  want %s", field, json, want);
    free(json);
}

/* ---- descriptors without message_init ------------------------------------- */

/* tc3.Item as core/descset.c may build it: no message_init, and no default
 * pointer for its proto3 strings (NULL where protoc-c has ""). */
static ProtobufCFieldDescriptor rt_item_fields[4];
static ProtobufCMessageDescriptor rt_item;
static ProtobufCMessageDescriptor rt_opt;

static void make_runtime_descriptors(void)
{
    memcpy(rt_item_fields, tc3__item__descriptor.fields, sizeof(rt_item_fields));
    for (size_t i = 0; i < 4; i++)
        if (rt_item_fields[i].type == PROTOBUF_C_TYPE_STRING)
            rt_item_fields[i].default_value = NULL;
    rt_item = tc3__item__descriptor;
    rt_item.fields = rt_item_fields;
    rt_item.message_init = NULL;
    rt_opt = tc2__opt__descriptor;
    rt_opt.message_init = NULL;
}

static void test_runtime_descriptors(void **state)
{
    (void)state;
    make_runtime_descriptors();
    /* generated init would crash here (message_init is NULL) */
    ProtobufCMessage *m = parse(&rt_item, "{}");
    assert_null(((Tc3__Item *)m)->name);
    check_json(m, "{\"name\":\"\",\"qty\":0,\"note\":null,\"secret\":\"\"}", true);
    assert_int_equal(gw_transcode_fill_string_if_empty(m, "name", "n"), 1);
    assert_string_equal(((Tc3__Item *)m)->name, "n");
    protobuf_c_message_free_unpacked(m, NULL);
    m = parse(&rt_item, "{\"name\":\"a\",\"note\":\"b\",\"secret\":null}");
    check_json(m, "{\"name\":\"a\",\"qty\":0,\"note\":\"b\",\"secret\":\"\"}", true);
    protobuf_c_message_free_unpacked(m, NULL);
    /* proto2 defaults come from the descriptor: copied scalars, shared strings */
    Tc2__Opt *o = (Tc2__Opt *)parse(&rt_opt, "{\"sub\":{}}");
    assert_true(o->od == 1.5 && !o->has_od);
    assert_ptr_equal(o->osd, tc2__opt__descriptor.fields[4].default_value);
    assert_non_null(o->sub);
    assert_int_equal(o->sub->x, 7);
    check_json(&o->base, "{\"sub\":{}}", true);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* replacing a default string frees only ours */
    const gw_transcode_param_t q[] = {P("osd", "x"), P("osd", "y")};
    o = (Tc2__Opt *)build(&rt_opt, NULL, q, NPARAMS(q), NULL, 0);
    assert_string_equal(o->osd, "y");
    protobuf_c_message_free_unpacked(&o->base, NULL);
}

/* ---- optional fields ------------------------------------------------------- */

static void test_optional_fields(void **state)
{
    (void)state;
    /* unset: left out (optional messages stay null); set, even to zero: shown */
    expect_json(OPT, "{}", "{\"sub\":null}");
    expect_json(OPT, "{\"oi\":null,\"os\":null,\"ob\":null,\"od\":null}", "{\"sub\":null}");
    expect_json(OPT, "{\"oi\":0,\"os\":\"\",\"ob\":\"\",\"od\":0,\"osd\":\"\",\"obool\":false}",
                "{\"oi\":0,\"os\":\"\",\"ob\":\"\",\"od\":0,\"osd\":\"\",\"obool\":false,\"sub\":null}");
    expect_json(OPT, "{\"osd\":\"dflt\",\"sub\":{\"x\":7}}", "{\"osd\":\"dflt\",\"sub\":{\"x\":7}}");
    Tc2__Opt *o = (Tc2__Opt *)parse(OPT, "{\"oi\":3,\"ob\":\"YQ\"}");
    assert_true(o->has_oi && o->oi == 3 && o->has_ob && o->ob.len == 1 && !o->has_obool);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* from the URL too */
    const gw_transcode_param_t q[] = {P("oi", "0"), P("os", "")};
    o = (Tc2__Opt *)build(OPT, NULL, q, NPARAMS(q), NULL, 0);
    check_json(&o->base, "{\"oi\":0,\"os\":\"\",\"sub\":null}", true);
    protobuf_c_message_free_unpacked(&o->base, NULL);
    /* a reply's unset optional field named as response_body: null */
    Tc2__Opt r = TC2__OPT__INIT;
    expect_reply_field(&r.base, NULL, "oi", "null");
    expect_reply_field(&r.base, NULL, "osd", "null");
    r.has_oi = 1;
    expect_reply_field(&r.base, NULL, "oi", "0");
}

/* ---- wrappers -------------------------------------------------------------- */

static void test_wrappers(void **state)
{
    (void)state;
    expect_json(WRAPPED, "{}",
                "{\"d\":null,\"f\":null,\"i64\":null,\"u64\":null,\"i32\":null,\"u32\":null,\"b\":null,"
                "\"s\":null,\"by\":null,\"many\":[],\"named\":{}}");
    expect_json(
        WRAPPED,
        "{\"d\":0.5,\"f\":\"1.5\",\"i64\":\"-9223372036854775808\",\"u64\":42,\"i32\":-1,\"u32\":0,"
        "\"b\":false,\"s\":\"\",\"by\":\"aGk\",\"many\":[1,\"2\"],\"named\":{\"a\":\"x\"}}",
        "{\"d\":0.5,\"f\":1.5,\"i64\":-9223372036854775808,\"u64\":42,\"i32\":-1,\"u32\":0,\"b\":false,"
        "\"s\":\"\",\"by\":\"aGk=\",\"many\":[1,2],\"named\":{\"a\":\"x\"}}");
    expect_json(WRAPPED, "{\"s\":null,\"d\":\"NaN\"}",
                "{\"d\":\"NaN\",\"f\":null,\"i64\":null,\"u64\":null,\"i32\":null,\"u32\":null,\"b\":null,"
                "\"s\":null,\"by\":null,\"many\":[],\"named\":{}}");
    Tc3__Wrapped *w = (Tc3__Wrapped *)parse(WRAPPED, "{\"u64\":\"18446744073709551615\",\"b\":\"true\"}");
    assert_true(w->u64->value == UINT64_MAX && w->b->value);
    protobuf_c_message_free_unpacked(&w->base, NULL);
    /* a wrapper as the whole message: its bare value both ways */
    expect_json(&google__protobuf__int64_value__descriptor, "\"-3\"", "-3");
    expect_json(&google__protobuf__string_value__descriptor, " null ", "\"\"");
    expect_body_error(&google__protobuf__string_value__descriptor, "{}",
                      "invalid JSON body: field \"value\": expected string, got object");
    /* query parameters and path variables set the wrapped value */
    const gw_transcode_param_t q[] = {P("s", "x"), P("many", "1"), P("many", "2"), P("i64", "-5"),
                                      P("by.value", "YQ")};
    const gw_transcode_param_t v[] = {P("s", "from-path"), P("u32", "7")};
    w = (Tc3__Wrapped *)build(WRAPPED, "{\"s\":\"from-body\"}", q, NPARAMS(q), v, NPARAMS(v));
    assert_string_equal(w->s->value, "from-path");
    assert_int_equal(w->n_many, 2);
    assert_int_equal(w->many[1]->value, 2);
    assert_int_equal(w->i64->value, -5);
    assert_int_equal(w->u32->value, 7);
    assert_int_equal(w->by->value.len, 1);
    protobuf_c_message_free_unpacked(&w->base, NULL);
    /* the reply: a wrapper as response_body is its bare value */
    Google__Protobuf__StringValue sv = GOOGLE__PROTOBUF__STRING_VALUE__INIT;
    sv.value = "hello";
    Tc3__Wrapped r = TC3__WRAPPED__INIT;
    expect_reply_field(&r.base, NULL, "s", "null");
    r.s = &sv;
    expect_reply_field(&r.base, NULL, "s", "\"hello\"");
    expect_reply_field(&r.base, NULL, "s.value", "\"hello\"");
    expect_reply_field(&r.base, "s", "s", "null");
}

static void test_wrapper_errors(void **state)
{
    (void)state;
    static const struct {
        const char *body, *want;
    } cases[] = {
        {"{\"i32\":\"x\"}", "field \"i32\": expected integer, got string \"x\""},
        {"{\"i32\":{\"value\":1}}", "field \"i32\": expected integer, got object"},
        {"{\"i32\":[1]}", "field \"i32\": expected integer, got array"},
        {"{\"u32\":-1}", "field \"u32\": value out of range for uint32, got number -1"},
        {"{\"b\":1}", "field \"b\": expected boolean, got number 1"},
        {"{\"s\":5}", "field \"s\": expected string, got number 5"},
        {"{\"by\":\"*\"}", "field \"by\": expected base64 string, got string \"*\""},
        {"{\"many\":[null]}", "field \"many[0]\": expected integer, got null"},
        {"{\"many\":3}", "field \"many\": expected array, got number 3"},
        {"{\"named\":{\"a\":1}}", "field \"named[a]\": expected string, got number 1"},
        {"{\"named\":{\"a\":null}}", "field \"named[a]\": expected string, got null"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[256];
        snprintf(want, sizeof(want), "invalid JSON body: %s", cases[i].want);
        expect_body_error(WRAPPED, cases[i].body, want);
    }
    const gw_transcode_param_t q[] = {P("i32", "x")};
    expect_fail(WRAPPED, NULL, 0, q, 1, NULL, 0,
                "invalid query parameter \"i32\": expected integer, got \"x\"");
    const gw_transcode_param_t v[] = {P("u64", "-1")};
    expect_fail(WRAPPED, NULL, 0, NULL, 0, v, 1,
                "invalid path variable \"u64\": value out of range for uint64, got \"-1\"");
}

/* The tenant_id filler on a StringValue field: its value, made if unset. */
static void test_fill_wrapped_string(void **state)
{
    (void)state;
    Tc3__Item *it = (Tc3__Item *)parse(&tc3__item__descriptor, "{}");
    assert_int_equal(gw_transcode_fill_string_if_empty(&it->base, "note", "t-jwt"), 1);
    assert_string_equal(it->note->value, "t-jwt");
    assert_int_equal(gw_transcode_fill_string_if_empty(&it->base, "note", "other"), 0);
    protobuf_c_message_free_unpacked(&it->base, NULL);
    it = (Tc3__Item *)parse(&tc3__item__descriptor, "{\"note\":\"\"}");
    assert_int_equal(gw_transcode_fill_string_if_empty(&it->base, "note", "t"), 1);
    assert_string_equal(it->note->value, "t");
    protobuf_c_message_free_unpacked(&it->base, NULL);
    ProtobufCMessage *w = parse(WRAPPED, "{}");
    assert_int_equal(gw_transcode_fill_string_if_empty(w, "i32", "1"), 0); /* not a string wrapper */
    assert_null(((Tc3__Wrapped *)w)->i32);
    protobuf_c_message_free_unpacked(w, NULL);
    ProtobufCMessage *r = parse(PUT_ITEM, "{\"number\":1}");
    assert_int_equal(gw_transcode_fill_string_if_empty(r, "label", "x"), 0); /* its oneof is taken */
    protobuf_c_message_free_unpacked(r, NULL);
}

/* ---- oneofs ---------------------------------------------------------------- */

static void test_oneofs(void **state)
{
    (void)state;
    static const char *const rest = "\"outer\":null";
    static const struct {
        const char *in, *member;
    } cases[] = {
        {"{}", ""},
        {"{\"picked\":{\"name\":\"a\"}}",
         ",\"picked\":{\"name\":\"a\",\"qty\":0,\"note\":null,\"secret\":\"\"}"},
        {"{\"label\":\"\"}", ",\"label\":\"\""},
        {"{\"number\":\"0\"}", ",\"number\":0"},
        {"{\"label\":null,\"number\":7}", ",\"number\":7"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[512];
        snprintf(want, sizeof(want),
                 "{\"id\":\"\",\"item\":null,\"tags\":[],\"labels\":{},\"qty\":0,\"note\":null,%s%s}", rest,
                 cases[i].member);
        expect_json(PUT_ITEM, cases[i].in, want);
    }
    expect_body_error(PUT_ITEM, "{\"picked\":{},\"label\":\"x\"}",
                      "invalid JSON body: field \"label\": another field of its oneof is already set");
    const gw_transcode_param_t q[] = {P("picked.name", "x")};
    expect_fail(PUT_ITEM, "{\"number\":1}", 12, q, 1, NULL, 0,
                "invalid query parameter \"picked.name\": another field of its oneof is already set");
    Tc3__PutItemRequest *r = (Tc3__PutItemRequest *)build(PUT_ITEM, NULL, q, 1, NULL, 0);
    assert_int_equal(r->pick_case, TC3__PUT_ITEM_REQUEST__PICK_PICKED);
    assert_string_equal(r->picked->name, "x");
    /* response_body naming a member: null unless it is the one set */
    expect_reply_field(&r->base, NULL, "label", "null");
    expect_reply_field(&r->base, NULL, "picked.name", "\"x\"");
    protobuf_c_message_free_unpacked(&r->base, NULL);
}

/* ---- the route's body field ------------------------------------------------- */

static void test_body_field(void **state)
{
    (void)state;
    /* the body is the item; query and path fill the request around it, path last */
    const gw_transcode_param_t q[] = {P("qty", "3"), P("item.qty", "4")};
    const gw_transcode_param_t v[] = {P("id", "i-1"), P("item.name", "from-path")};
    Tc3__PutItemRequest *r = (Tc3__PutItemRequest *)build_as(
        PUT_ITEM, "item", "{\"name\":\"from-body\",\"qty\":1,\"note\":\"n\"}", q, NPARAMS(q), v, NPARAMS(v));
    check_json(&r->base,
               "{\"id\":\"i-1\",\"item\":{\"name\":\"from-path\",\"qty\":4,\"note\":\"n\",\"secret\":\"\"},"
               "\"tags\":[],\"labels\":{},\"qty\":3,\"note\":null,\"outer\":null}",
               true);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    static const struct {
        const char *field, *body, *want;
    } cases[] = {
        {"tags", "[\"a\",\"b\"]",
         "\"tags\":[\"a\",\"b\"],\"labels\":{},\"qty\":0,\"note\":null,\"outer\":null"},
        {"labels", " {\"a\":1} ", "\"tags\":[],\"labels\":{\"a\":1},\"qty\":0,\"note\":null,\"outer\":null"},
        {"qty", "5", "\"tags\":[],\"labels\":{},\"qty\":5,\"note\":null,\"outer\":null"},
        {"qty", "\"6\"", "\"tags\":[],\"labels\":{},\"qty\":6,\"note\":null,\"outer\":null"},
        {"note", "\"x\"", "\"tags\":[],\"labels\":{},\"qty\":0,\"note\":\"x\",\"outer\":null"},
        {"note", "null", "\"tags\":[],\"labels\":{},\"qty\":0,\"note\":null,\"outer\":null"},
        {"outer.inner.item", "{\"qty\":2}",
         "\"tags\":[],\"labels\":{},\"qty\":0,\"note\":null,\"outer\":{\"inner\":{\"item\":{\"name\":\"\","
         "\"qty\":2,\"note\":null,\"secret\":\"\"}}}"},
        {"label", "\"l\"",
         "\"tags\":[],\"labels\":{},\"qty\":0,\"note\":null,\"outer\":null,\"label\":\"l\""},
        {"*", "{\"qty\":1}", "\"tags\":[],\"labels\":{},\"qty\":1,\"note\":null,\"outer\":null"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[512];
        snprintf(want, sizeof(want), "{\"id\":\"\",\"item\":null,%s}", cases[i].want);
        ProtobufCMessage *m = build_as(PUT_ITEM, cases[i].field, cases[i].body, NULL, 0, NULL, 0);
        check_json(m, want, true);
        protobuf_c_message_free_unpacked(m, NULL);
    }
    /* a route without a body takes requests without one */
    const gw_transcode_param_t id[] = {P("id", "x")};
    ProtobufCMessage *m = build_as(PUT_ITEM, NULL, NULL, id, 1, NULL, 0);
    assert_string_equal(((Tc3__PutItemRequest *)m)->id, "x");
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_body_field_errors(void **state)
{
    (void)state;
    static const struct {
        const char *field, *body, *want;
    } cases[] = {
        {NULL, "{}", "this route takes no body"},
        {NULL, " ", "this route takes no body"},
        {"item", "[1]", "field \"item\": expected object, got array"},
        {"item", "\"x\"", "field \"item\": expected object, got string \"x\""},
        {"item", "{\"x\":1}", "unknown field \"item.x\""},
        {"item", "{\"qty\":\"a\"}", "field \"item.qty\": expected integer, got string \"a\""},
        {"outer.inner.item", "{\"note\":1}",
         "field \"outer.inner.item.note\": expected string, got number 1"},
        {"tags", "\"a\"", "field \"tags\": expected array, got string \"a\""},
        {"tags", "[1]", "field \"tags[0]\": expected string, got number 1"},
        {"labels", "[]", "field \"labels\": expected object, got array"},
        {"labels", "{\"a\":1,\"a\":2}", "duplicate object key near '\"a\"' (line 1, column 10)"},
        {"qty", "\"x\"", "field \"qty\": expected integer, got string \"x\""},
        {"qty", "{}", "field \"qty\": expected integer, got object"},
        {"qty", "5 6", "end of file expected near '6' (line 1, column 3)"},
        {"qty", "[", "']' expected near end of file (line 1, column 1)"},
        {"note", "{\"value\":\"x\"}", "field \"note\": expected string, got object"},
        {"*", "5", "'[' or '{' expected near '5' (line 1, column 1)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[512];
        snprintf(want, sizeof(want), "invalid JSON body: %s", cases[i].want);
        expect_field_error(cases[i].field, cases[i].body, want);
    }
    /* a body rule that fits no field is the route table's fault */
    expect_fail_rc(PUT_ITEM, "nope", "{}", 2, NULL, 0, NULL, 0, GW_TRANSCODE_ROUTE,
                   "route body field \"nope\" is not a field path of tc3.PutItemRequest");
    expect_fail_rc(PUT_ITEM, "tags.x", "{}", 2, NULL, 0, NULL, 0, GW_TRANSCODE_ROUTE,
                   "route body field \"tags.x\" is not a field path of tc3.PutItemRequest");
}

/* ---- the route's response_body ------------------------------------------- */

static void test_response_field(void **state)
{
    (void)state;
    ProtobufCMessage *m =
        parse(PUT_ITEM, "{\"id\":\"i\",\"item\":{\"name\":\"n\",\"secret\":\"s\",\"note\":\"x\"},"
                        "\"tags\":[\"a\"],\"labels\":{\"k\":2},\"qty\":9}");
    expect_reply_field(m, NULL, "item", "{\"name\":\"n\",\"qty\":0,\"note\":\"x\",\"secret\":\"s\"}");
    expect_reply_field(m, "secret", "item", "{\"name\":\"n\",\"qty\":0,\"note\":\"x\"}");
    expect_reply_field(m, "item", "item", "null");
    expect_reply_field(m, "item", "item.name", "null");
    expect_reply_field(m, NULL, "item.note", "\"x\"");
    expect_reply_field(m, NULL, "tags", "[\"a\"]");
    expect_reply_field(m, NULL, "labels", "{\"k\":2}");
    expect_reply_field(m, NULL, "qty", "9");
    expect_reply_field(m, NULL, "id", "\"i\"");
    expect_reply_field(m, NULL, "note", "null");
    /* unset messages on the way: the field's default */
    expect_reply_field(m, NULL, "outer", "null");
    expect_reply_field(m, NULL, "outer.inner.item", "null");
    expect_reply_field(m, NULL, "outer.inner.item.qty", "0");
    expect_reply_field(m, NULL, "outer.inner.item.name", "\"\"");
    expect_reply_field(m, NULL, "picked.name", "\"\"");
    /* the whole message still, and a path that names no field */
    expect_reply_field(m, "secret,labels", NULL,
                       "{\"id\":\"i\",\"item\":{\"name\":\"n\",\"qty\":0,\"note\":\"x\"},\"tags\":[\"a\"],"
                       "\"qty\":9,\"note\":null,\"outer\":null}");
    assert_null(reply_field(m, NULL, "nope", GW_TRANSCODE_ROUTE));
    assert_null(reply_field(m, NULL, "tags.x", GW_TRANSCODE_ROUTE));
    assert_null(reply_field(m, NULL, "", GW_TRANSCODE_ROUTE));
    protobuf_c_message_free_unpacked(m, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runtime_descriptors),
        cmocka_unit_test(test_optional_fields),
        cmocka_unit_test(test_wrappers),
        cmocka_unit_test(test_wrapper_errors),
        cmocka_unit_test(test_fill_wrapped_string),
        cmocka_unit_test(test_oneofs),
        cmocka_unit_test(test_body_field),
        cmocka_unit_test(test_body_field_errors),
        cmocka_unit_test(test_response_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
