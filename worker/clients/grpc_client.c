/*
 * gRPC C core client for a worker (see worker/clients/grpc_client.h).
 *
 * Threads: everything of ours runs on the h2o loop thread. gRPC core's
 * poller (the epoll1 engine) keeps every channel socket and its own wakeup
 * eventfd in one process-wide epoll fd, created by grpc_init; the loop
 * watches that fd (a dup of it, found in /proc/self/fd: the one epoll fd
 * grpc_init added) and, when it is readable, drives gRPC's I/O itself with
 * grpc_completion_queue_next(cq, past deadline), completing every finished
 * call in the same pass. There is no completion-queue thread, so a call
 * costs no thread switch and no cross-thread wakeup (profiled: a fifth of
 * the gateway's CPU on the REST→gRPC path went to that hop).
 * Two things reach the queue without making that fd readable: work gRPC
 * finishes on its own executor or timer threads (their kick finds no
 * poller), and epoll events the engine fetched but had not processed yet
 * (it handles one per poll). So a pass polls until several in a row find
 * nothing, and while calls are in flight a 1 ms timer polls again.
 * If the epoll fd cannot be found (another polling engine), the old design
 * is used: a thread blocks in grpc_completion_queue_next and hands each
 * finished call to the loop through h2o's multithread queue.
 *
 * Memory: a call is one malloc holding the struct and a copy of the
 * metadata values; gRPC reads those through static-buffer slices until the
 * batch completes, which is before the call is freed.
 */
#include "worker/clients/grpc_client.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

typedef struct gw_grpc_client {
    grpc_completion_queue *cq;
    pthread_t thread;
    bool thread_started;
    h2o_multithread_receiver_t receiver;
    h2o_loop_t *loop;
    h2o_socket_t *poll_sock; /* a dup of gRPC core's epoll fd; NULL in thread mode */
    h2o_timeout_t poll_timeout;
    h2o_timeout_entry_t poll_entry;     /* re-polls while calls are in flight */
    grpc_channel *channels[GW_SVC_MAX]; /* by service slot; NULL: not served */
    const char *targets[GW_SVC_MAX];    /* the worker's config owns the strings */
    size_t inflight;
    long max_send, max_recv; /* the channels' message size limits */
} gw_grpc_client_t;

/* Room transcoding may add to a body of MAX_REQUEST_SIZE: query parameters
 * and path variables (bounded by MAX_URI_SIZE) become fields, tenant_id and
 * token are filled in, and protobuf framing is a few bytes per field. */
#define SEND_OVERHEAD (64 * 1024)

struct gw_grpc_call {
    h2o_multithread_message_t msg; /* queued to the loop by the CQ thread */
    gw_grpc_client_t *client;
    grpc_call *call;
    grpc_metadata md[GW_GRPC_MAX_MD];
    grpc_byte_buffer *send_buf;
    grpc_byte_buffer *recv_buf;
    grpc_metadata_array initial_md, trailing_md;
    grpc_status_code status;
    grpc_slice details;
    gw_grpc_result_t result;
    gw_grpc_done_cb done;
    void *data;
    uint64_t start_us;
    size_t sent_len; /* request message size, to recognise our own limits */
    char storage[];  /* metadata values */
};

static void *cq_thread_main(void *arg)
{
    gw_grpc_client_t *c = arg;
    for (;;) {
        grpc_event ev = grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            return NULL;
        if (ev.type == GRPC_OP_COMPLETE) {
            gw_grpc_call_t *call = ev.tag;
            h2o_multithread_send_message(&c->receiver, &call->msg);
        }
    }
}

static void free_call(gw_grpc_call_t *call)
{
    if (call->call != NULL)
        grpc_call_unref(call->call);
    if (call->send_buf != NULL)
        grpc_byte_buffer_destroy(call->send_buf);
    if (call->recv_buf != NULL)
        grpc_byte_buffer_destroy(call->recv_buf);
    grpc_metadata_array_destroy(&call->initial_md);
    grpc_metadata_array_destroy(&call->trailing_md);
    grpc_slice_unref(call->details);
    free(call);
}

