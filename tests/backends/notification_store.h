/*
 * demo-backend: the notification service's in-memory list of queued
 * notifications (single-threaded: the HTTP server runs on one event loop).
 */
#ifndef DEMO_NOTIFICATION_STORE_H
#define DEMO_NOTIFICATION_STORE_H

#include <jansson.h>

/* Stores a notification for channel with payload (borrowed); returns the
 * 201 body {"id","status":"queued","channel","created_at"} (caller decrefs). */
json_t *notif_store_add(const char *channel, json_t *payload);
/* {"notifications":[newest first, at most limit], "total": n}; channel
 * filters when not NULL. */
json_t *notif_store_list(long limit, const char *channel);
/* The notification with this id, or NULL. */
json_t *notif_store_get(const char *id);
void notif_store_fini(void);

#endif
