/*
 * The transcoder's error handling (worker/transcode*.c): every client-facing
 * message exactly, for query parameters, path variables and bodies (field
 * problems in our words, syntax in jansson's), the nesting limit, duplicate
 * keys, and that the body parser's grammar is jansson's. Meant to pass under
 * valgrind and ASan as well (no leaks on any error path).
 */
#include "tests/unit/transcode_check.h"

#include <jansson.h>

#include "worker/transcode/transcode_int.h"

static void test_query_errors(void **state)
{
    (void)state;
    static const struct {
        const ProtobufCMessageDescriptor *d;
        gw_transcode_param_t p;
        bool var;
        const char *want;
    } cases[] = {
        {LIST_USERS, P("page", "abc"), false,
         "invalid query parameter \"page\": expected integer, got \"abc\""},
        {LIST_USERS, P("page", ""), false, "invalid query parameter \"page\": expected integer, got \"\""},
        {LIST_USERS, P("page", "1.5"), false,
         "invalid query parameter \"page\": expected integer, got \"1.5\""},
        {LIST_USERS, P("page", " 1"), false,
         "invalid query parameter \"page\": expected integer, got \" 1\""},
        {LIST_USERS, P("x", "1"), false, "invalid query parameter \"x\": unknown field"},
        {LIST_USERS, P("page\0x", "1"), false, "invalid query parameter \"page\": unknown field"},
        {HEALTH, P("status", "SERVING\0"), false,
         "invalid query parameter \"status\": expected enum ServingStatus, got \"SERVING\""},
        {LIST_USERS, P("page", "99999999999"), false,
         "invalid query parameter \"page\": value out of range for int32, got \"99999999999\""},
        {LIST_USERS, P("pageSize", "99999999999999999999999"), false,
         "invalid query parameter \"pageSize\": value out of range for int32, got "
         "\"99999999999999999999999\""},
        {LIST_USERS, P("tenant_id.x", "1"), false, "invalid query parameter \"tenant_id.x\": unknown field"},
        {LIST_USERS, P("page", "x"), true, "invalid path variable \"page\": expected integer, got \"x\""},
        {UPDATE_CONFIG, P("config", "x"), false, "invalid query parameter \"config\": not a scalar field"},
        {UPDATE_CONFIG, P("config.nope", "1"), false,
         "invalid query parameter \"config.nope\": unknown field"},
        {UPDATE_CONFIG, P("config.", "1"), false, "invalid query parameter \"config.\": unknown field"},
        {UPDATE_CONFIG, P("config.require_2fa", "yes"), false,
         "invalid query parameter \"config.require_2fa\": expected boolean, got \"yes\""},
        {HEALTH, P("status", "BOGUS"), false,
         "invalid query parameter \"status\": expected enum ServingStatus, got \"BOGUS\""},
        {KITCHEN, P("u32", "-1"), false,
         "invalid query parameter \"u32\": value out of range for uint32, got \"-1\""},
        {KITCHEN, P("u64", "18446744073709551616"), false,
         "invalid query parameter \"u64\": value out of range for uint64, got \"18446744073709551616\""},
        {KITCHEN, P("f", "1e39"), false,
         "invalid query parameter \"f\": value out of range for float, got \"1e39\""},
        {KITCHEN, P("d", "1e999"), false,
         "invalid query parameter \"d\": value out of range for double, got \"1e999\""},
        {KITCHEN, P("d", "inf"), false, "invalid query parameter \"d\": expected number, got \"inf\""},
        {KITCHEN, P("by", "a"), false, "invalid query parameter \"by\": expected base64 string, got \"a\""},
        {KITCHEN, P("by", "a=b="), false,
         "invalid query parameter \"by\": expected base64 string, got \"a=b=\""},
        {KITCHEN, P("child.child.kids", "x"), false,
         "invalid query parameter \"child.child.kids\": not a scalar field"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_fail(cases[i].d, NULL, 0, cases[i].var ? NULL : &cases[i].p, !cases[i].var,
                    cases[i].var ? &cases[i].p : NULL, cases[i].var, cases[i].want);
    /* a oneof takes one member, whichever way it comes */
    const gw_transcode_param_t one[] = {P("one_i", "1")};
    expect_fail(KITCHEN, "{\"one_s\":\"a\"}", 13, one, 1, NULL, 0,
                "invalid query parameter \"one_i\": another field of its oneof is already set");
    /* an over-long value is cut in the message */
    const gw_transcode_param_t long_value[] = {
        P("page", "x123456789012345678901234567890123456789012345678901234567890123456789")};
    expect_fail(LIST_USERS, NULL, 0, long_value, 1, NULL, 0,
                "invalid query parameter \"page\": expected integer, got "
                "\"x123456789012345678901234567890123456789012345678901234567890123...\"");
}

/* ---- body errors ---------------------------------------------------------- */

static void test_body_errors(void **state)
{
    (void)state;
    static const struct {
        const ProtobufCMessageDescriptor *d;
        const char *body, *want;
    } cases[] = {
        {LIST_USERS, "{\"x\":1}", "unknown field \"x\""},
        {LIST_USERS, "{\"page\":\"abc\"}", "field \"page\": expected integer, got string \"abc\""},
        {LIST_USERS, "{\"page\":1.5}", "field \"page\": expected integer, got number 1.5"},
        {LIST_USERS, "{\"page\":\"1.5\"}", "field \"page\": expected integer, got string \"1.5\""},
        {LIST_USERS, "{\"page\":3000000000}",
         "field \"page\": value out of range for int32, got number 3000000000"},
        {LIST_USERS, "{\"page\":1e10}", "field \"page\": value out of range for int32, got number 1e10"},
        {LIST_USERS, "{\"page\":true}", "field \"page\": expected integer, got boolean true"},
        {LIST_USERS, "{\"page\":{}}", "field \"page\": expected integer, got object"},
        {LIST_USERS, "{\"page\":[1]}", "field \"page\": expected integer, got array"},
        {LIST_USERS, "{\"tenant_id\":5}", "field \"tenant_id\": expected string, got number 5"},
        {LIST_USERS, "{\"tenantId\":false}", "field \"tenantId\": expected string, got boolean false"},
        {LIST_USERS, "{\"page\":1,\"pageSize\":2,\"page_size\":3}", "duplicate field \"page_size\""},
        {LIST_USERS, "[]", "expected an object"},
        {LIST_USERS, " [1, {\"a\":2}] ", "expected an object"},
        {CREATE_USER, "{\"roles\":\"admin\"}", "field \"roles\": expected array, got string \"admin\""},
        {CREATE_USER, "{\"roles\":[\"a\",1]}", "field \"roles[1]\": expected string, got number 1"},
        {CREATE_USER, "{\"roles\":[null]}", "field \"roles[0]\": expected string, got null"},
        {CREATE_USER, "{\"Email\":\"a\"}", "unknown field \"Email\""},
        {CREATE_USER, "{\"first_Name\":\"a\"}", "unknown field \"first_Name\""},
        {CREATE_USER, "{\"e\\u006dail\":1}", "field \"e\\u006dail\": expected string, got number 1"},
        {UPDATE_CONFIG, "{\"config\":\"x\"}", "field \"config\": expected object, got string \"x\""},
        {UPDATE_CONFIG, "{\"config\":{\"bogus\":1}}", "unknown field \"config.bogus\""},
        {UPDATE_CONFIG, "{\"config\":{\"require2fa\":\"yes\"}}",
         "field \"config.require2fa\": expected boolean, got string \"yes\""},
        {UPDATE_CONFIG, "{\"config\":{\"require2fa\":1}}",
         "field \"config.require2fa\": expected boolean, got number 1"},
        {UPDATE_CONFIG, "{\"config\":{\"custom_settings\":{\"k\":1}}}",
         "field \"config.custom_settings[k]\": expected string, got number 1"},
        {UPDATE_CONFIG, "{\"config\":{\"custom_settings\":{\"k\":null}}}",
         "field \"config.custom_settings[k]\": expected string, got null"},
        {UPDATE_CONFIG, "{\"config\":{\"custom_settings\":[]}}",
         "field \"config.custom_settings\": expected object, got array"},
        {HEALTH, "{\"status\":\"BOGUS\"}",
         "field \"status\": expected enum ServingStatus, got string \"BOGUS\""},
        {HEALTH, "{\"status\":1.5}", "field \"status\": expected enum ServingStatus, got number 1.5"},
        {HEALTH, "{\"status\":4294967296}",
         "field \"status\": value out of range for enum, got number 4294967296"},
        {KITCHEN, "{\"u32\":-1}", "field \"u32\": value out of range for uint32, got number -1"},
        {KITCHEN, "{\"u64\":-1}", "field \"u64\": value out of range for uint64, got number -1"},
        {KITCHEN, "{\"i64\":1e19}", "field \"i64\": value out of range for int64, got number 1e19"},
        {KITCHEN, "{\"f\":1e39}", "field \"f\": value out of range for float, got number 1e39"},
        {KITCHEN, "{\"by\":\"***\"}", "field \"by\": expected base64 string, got string \"***\""},
        {KITCHEN, "{\"by\":5}", "field \"by\": expected base64 string, got number 5"},
        {KITCHEN, "{\"int_map\":{\"x\":\"a\"}}", "field \"int_map[x]\": expected integer, got string \"x\""},
        {KITCHEN, "{\"int_map\":{\"1\":\"a\",\"01\":\"b\"}}", "field \"int_map\": duplicate map key"},
        {KITCHEN, "{\"kids\":{\"a\":{\"child\":{\"u32\":\"z\"}}}}",
         "field \"kids[a].child.u32\": expected integer, got string \"z\""},
        {KITCHEN, "{\"kids\":{\"a\":5}}", "field \"kids[a]\": expected object, got number 5"},
        {KITCHEN, "{\"i64s\":[1,{}]}", "field \"i64s[1]\": expected integer, got object"},
        {KITCHEN, "{\"one_s\":\"a\",\"oneI\":1}",
         "field \"oneI\": another field of its oneof is already set"},
        {KITCHEN, "{\"one_s\":null,\"oneI\":1,\"one_s\":\"x\"}",
         "duplicate object key near '\"one_s\"' (line 1, column 30)"},
        /* syntax: jansson's words, even when a field problem comes first */
        {LIST_USERS, "xyz", "'[' or '{' expected near 'xyz' (line 1, column 3)"},
        {LIST_USERS, "   ", "'[' or '{' expected near end of file (line 1, column 3)"},
        {LIST_USERS, "null", "'[' or '{' expected near 'null' (line 1, column 4)"},
        {LIST_USERS, "{\"page\":1,\"page\":2}", "duplicate object key near '\"page\"' (line 1, column 16)"},
        {LIST_USERS, "{\"x\":1,", "string or '}' expected near end of file (line 1, column 7)"},
        {LIST_USERS, "{\"page\":1} x", "end of file expected near 'x' (line 1, column 12)"},
        {LIST_USERS, "{\"page\":01}", "invalid token near '0' (line 1, column 9)"},
        {LIST_USERS, "{\"tenant_id\":\"\\u0000\"}",
         "\\u0000 is not allowed without JSON_ALLOW_NUL near '\"\\u0000\"' (line 1, column 21)"},
        {LIST_USERS, "{\"page\":9223372036854775808}",
         "too big integer near '9223372036854775808' (line 1, column 27)"},
        {LIST_USERS, "[1e999]", "real number overflow near '1e999' (line 1, column 6)"},
        {CREATE_USER, "{\"roles\":[\"a\",]}", "unexpected token near ']' (line 1, column 15)"},
        {CREATE_USER, "{\"email\":\"a\nb\"}", "unexpected newline near '\"a' (line 1, column 11)"},
        {CREATE_USER, "{\"email\":\"a\x01\"}", "control character 0x1 near '\"a' (line 1, column 11)"},
        {CREATE_USER, "{\"email\":\"\xff\"}", "unable to decode byte 0xff near '\"' (line 1, column 10)"},
        {UPDATE_CONFIG, "{\"config\":{\"custom_settings\":{\"k\":\"1\",\"k\":\"2\"}}}",
         "duplicate object key near '\"k\"' (line 1, column 41)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char want[512];
        snprintf(want, sizeof(want), "invalid JSON body: %s", cases[i].want);
        expect_body_error(cases[i].d, cases[i].body, want);
    }
    /* a body that is not a C string: an embedded NUL is a syntax error,
     * including where jansson would skip it */
    expect_fail(LIST_USERS, "{\"page\":1\0}", 11, NULL, 0, NULL, 0,
                "invalid JSON body: unexpected byte at position 9");
    expect_fail(LIST_USERS, "{\"page\":1}\0", 11, NULL, 0, NULL, 0,
                "invalid JSON body: end of file expected near end of file (line 1, column 11)");
}

static void test_nesting_limit(void **state)
{
    (void)state;
    char body[8192];
    for (int levels = 31; levels <= 32; levels++) {
        size_t n = 0;
        for (int i = 0; i < levels; i++)
            n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"child\":");
        n += (size_t)snprintf(body + n, sizeof(body) - n, "{}");
        for (int i = 0; i < levels; i++)
            body[n++] = '}';
        body[n] = '\0';
        if (levels == 31) { /* 32 messages deep: allowed, and our output is good input */
            ProtobufCMessage *m = parse(KITCHEN, body);
            char *json = gw_transcode_response(m, NULL);
            check_json(m, json, true);
            free(json);
            protobuf_c_message_free_unpacked(m, NULL);
        } else {
            expect_body_error(KITCHEN, body, "invalid JSON body: nesting too deep");
        }
    }
    /* messages in maps and arrays count; the maps and arrays do not */
    size_t n = 0;
    for (int i = 0; i < 31; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"kids\":{\"k\":");
    n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"i64s\":[],\"int_map\":{}}");
    for (int i = 0; i < 31; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "}}");
    ProtobufCMessage *m = parse(KITCHEN, body);
    protobuf_c_message_free_unpacked(m, NULL);
    memcpy(body + 31 * 13, "{\"kids\":{\"k\":{}}", 17);
    expect_body_error(KITCHEN, body, "invalid JSON body: nesting too deep");
    /* and so do dotted parameter names */
    gw_transcode_param_t q = {body, 0, "1", 1};
    for (int levels = 31; levels <= 32; levels++) {
        n = 0;
        for (int i = 0; i < levels; i++)
            n += (size_t)snprintf(body + n, sizeof(body) - n, "child.");
        n += (size_t)snprintf(body + n, sizeof(body) - n, "u32");
        q.name_len = n;
        if (levels == 31) {
            m = build(KITCHEN, NULL, &q, 1, NULL, 0);
            protobuf_c_message_free_unpacked(m, NULL);
        } else {
            char want[256];
            snprintf(want, sizeof(want), "invalid query parameter \"%.64s\": nesting too deep", body);
            expect_fail(KITCHEN, NULL, 0, &q, 1, NULL, 0, want);
        }
    }
    /* whatever is deep inside a bad field is jansson's to report */
    memset(body, '[', 3000);
    memcpy(body, "{\"x\":", 5);
    expect_fail(KITCHEN, body, 3000, NULL, 0, NULL, 0,
                "invalid JSON body: maximum parsing depth reached near '[' (line 1, column 2053)");
}

static void test_big_maps(void **state)
{
    (void)state;
    char body[16384];
    size_t n = (size_t)snprintf(body, sizeof(body), "{\"int_map\":{");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%s\"%d\":\"v%d\"", i ? "," : "", i * 7 % 300, i);
    snprintf(body + n, sizeof(body) - n, "}}");
    Kitchen *k = (Kitchen *)parse(KITCHEN, body);
    assert_int_equal(k->n_int_map, 300);
    assert_int_equal(k->int_map[1]->key, 7); /* the client's order is kept */
    protobuf_c_message_free_unpacked(&k->base, NULL);
    /* a numeric duplicate among many keys */
    snprintf(body + n, sizeof(body) - n, ",\"0007\":\"dup\"}}");
    expect_body_error(KITCHEN, body, "invalid JSON body: field \"int_map\": duplicate map key");
}

