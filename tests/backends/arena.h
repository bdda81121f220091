/*
 * demo-backend: per-call bump allocator. Everything a call decodes, builds
 * and renders lives here and is released at once when the call ends.
 */
#ifndef DEMO_ARENA_H
#define DEMO_ARENA_H

#include <stddef.h>

struct arena_chunk;

typedef struct {
    struct arena_chunk *head;
} arena_t;

/* Zeroed, max-aligned memory; aborts on OOM. */
void *arena_alloc(arena_t *a, size_t n);
char *arena_strndup(arena_t *a, const char *s, size_t n);
void arena_free(arena_t *a);

#endif
