/*
 * demo-backend: string-keyed hash map (open addressing, linear probing,
 * tombstones, keys copied) and insertion-ordered pointer vector. Not
 * thread-safe: the stores lock around them.
 */
#include "tests/backends/containers.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tests/backends/util.h"

#define TOMBSTONE ((char *)&tombstone_marker)
static const char tombstone_marker = 0;

struct strmap_slot {
    char *key; /* NULL = never used, TOMBSTONE = deleted */
    void *val;
};

static uint64_t hash_key(const char *s, bool ci)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        h = (h ^ (ci ? (unsigned char)tolower(ch) : ch)) * 1099511628211ULL;
    }
    return h;
}

static bool key_eq(const strmap_t *m, const char *a, const char *b)
{
    return m->ci ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

void strmap_init(strmap_t *m, bool case_insensitive)
{
    memset(m, 0, sizeof *m);
    m->ci = case_insensitive;
}

/* Slot holding key, or NULL. */
static struct strmap_slot *find(const strmap_t *m, const char *key)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = hash_key(key, m->ci) & mask;; i = (i + 1) & mask) {
        struct strmap_slot *s = &m->slots[i];
        if (s->key == NULL)
            return NULL;
        if (s->key != TOMBSTONE && key_eq(m, s->key, key))
            return s;
    }
}

void *strmap_get(const strmap_t *m, const char *key)
{
    struct strmap_slot *s = find(m, key);
    return s ? s->val : NULL;
}

static void insert_new(strmap_t *m, char *key, void *val)
{
    size_t mask = m->cap - 1;
    size_t i = hash_key(key, m->ci) & mask;
    while (m->slots[i].key != NULL && m->slots[i].key != TOMBSTONE)
        i = (i + 1) & mask;
    if (m->slots[i].key == NULL)
        m->used++;
    m->slots[i].key = key;
    m->slots[i].val = val;
    m->live++;
}

static void grow(strmap_t *m)
{
    struct strmap_slot *old = m->slots;
    size_t old_cap = m->cap;
    size_t cap = old_cap ? old_cap : 16;
    while (m->live * 2 + 2 > cap)
        cap *= 2;
    m->slots = xcalloc(cap, sizeof *m->slots);
    m->cap = cap;
    m->used = m->live = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key != NULL && old[i].key != TOMBSTONE)
            insert_new(m, old[i].key, old[i].val);
    free(old);
}

void strmap_put(strmap_t *m, const char *key, void *val)
{
    struct strmap_slot *s = find(m, key);
    if (s != NULL) {
        s->val = val;
        return;
    }
    if ((m->used + 1) * 10 > m->cap * 7)
        grow(m);
    insert_new(m, xstrdup(key), val);
}

void *strmap_del(strmap_t *m, const char *key)
{
    struct strmap_slot *s = find(m, key);
    void *val;
    if (s == NULL)
        return NULL;
    val = s->val;
    free(s->key);
    s->key = TOMBSTONE;
    s->val = NULL;
    m->live--;
    return val;
}

void strmap_free(strmap_t *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key != NULL && m->slots[i].key != TOMBSTONE) {
            free(m->slots[i].key);
            if (free_val != NULL)
                free_val(m->slots[i].val);
        }
    }
    free(m->slots);
    strmap_init(m, m->ci);
}

void ptrvec_push(ptrvec_t *p, void *x)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->v = xrealloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n++] = x;
}

bool ptrvec_remove(ptrvec_t *p, void *x)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i] == x) {
            memmove(&p->v[i], &p->v[i + 1], (p->n - i - 1) * sizeof *p->v);
            p->n--;
            return true;
        }
    }
    return false;
}

void ptrvec_free(ptrvec_t *p)
{
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}
