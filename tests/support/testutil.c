#include "testutil.h"

#include <stdlib.h>

#include <openssl/crypto.h>

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

/* ---- libcrypto's heap ----------------------------------------------------------------------
 * Each block carries its size in a 16-byte header (16 keeps the alignment malloc gives), so
 * free can subtract it. Tests are single-threaded. */

static tu_alloc_stats ossl_stats;
#define OSSL_HDR 16

static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    unsigned char *p = malloc(n + OSSL_HDR);
    if (p == NULL) {
        return NULL;
    }
    *(size_t *)p = n;
    ossl_stats.live_allocs++;
    ossl_stats.total_allocs++;
    ossl_stats.live_bytes += n;
    if (ossl_stats.live_bytes > ossl_stats.peak_bytes) {
        ossl_stats.peak_bytes = ossl_stats.live_bytes;
    }
    return p + OSSL_HDR;
}

static void ossl_free(void *ptr, const char *file, int line)
{
    (void)file;
    (void)line;
    if (ptr == NULL) {
        return;
    }
    unsigned char *p = (unsigned char *)ptr - OSSL_HDR;
    ossl_stats.live_allocs--;
    ossl_stats.live_bytes -= *(size_t *)p;
    free(p);
}

static void *ossl_realloc(void *ptr, size_t n, const char *file, int line)
{
    if (ptr == NULL) {
        return ossl_malloc(n, file, line);
    }
    if (n == 0) {
        ossl_free(ptr, file, line);
        return NULL;
    }
    unsigned char *p = (unsigned char *)ptr - OSSL_HDR;
    size_t old = *(size_t *)p;
    unsigned char *q = realloc(p, n + OSSL_HDR);
    if (q == NULL) {
        return NULL;
    }
    *(size_t *)q = n;
    ossl_stats.live_bytes = ossl_stats.live_bytes - old + n;
    if (ossl_stats.live_bytes > ossl_stats.peak_bytes) {
        ossl_stats.peak_bytes = ossl_stats.live_bytes;
    }
    return q + OSSL_HDR;
}

int tu_count_crypto_heap(void)
{
    return CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) == 1 ? 0 : -1;
}

tu_alloc_stats *tu_crypto_heap(void)
{
    return &ossl_stats;
}
