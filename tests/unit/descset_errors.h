/*
 * Error and google.api.http tests of tests/unit/test_descset.c (included
 * there only), on FileDescriptorSets written by hand with a tiny encoder.
 */
#ifndef GW_TEST_DESCSET_ERRORS_H
#define GW_TEST_DESCSET_ERRORS_H

#include <stdint.h>

typedef struct {
    uint8_t b[2048];
    size_t n;
} pb_t;

static void pb_varint(pb_t *p, uint64_t v)
{
    do {
        assert_true(p->n < sizeof(p->b));
        p->b[p->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
}

static void pb_int(pb_t *p, uint32_t num, uint64_t v)
{
    pb_varint(p, (uint64_t)num << 3);
    pb_varint(p, v);
}

static void pb_bytes(pb_t *p, uint32_t num, const void *d, size_t len)
{
    pb_varint(p, (uint64_t)num << 3 | 2);
    pb_varint(p, len);
    assert_true(p->n + len <= sizeof(p->b));
    memcpy(p->b + p->n, d, len);
    p->n += len;
}

static void pb_str(pb_t *p, uint32_t num, const char *s)
{
    pb_bytes(p, num, s, strlen(s));
}

static void pb_msg(pb_t *p, uint32_t num, const pb_t *m)
{
    pb_bytes(p, num, m->b, m->n);
}

/* FieldDescriptorProto (label optional). */
static pb_t pb_field(const char *name, int number, int type, const char *type_name)
{
    pb_t f = {0};
    pb_str(&f, 1, name);
    pb_int(&f, 3, (uint64_t)number);
    pb_int(&f, 4, 1);
    pb_int(&f, 5, (uint64_t)type);
    if (type_name != NULL)
        pb_str(&f, 6, type_name);
    return f;
}

/* DescriptorProto named `name` with up to two fields. */
static pb_t pb_message(const char *name, const pb_t *f1, const pb_t *f2)
{
    pb_t m = {0};
    pb_str(&m, 1, name);
    if (f1 != NULL)
        pb_msg(&m, 2, f1);
    if (f2 != NULL)
        pb_msg(&m, 2, f2);
    return m;
}

/* FileDescriptorSet of one proto3 file in package "a": messages, a service. */
static pb_t pb_set(const char *file, const pb_t *m1, const pb_t *m2, const pb_t *svc, const char *dep)
{
    pb_t f = {0}, s = {0};
    pb_str(&f, 1, file);
    pb_str(&f, 2, "a");
    if (dep != NULL)
        pb_str(&f, 3, dep);
    if (m1 != NULL)
        pb_msg(&f, 4, m1);
    if (m2 != NULL)
        pb_msg(&f, 4, m2);
    if (svc != NULL)
        pb_msg(&f, 6, svc);
    pb_str(&f, 12, "proto3");
    pb_msg(&s, 1, &f);
    return s;
}

/* MethodDescriptorProto a.Req -> a.Res, with an HttpRule when rule != NULL. */
static pb_t pb_method(const char *name, const pb_t *rule)
{
    pb_t m = {0};
    pb_str(&m, 1, name);
    pb_str(&m, 2, ".a.Req");
    pb_str(&m, 3, ".a.Res");
    if (rule != NULL) {
        pb_t opts = {0};
        pb_int(&opts, 33, 1); /* deprecated = true: an ordinary option beside it */
        pb_msg(&opts, 72295728, rule);
        pb_msg(&m, 4, &opts);
    }
    return m;
}

/* One service "S" with the method; the set with messages Req and Res. */
static pb_t pb_service_set(const pb_t *m1, const pb_t *m2)
{
    pb_t svc = {0};
    pb_str(&svc, 1, "S");
    pb_msg(&svc, 2, m1);
    if (m2 != NULL)
        pb_msg(&svc, 2, m2);
    pb_t req = pb_message("Req", NULL, NULL), res = pb_message("Res", NULL, NULL);
    return pb_set("f.proto", &req, &res, &svc, NULL);
}

/* Adding then linking fails with one line containing `want`. */
static void expect_error(const uint8_t *data, size_t len, const char *want)
{
    char err[512] = "";
    gw_descset_t *set = gw_descset_new();
    assert_non_null(set);
    int rc = gw_descset_add(set, data, len, "t.pb", err, sizeof(err));
    if (rc == 0)
        rc = gw_descset_link(set, err, sizeof(err));
    gw_descset_free(set);
    if (rc != -1 || strstr(err, want) == NULL || strchr(err, '\n') != NULL)
        fail_msg("rc %d, error \"%s\", wanted \"%s\"", rc, err, want);
}

static uint8_t *read_bundled(size_t *len)
{
    FILE *fp = fopen(GW_BUNDLED_PB, "rb");
    assert_non_null(fp);
    uint8_t *buf = malloc(1 << 20);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, fp);
    fclose(fp);
    assert_true(*len > 1000 && *len < (1 << 20));
    return buf;
}

static void test_wire_errors(void **state)
{
    (void)state;
    expect_error((const uint8_t *)"\xff\xff\xff\xff", 4,
                 "t.pb: not a FileDescriptorSet (bad wire data at byte ");
    expect_error((const uint8_t *)"\x0a\x05\x0a\x01", 4, "bad wire data at byte 2");
    expect_error((const uint8_t *)"\x0a\x02\x08\x01", 4, "bad wire data"); /* name as a varint */
    expect_error((const uint8_t *)"\x0b\x0c", 2, "bad wire data");         /* a group never closed */
    expect_error((const uint8_t *)"", 0, "t.pb: not a FileDescriptorSet (no files)");
    expect_error((const uint8_t *)"\x10\x01", 2, "(no files)"); /* unknown field only */
    /* Every cut of the bundled set fails cleanly (or, cut between files,
     * may link); a cut inside the last byte is bad wire data. */
    size_t len;
    uint8_t *pb = read_bundled(&len);
    expect_error(pb, len - 1, "bad wire data at byte ");
    for (size_t cut = 0; cut < len; cut += 3) {
        uint8_t *part = malloc(cut ? cut : 1); /* exact size, for ASan */
        memcpy(part, pb, cut);
        char err[512] = "";
        gw_descset_t *set = gw_descset_new();
        if (gw_descset_add(set, part, cut, "cut", err, sizeof(err)) == 0)
            (void)gw_descset_link(set, err, sizeof(err));
        assert_null(strchr(err, '\n'));
        gw_descset_free(set);
        free(part);
    }
    /* Flipped bytes: no crash, no leak. */
    for (size_t i = 0; i < len; i += 5) {
        uint8_t saved = pb[i];
        pb[i] ^= (uint8_t)(0x5a + i);
        char err[512];
        gw_descset_t *set = gw_descset_new();
        if (gw_descset_add(set, pb, len, "flip", err, sizeof(err)) == 0)
            (void)gw_descset_link(set, err, sizeof(err));
        gw_descset_free(set);
        pb[i] = saved;
    }
    free(pb);
}

static void test_model_errors(void **state)
{
    (void)state;
    pb_t f = pb_field("x", 1, 11, ".a.Missing"), m = pb_message("M", &f, NULL),
         s = pb_set("f.proto", &m, 0, 0, 0);
    expect_error(s.b, s.n, "f.proto: field a.M.x: unknown type .a.Missing");
    f = pb_field("x", 1, 10, ".a.M"), m = pb_message("M", &f, NULL), s = pb_set("f.proto", &m, 0, 0, 0);
    expect_error(s.b, s.n, "t.pb: f.proto: message a.M: groups are not supported");
    f = pb_field("x", 1, 11, "a.M"), m = pb_message("M", &f, NULL), s = pb_set("f.proto", &m, 0, 0, 0);
    expect_error(s.b, s.n, "field a.M.x: missing or unqualified type name");
    f = pb_field("x", 0, 5, NULL), m = pb_message("M", &f, NULL), s = pb_set("f.proto", &m, 0, 0, 0);
    expect_error(s.b, s.n, "field a.M.x: bad field number 0");
    pb_t f2 = pb_field("y", 1, 9, NULL);
    f = pb_field("x", 1, 5, NULL), m = pb_message("M", &f, &f2), s = pb_set("f.proto", &m, 0, 0, 0);
    expect_error(s.b, s.n, "f.proto: message a.M: field number 1 used twice");
    f = pb_field("x y", 1, 5, NULL), m = pb_message("M", &f, NULL), s = pb_set("f.proto", &m, 0, 0, 0);
    expect_error(s.b, s.n, "message a.M: a field has no name or a bad one");
    m = pb_message("M", NULL, NULL), s = pb_set("f.proto", &m, 0, 0, "other.proto");
    expect_error(s.b, s.n, "f.proto: imports other.proto, which is not in the descriptor set");
    pb_t m2 = pb_message("M", NULL, NULL);
    m = pb_message("M", NULL, NULL), s = pb_set("f.proto", &m, &m2, 0, 0);
    expect_error(s.b, s.n, "message a.M is also defined in f.proto");
    f = pb_field("x", 1, 5, NULL);
    pb_str(&f, 7, "12x");
    m = pb_message("M", &f, NULL), s = pb_set("f.proto", &m, 0, 0, 0);
    expect_error(s.b, s.n, "field a.M.x: default value not understood");
    pb_t meth = pb_method("Get", NULL);
    meth.n = 0, pb_str(&meth, 1, "Get"), pb_str(&meth, 2, ".a.Nope"), pb_str(&meth, 3, ".a.Res");
    s = pb_service_set(&meth, NULL);
    expect_error(s.b, s.n, "f.proto: method a.S/Get: unknown message type .a.Nope");
    char err[256];
    gw_descset_t *set = gw_descset_new();
    assert_int_equal(gw_descset_add_file(set, "/nonexistent/x.pb", err, sizeof(err)), -1);
    assert_string_equal(err, "/nonexistent/x.pb: No such file or directory");
    gw_descset_free(set);
    set = gw_descset_new();
    assert_int_equal(gw_descset_add_file(set, "/", err, sizeof(err)), -1);
    assert_string_equal(err, "/: Is a directory");
    gw_descset_free(set);
    /* Lookups wait for the link; nothing is added after it. */
    set = gw_descset_new();
    assert_int_equal(gw_descset_add_bundled(set, err, sizeof(err)), 0);
    assert_null(gw_descset_message(set, "user.User"));
    assert_int_equal(gw_descset_nservices(set), 0);
    assert_int_equal(gw_descset_link(set, err, sizeof(err)), 0);
    assert_non_null(gw_descset_message(set, "user.User"));
    assert_int_equal(gw_descset_add_bundled(set, err, sizeof(err)), -1);
    assert_string_equal(err, "bundled: descriptor set already linked or failed");
    gw_descset_free(set);
}

static void test_duplicate_files(void **state)
{
    (void)state;
    char err[512] = "";
    pb_t f = pb_field("x", 1, 5, NULL), m = pb_message("M", &f, NULL), s1 = pb_set("f.proto", &m, 0, 0, 0);
    pb_t f2 = pb_field("x", 1, 3, NULL), m2 = pb_message("M", &f2, NULL),
         s2 = pb_set("f.proto", &m2, 0, 0, 0);
    gw_descset_t *set = gw_descset_new();
    assert_int_equal(gw_descset_add(set, s1.b, s1.n, "one.pb", err, sizeof(err)), 0);
    assert_int_equal(gw_descset_add(set, s1.b, s1.n, "two.pb", err, sizeof(err)), 0); /* identical: skipped */
    assert_int_equal(gw_descset_link(set, err, sizeof(err)), 0);
    assert_int_equal(gw_descset_message(set, "a.M")->fields[0].type, PROTOBUF_C_TYPE_INT32);
    gw_descset_free(set);
    set = gw_descset_new();
    assert_int_equal(gw_descset_add(set, s1.b, s1.n, "one.pb", err, sizeof(err)), 0);
    assert_int_equal(gw_descset_add(set, s2.b, s2.n, "two.pb", err, sizeof(err)), -1);
    assert_string_equal(
        err, "two.pb: f.proto: already loaded with different content (the same file from two sets)");
    gw_descset_free(set);
    /* The bundled set twice is fine; files in any order link. */
    set = gw_descset_new();
    assert_int_equal(gw_descset_add_bundled(set, err, sizeof(err)), 0);
    assert_int_equal(gw_descset_add_bundled(set, err, sizeof(err)), 0);
    assert_int_equal(gw_descset_link(set, err, sizeof(err)), 0);
    assert_int_equal(gw_descset_nservices(set), 3);
    gw_descset_free(set);
}

/* A file may come before the file it imports, in one set or across sets. */
static void test_files_any_order(void **state)
{
    (void)state;
    char err[512] = "";
    pb_t f = pb_field("x", 1, 11, ".a.A"), mb = pb_message("B", &f, NULL), ma = pb_message("A", NULL, NULL);
    pb_t sb = pb_set("b.proto", &mb, 0, 0, "a.proto"), sa = pb_set("a.proto", &ma, 0, 0, 0), both = sb;
    memcpy(both.b + both.n, sa.b, sa.n); /* two sets' bytes concatenated: one set of both files */
    both.n += sa.n;
    for (int split = 0; split < 2; split++) {
        gw_descset_t *set = gw_descset_new();
        if (split ? gw_descset_add(set, sb.b, sb.n, "b.pb", err, sizeof(err)) != 0 ||
                        gw_descset_add(set, sa.b, sa.n, "a.pb", err, sizeof(err)) != 0
                  : gw_descset_add(set, both.b, both.n, "ab.pb", err, sizeof(err)) != 0)
            fail_msg("%s", err);
        if (gw_descset_link(set, err, sizeof(err)) != 0)
            fail_msg("%s", err);
        const ProtobufCMessageDescriptor *b = gw_descset_message(set, "a.B");
        assert_non_null(b);
        assert_ptr_equal(b->fields[0].descriptor, gw_descset_message(set, "a.A"));
        assert_string_equal(b->c_name, "A__B");
        gw_descset_free(set);
    }
}

/* HttpRule: get=2 put=3 post=4 delete=5 patch=6 body=7 custom=8 bindings=11 response_body=12. */
static void test_http_rules(void **state)
{
    (void)state;
    pb_t b1 = {0}, b2 = {0}, custom = {0}, r1 = {0}, r2 = {0};
    pb_str(&b1, 4, "/v1/x");
    pb_str(&b1, 7, "*");
    pb_str(&custom, 1, "HEAD");
    pb_str(&custom, 2, "/v1/h/{id}");
    pb_msg(&b2, 8, &custom);
    pb_str(&b2, 12, "r");
    pb_str(&r1, 1, "a.S.Get"); /* selector: ignored */
    pb_str(&r1, 2, "/v1/x/{id}");
    pb_msg(&r1, 11, &b1);
    pb_str(&r1, 12, "resp");
    pb_msg(&r1, 11, &b2);
    pb_int(&r1, 99, 5); /* unknown field: skipped */
    pb_str(&r2, 6, "/v1/y/{y.id}");
    pb_str(&r2, 7, "item");
    pb_t m1 = pb_method("Get", &r1), m2 = pb_method("Patch", &r2), s = pb_service_set(&m1, &m2);
    char err[512] = "";
    gw_descset_t *set = gw_descset_new();
    if (gw_descset_add(set, s.b, s.n, "t.pb", err, sizeof(err)) != 0 ||
        gw_descset_link(set, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(gw_descset_nservices(set), 1);
    const gw_desc_service_t *svc = gw_descset_service(set, 0);
    assert_string_equal(svc->full_name, "a.S");
    assert_string_equal(svc->file, "f.proto");
    assert_int_equal(svc->nmethods, 2);
    const gw_desc_method_t *g = &svc->methods[0], *p = &svc->methods[1];
    assert_string_equal(g->full_name, "a.S/Get");
    assert_string_equal(g->rpc, "/a.S/Get");
    assert_ptr_equal(g->input, gw_descset_message(set, "a.Req"));
    assert_ptr_equal(g->output, gw_descset_message(set, "a.Res"));
    static const gw_http_rule_t want[] = {
        {"GET", "/v1/x/{id}", NULL, "resp"}, {"POST", "/v1/x", "*", NULL}, {"HEAD", "/v1/h/{id}", NULL, "r"}};
    assert_int_equal(g->nrules, N(want));
    for (size_t i = 0; i < N(want); i++) {
        const gw_http_rule_t *r = &g->rules[i];
        CHECK(strcmp(r->verb, want[i].verb) == 0 && strcmp(r->path, want[i].path) == 0, i);
        CHECK(want[i].body == NULL ? r->body == NULL : r->body != NULL && strcmp(r->body, want[i].body) == 0,
              i);
        CHECK(want[i].response_body == NULL
                  ? r->response_body == NULL
                  : r->response_body != NULL && strcmp(r->response_body, want[i].response_body) == 0,
              i);
    }
    assert_int_equal(p->nrules, 1);
    assert_string_equal(p->rules[0].verb, "PATCH");
    assert_string_equal(p->rules[0].path, "/v1/y/{y.id}");
    assert_string_equal(p->rules[0].body, "item");
    assert_null(p->rules[0].response_body);
    gw_descset_free(set);

    /* No option: no rules; streaming flags kept. */
    pb_t plain = pb_method("Watch", NULL);
    pb_int(&plain, 6, 1);
    s = pb_service_set(&plain, NULL);
    set = gw_descset_new();
    assert_int_equal(gw_descset_add(set, s.b, s.n, "t.pb", err, sizeof(err)), 0);
    assert_int_equal(gw_descset_link(set, err, sizeof(err)), 0);
    g = &gw_descset_service(set, 0)->methods[0];
    assert_int_equal(g->nrules, 0);
    assert_true(g->server_streaming && !g->client_streaming);
    gw_descset_free(set);
}

static void test_http_rule_errors(void **state)
{
    (void)state;
    pb_t r = {0}, b = {0}, bb = {0};
    pb_str(&r, 7, "*"); /* body but no pattern */
    pb_t m = pb_method("Get", &r), s = pb_service_set(&m, NULL);
    expect_error(s.b, s.n, "t.pb: f.proto: method a.S/Get: google.api.http: a rule has no pattern");
    pb_str(&bb, 2, "/c");
    pb_str(&b, 2, "/b");
    pb_msg(&b, 11, &bb);
    r.n = 0, pb_str(&r, 2, "/a"), pb_msg(&r, 11, &b);
    m = pb_method("Get", &r), s = pb_service_set(&m, NULL);
    expect_error(s.b, s.n,
                 "method a.S/Get: google.api.http: an additional_binding has its own additional_bindings");
    b.n = 0, pb_str(&b, 7, "*");
    r.n = 0, pb_str(&r, 2, "/a"), pb_msg(&r, 11, &b);
    m = pb_method("Get", &r), s = pb_service_set(&m, NULL);
    expect_error(s.b, s.n, "method a.S/Get: google.api.http: a rule has no pattern");
    r.n = 0, pb_str(&r, 2, "/a\n/b");
    m = pb_method("Get", &r), s = pb_service_set(&m, NULL);
    expect_error(s.b, s.n, "method a.S/Get: google.api.http: empty verb or path, or a control byte");
    r.n = 0, pb_str(&r, 3, "");
    m = pb_method("Put", &r), s = pb_service_set(&m, NULL);
    expect_error(s.b, s.n, "method a.S/Put: google.api.http: empty verb or path");
}

#endif
