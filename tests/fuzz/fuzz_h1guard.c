/*
 * libFuzzer target for the HTTP/1 head guard (worker/h1guard.c), called as
 * libh2o calls phr_parse_request (ours, which calls the real parser through
 * dlsym(RTLD_NEXT)). Any bytes, fed whole and then again as a continuation
 * (last_len), must give -1, -2 or a length within the input; every pointer
 * returned lies in the input or in the guard's static strings (ASan checks
 * the reads); a head that is passed on never carries two Content-Length or
 * Host lines, nor Transfer-Encoding with Content-Length; a substitute head
 * has no body framing and closes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "worker/h1guard.h"

static volatile size_t sink;

static void touch(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        sink += (unsigned char)p[i];
}

static size_t count(const struct phr_header *h, size_t n, const char *name)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += h[i].name != NULL && h[i].name_len == strlen(name) &&
             strncasecmp(h[i].name, name, h[i].name_len) == 0;
    return c;
}

static void check(const char *buf, size_t size, size_t last_len)
{
    const char *method, *path;
    size_t method_len, path_len, n = 100;
    int minor;
    struct phr_header h[100];
    int ret = phr_parse_request(buf, size, &method, &method_len, &path, &path_len, &minor, h, &n, last_len);
    if (ret == -1 || ret == -2)
        return;
    if (ret < 0 || (size_t)ret > size || n > 100)
        abort();
    touch(method, method_len);
    touch(path, path_len);
    for (size_t i = 0; i < n; i++) {
        if (h[i].name != NULL)
            touch(h[i].name, h[i].name_len);
        touch(h[i].value, h[i].value_len);
    }
    /* A client may send a field of that name; only the guard's points outside the input. */
    bool substitute = n > 0 && h[0].name_len == 12 && memcmp(h[0].name, "x-gw-h1guard", 12) == 0 &&
                      (h[0].value < buf || h[0].value >= buf + size);
    size_t cl = count(h, n, "content-length"), te = count(h, n, "transfer-encoding");
    if (substitute && (cl != 0 || te != 0 || count(h, n, "connection") != 1))
        abort();
    if (!substitute && (cl > 1 || te > 1 || (te && cl) || count(h, n, "host") > 1))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1); /* exact size: an over-read is an ASan report */
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    check(buf, size, 0);
    check(buf, size, size / 2);
    free(buf);
    return 0;
}
