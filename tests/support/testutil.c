#include "testutil.h"

#include <stdlib.h>

int tu_rng(void *user, uint8_t *buf, size_t len)
{
    uint64_t *s = user;
    for (size_t i = 0; i < len; i++) {
        uint64_t x = *s;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *s = x;
        buf[i] = (uint8_t)(x >> 24);
    }
    return 0;
}

static void *count_alloc(void *user, size_t size)
{
    tu_alloc_stats *st = user;
    if (st->fail_after != 0 && st->total_allocs + 1 >= st->fail_after) {
        return NULL;
    }
    void *p = malloc(size);
    if (p != NULL) {
        st->live_allocs++;
        st->total_allocs++;
        st->live_bytes += size;
        if (st->live_bytes > st->peak_bytes) {
            st->peak_bytes = st->live_bytes;
        }
    }
    return p;
}

static void count_free(void *user, void *ptr, size_t size)
{
    tu_alloc_stats *st = user;
    if (ptr == NULL) {
        return;
    }
    st->live_allocs--;
    st->live_bytes -= size;
    free(ptr);
}

sdtls_allocator tu_counting_allocator(tu_alloc_stats *st)
{
    sdtls_allocator a = {count_alloc, count_free, st};
    return a;
}
