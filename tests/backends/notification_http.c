/*
 * demo-backend: the notification HTTP/1.1 (and h2c) backend on one h2o
 * evloop: routing of /api/v1/notifications*, JSON bodies, failure
 * injection, recording of the received headers, and --latency-ms through
 * an h2o timeout so a delayed response never blocks other connections.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <h2o.h>
#include <jansson.h>

#include "tests/backends/backend.h"
#include "tests/backends/notification_store.h"
#include "tests/backends/record.h"
#include "tests/backends/util.h"

#define API_PREFIX "/api/v1/notifications"

static struct {
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    h2o_timeout_t latency;
} nh;

/* A response waiting for --latency-ms; lives in the request's pool. */
struct pending {
    h2o_timeout_entry_t entry;
    h2o_req_t *req;
    h2o_iovec_t body;
};

static const char *reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 503:
        return "Service Unavailable";
    default:
        return status >= 500 ? "Internal Server Error" : status >= 400 ? "Bad Request" : "OK";
    }
}

static void send_now(h2o_req_t *req, h2o_iovec_t body)
{
    req->res.reason = reason_of(req->res.status);
    req->res.content_length = body.len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                   H2O_STRLIT("application/json"));
    h2o_send_inline(req, body.base, body.len);
}

static void on_latency(h2o_timeout_entry_t *entry)
{
    struct pending *p = H2O_STRUCT_FROM_MEMBER(struct pending, entry, entry);
    send_now(p->req, p->body);
}

static void on_pending_dispose(void *arg)
{
    struct pending *p = arg;
    if (h2o_timeout_is_linked(&p->entry)) /* client went away first */
        h2o_timeout_unlink(&p->entry);
}

/* Sends status + body (stolen) now or after --latency-ms. */
static void respond(h2o_req_t *req, int status, json_t *body, bool delay)
{
    char *text = json_dumps(body, JSON_COMPACT);
    h2o_iovec_t iov = h2o_strdup(&req->pool, text ? text : "{}", SIZE_MAX);
    free(text);
    json_decref(body);
    req->res.status = status;
    if (!delay || g_opts.latency_ms <= 0) {
        send_now(req, iov);
        return;
    }
    struct pending *p = h2o_mem_alloc_shared(&req->pool, sizeof *p, on_pending_dispose);
    memset(&p->entry, 0, sizeof p->entry);
    p->entry.cb = on_latency;
    p->req = req;
    p->body = iov;
    h2o_timeout_link(nh.ctx.loop, &nh.latency, &p->entry);
}

static json_t *error_body(const char *msg)
{
    return json_pack("{s:s}", "error", msg);
}

static json_t *headers_json(h2o_req_t *req)
{
    json_t *obj = json_object();
    for (size_t i = 0; i != req->headers.size; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        char *key = strndup(h->name->base, h->name->len);
        json_t *prev = json_object_get(obj, key);
        json_t *val = json_str_safe(h->value.base, h->value.len);
        if (prev != NULL && json_is_string(prev) && json_is_string(val)) {
            json_object_set_new(obj, key,
                                json_sprintf("%s,%s", json_string_value(prev), json_string_value(val)));
            json_decref(val);
        } else {
            json_object_set_new(obj, key, val);
        }
        free(key);
    }
    if (json_object_get(obj, "host") == NULL && req->authority.len)
        json_object_set_new(obj, "host", json_str_safe(req->authority.base, req->authority.len));
    return obj;
}

static void record_request(h2o_req_t *req, int status)
{
    json_t *e, *body = NULL;
    char *line;
    if (!record_enabled())
        return;
    if (asprintf(&line, "%.*s %.*s", (int)req->method.len, req->method.base, (int)req->path.len,
                 req->path.base) < 0)
        return;
    e = record_entry_new(line);
    free(line);
    json_object_set_new(e, "http_method", json_stringn(req->method.base, req->method.len));
    json_object_set_new(e, "path", json_str_safe(req->path.base, req->path.len));
    json_object_set_new(e, "metadata", headers_json(req));
    json_object_set_new(e, "deadline_ms", json_null());
    if (req->entity.base != NULL)
        body = json_loadb(req->entity.base, req->entity.len, JSON_DECODE_ANY, NULL);
    if (body == NULL && req->entity.base != NULL)
        body = json_str_safe(req->entity.base, req->entity.len);
    json_object_set_new(e, "request", body ? body : json_null());
    json_object_set_new(e, "code", json_integer(status));
    record_write(e);
}

/* Value of query parameter `name` (copied into the pool), or NULL. */
static char *query_param(h2o_req_t *req, const char *name)
{
    size_t nlen = strlen(name);
    const char *q, *end;
    if (req->query_at == SIZE_MAX)
        return NULL;
    q = req->path.base + req->query_at + 1;
    end = req->path.base + req->path.len;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - q) > nlen && memcmp(q, name, nlen) == 0 && q[nlen] == '=')
            return h2o_strdup(&req->pool, q + nlen + 1, (size_t)(stop - q - (ptrdiff_t)nlen - 1)).base;
        q = stop + 1;
    }
    return NULL;
}

