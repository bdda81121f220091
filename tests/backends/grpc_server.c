/*
 * demo-backend: gRPC server core. Every method of the service and of
 * grpc.health.v1 is registered with gRPC reading the request payload, so a
 * call arrives complete in one completion-queue event; unknown methods come
 * through the generic request_call and get UNIMPLEMENTED. One completion
 * queue is polled by --threads threads; handlers run inline on the polling
 * thread (they only touch in-memory stores) and --latency-ms replies are
 * handed to the delay queue, so no thread ever sleeps. Owns routing,
 * failure injection, recording and the reply batch.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#include "tests/backends/backend.h"
#include "tests/backends/call.h"
#include "tests/backends/delay.h"
#include "tests/backends/record.h"
#include "tests/backends/util.h"

#define PENDING_PER_ROUTE 16 /* requested calls kept posted per method */
#define PENDING_UNKNOWN   4
#define MAX_ROUTES        32
#define MAX_THREADS       16

struct route {
    char path[128]; /* "/pkg.Service/Method" */
    const ProtobufCMethodDescriptor *md;
    rpc_handler_fn fn;
    bool business; /* subject to --fail-status / --latency-ms */
    void *reg;     /* grpc_server_register_method handle */
};

static struct {
    grpc_server *server;
    grpc_completion_queue *cq;
    const struct service_def *svc;
    struct route routes[MAX_ROUTES];
    size_t n_routes;
    pthread_t threads[MAX_THREADS];
    int n_threads;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool shutdown_done;
} gs = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static char shutdown_tag;

/* ---- routing ------------------------------------------------------------ */

static int add_routes(const struct service_def *svc, bool business)
{
    const ProtobufCServiceDescriptor *d = svc->desc;
    for (const struct rpc_method *m = svc->methods; m->name != NULL; m++) {
        const ProtobufCMethodDescriptor *md = protobuf_c_service_descriptor_get_method_by_name(d, m->name);
        struct route *r = &gs.routes[gs.n_routes];
        if (md == NULL || gs.n_routes == MAX_ROUTES) {
            fprintf(stderr, "demo-backend: %s has no method %s\n", d->name, m->name);
            return -1;
        }
        snprintf(r->path, sizeof r->path, "/%s/%s", d->name, md->name);
        r->md = md;
        r->fn = m->fn;
        r->business = business;
        gs.n_routes++;
    }
    return 0;
}

/* ---- stages ------------------------------------------------------------- */

/* Asks gRPC for the next call of route r (with its payload), or of any
 * unregistered method when r is NULL. */
static void post_request(const struct route *r)
{
    struct call *c = call_new();
    grpc_call_error err;
    c->stage = CALL_REQUESTED;
    c->route = r;
    if (r != NULL) {
        c->path = r->path;
        err = grpc_server_request_registered_call(gs.server, r->reg, &c->gcall, &c->deadline, &c->md,
                                                  &c->req_bb, gs.cq, gs.cq, c);
    } else {
        err = grpc_server_request_call(gs.server, &c->gcall, &c->details, &c->md, gs.cq, gs.cq, c);
    }
    if (err != GRPC_CALL_OK)
        call_free(c);
}

static void send_reply(void *arg)
{
    struct call *c = arg;
    grpc_op ops[4];
    size_t n = 0;
    grpc_slice msg = grpc_slice_from_copied_string(c->status_msg ? c->status_msg : "");
    memset(ops, 0, sizeof ops);
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (c->resp_bb != NULL) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = c->resp_bb;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = c->status;
    ops[n++].data.send_status_from_server.status_details = c->status_msg ? &msg : NULL;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
    c->stage = CALL_REPLYING;
    if (grpc_call_start_batch(c->gcall, ops, n, c, NULL) != GRPC_CALL_OK)
        call_free(c);
    grpc_slice_unref(msg);
}

static ProtobufCMessage *decode_request(struct call *c, const struct route *r)
{
    grpc_byte_buffer_reader reader;
    grpc_slice s;
    ProtobufCMessage *m;
    if (c->req_bb == NULL) {
        call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "missing request message");
        return NULL;
    }
    if (!grpc_byte_buffer_reader_init(&reader, c->req_bb)) {
        call_error(c, GRPC_STATUS_INTERNAL, "cannot read request message");
        return NULL;
    }
    s = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    m = protobuf_c_message_unpack(r->md->input, &c->pb_alloc, GRPC_SLICE_LENGTH(s), GRPC_SLICE_START_PTR(s));
    grpc_slice_unref(s);
    if (m == NULL)
        call_error(c, GRPC_STATUS_INVALID_ARGUMENT, "cannot parse request message");
    return m;
}