/* gRPC core (1.51, src/core/ext/filters/message_size) words its limits
 * "Received message larger than max (%u vs. %d)" and "Sent message larger
 * than max (%u vs. %d)" with RESOURCE_EXHAUSTED. A backend hitting its own
 * limit sends the same words, so the text alone is not enough: ours carry
 * exactly our channel's limit, and a backend refusing our request names our
 * request's size, which a reply over our limit cannot be. */
static gw_grpc_limit_t local_limit(const gw_grpc_call_t *call, const char *details)
{
    if (call->status != GRPC_STATUS_RESOURCE_EXHAUSTED)
        return GW_GRPC_LIMIT_NONE;
    unsigned long size;
    long max;
    int end = -1;
    size_t len = strlen(details);
    if (sscanf(details, "Received message larger than max (%lu vs. %ld)%n", &size, &max, &end) == 2 &&
        (size_t)end == len && max == call->client->max_recv && size != call->sent_len)
        return GW_GRPC_LIMIT_RECV;
    end = -1;
    if (sscanf(details, "Sent message larger than max (%lu vs. %ld)%n", &size, &max, &end) == 2 &&
        (size_t)end == len && max == call->client->max_send && size == call->sent_len)
        return GW_GRPC_LIMIT_SEND;
    return GW_GRPC_LIMIT_NONE;
}

/* On the loop thread: collect the results, run the callback, free. */
/* The reply as one slice (a reference the caller unrefs): an uncompressed
 * reply in one slice — the usual case — is used in place; others are
 * joined (a copy). */
static grpc_slice reply_slice(grpc_byte_buffer *buf)
{
    if (buf == NULL)
        return grpc_empty_slice();
    if (buf->type == GRPC_BB_RAW && buf->data.raw.compression == GRPC_COMPRESS_NONE &&
        buf->data.raw.slice_buffer.count == 1)
        return grpc_slice_ref(buf->data.raw.slice_buffer.slices[0]);
    grpc_slice reply = grpc_empty_slice();
    grpc_byte_buffer_reader reader;
    if (grpc_byte_buffer_reader_init(&reader, buf)) {
        reply = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
    }
    return reply;
}

static void complete(gw_grpc_call_t *call)
{
    grpc_slice reply = reply_slice(call->recv_buf);
    /* A successful call has no details: no copy for "". */
    char *details = GRPC_SLICE_LENGTH(call->details) > 0 ? grpc_slice_to_c_string(call->details) : NULL;
    call->result.status = call->status;
    call->result.local_limit = local_limit(call, details != NULL ? details : "");
    call->result.details = details != NULL ? details : "";
    call->result.reason = gw_reason_from_grpc(call->status, call->result.details);
    call->result.reply = GRPC_SLICE_START_PTR(reply);
    call->result.reply_len = GRPC_SLICE_LENGTH(reply);
    call->result.latency_us = gw_now_us() - call->start_us;
    call->client->inflight--;
    call->done(call, call->data);
    gpr_free(details); /* NULL is fine */
    grpc_slice_unref(reply);
    free_call(call);
}

static void on_completions(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    (void)receiver;
    while (!h2o_linklist_is_empty(messages)) {
        h2o_multithread_message_t *m =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, messages->next);
        h2o_linklist_unlink(&m->link);
        complete(H2O_STRUCT_FROM_MEMBER(gw_grpc_call_t, msg, m));
    }
}

/* ---- loop-driven polling ------------------------------------------------ */

#define MAX_SCAN_FD 4096
/* Empty polls in a row that end a pass: the engine handles one fetched
 * event per poll, and its epoll set holds a few fds (a connection per
 * channel, its wakeup eventfd), so a few empty polls drain what it fetched. */
#define IDLE_POLLS 4
#define REPOLL_MS  1

