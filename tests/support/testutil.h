/* Shared helpers for the cmocka tests: a deterministic RNG and a counting allocator. */
#ifndef SDTLS_TESTUTIL_H
#define SDTLS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "sdtls.h"

/* xorshift-based deterministic RNG; state is a uint64_t seed (never 0). */
int tu_rng(void *user, uint8_t *buf, size_t len);

/* Counting allocator: counts live allocations and bytes, fails after `fail_after` allocations
 * if that is non-zero. */
typedef struct tu_alloc_stats {
    size_t live_allocs, live_bytes, total_allocs, peak_bytes;
    size_t fail_after;
} tu_alloc_stats;
sdtls_allocator tu_counting_allocator(tu_alloc_stats *st);

/* Count libcrypto's own heap (key objects, cipher contexts) too. Must run before libcrypto
 * allocates anything, so first in main(); returns 0, or -1 if it is too late. The counters
 * (fail_after unused) are then at tu_crypto_heap(). */
int tu_count_crypto_heap(void);
tu_alloc_stats *tu_crypto_heap(void);

#endif
