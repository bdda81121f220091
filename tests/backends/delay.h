/*
 * demo-backend: --latency-ms for gRPC replies. One timer thread holds a FIFO
 * of pending replies (every entry has the same delay, so FIFO order is due
 * order) and runs each callback when it is due. Nothing blocks a
 * completion-queue thread, so concurrent calls are delayed concurrently.
 */
#ifndef DEMO_DELAY_H
#define DEMO_DELAY_H

typedef void (*delay_fn)(void *arg);

int delay_start(unsigned delay_ms);
/* Runs fn(arg) delay_ms from now (inline when the queue is stopped). */
void delay_push(delay_fn fn, void *arg);
/* Stops the thread; callbacks still pending run immediately. */
void delay_stop(void);

#endif