/* Marks the epoll fds open now (fd < MAX_SCAN_FD) in `set`. */
static void scan_epoll_fds(unsigned char *set)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        char path[300], link[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, link, sizeof(link) - 1);
        if (n <= 0 || fd <= 0 || fd >= MAX_SCAN_FD)
            continue;
        link[n] = '\0';
        if (strcmp(link, "anon_inode:[eventpoll]") == 0)
            set[fd] = 1;
    }
    closedir(d);
}

/* The one epoll fd in `after` and not in `before`, or -1. */
static int new_epoll_fd(const unsigned char *before, const unsigned char *after)
{
    int found = -1;
    for (int fd = 0; fd < MAX_SCAN_FD; fd++) {
        if (after[fd] && !before[fd]) {
            if (found >= 0)
                return -1;
            found = fd;
        }
    }
    return found;
}

static void poll_cq(gw_grpc_client_t *c)
{
    gpr_timespec past = gpr_inf_past(GPR_CLOCK_MONOTONIC);
    for (int idle = 0; idle < IDLE_POLLS;) {
        grpc_event ev = grpc_completion_queue_next(c->cq, past, NULL);
        if (ev.type == GRPC_OP_COMPLETE) {
            idle = 0;
            complete(ev.tag);
        } else {
            idle++;
        }
    }
    if (c->inflight > 0 && !h2o_timeout_is_linked(&c->poll_entry))
        h2o_timeout_link(c->loop, &c->poll_timeout, &c->poll_entry);
}

static void on_grpc_readable(h2o_socket_t *sock, const char *err)
{
    (void)err;
    poll_cq(sock->data);
}

static void on_repoll(h2o_timeout_entry_t *entry)
{
    poll_cq(H2O_STRUCT_FROM_MEMBER(gw_grpc_client_t, poll_entry, entry));
}

/* Watches gRPC core's epoll fd from the loop; false if it cannot. */
static bool start_loop_polling(gw_grpc_client_t *c, h2o_loop_t *loop, int epfd)
{
    int fd = epfd >= 0 ? fcntl(epfd, F_DUPFD_CLOEXEC, 0) : -1;
    if (fd < 0)
        return false;
    c->loop = loop;
    c->poll_sock = h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    c->poll_sock->data = c;
    h2o_timeout_init(loop, &c->poll_timeout, REPOLL_MS);
    c->poll_entry.cb = on_repoll;
    h2o_socket_read_start(c->poll_sock, on_grpc_readable);
    return true;
}

static void stop_loop_polling(gw_grpc_client_t *c)
{
    if (h2o_timeout_is_linked(&c->poll_entry))
        h2o_timeout_unlink(&c->poll_entry);
    h2o_timeout_dispose(c->loop, &c->poll_timeout);
    h2o_socket_close(c->poll_sock); /* closes our dup only */
    c->poll_sock = NULL;
}

const char *gw_grpc_target(const gw_worker_t *w, unsigned slot)
{
    const gw_grpc_client_t *c = w->grpc;
    return c != NULL && slot < GW_SVC_MAX && c->channels[slot] != NULL ? c->targets[slot] : NULL;
}

static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf != NULL)
        buf[n] = '\0';
    return buf;
}

static grpc_channel_credentials *make_credentials(const gw_config_t *cfg, char *err, size_t errlen)
{
    if (!cfg->grpc_tls)
        return grpc_insecure_credentials_create();
    char *roots = NULL;
    if (cfg->grpc_tls_ca_file[0] != '\0' && (roots = read_small_file(cfg->grpc_tls_ca_file)) == NULL) {
        snprintf(err, errlen, "GRPC_TLS_CA_FILE: cannot read %s", cfg->grpc_tls_ca_file);
        return NULL;
    }
    grpc_channel_credentials *creds = grpc_ssl_credentials_create(roots, NULL, NULL, NULL);
    free(roots);
    return creds;
}

/* gRPC core's mutexes are absl::Mutex, and Debian builds absl with its
 * deadlock detector on: every lock walks a lock-order graph (GraphCycles:
 * 3% of the gateway's CPU on the REST→gRPC path). It is a debugging aid
 * (off in absl's NDEBUG builds); turn it off before gRPC makes a mutex.
 * Looked up at run time: the symbol is C++ and its inline namespace names
 * the absl build; another build simply keeps its default. */
