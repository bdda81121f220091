/*
 * The listening socket, opened once by the master and inherited by every
 * worker generation (no per-worker SO_REUSEPORT sockets: those drop their
 * queued connections when a worker closes them during a reload).
 */
#ifndef GW_LISTENER_H
#define GW_LISTENER_H

#include <stddef.h>

/* Returns the fd, or -1 with "listen 0.0.0.0:8080: Address already in use". */
int gw_listener_open(const char *host, long port, char *err, size_t errlen);

#endif
