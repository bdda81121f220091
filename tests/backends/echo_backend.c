/*
 * echo-backend: a schema-less gRPC test backend (build/bin/echo-backend).
 * It answers ANY unary method without knowing its messages, so a test can
 * serve a service it compiled a moment ago (tests/integration/
 * test_descriptors.py) and see exactly what the gateway built:
 *
 *   reply = field 1 (bytes): the request message as received
 *           field 13 (varint): this process's call counter (1, 2, ...)
 *           field 14 (string): the gRPC method path ("/pkg.Svc/Method")
 *           field 15 (string): "x-user-id=U;x-tenant-id=T" from the metadata
 *
 * so a response `message R { XRequest echo = 1; int64 seq = 13;
 * string method = 14; string metadata = 15; }` decodes as the request, the
 * call number (a cache hit repeats it), the RPC and the identity headers.
 * A request whose bytes contain the ASCII marker "grpc-status:N" (N 1..16)
 * is answered with status N and the message "echo: status N" instead.
 * grpc.health.v1.Health/Check answers SERVING (status = 1).
 *
 * One thread polls one completion queue; every call is requested through
 * the generic grpc_server_request_call, its message read by a second batch.
 * Usage: echo-backend [--listen HOST:PORT] (port 0 picks one). When ready it
 * prints "echo-backend listening on HOST:PORT" on stdout; SIGTERM/SIGINT
 * stop it (exit 0).
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/time.h>

#define PENDING    8 /* calls kept requested */
#define MARKER     "grpc-status:"
#define HEALTH_RPC "/grpc.health.v1.Health/Check"

enum stage { REQUESTED, RECEIVING, REPLYING };

/* One call, owned by the completion-queue loop from request to reply. */
struct call {
    enum stage stage;
    grpc_call *gcall;
    grpc_call_details details;
    grpc_metadata_array md;
    grpc_byte_buffer *req_bb;  /* owned */
    grpc_byte_buffer *resp_bb; /* owned */
    grpc_status_code status;
    char status_msg[32];
    int cancelled;
};

static volatile sig_atomic_t stop_flag;
static grpc_server *server;
static grpc_completion_queue *cq;
static unsigned long long ncalls;
static char shutdown_tag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void call_free(struct call *c)
{
    if (c->gcall != NULL)
        grpc_call_unref(c->gcall);
    if (c->req_bb != NULL)
        grpc_byte_buffer_destroy(c->req_bb);
    if (c->resp_bb != NULL)
        grpc_byte_buffer_destroy(c->resp_bb);
    grpc_call_details_destroy(&c->details);
    grpc_metadata_array_destroy(&c->md);
    free(c);
}

static void post_request(void)
{
    struct call *c = calloc(1, sizeof *c);
    if (c == NULL)
        abort();
    grpc_call_details_init(&c->details);
    grpc_metadata_array_init(&c->md);
    c->stage = REQUESTED;
    if (grpc_server_request_call(server, &c->gcall, &c->details, &c->md, cq, cq, c) != GRPC_CALL_OK)
        call_free(c);
}

/* ---- the reply ---------------------------------------------------------- */

