/*
 * Client hang-up watch (see worker/hangup.h) over the worker's list of
 * requests with pending work (worker/request.h). One 100 ms timer entry per
 * worker process, linked only while that list is not empty, so an idle
 * worker does no work for it.
 */
#include "worker/hangup.h"

#include <poll.h>

#include "core/log.h"
#include "worker/respond.h"

#define POLL_BATCH 256

static h2o_timeout_entry_t tick;

/* The connection's socket, or -1: only HTTP/1 connections are watched
 * (HTTP/2 needs no watch, see worker/hangup.h). */
static int client_fd(gw_request_t *r)
{
    h2o_conn_t *conn = r->req->conn;
    if (r->req->version >= 0x200 || conn == NULL || conn->callbacks->get_socket == NULL)
        return -1;
    h2o_socket_t *sock = conn->callbacks->get_socket(conn);
    return sock != NULL ? h2o_socket_get_fd(sock) : -1;
}

/* The client is gone: cancel the pending work (its completion then only
 * cleans up) and answer 499 so the access line and metrics record it and
 * h2o closes the connection. */
static void hang_up(gw_request_t *r)
{
    gw_request_cancel_pending(r); /* check_batch calls this only with work pending */
    gw_log_line_t l;
    gw_log_begin(&l, GW_LOG_INFO, "client closed the connection; pending work cancelled");
    gw_log_str(&l, "upstream", r->upstream ? r->upstream : "");
    gw_log_strn(&l, "correlation_id", r->correlation_id.base, r->correlation_id.len);
    gw_log_end(&l);
    r->req->http1_is_persistent = 0;
    gw_respond_error(r, 499, NULL, "client closed request");
}

static void check_batch(gw_request_t **reqs, struct pollfd *pfd, size_t n)
{
    if (poll(pfd, n, 0) <= 0)
        return;
    for (size_t i = 0; i < n; i++)
        if ((pfd[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) && reqs[i]->pending != NULL)
            hang_up(reqs[i]);
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    (void)entry;
    gw_request_t *reqs[POLL_BATCH];
    struct pollfd pfd[POLL_BATCH];
    h2o_linklist_t *list = gw_request_pending_list(), *node = list->next;
    /* hang_up() unlinks only the request it answers (one request per HTTP/1
     * connection), never `node`, which is past the batch. */
    while (node != list) {
        size_t n = 0;
        for (; node != list && n < POLL_BATCH; node = node->next) {
            gw_request_t *r = GW_REQUEST_OF_PENDING(node);
            int fd = client_fd(r);
            if (fd < 0)
                continue;
            reqs[n] = r;
            pfd[n] = (struct pollfd){.fd = fd, .events = POLLRDHUP};
            n++;
        }
        if (n > 0)
            check_batch(reqs, pfd, n);
    }
    gw_hangup_arm();
}

void gw_hangup_arm(void)
{
    if (!h2o_timeout_is_linked(&tick) && !h2o_linklist_is_empty(gw_request_pending_list())) {
        gw_worker_t *w = gw_worker_self();
        tick.cb = on_tick;
        h2o_timeout_link(w->ctx.loop, &w->ctx.hundred_ms_timeout, &tick);
    }
}

void gw_hangup_disarm_if_idle(void)
{
    if (h2o_linklist_is_empty(gw_request_pending_list()) && h2o_timeout_is_linked(&tick))
        h2o_timeout_unlink(&tick);
}
