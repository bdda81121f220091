/*
 * The JSON <-> protobuf transcoder (worker/transcode*.c) against the mapping
 * rules of docs/API.md, Envelope, on the real generated messages (user, tenant, auth,
 * health) and on a hand-described message with the field kinds our protos
 * lack (transcode_kitchen.h): what we write, what we read, query parameters
 * and path variables, round trips JSON -> message -> wire -> message -> JSON,
 * the reply fast path and the tenant_id filler. Error messages are in
 * test_transcode_errors.c. Meant to pass under valgrind and ASan as well.
 */
#include "tests/unit/transcode_check.h"

#include <jansson.h>
#include <math.h>

/* ---- output --------------------------------------------------------------- */

static void test_defaults_are_emitted(void **state)
{
    (void)state;
    expect_json(CREATE_USER, NULL,
                "{\"email\":\"\",\"username\":\"\",\"phone\":\"\",\"document_number\":\"\",\"password\":\"\","
                "\"first_name\":\"\",\"last_name\":\"\",\"tenant_id\":\"\",\"roles\":[]}");
    expect_json(&user__list_users_response__descriptor, "{}",
                "{\"users\":[],\"total\":0,\"page\":0,\"page_size\":0}");
    expect_json(&tenant__get_tenant_response__descriptor, "", "{\"tenant\":null}");
    expect_json(&tenant__get_tenant_response__descriptor, "{\"tenant\":{}}",
                "{\"tenant\":{\"id\":\"\",\"name\":\"\",\"domain\":\"\",\"subscription_tier\":\"\",\"is_"
                "active\":false,"
                "\"created_at\":\"\",\"updated_at\":\"\",\"config\":null}}");
    expect_json(UPDATE_CONFIG, "{\"config\":{}}",
                "{\"tenant_id\":\"\",\"config\":{\"default_service_url\":\"\",\"service_mappings\":{},"
                "\"fallback_chain\":[],\"allowed_login_identifiers\":[],\"require_2fa\":false,"
                "\"allow_registration\":false,\"custom_logo_url\":\"\",\"custom_background_url\":\"\","
                "\"custom_settings\":{}}}");
    /* the oneof is absent while unset */
    expect_json(KITCHEN, "{}",
                "{\"i64\":0,\"u64\":0,\"u32\":0,\"s32\":0,\"f64\":0,\"f\":0,\"d\":0,\"by\":\"\",\"i64s\":[],"
                "\"int_map\":{},\"child\":null,\"kids\":{},\"statuses\":[],\"flag\":false,\"blobs\":[]}");
}

static void test_int64_as_number(void **state)
{
    (void)state;
    Auth__LoginResponse r = AUTH__LOGIN_RESPONSE__INIT;
    r.access_token = "a.b.c";
    r.token_type = "Bearer";
    r.expires_in = 3600;
    check_json(
        &r.base,
        "{\"access_token\":\"a.b.c\",\"refresh_token\":\"\",\"token_type\":\"Bearer\",\"expires_in\":3600}",
        true);
    r.expires_in = INT64_MIN;
    check_json(&r.base,
               "{\"access_token\":\"a.b.c\",\"refresh_token\":\"\",\"token_type\":\"Bearer\","
               "\"expires_in\":-9223372036854775808}",
               true);
    /* fixed64 above INT64_MAX is written as a number, which input only takes as a string */
    ProtobufCMessage *k =
        parse(KITCHEN, "{\"i64s\":[1,\"-2\",9223372036854775807],\"f64\":\"18446744073709551615\"}");
    check_json(
        k,
        "{\"i64\":0,\"u64\":0,\"u32\":0,\"s32\":0,\"f64\":18446744073709551615,\"f\":0,\"d\":0,\"by\":\"\","
        "\"i64s\":[1,-2,9223372036854775807],\"int_map\":{},\"child\":null,\"kids\":{},\"statuses\":[],"
        "\"flag\":false,\"blobs\":[]}",
        false);
    protobuf_c_message_free_unpacked(k, NULL);
}