static size_t put_varint(unsigned char *p, unsigned long long v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* Appends a length-delimited field; out has room (see build_reply). */
static size_t put_bytes(unsigned char *out, unsigned field, const void *data, size_t len)
{
    size_t n = put_varint(out, (unsigned long long)field << 3 | 2);
    n += put_varint(out + n, len);
    memcpy(out + n, data, len);
    return n + len;
}

static void metadata_value(const struct call *c, const char *key, const char **v, size_t *len)
{
    *v = "";
    *len = 0;
    for (size_t i = 0; i < c->md.count; i++) {
        const grpc_metadata *m = &c->md.metadata[i];
        if (grpc_slice_str_cmp(m->key, key) == 0) {
            *v = (const char *)GRPC_SLICE_START_PTR(m->value);
            *len = GRPC_SLICE_LENGTH(m->value);
            return;
        }
    }
}

/* The status asked for by a "grpc-status:N" marker in the request, or 0. */
static int marker_status(const unsigned char *req, size_t len)
{
    const size_t ml = sizeof MARKER - 1;
    for (size_t i = 0; i + ml < len; i++) {
        if (memcmp(req + i, MARKER, ml) != 0)
            continue;
        int n = 0;
        for (size_t k = i + ml; k < len && k < i + ml + 2 && req[k] >= '0' && req[k] <= '9'; k++)
            n = n * 10 + (req[k] - '0');
        if (n >= 1 && n <= 16)
            return n;
    }
    return 0;
}

/* Packs the reply (see the header comment) into the call's response buffer. */
static void build_reply(struct call *c, const unsigned char *req, size_t len)
{
    const char *uid, *tid;
    size_t uid_len, tid_len;
    metadata_value(c, "x-user-id", &uid, &uid_len);
    metadata_value(c, "x-tenant-id", &tid, &tid_len);
    size_t meta_len = uid_len + tid_len + sizeof "x-user-id=;x-tenant-id=" - 1;
    size_t path_len = GRPC_SLICE_LENGTH(c->details.method);
    /* each field: at most 10 bytes of tag + 10 of length or value */
    unsigned char *out = malloc(len + meta_len + path_len + 80), *p = out;
    char *meta = malloc(meta_len + 1);
    if (out == NULL || meta == NULL)
        abort();
    snprintf(meta, meta_len + 1, "x-user-id=%.*s;x-tenant-id=%.*s", (int)uid_len, uid, (int)tid_len, tid);
    p += put_bytes(p, 1, req, len);
    p += put_varint(p, 13 << 3 | 0);
    p += put_varint(p, ++ncalls);
    p += put_bytes(p, 14, GRPC_SLICE_START_PTR(c->details.method), path_len);
    p += put_bytes(p, 15, meta, meta_len);
    grpc_slice s = grpc_slice_from_copied_buffer((const char *)out, (size_t)(p - out));
    c->resp_bb = grpc_raw_byte_buffer_create(&s, 1);
    grpc_slice_unref(s);
    free(meta);
    free(out);
}

static void answer(struct call *c)
{
    grpc_byte_buffer_reader reader;
    grpc_slice req = grpc_empty_slice();
    int code;
    if (c->req_bb != NULL && grpc_byte_buffer_reader_init(&reader, c->req_bb)) {
        req = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
    }
    if (grpc_slice_str_cmp(c->details.method, HEALTH_RPC) == 0) {
        static const unsigned char serving[] = {0x08, 0x01};
        grpc_slice s = grpc_slice_from_static_buffer(serving, sizeof serving);
        c->resp_bb = grpc_raw_byte_buffer_create(&s, 1);
    } else if ((code = marker_status(GRPC_SLICE_START_PTR(req), GRPC_SLICE_LENGTH(req))) != 0) {
        c->status = (grpc_status_code)code;
        snprintf(c->status_msg, sizeof c->status_msg, "echo: status %d", code);
    } else {
        build_reply(c, GRPC_SLICE_START_PTR(req), GRPC_SLICE_LENGTH(req));
    }
    grpc_slice_unref(req);
}

/* ---- stages ------------------------------------------------------------- */

static void start_receive(struct call *c)
{
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &c->req_bb;
    c->stage = RECEIVING;
    if (grpc_call_start_batch(c->gcall, &op, 1, c, NULL) != GRPC_CALL_OK)
        call_free(c);
}

static void send_reply(struct call *c)
{
    grpc_op ops[4];
    size_t n = 0;
    grpc_slice msg = grpc_slice_from_copied_string(c->status_msg);
    memset(ops, 0, sizeof ops);
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (c->resp_bb != NULL) {
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = c->resp_bb;
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = c->status;
    ops[n++].data.send_status_from_server.status_details = c->status_msg[0] ? &msg : NULL;
    ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
    c->stage = REPLYING;
    if (grpc_call_start_batch(c->gcall, ops, n, c, NULL) != GRPC_CALL_OK)
        call_free(c);
    grpc_slice_unref(msg);
}

static void on_event(struct call *c, bool ok)
{
    if (!ok) { /* shutting down, or the client went away */
        call_free(c);
        return;
    }
    switch (c->stage) {
    case REQUESTED:
        post_request(); /* keep PENDING calls requested */
        start_receive(c);
        return;
    case RECEIVING:
        answer(c);
        send_reply(c);
        return;
    case REPLYING:
        call_free(c);
        return;
    }
}

/* ---- main --------------------------------------------------------------- */

static int start(const char *listen)
{
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port;
    grpc_init();
    server = grpc_server_create(NULL, NULL);
    cq = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(server, cq, NULL);
    port = grpc_server_add_http2_port(server, listen, creds);
    grpc_server_credentials_release(creds);
    if (port <= 0) {
        fprintf(stderr, "echo-backend: listen %s: cannot bind\n", listen);
        return -1;
    }
    grpc_server_start(server);
    for (int i = 0; i < PENDING; i++)
        post_request();
    return port;
}

static void run(void)
{
    bool shutting = false;
    for (;;) {
        gpr_timespec tick =
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(100, GPR_TIMESPAN));
        grpc_event ev = grpc_completion_queue_next(cq, tick, NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            return;
        if (stop_flag && !shutting) {
            shutting = true;
            grpc_server_shutdown_and_notify(server, cq, &shutdown_tag);
            grpc_server_cancel_all_calls(server);
        }
        if (ev.type != GRPC_OP_COMPLETE)
            continue;
        if (ev.tag == &shutdown_tag)
            grpc_completion_queue_shutdown(cq); /* the loop ends once every call is freed */
        else
            on_event(ev.tag, ev.success != 0);
    }
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:0";
    char host[256];
    struct sigaction sa;
    int port;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) {
            listen = argv[++i];
        } else {
            fprintf(stderr, "usage: echo-backend [--listen HOST:PORT]\n");
            return 2;
        }
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((port = start(listen)) < 0)
        return 1;
    snprintf(host, sizeof host, "%.*s", (int)(strrchr(listen, ':') ? strrchr(listen, ':') - listen : 0),
             listen);
    printf("echo-backend listening on %s:%d\n", host, port);
    fflush(stdout);
    run();
    grpc_server_destroy(server);
    grpc_completion_queue_destroy(cq);
    grpc_shutdown();
    return 0;
}
