/* clock.h - the monotonic clock, in milliseconds, for deadlines and rate limits */
#ifndef SK_CLOCK_H
#define SK_CLOCK_H

#include <stdint.h>

/* Milliseconds since an arbitrary start (CLOCK_MONOTONIC): never goes
   back, and does not follow changes of the wall clock. */
uint64_t sk_clock_ms(void);

#endif
