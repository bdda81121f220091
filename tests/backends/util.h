/*
 * demo-backend: small helpers shared by every service: identifiers and
 * timestamps, allocation, string checks, pagination and listening sockets.
 */
#ifndef DEMO_UTIL_H
#define DEMO_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UUID_STR_LEN 37 /* 36 chars + NUL */
#define TIME_STR_LEN 32

void uuid4(char out[UUID_STR_LEN]);
/* 32 random bytes as 64 hex chars + NUL. */
void random_token(char out[65]);
/* Current UTC time as RFC 3339, e.g. 2026-01-15T10:30:00Z. */
void now_rfc3339(char out[TIME_STR_LEN]);
double now_unix(void);
uint64_t mono_ms(void);

/* malloc/strdup that abort on OOM (the demo has no graceful OOM story). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* Replaces *dst with a copy of src. */
void set_str(char **dst, const char *src);

bool str_empty(const char *s);
bool valid_email(const char *s);
bool starts_with_ci(const char *s, const char *prefix);
bool contains_ci(const char *haystack, const char *needle);

/* Normalises page (default 1) and page_size (default 20, at most 100). */
void page_normalize(int32_t *page, int32_t *page_size);
/* Index range [*from, *to) of `page` within `total` items. */
void page_range(int32_t page, int32_t page_size, size_t total, size_t *from, size_t *to);

/* Parses HOST:PORT ("[::1]:80", ":80" → 0.0.0.0). Returns 0 or -1. */
int parse_host_port(const char *s, char *host, size_t hostlen, int *port);
/* Opens a listening TCP socket; returns fd or -1 with errno set. */
int tcp_listen(const char *host, int port, int *bound_port);

#endif
