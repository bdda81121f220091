/*
 * demo-backend: the containers behind the in-memory stores: a string-keyed
 * open-addressing hash map and an insertion-ordered pointer vector.
 */
#ifndef DEMO_CONTAINERS_H
#define DEMO_CONTAINERS_H

#include <stdbool.h>
#include <stddef.h>

/* ---- string-keyed open-addressing hash map (keys are copied) ------------ */
struct strmap_slot;
typedef struct {
    struct strmap_slot *slots;
    size_t cap, used, live;
    bool ci; /* keys compare case-insensitively */
} strmap_t;

void strmap_init(strmap_t *m, bool case_insensitive);
void *strmap_get(const strmap_t *m, const char *key);
void strmap_put(strmap_t *m, const char *key, void *val);
void *strmap_del(strmap_t *m, const char *key);
/* Frees the map (and each value with free_val when not NULL). */
void strmap_free(strmap_t *m, void (*free_val)(void *));

/* ---- growable pointer vector, insertion ordered ------------------------- */
typedef struct {
    void **v;
    size_t n, cap;
} ptrvec_t;

void ptrvec_push(ptrvec_t *p, void *x);
bool ptrvec_remove(ptrvec_t *p, void *x);
void ptrvec_free(ptrvec_t *p);

#endif
