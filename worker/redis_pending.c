/*
 * A request waiting for a Redis reply (see worker/redis_pending.h).
 */
#include "worker/redis_pending.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

typedef struct {
    gw_pending_t pending; /* r->pending points here while the command is out */
    gw_redis_cmd_t *cmd;
    gw_redis_pending_cb cb;
    void *data;
    void (*dispose)(void *data);
    uint64_t sent_us;
} redis_pending_t;

/* The request went away first: the command may still reach Redis, but its
 * reply is dropped unseen. */
static void cancel(gw_pending_t *p)
{
    redis_pending_t *op = H2O_STRUCT_FROM_MEMBER(redis_pending_t, pending, p);
    gw_redis_abandon(op->cmd);
    if (op->dispose != NULL)
        op->dispose(op->data);
    free(op);
}

static void on_reply(const redisReply *reply, const char *error, void *opaque)
{
    redis_pending_t *op = opaque;
    gw_request_t *r = op->pending.req;
    gw_redis_pending_cb cb = op->cb;
    void *data = op->data;
    uint64_t waited = gw_now_us() - op->sent_us;
    r->pending = NULL;
    free(op);
    cb(r, reply, error, data, waited);
}

bool gw_redis_pending_start(gw_request_t *r, gw_redis_pending_cb cb, void *data, void (*dispose)(void *data),
                            int argc, const char **argv, const size_t *argvlen)
{
    redis_pending_t *op = calloc(1, sizeof(*op));
    if (op == NULL)
        return false;
    op->cb = cb;
    op->data = data;
    op->dispose = dispose;
    op->sent_us = gw_now_us();
    op->cmd = gw_redis_command(r->w, on_reply, op, argc, argv, argvlen);
    if (op->cmd == NULL) { /* the callback will never run */
        free(op);
        return false;
    }
    op->pending.req = r;
    op->pending.cancel = cancel;
    r->pending = &op->pending;
    return true;
}

gw_held_reply_t *gw_held_reply_new(const char *body, size_t len)
{
    gw_held_reply_t *held = malloc(sizeof(*held) + len);
    if (held == NULL)
        return NULL;
    memcpy(held->body, body, len);
    held->len = len;
    return held;
}