static void encode_reply(struct call *c, const ProtobufCMessage *resp)
{
    size_t len = protobuf_c_message_get_packed_size(resp);
    grpc_slice s = grpc_slice_malloc(len);
    protobuf_c_message_pack(resp, GRPC_SLICE_START_PTR(s));
    c->resp_bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
}

static void record_call(struct call *c, const struct route *r, const ProtobufCMessage *req)
{
    json_t *e;
    long dl;
    if (!record_enabled() || (r != NULL && !r->business && !g_opts.record_health))
        return;
    e = record_entry_new(call_method(c));
    dl = call_deadline_ms(c);
    json_object_set_new(e, "metadata", call_metadata_json(c));
    json_object_set_new(e, "deadline_ms", dl < 0 ? json_null() : json_integer(dl));
    json_object_set_new(e, "request", req ? pb_to_json(req) : json_null());
    json_object_set_new(e, "code", json_integer(c->status));
    if (c->status_msg != NULL)
        json_object_set_new(e, "message", json_string(c->status_msg));
    record_write(e);
}

/* Decodes, applies failure injection, runs the handler. */
static const ProtobufCMessage *dispatch(struct call *c, const struct route *r, ProtobufCMessage **req)
{
    ProtobufCMessage *resp = NULL;
    int fail;
    if (r == NULL) {
        char msg[300];
        snprintf(msg, sizeof msg, "unknown method %s", call_method(c));
        call_error(c, GRPC_STATUS_UNIMPLEMENTED, msg);
        return NULL;
    }
    if ((*req = decode_request(c, r)) == NULL)
        return NULL;
    if (r->business && (fail = backend_fail_code()) != 0) {
        call_error(c, (grpc_status_code)fail, g_opts.fail_message);
        return NULL;
    }
    c->status = r->fn(c, *req, &resp);
    if (c->status == GRPC_STATUS_OK && resp == NULL)
        call_error(c, GRPC_STATUS_INTERNAL, "handler produced no reply");
    return c->status == GRPC_STATUS_OK ? resp : NULL;
}

static void on_received(struct call *c)
{
    const struct route *r = c->route;
    ProtobufCMessage *req = NULL;
    const ProtobufCMessage *resp = dispatch(c, r, &req);
    if (resp != NULL)
        encode_reply(c, resp);
    record_call(c, r, req);
    if (r != NULL && r->business && g_opts.latency_ms > 0)
        delay_push(send_reply, c);
    else
        send_reply(c);
}

static void on_event(struct call *c, bool ok)
{
    switch (c->stage) {
    case CALL_REQUESTED:
        if (!ok) { /* server shutting down */
            call_free(c);
            return;
        }
        post_request(c->route); /* keep the same number of calls requested */
        if (c->route == NULL)
            c->deadline = c->details.deadline;
        on_received(c);
        return;
    case CALL_REPLYING:
        /* The client cancelled the call before our reply (tests of the
         * gateway's hang-up handling look for this line). */
        if (c->cancelled)
            fprintf(stderr, "demo-backend %s: call cancelled by the client: %s\n", g_opts.service,
                    call_method(c));
        call_free(c);
        return;
    }
}

static void *cq_thread(void *unused)
{
    (void)unused;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(gs.cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        if (ev.tag == &shutdown_tag) {
            pthread_mutex_lock(&gs.lock);
            gs.shutdown_done = true;
            pthread_cond_broadcast(&gs.cond);
            pthread_mutex_unlock(&gs.lock);
            continue;
        }
        on_event(ev.tag, ev.success != 0);
    }
    return NULL;
}

/* ---- start / stop ------------------------------------------------------- */

/* Binds the address ourselves first: a clear errno message instead of gRPC's error dump. */
static bool probe_bind(const char *host, int port, const char *addr)
{
    int fd = tcp_listen(host, port, NULL);
    if (fd < 0) {
        fprintf(stderr, "demo-backend: listen %s: %s\n", addr, strerror(errno));
        return false;
    }
    close(fd);
    return true;
}

