/*
 * demo-backend: delayed reply queue (see delay.h).
 */
#include "tests/backends/delay.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "tests/backends/util.h"

struct delay_item {
    struct delay_item *next;
    uint64_t due_ns;
    delay_fn fn;
    void *arg;
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    struct delay_item *head, **tail;
    uint64_t delay_ns;
    bool running, stopping;
} dq = {.lock = PTHREAD_MUTEX_INITIALIZER, .tail = &dq.head};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Pops the head if it is due (or we are stopping); else waits for it. */
static struct delay_item *next_due(void)
{
    for (;;) {
        struct delay_item *it = dq.head;
        if (it == NULL && dq.stopping)
            return NULL;
        if (it != NULL && (dq.stopping || it->due_ns <= mono_ns())) {
            dq.head = it->next;
            if (dq.head == NULL)
                dq.tail = &dq.head;
            return it;
        }
        if (it == NULL) {
            pthread_cond_wait(&dq.cond, &dq.lock);
        } else {
            struct timespec ts = {.tv_sec = (time_t)(it->due_ns / 1000000000ULL),
                                  .tv_nsec = (long)(it->due_ns % 1000000000ULL)};
            pthread_cond_timedwait(&dq.cond, &dq.lock, &ts);
        }
    }
}

static void *delay_thread(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&dq.lock);
    for (;;) {
        struct delay_item *it = next_due();
        if (it == NULL)
            break;
        pthread_mutex_unlock(&dq.lock);
        it->fn(it->arg);
        free(it);
        pthread_mutex_lock(&dq.lock);
    }
    pthread_mutex_unlock(&dq.lock);
    return NULL;
}

int delay_start(unsigned delay_ms)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&dq.cond, &attr);
    pthread_condattr_destroy(&attr);
    dq.delay_ns = (uint64_t)delay_ms * 1000000ULL;
    if (pthread_create(&dq.thread, NULL, delay_thread, NULL) != 0) {
        pthread_cond_destroy(&dq.cond);
        return -1;
    }
    dq.running = true;
    return 0;
}

void delay_push(delay_fn fn, void *arg)
{
    struct delay_item *it = xmalloc(sizeof *it);
    it->next = NULL;
    it->fn = fn;
    it->arg = arg;
    pthread_mutex_lock(&dq.lock);
    if (!dq.running || dq.stopping) {
        pthread_mutex_unlock(&dq.lock);
        free(it);
        fn(arg);
        return;
    }
    it->due_ns = mono_ns() + dq.delay_ns;
    *dq.tail = it;
    dq.tail = &it->next;
    if (dq.head == it)
        pthread_cond_signal(&dq.cond);
    pthread_mutex_unlock(&dq.lock);
}

void delay_stop(void)
{
    pthread_mutex_lock(&dq.lock);
    if (!dq.running) {
        pthread_mutex_unlock(&dq.lock);
        return;
    }
    dq.stopping = true;
    pthread_cond_signal(&dq.cond);
    pthread_mutex_unlock(&dq.lock);
    pthread_join(dq.thread, NULL);
    pthread_mutex_lock(&dq.lock);
    dq.running = false;
    pthread_mutex_unlock(&dq.lock);
    pthread_cond_destroy(&dq.cond);
}