static void absl_deadlock_detection_off(void)
{
    static const char *const names[] = {
        "_ZN4absl7debian329SetMutexDeadlockDetectionModeENS0_15OnDeadlockCycleE",
        "_ZN4absl12lts_2022062329SetMutexDeadlockDetectionModeENS0_15OnDeadlockCycleE",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        void (*set_mode)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, names[i]);
        if (set_mode != NULL) {
            set_mode(0); /* absl::OnDeadlockCycle::kIgnore */
            return;
        }
    }
}

int gw_grpc_client_init(gw_worker_t *w, const gw_grpc_upstream_t *ups, size_t nups, char *err, size_t errlen)
{
    static unsigned char before[MAX_SCAN_FD], after[MAX_SCAN_FD];
    scan_epoll_fds(before);
    absl_deadlock_detection_off();
    grpc_init();
    scan_epoll_fds(after);
    gw_grpc_client_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->grpc = c;
    grpc_channel_credentials *creds = make_credentials(w->cfg, err, errlen);
    if (creds == NULL)
        return -1;
    /* Message limits follow the config (gRPC's default receive limit is
     * 4 MiB, whatever MAX_RESPONSE_SIZE says). */
    long send = w->cfg->max_request_size + w->cfg->max_uri_size + SEND_OVERHEAD;
    c->max_send = send > INT_MAX ? INT_MAX : send;
    c->max_recv = w->cfg->max_response_size > INT_MAX ? INT_MAX : w->cfg->max_response_size;
    /* Reconnect quickly after a backend restart (gRPC's default backoff
     * grows to two minutes, during which every call would fail fast).
     * gRPC core 1.51 takes GRPC_ARG_MIN_RECONNECT_BACKOFF_MS as the
     * connect timeout of an attempt (TCP + TLS + the server's SETTINGS;
     * measured: 100 gives up after 0.1 s, 2000 after 2.0 s), not as a
     * backoff. It is half of REQUEST_TIMEOUT, 100 ms to 5 s (Envoy's
     * default): a slow TLS handshake is not cut off, and a backend that
     * never completes one fails as "connect timeout" before the request's
     * own deadline turns it into a 504. */
    long connect_ms = (long)(w->cfg->request_timeout * 500);
    connect_ms = connect_ms < 100 ? 100 : connect_ms > 5000 ? 5000 : connect_ms;
    grpc_arg args[] = {
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH,
         .value.integer = (int)c->max_send},
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         .value.integer = (int)c->max_recv},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, .value.integer = 100},
        /* Despite its name this is the minimum connect timeout (see connect_ms):
         * 100 ms failed a new worker's first calls with 502 when a loaded backend
         * was slow to handshake. */
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
         .value.integer = (int)connect_ms},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, .value.integer = 1000},
        {.type = GRPC_ARG_INTEGER,
         .key = GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS,
         .value.integer = 1000},
        /* Per-call work we do not use (measured on the REST→gRPC route):
         * the retry filter, which holds on to every message for a retry we
         * never configure, and channelz's per-call counters. (A minimal
         * stack would save more, but it also drops the message size
         * filter that MAX_RESPONSE_SIZE relies on, and deadline checks.) */
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ENABLE_RETRIES, .value.integer = 0},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ENABLE_CHANNELZ, .value.integer = 0},
    };
    grpc_channel_args chargs = {.num_args = sizeof(args) / sizeof(args[0]), .args = args};
    for (size_t i = 0; i < nups; i++) {
        unsigned s = ups[i].slot;
        if (s >= GW_SVC_MAX || ups[i].target == NULL || ups[i].target[0] == '\0')
            continue;
        if (c->channels[s] != NULL)
            grpc_channel_destroy(c->channels[s]);
        c->channels[s] = grpc_channel_create(ups[i].target, creds, &chargs);
        c->targets[s] = ups[i].target;
    }
    grpc_channel_credentials_release(creds);
    c->cq = grpc_completion_queue_create_for_next(NULL);
    if (start_loop_polling(c, w->ctx.loop, new_epoll_fd(before, after)))
        return 0;
    gw_log_line_t l;
    gw_log_begin(&l, GW_LOG_WARN, "gRPC core's epoll fd not found: completions go through a thread");
    gw_log_end(&l);
    h2o_multithread_register_receiver(w->ctx.queue, &c->receiver, on_completions);
    if (pthread_create(&c->thread, NULL, cq_thread_main, c) != 0) {
        snprintf(err, errlen, "cannot start the gRPC completion thread");
        return -1;
    }
    c->thread_started = true;
    return 0;
}

