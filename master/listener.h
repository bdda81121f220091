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

/* What `-t` checks of the listening address without binding it: that
 * API_GATEWAY_HOST resolves to a local address family we can open. Returns 0,
 * or -1 with "API_GATEWAY_HOST: cannot resolve "x": Name or service not known". */
int gw_listener_check(const char *host, long port, char *err, size_t errlen);

#endif