static void test_grammar_is_janssons(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{}",
        "[]",
        " \t\r\n{} ",
        "{} x",
        "[1,]",
        "[01]",
        "[-0]",
        "[-]",
        "[1.]",
        "[1.e5]",
        "[1e]",
        "[1e+]",
        "[1E-5]",
        "[.5]",
        "[+1]",
        "[\"\\u0000\"]",
        "[\"\\ud800\"]",
        "[\"\\ud800\\udc00\"]",
        "[\"\\udc00\"]",
        "[\"\\ud800\\u0041\"]",
        "[\"\\x\"]",
        "[\"\\u12\"]",
        "[\"a\x01\"]",
        "[\"\xc3\xa9\"]",
        "[\"\xc3\"]",
        "[\"\xed\xa0\x80\"]",
        "[\"\xf4\x90\x80\x80\"]",
        "[\"\xe0\x80\x80\"]",
        "[\"\xc1\xbf\"]",
        "[\"\xf0\x9f\x98\x80\"]",
        "[9223372036854775807]",
        "[9223372036854775808]",
        "[-9223372036854775808]",
        "[-9223372036854775809]",
        "[1e309]",
        "[-1e309]",
        "[1e-400]",
        "[true]",
        "[truex]",
        "[nul]",
        "[null,false]",
        "{\"a\"}",
        "{\"a\":}",
        "{,}",
        "[,1]",
        "\xef\xbb\xbf{}",
        "[1 2]",
        "{\"a\":1,\"a\":2}",
        "\"s\"",
        "1",
        "{\"a\":{\"b\":[{}]}}",
        "[\"\t\"]",
        "[\"\x7f\"]",
        "[",
        "{",
        "[\"",
        "{\"a\":1",
        "[1]]",
        "[\xc3\xa9]",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        json_error_t e;
        json_t *j = json_loads(texts[i], 0, &e);
        if (gw_tc_json_valid(texts[i], strlen(texts[i])) != (j != NULL))
            fail_msg("grammar differs from jansson on %s", texts[i]);
        json_decref(j);
    }
    /* jansson drops a NUL byte after a number or literal; we do not */
    assert_false(gw_tc_json_valid("[1\0]", 4));
    assert_false(gw_tc_json_valid("[true\0]", 7));
    /* jansson's depth limit counts every value, scalars included */
    static char deep[4200];
    for (int depth = 2047; depth <= 2049; depth++) {
        for (int with_scalar = 0; with_scalar <= 1; with_scalar++) {
            size_t n = 0;
            for (int i = 0; i < depth; i++)
                deep[n++] = '[';
            if (with_scalar)
                deep[n++] = '1';
            for (int i = 0; i < depth; i++)
                deep[n++] = ']';
            json_t *j = json_loadb(deep, n, 0, NULL);
            assert_int_equal(gw_tc_json_valid(deep, n), j != NULL);
            json_decref(j);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_errors),        cmocka_unit_test(test_body_errors),
        cmocka_unit_test(test_nesting_limit),       cmocka_unit_test(test_big_maps),
        cmocka_unit_test(test_grammar_is_janssons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