/* No SO_REUSEPORT (a second backend on the same port must fail), large
 * messages, and any client keepalive policy tolerated (no ping strikes). */
static grpc_server *create_server(void)
{
    grpc_arg args[] = {
        {.type = GRPC_ARG_INTEGER, .key = (char *)GRPC_ARG_ALLOW_REUSEPORT, .value.integer = 0},
        {.type = GRPC_ARG_INTEGER,
         .key = (char *)GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         .value.integer = 64 << 20},
        {.type = GRPC_ARG_INTEGER, .key = (char *)GRPC_ARG_HTTP2_MAX_PING_STRIKES, .value.integer = 0},
        {.type = GRPC_ARG_INTEGER,
         .key = (char *)GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
         .value.integer = 1},
    };
    grpc_channel_args ca = {.num_args = sizeof args / sizeof *args, .args = args};
    return grpc_server_create(&ca, NULL);
}

static int bind_port(const char *host, int port)
{
    char addr[300];
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int bound = 0;
    snprintf(addr, sizeof addr, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    if (probe_bind(host, port, addr) && (bound = grpc_server_add_http2_port(gs.server, addr, creds)) <= 0)
        fprintf(stderr, "demo-backend: listen %s: cannot bind\n", addr);
    grpc_server_credentials_release(creds);
    return bound;
}

static void destroy_server(void)
{
    grpc_server_destroy(gs.server);
    grpc_completion_queue_shutdown(gs.cq);
    while (grpc_completion_queue_next(gs.cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(gs.cq);
    gs.server = NULL;
    gs.cq = NULL;
}

int grpc_backend_start(const struct service_def *svc, const char *host, int port)
{
    int bound;
    gs.svc = svc;
    if (add_routes(svc, true) != 0 || add_routes(&health_service_def, false) != 0)
        return -1;
    if (svc->init != NULL && svc->init() != 0)
        return -1;
    grpc_init();
    gs.server = create_server();
    gs.cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(gs.server, gs.cq, NULL);
    for (size_t i = 0; i < gs.n_routes; i++)
        gs.routes[i].reg = grpc_server_register_method(gs.server, gs.routes[i].path, NULL,
                                                       GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
    if ((bound = bind_port(host, port)) <= 0) {
        destroy_server();
        grpc_shutdown();
        return -1;
    }
    grpc_server_start(gs.server);
    if (g_opts.latency_ms > 0 && delay_start((unsigned)g_opts.latency_ms) != 0) {
        fprintf(stderr, "demo-backend: cannot start the delay thread\n");
        return -1;
    }
    for (size_t i = 0; i < gs.n_routes; i++)
        for (int k = 0; k < PENDING_PER_ROUTE; k++)
            post_request(&gs.routes[i]);
    for (int k = 0; k < PENDING_UNKNOWN; k++)
        post_request(NULL);
    gs.n_threads = g_opts.threads < 1 ? 1 : g_opts.threads > MAX_THREADS ? MAX_THREADS : g_opts.threads;
    for (int i = 0; i < gs.n_threads; i++) {
        if (pthread_create(&gs.threads[i], NULL, cq_thread, NULL) != 0) {
            fprintf(stderr, "demo-backend: cannot start thread\n");
            exit(1);
        }
    }
    return bound;
}

void grpc_backend_stop(void)
{
    delay_stop(); /* pending delayed replies are sent now */
    grpc_server_shutdown_and_notify(gs.server, gs.cq, &shutdown_tag);
    grpc_server_cancel_all_calls(gs.server);
    pthread_mutex_lock(&gs.lock);
    while (!gs.shutdown_done)
        pthread_cond_wait(&gs.cond, &gs.lock);
    pthread_mutex_unlock(&gs.lock);
    grpc_completion_queue_shutdown(gs.cq);
    for (int i = 0; i < gs.n_threads; i++)
        pthread_join(gs.threads[i], NULL);
    grpc_server_destroy(gs.server);
    grpc_completion_queue_destroy(gs.cq);
    grpc_shutdown();
    if (gs.svc->fini != NULL)
        gs.svc->fini();
}
