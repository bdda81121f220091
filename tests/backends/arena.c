/*
 * demo-backend: per-call bump allocator (see arena.h).
 */
#include "tests/backends/arena.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "tests/backends/util.h"

#define CHUNK_SIZE 4096

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

static struct arena_chunk *new_chunk(size_t cap)
{
    struct arena_chunk *c = xmalloc(sizeof *c + cap);
    c->next = NULL;
    c->used = 0;
    c->cap = cap;
    return c;
}

void *arena_alloc(arena_t *a, size_t n)
{
    const size_t align = alignof(max_align_t);
    struct arena_chunk *c = a->head;
    void *p;
    n = (n + align - 1) & ~(align - 1);
    if (c == NULL || c->cap - c->used < n) {
        if (n > CHUNK_SIZE / 4) {
            /* big block: own chunk, kept behind the current one */
            struct arena_chunk *big = new_chunk(n);
            if (c != NULL) {
                big->next = c->next;
                c->next = big;
            } else {
                a->head = big;
            }
            big->used = n;
            return memset(big->data, 0, n);
        }
        c = new_chunk(CHUNK_SIZE);
        c->next = a->head;
        a->head = c;
    }
    p = c->data + c->used;
    c->used += n;
    return memset(p, 0, n);
}

char *arena_strndup(arena_t *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void arena_free(arena_t *a)
{
    struct arena_chunk *c = a->head;
    while (c != NULL) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}
