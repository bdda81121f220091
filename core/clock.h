/*
 * Clocks used throughout both processes (core/clock.c): monotonic time for
 * intervals and deadlines, wall time for timestamps shown to people.
 */
#ifndef GW_CLOCK_H
#define GW_CLOCK_H

#include <stdint.h>

uint64_t gw_now_ms(void);  /* CLOCK_MONOTONIC */
uint64_t gw_wall_ms(void); /* CLOCK_REALTIME */
uint64_t gw_now_us(void);  /* CLOCK_MONOTONIC */

#endif