static void test_enums(void **state)
{
    (void)state;
    expect_json(HEALTH, "{\"status\":\"SERVING\"}", "{\"status\":\"SERVING\"}");
    expect_json(HEALTH, "{\"status\":2}", "{\"status\":\"NOT_SERVING\"}");
    expect_json(HEALTH, "{\"status\":\"3\"}", "{\"status\":\"SERVICE_UNKNOWN\"}");
    expect_json(HEALTH, "{\"status\":null}", "{\"status\":\"UNKNOWN\"}");
    expect_json(HEALTH, "{\"status\":42}", "{\"status\":42}"); /* unknown numbers kept, shown as numbers */
    Grpc__Health__V1__HealthCheckResponse h = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    h.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    check_json(&h.base, "{\"status\":\"SERVING\"}", true);
    Kitchen *k = (Kitchen *)parse(KITCHEN, "{\"statuses\":[\"SERVING\",0,\"NOT_SERVING\",-1]}");
    assert_int_equal(k->n_statuses, 4);
    assert_int_equal(k->statuses[3], -1);
    protobuf_c_message_free_unpacked(&k->base, NULL);
}

static void test_string_escaping(void **state)
{
    (void)state;
    User__CreateUserRequest r = USER__CREATE_USER_REQUEST__INIT;
    /* control, quote, backslash, newline, DEL, a stray byte, é, an encoded surrogate, a 4-byte emoji */
    r.email = "a\x01\"\\\n\x7f\xff\xc3\xa9\xed\xa0\x80\xf0\x9f\x98\x80z";
    char *json = gw_transcode_response(&r.base, NULL);
    assert_non_null(strstr(json, "\"email\":\"a\\u0001\\\"\\\\\\n\x7f\xef\xbf\xbd\xc3\xa9"
                                 "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xf0\x9f\x98\x80z\","));
    json_t *j = json_loads(json, 0, NULL); /* valid JSON whatever the bytes */
    assert_non_null(j);
    json_decref(j);
    free(json);
    /* and input escapes decode */
    User__CreateUserRequest *m = (User__CreateUserRequest *)parse(
        CREATE_USER,
        "{\"email\":\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\\b\\f\\r\",\"username\":\"pl\xc3\xa1in\"}");
    assert_string_equal(m->email, "\xc3\xa9\xf0\x9f\x98\x80\n\t\"\\/\b\f\r");
    assert_string_equal(m->username, "pl\xc3\xa1in");
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void test_kitchen_types(void **state)
{
    (void)state;
    Kitchen *k =
        (Kitchen *)parse(KITCHEN, "{\"i64\":\"-9223372036854775808\",\"u64\":\"18446744073709551615\","
                                  "\"u32\":4294967295,\"s32\":-5,\"f\":1.5,\"d\":\"0.1\",\"by\":\"aGn_-w\","
                                  "\"blobs\":[\"aGn7/w==\",\"\",\"YQ\"],\"flag\":\"true\",\"oneS\":\"x\"}");
    assert_int_equal(k->i64, INT64_MIN);
    assert_true(k->u64 == UINT64_MAX);
    assert_int_equal(k->u32, UINT32_MAX);
    assert_int_equal(k->s32, -5);
    assert_true(k->f == 1.5f && k->d == 0.1);
    assert_int_equal(k->by.len, 4);
    assert_memory_equal(k->by.data, "hi\xff\xfb", 4);
    assert_int_equal(k->n_blobs, 3);
    assert_memory_equal(k->blobs[0].data, "hi\xfb\xff", 4);
    assert_int_equal(k->blobs[1].len, 0);
    assert_memory_equal(k->blobs[2].data, "a", 1);
    assert_int_equal(k->choice_case, 13);
    check_json(
        &k->base,
        "{\"i64\":-9223372036854775808,\"u64\":18446744073709551615,\"u32\":4294967295,\"s32\":-5,\"f64\":0,"
        "\"f\":1.5,\"d\":0.1,\"by\":\"aGn/+w==\",\"i64s\":[],\"int_map\":{},\"child\":null,\"kids\":{},"
        "\"one_s\":\"x\",\"statuses\":[],\"flag\":true,\"blobs\":[\"aGn7/w==\",\"\",\"YQ==\"]}",
        false); /* u64 above INT64_MAX comes back as a number, which input only takes as a string */
    protobuf_c_message_free_unpacked(&k->base, NULL);
}

static void test_floats(void **state)
{
    (void)state;
    static const char *const rest = ",\"by\":\"\",\"i64s\":[],\"int_map\":{},\"child\":null,\"kids\":{},"
                                    "\"statuses\":[],\"flag\":false,\"blobs\":[]}";
    static const struct {
        const char *in, *f, *d;
    } cases[] = {
        {"{\"f\":\"NaN\",\"d\":\"Infinity\"}", "\"NaN\"", "\"Infinity\""},
        {"{\"f\":\"-Infinity\",\"d\":\"NaN\"}", "\"-Infinity\"", "\"NaN\""},
        {"{\"f\":0.1,\"d\":1e300}", "0.1", "1e+300"},
        {"{\"f\":-1.25,\"d\":-2.5e-7}", "-1.25", "-2.5e-07"},
        {"{\"f\":3,\"d\":\"12\"}", "3", "12"},
        {"{\"f\":16777217,\"d\":0.30000000000000004}", "16777216", "0.30000000000000004"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[512];
        snprintf(want, sizeof(want), "{\"i64\":0,\"u64\":0,\"u32\":0,\"s32\":0,\"f64\":0,\"f\":%s,\"d\":%s%s",
                 cases[i].f, cases[i].d, rest);
        expect_json(KITCHEN, cases[i].in, want);
    }
    /* -0 is kept in JSON (protobuf-c drops it on the wire: not round-tripped) */
    Kitchen *k = (Kitchen *)parse(KITCHEN, "{\"f\":-0,\"d\":\"-0\",\"i64\":-0,\"u32\":-0.0}");
    char *json = gw_transcode_response(&k->base, NULL);
    assert_non_null(strstr(json, "\"i64\":0,\"u64\":0,\"u32\":0,\"s32\":0,\"f64\":0,\"f\":-0,\"d\":-0,"));
    ProtobufCMessage *again = parse(KITCHEN, json); /* and reads back as -0 */
    assert_true(signbit(((Kitchen *)again)->f) && signbit(((Kitchen *)again)->d));
    protobuf_c_message_free_unpacked(again, NULL);
    free(json);
    protobuf_c_message_free_unpacked(&k->base, NULL);
}

static void test_maps(void **state)
{
    (void)state;
    Tenant__UpdateTenantConfigRequest *r = (Tenant__UpdateTenantConfigRequest *)parse(
        UPDATE_CONFIG,
        "{\"tenantId\":\"t1\",\"config\":{\"serviceMappings\":{\"users\":\"http://u\",\"\":\"e\"},"
        "\"custom_settings\":{\"theme\":\"dark\"},\"fallbackChain\":[\"a\",\"b\"],"
        "\"require2fa\":true,\"allowRegistration\":\"false\"}}");
    assert_string_equal(r->tenant_id, "t1");
    assert_non_null(r->config);
    assert_int_equal(r->config->n_service_mappings, 2);
    assert_string_equal(r->config->service_mappings[0]->key, "users");
    assert_string_equal(r->config->service_mappings[0]->value, "http://u");
    assert_true(r->config->require_2fa);
    check_json(
        &r->base,
        "{\"tenant_id\":\"t1\",\"config\":{\"default_service_url\":\"\",\"service_mappings\":{\"users\":"
        "\"http://u\",\"\":\"e\"},\"fallback_chain\":[\"a\",\"b\"],\"allowed_login_identifiers\":[],"
        "\"require_2fa\":true,\"allow_registration\":false,\"custom_logo_url\":\"\","
        "\"custom_background_url\":\"\",\"custom_settings\":{\"theme\":\"dark\"}}}",
        true);
    protobuf_c_message_free_unpacked(&r->base, NULL);
    /* non-string keys are written as their decimal text; maps of messages */
    Kitchen *k =
        (Kitchen *)parse(KITCHEN, "{\"int_map\":{\"-7\":\"a\",\"12\":\"b\"},\"kids\":{\"x\":{\"u32\":1},"
                                  "\"y\":{\"kids\":{\"z\":{\"flag\":true}}}}}");
    assert_int_equal(k->n_int_map, 2);
    assert_int_equal(k->int_map[0]->key, -7);
    char *json = gw_transcode_response(&k->base, NULL);
    assert_non_null(strstr(json, "\"int_map\":{\"-7\":\"a\",\"12\":\"b\"}"));
    assert_non_null(strstr(json, "\"kids\":{\"x\":{\"i64\":0,\"u64\":0,\"u32\":1,"));
    assert_non_null(strstr(json, "\"kids\":{\"z\":{\"i64\":0,"));
    free(json);
    protobuf_c_message_free_unpacked(&k->base, NULL);
}

/* ---- input rules ---------------------------------------------------------- */

static void test_names_and_numbers(void **state)
{
    (void)state;
    const char *want = "{\"tenant_id\":\"t\",\"page\":12,\"page_size\":20}";
    expect_json(LIST_USERS, "{\"tenant_id\":\"t\",\"page\":12,\"page_size\":20}", want);
    expect_json(LIST_USERS, "{\"tenantId\":\"t\",\"page\":\"12\",\"pageSize\":\"20\"}", want);
    expect_json(LIST_USERS, " {\"tenantId\" : \"t\" ,\n\"page\":12.0,\r\n\"pageSize\":2e1\t} ", want);
    expect_json(LIST_USERS, "{\"tenantId\":\"t\",\"page\":\"12\",\"pageSize\":20}", want);
    expect_json(LIST_USERS, "{\"page\":-2147483648,\"pageSize\":2147483647}",
                "{\"tenant_id\":\"\",\"page\":-2147483648,\"page_size\":2147483647}");
    expect_json(&auth__get_tenant_login_config_response__descriptor,
                "{\"require2fa\":\"true\",\"allowRegistration\":true}",
                "{\"allowed_identifiers\":[],\"require_2fa\":true,\"allow_registration\":true,\"custom_logo_"
                "url\":\"\","
                "\"custom_background_url\":\"\",\"custom_fields\":{}}");
}

static void test_nulls_leave_defaults(void **state)
{
    (void)state;
    expect_json(UPDATE_CONFIG, "{\"tenant_id\":null,\"config\":null}",
                "{\"tenant_id\":\"\",\"config\":null}");
    expect_json(CREATE_USER, "{\"roles\":null,\"email\":null}",
                "{\"email\":\"\",\"username\":\"\",\"phone\":\"\",\"document_number\":\"\",\"password\":\"\","
                "\"first_name\":\"\",\"last_name\":\"\",\"tenant_id\":\"\",\"roles\":[]}");
}

static void test_create_user_round_trip(void **state)
{
    (void)state;
    expect_json(
        CREATE_USER,
        "{\"email\":\"ana@example.com\",\"username\":\"ana\",\"password\":\"s3cret!\",\"firstName\":\"Ana\","
        "\"last_name\":\"Lima\",\"tenant_id\":\"t-1\",\"roles\":[\"admin\",\"user\"],\"documentNumber\":"
        "\"1\"}",
        "{\"email\":\"ana@example.com\",\"username\":\"ana\",\"phone\":\"\",\"document_number\":\"1\","
        "\"password\":\"s3cret!\",\"first_name\":\"Ana\",\"last_name\":\"Lima\",\"tenant_id\":\"t-1\","
        "\"roles\":[\"admin\",\"user\"]}");
    /* many elements: arrays grow past their first blocks */
    char body[16384] = "{\"roles\":[";
    size_t n = strlen(body);
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%s\"r%d\"", i ? "," : "", i);
    snprintf(body + n, sizeof(body) - n, "]}");
    User__CreateUserRequest *m = (User__CreateUserRequest *)parse(CREATE_USER, body);
    assert_int_equal(m->n_roles, 1000);
    assert_string_equal(m->roles[999], "r999");
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

static void test_query_and_path(void **state)
{
    (void)state;
    const gw_transcode_param_t q[] = {P("page", "2"), P("pageSize", "50"), P("tenant_id", "from-query")};
    const gw_transcode_param_t v[] = {P("tenant_id", "from-path"), P("service", "ignored")};
    ProtobufCMessage *m = build(LIST_USERS, "{\"tenant_id\":\"from-body\",\"page\":1}", q, 3, v, 2);
    check_json(m, "{\"tenant_id\":\"from-path\",\"page\":2,\"page_size\":50}", true);
    protobuf_c_message_free_unpacked(m, NULL);
    /* repeated parameters append, after what the body had */
    const gw_transcode_param_t roles[] = {P("roles", "b"), P("roles", "c"), P("email", "e@x")};
    User__CreateUserRequest *u =
        (User__CreateUserRequest *)build(CREATE_USER, "{\"roles\":[\"a\"]}", roles, 3, NULL, 0);
    assert_int_equal(u->n_roles, 3);
    assert_string_equal(u->roles[2], "c");
    assert_string_equal(u->email, "e@x");
    protobuf_c_message_free_unpacked(&u->base, NULL);
    /* dotted names reach into sub-messages */
    const gw_transcode_param_t dotted[] = {P("config.require_2fa", "true"), P("config.fallbackChain", "x"),
                                           P("config.fallback_chain", "y")};
    Tenant__UpdateTenantConfigRequest *t = (Tenant__UpdateTenantConfigRequest *)build(
        UPDATE_CONFIG, "{\"config\":{\"customLogoUrl\":\"l\"}}", dotted, 3, NULL, 0);
    assert_true(t->config->require_2fa);
    assert_string_equal(t->config->custom_logo_url, "l");
    assert_int_equal(t->config->n_fallback_chain, 2);
    protobuf_c_message_free_unpacked(&t->base, NULL);
    /* types from text: enum, bytes, uint64, float */
    const gw_transcode_param_t kq[] = {P("statuses", "SERVING"), P("statuses", "2"),
                                       P("by", "aGk"),           P("u64", "18446744073709551615"),
                                       P("d", "-Infinity"),      P("oneI", "-3")};
    Kitchen *k = (Kitchen *)build(KITCHEN, NULL, kq, NPARAMS(kq), NULL, 0);
    assert_int_equal(k->n_statuses, 2);
    assert_int_equal(k->statuses[1], 2);
    assert_int_equal(k->by.len, 2);
    assert_true(k->u64 == UINT64_MAX);
    assert_true(k->d < 0 && k->d * 0 != 0);
    assert_int_equal(k->one_i, -3);
    protobuf_c_message_free_unpacked(&k->base, NULL);
}

/* ---- helpers around the request ------------------------------------------- */

static void test_fill_string_if_empty(void **state)
{
    (void)state;
    ProtobufCMessage *m = parse(LIST_USERS, "{}");
    assert_int_equal(gw_transcode_fill_string_if_empty(m, "tenant_id", "t-jwt"), 1);
    assert_string_equal(((User__ListUsersRequest *)m)->tenant_id, "t-jwt");
    assert_int_equal(gw_transcode_fill_string_if_empty(m, "tenant_id", "other"), 0);
    assert_int_equal(gw_transcode_fill_string_if_empty(m, "page", "1"), 0);     /* not a string */
    assert_int_equal(gw_transcode_fill_string_if_empty(m, "missing", "1"), 0);  /* no such field */
    assert_int_equal(gw_transcode_fill_string_if_empty(m, "tenantId", "1"), 0); /* proto names only */
    protobuf_c_message_free_unpacked(m, NULL);
    m = parse(CREATE_USER, "{\"tenant_id\":\"t-body\"}");
    assert_int_equal(gw_transcode_fill_string_if_empty(m, "tenant_id", "t-jwt"), 0);
    assert_int_equal(gw_transcode_fill_string_if_empty(m, "roles", "x"), 0); /* repeated */
    protobuf_c_message_free_unpacked(m, NULL);
    m = parse(KITCHEN, "{\"oneI\":0}");
    assert_int_equal(gw_transcode_fill_string_if_empty(m, "one_s", "x"), 0); /* its oneof is taken */
    protobuf_c_message_free_unpacked(m, NULL);
    m = parse(KITCHEN, "{}");
    assert_int_equal(gw_transcode_fill_string_if_empty(m, "one_s", "x"), 1);
    assert_int_equal(((Kitchen *)m)->choice_case, 13);
    protobuf_c_message_free_unpacked(m, NULL);
}

static void test_response_packed(void **state)
{
    (void)state;
    User__User users[20], *ptrs[20];
    User__ListUsersResponse r = USER__LIST_USERS_RESPONSE__INIT;
    char ids[20][16];
    for (int i = 0; i < 20; i++) {
        user__user__init(&users[i]);
        snprintf(ids[i], sizeof(ids[i]), "u-%d", i);
        users[i].id = ids[i];
        users[i].email = "someone@example.com";
        users[i].is_active = i % 2;
        ptrs[i] = &users[i];
    }
    r.n_users = 20;
    r.users = ptrs;
    r.total = 20;
    char *direct = gw_transcode_response(&r.base, NULL);
    assert_non_null(
        strstr(direct, "{\"users\":[{\"id\":\"u-0\",\"email\":\"someone@example.com\",\"username\":\"\","));
    assert_non_null(strstr(direct, "],\"total\":20,\"page\":0,\"page_size\":0}"));
    check_json(&r.base, direct, true);
    free(direct);
    char *json = NULL;
    size_t len = 7;
    assert_int_equal(gw_transcode_response_packed(&user__list_users_response__descriptor,
                                                  (const uint8_t *)"\x0a\xff", 2, &json, &len),
                     GW_TRANSCODE_INVALID);
    assert_null(json);
    assert_int_equal(len, 7);
    assert_int_equal(gw_transcode_response_packed(HEALTH, (const uint8_t *)"", 0, &json, &len),
                     GW_TRANSCODE_OK);
    assert_string_equal(json, "{\"status\":\"UNKNOWN\"}");
    free(json);
}

/* RESPONSE_REDACT_FIELDS: named fields vanish (key and value) at any depth,
 * the list's spaces are ignored, names match whole, NULL/"" redact nothing. */
static void test_response_redacted(void **state)
{
    (void)state;
    User__User u = USER__USER__INIT, *ptrs[1] = {&u};
    User__ListUsersResponse r = USER__LIST_USERS_RESPONSE__INIT;
    u.id = "u-1";
    u.email = "a@example.com";
    u.password_hash = "sha256$salt$digest";
    r.n_users = 1;
    r.users = ptrs;
    r.total = 1;
    size_t plen = protobuf_c_message_get_packed_size(&r.base), len = 0;
    uint8_t *wire = malloc(plen);
    protobuf_c_message_pack(&r.base, wire);
    char *json = NULL;
    assert_int_equal(gw_transcode_response_redacted(&user__list_users_response__descriptor, wire, plen,
                                                    " password_hash , email", NULL, &json, &len),
                     GW_TRANSCODE_OK);
    assert_null(strstr(json, "password_hash"));
    assert_null(strstr(json, "sha256$"));
    assert_null(strstr(json, "email"));
    assert_non_null(strstr(json, "{\"users\":[{\"id\":\"u-1\",\"username\":\"\","));
    assert_non_null(strstr(json, "\"updated_at\":\"\"}],\"total\":1,"));
    assert_int_equal(len, strlen(json));
    json_error_t e;
    json_t *parsed = json_loads(json, 0, &e);
    assert_non_null(parsed);
    json_decref(parsed);
    free(json);
    const char *none[] = {NULL, "", "password", "hash", ",,"};
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        assert_int_equal(gw_transcode_response_redacted(&user__list_users_response__descriptor, wire, plen,
                                                        none[i], NULL, &json, &len),
                         GW_TRANSCODE_OK);
        assert_non_null(strstr(json, "\"password_hash\":\"sha256$salt$digest\""));
        free(json);
    }
    /* the first field of a message redacted: no stray comma */
    assert_int_equal(gw_transcode_response_redacted(&user__list_users_response__descriptor, wire, plen,
                                                    "id,users", NULL, &json, &len),
                     GW_TRANSCODE_OK);
    assert_string_equal(json, "{\"total\":1,\"page\":0,\"page_size\":0}");
    free(json);
    free(wire);
}

/* The parser must accept exactly what jansson accepts, or the error path
 * (which asks jansson) would give a wrong answer. */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_emitted),
        cmocka_unit_test(test_int64_as_number),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_string_escaping),
        cmocka_unit_test(test_kitchen_types),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_names_and_numbers),
        cmocka_unit_test(test_nulls_leave_defaults),
        cmocka_unit_test(test_create_user_round_trip),
        cmocka_unit_test(test_query_and_path),
        cmocka_unit_test(test_fill_string_if_empty),
        cmocka_unit_test(test_response_packed),
        cmocka_unit_test(test_response_redacted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
