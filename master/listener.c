/*
 * Opening the shared listening socket (see master/listener.h).
 */
#include "master/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTEN_BACKLOG 4096

/* The passive address to bind; 0, or getaddrinfo's error code. */
static int resolve(const char *host, long port, struct addrinfo **res)
{
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%ld", port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    *res = NULL;
    return getaddrinfo(host, portstr, &hints, res);
}

int gw_listener_check(const char *host, long port, char *err, size_t errlen)
{
    struct addrinfo *res;
    int rc = resolve(host, port, &res);
    if (rc != 0) {
        snprintf(err, errlen, "API_GATEWAY_HOST: cannot resolve \"%s\": %s", host, gai_strerror(rc));
        return -1;
    }
    freeaddrinfo(res);
    return 0;
}

int gw_listener_open(const char *host, long port, char *err, size_t errlen)
{
    struct addrinfo *res;
    int rc = resolve(host, port, &res);
    if (rc != 0) {
        snprintf(err, errlen, "listen %s:%ld: %s", host, port, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int saved = errno;
    if (fd >= 0) {
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        const char *fmt = strchr(host, ':') ? "listen [%s]:%ld: %s" : "listen %s:%ld: %s";
        snprintf(err, errlen, fmt, host, port, strerror(saved));
    }
    return fd;
}