static bool method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

static int handle_create(h2o_req_t *req, const char *channel, json_t **body)
{
    json_t *payload = NULL;
    if (req->entity.base != NULL)
        payload = json_loadb(req->entity.base, req->entity.len, 0, NULL);
    if (payload == NULL || !json_is_object(payload)) {
        json_decref(payload);
        *body = error_body("invalid JSON");
        return 400;
    }
    *body = notif_store_add(channel, payload);
    json_decref(payload);
    return 201;
}

static int handle_list(h2o_req_t *req, json_t **body)
{
    const char *ls = query_param(req, "limit");
    long limit = ls ? strtol(ls, NULL, 10) : 50;
    if (limit <= 0)
        limit = 50;
    *body = notif_store_list(limit, query_param(req, "channel"));
    return 200;
}

/* Routes an /api/v1/notifications request; returns the status. */
static int route_api(h2o_req_t *req, const char *rest, size_t rest_len, json_t **body)
{
    bool post = method_is(req, "POST"), get = method_is(req, "GET") || method_is(req, "HEAD");
    const char *allow = "GET";
    if (rest_len == 0 || (rest_len == 1 && rest[0] == '/')) {
        if (get)
            return handle_list(req, body);
    } else if (h2o_memis(rest, rest_len, H2O_STRLIT("/email")) ||
               h2o_memis(rest, rest_len, H2O_STRLIT("/webhook"))) {
        if (post)
            return handle_create(req, rest[1] == 'e' ? "email" : "webhook", body);
        allow = "POST";
    } else if (rest[0] == '/' && memchr(rest + 1, '/', rest_len - 1) == NULL) {
        char *id = h2o_strdup(&req->pool, rest + 1, rest_len - 1).base;
        if (get) {
            if ((*body = notif_store_get(id)) != NULL)
                return 200;
            *body = error_body("notification not found");
            return 404;
        }
    } else {
        *body = error_body("not found");
        return 404;
    }
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL, allow, strlen(allow));
    *body = error_body("method not allowed");
    return 405;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    h2o_iovec_t path = req->path_normalized;
    size_t plen = strlen(API_PREFIX);
    json_t *body = NULL;
    int status, fail;
    (void)self;
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/health"))) {
        bool up = atomic_load(&g_serving);
        respond(req, up ? 200 : 503, json_pack("{s:s}", "status", up ? "SERVING" : "NOT_SERVING"), false);
        return 0;
    }
    if (path.len < plen || memcmp(path.base, API_PREFIX, plen) != 0 ||
        (path.len > plen && path.base[plen] != '/')) {
        status = 404;
        body = error_body("not found");
    } else if ((fail = backend_fail_code()) != 0) {
        status = fail;
        body = error_body(g_opts.fail_message);
    } else {
        status = route_api(req, path.base + plen, path.len - plen, &body);
    }
    record_request(req, status);
    respond(req, status, body, true);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    h2o_socket_t *sock;
    if (err != NULL)
        return;
    if ((sock = h2o_evloop_socket_accept(listener)) != NULL)
        h2o_accept(&nh.accept_ctx, sock);
}

static void setup(void)
{
    h2o_hostconf_t *host;
    h2o_pathconf_t *pathconf;
    h2o_handler_t *handler;
    h2o_config_init(&nh.config);
    nh.config.max_request_entity_size = 10 * 1024 * 1024;
    host = h2o_config_register_host(&nh.config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    pathconf = h2o_config_register_path(host, "/", 0);
    handler = h2o_create_handler(pathconf, sizeof *handler);
    handler->on_req = on_req;
    h2o_context_init(&nh.ctx, h2o_evloop_create(), &nh.config);
    h2o_timeout_init(nh.ctx.loop, &nh.latency, (uint64_t)(g_opts.latency_ms > 0 ? g_opts.latency_ms : 1));
    nh.accept_ctx.ctx = &nh.ctx;
    nh.accept_ctx.hosts = nh.config.hosts;
}

int notification_http_run(const char *host, int port)
{
    int bound, fd = tcp_listen(host, port, &bound);
    h2o_socket_t *listener;
    if (fd < 0) {
        fprintf(stderr, "demo-backend: listen %s:%d: %s\n", host, port, strerror(errno));
        return 1;
    }
    setup();
    listener = h2o_evloop_socket_create(nh.ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(listener, on_accept);
    backend_announce(host, bound);
    backend_log_toggles();
    while (!atomic_load(&g_stop)) {
        h2o_evloop_run(nh.ctx.loop, 100);
        backend_log_toggles();
    }
    h2o_socket_read_stop(listener);
    h2o_socket_close(listener);
    notif_store_fini();
    return 0;
}