void gw_grpc_client_shutdown(gw_worker_t *w)
{
    gw_grpc_client_t *c = w->grpc;
    if (c == NULL)
        return;
    if (c->inflight > 0)
        return; /* forced exit at the drain deadline: the process is going away */
    if (c->thread_started) {
        grpc_completion_queue_shutdown(c->cq);
        pthread_join(c->thread, NULL);
        h2o_multithread_unregister_receiver(w->ctx.queue, &c->receiver);
    } else if (c->poll_sock != NULL) {
        stop_loop_polling(c);
        grpc_completion_queue_shutdown(c->cq);
        while (grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
               GRPC_QUEUE_SHUTDOWN)
            ;
    }
    grpc_completion_queue_destroy(c->cq);
    for (unsigned s = 0; s < GW_SVC_MAX; s++)
        if (c->channels[s] != NULL)
            grpc_channel_destroy(c->channels[s]);
    free(c);
    w->grpc = NULL;
    grpc_shutdown();
}

static gw_grpc_call_t *new_call(const gw_grpc_md_t *md, size_t nmd)
{
    size_t extra = 0;
    for (size_t i = 0; i < nmd; i++)
        extra += md[i].value_len;
    gw_grpc_call_t *call = calloc(1, sizeof(*call) + extra);
    if (call == NULL)
        return NULL;
    grpc_metadata_array_init(&call->initial_md);
    grpc_metadata_array_init(&call->trailing_md);
    call->details = grpc_empty_slice();
    char *p = call->storage;
    for (size_t i = 0; i < nmd && i < GW_GRPC_MAX_MD; i++) {
        memcpy(p, md[i].value, md[i].value_len);
        call->md[i].key = grpc_slice_from_static_string(md[i].key);
        call->md[i].value = grpc_slice_from_static_buffer(p, md[i].value_len);
        p += md[i].value_len;
    }
    return call;
}

gw_grpc_call_t *gw_grpc_call_start(gw_worker_t *w, unsigned slot, const char *method, const uint8_t *payload,
                                   size_t len, const gw_grpc_md_t *md, size_t nmd, uint64_t deadline_us,
                                   gw_grpc_done_cb done, void *data)
{
    gw_grpc_client_t *c = w->grpc;
    if (c == NULL || slot >= GW_SVC_MAX || c->channels[slot] == NULL)
        return NULL;
    if (nmd > GW_GRPC_MAX_MD)
        nmd = GW_GRPC_MAX_MD;
    gw_grpc_call_t *call = new_call(md, nmd);
    if (call == NULL)
        return NULL;
    call->client = c;
    call->done = done;
    call->data = data;
    call->start_us = gw_now_us();
    call->sent_len = len;
    int64_t left_us = (int64_t)deadline_us - (int64_t)call->start_us;
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                                         gpr_time_from_micros(left_us > 0 ? left_us : 0, GPR_TIMESPAN));
    call->call = grpc_channel_create_call(c->channels[slot], NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                          grpc_slice_from_static_string(method), NULL, deadline, NULL);
    grpc_slice body = grpc_slice_from_copied_buffer((const char *)payload, len);
    call->send_buf = grpc_raw_byte_buffer_create(&body, 1);
    grpc_slice_unref(body);

    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = nmd;
    ops[0].data.send_initial_metadata.metadata = call->md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = call->send_buf;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &call->initial_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &call->recv_buf;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &call->trailing_md;
    ops[5].data.recv_status_on_client.status = &call->status;
    ops[5].data.recv_status_on_client.status_details = &call->details;
    if (grpc_call_start_batch(call->call, ops, 6, call, NULL) != GRPC_CALL_OK) {
        free_call(call);
        return NULL;
    }
    c->inflight++;
    return call;
}

