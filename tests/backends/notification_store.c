/*
 * demo-backend: the notification service's in-memory list (see
 * notification_store.h). Notifications are kept as JSON objects.
 */
#include "tests/backends/notification_store.h"

#include <string.h>

#include "tests/backends/containers.h"
#include "tests/backends/util.h"

static ptrvec_t all;   /* json_t * objects, oldest first */
static strmap_t by_id; /* id → json_t * (borrowed from all) */

json_t *notif_store_add(const char *channel, json_t *payload)
{
    char id[UUID_STR_LEN], now[TIME_STR_LEN];
    json_t *n;
    uuid4(id);
    now_rfc3339(now);
    n = json_pack("{s:s, s:s, s:s, s:s, s:O}", "id", id, "status", "queued", "channel", channel, "created_at",
                  now, "payload", payload);
    ptrvec_push(&all, n);
    strmap_put(&by_id, id, n);
    return json_pack("{s:s, s:s, s:s, s:s}", "id", id, "status", "queued", "channel", channel, "created_at",
                     now);
}

json_t *notif_store_list(long limit, const char *channel)
{
    json_t *list = json_array();
    size_t total = 0;
    for (size_t i = all.n; i-- > 0;) {
        json_t *n = all.v[i];
        if (channel != NULL && strcmp(json_string_value(json_object_get(n, "channel")), channel) != 0)
            continue;
        total++;
        if ((long)json_array_size(list) < limit)
            json_array_append(list, n);
    }
    return json_pack("{s:o, s:I}", "notifications", list, "total", (json_int_t)total);
}

json_t *notif_store_get(const char *id)
{
    json_t *n = strmap_get(&by_id, id);
    return n ? json_incref(n) : NULL;
}

void notif_store_fini(void)
{
    for (size_t i = 0; i < all.n; i++)
        json_decref(all.v[i]);
    ptrvec_free(&all);
    strmap_free(&by_id, NULL);
}