void gw_grpc_call_cancel(gw_grpc_call_t *call)
{
    grpc_call_cancel(call->call, NULL);
}

const gw_grpc_result_t *gw_grpc_call_result(const gw_grpc_call_t *call)
{
    return &call->result;
}

size_t gw_grpc_max_send(const gw_worker_t *w)
{
    const gw_grpc_client_t *c = w->grpc;
    return c != NULL ? (size_t)c->max_send : SIZE_MAX;
}

unsigned gw_grpc_result_code(const gw_grpc_result_t *res)
{
    switch (res->local_limit) {
    case GW_GRPC_LIMIT_SEND:
        return GW_CODE_REQUEST_TOO_LARGE;
    case GW_GRPC_LIMIT_RECV:
        return GW_CODE_RESPONSE_TOO_LARGE;
    default:
        return (unsigned)res->status < 17 ? (unsigned)res->status : GRPC_STATUS_UNKNOWN;
    }
}

int gw_grpc_status_to_http(grpc_status_code code)
{
    switch (code) {
    case GRPC_STATUS_OK:
        return 200;
    case GRPC_STATUS_INVALID_ARGUMENT:
    case GRPC_STATUS_FAILED_PRECONDITION:
    case GRPC_STATUS_OUT_OF_RANGE:
        return 400;
    case GRPC_STATUS_UNAUTHENTICATED:
        return 401;
    case GRPC_STATUS_PERMISSION_DENIED:
        return 403;
    case GRPC_STATUS_NOT_FOUND:
        return 404;
    case GRPC_STATUS_ALREADY_EXISTS:
    case GRPC_STATUS_ABORTED:
        return 409;
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
        return 429;
    case GRPC_STATUS_CANCELLED:
        return 499;
    case GRPC_STATUS_UNIMPLEMENTED:
        return 501;
    case GRPC_STATUS_UNAVAILABLE:
        return 503;
    case GRPC_STATUS_DEADLINE_EXCEEDED:
        return 504;
    default:
        return 500;
    }
}

/* The host part of "host:port" (brackets kept for IPv6 literals). */
static void target_host(const char *target, char *out, size_t len)
{
    const char *colon = strrchr(target, ':');
    size_t n = colon ? (size_t)(colon - target) : strlen(target);
    if (n >= len)
        n = len - 1;
    memcpy(out, target, n);
    out[n] = '\0';
}

int gw_grpc_error_response(const gw_worker_t *w, unsigned slot, const gw_grpc_result_t *res, char *message,
                           size_t len, bool *transport)
{
    const char *d = res->details;
    *transport = false;
    if (res->local_limit == GW_GRPC_LIMIT_RECV) {
        snprintf(message, len, "backend response too large");
        return 502;
    }
    if (res->local_limit == GW_GRPC_LIMIT_SEND) {
        snprintf(message, len, "request body too large");
        return 413;
    }
    if (res->reason != GW_REASON_NONE) {
        char host[256];
        const char *target = gw_grpc_target(w, slot);
        target_host(target != NULL ? target : "", host, sizeof(host));
        gw_reason_message(res->reason, host, strlen(host), message, len);
        *transport = true;
        return 502;
    }
    if (res->status == GRPC_STATUS_DEADLINE_EXCEEDED) {
        snprintf(message, len, "context deadline exceeded");
        return 504;
    }
    snprintf(message, len, "%s", d[0] != '\0' ? d : gw_met_code_names[res->status < 17 ? res->status : 2]);
    return gw_grpc_status_to_http(res->status);
}
