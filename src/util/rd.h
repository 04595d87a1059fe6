/*
 * Bounds-checked reader. All wire parsing goes through it: no other file does pointer
 * arithmetic on received bytes. A failed read leaves the cursor unchanged and returns
 * SDTLS_ALERT(DECODE_ERROR).
 */
#ifndef SDTLS_RD_H
#define SDTLS_RD_H

#include "common.h"

typedef struct sdtls_rd {
    const uint8_t *p, *end;
} sdtls_rd;

static inline sdtls_rd sdtls_rd_init(const uint8_t *p, size_t len)
{
    /* NULL + 0 is undefined in C: an empty reader over NULL stays NULL. */
    sdtls_rd r = {p, p != NULL ? p + len : p};
    return r;
}
static inline size_t sdtls_rd_left(const sdtls_rd *r)
{
    return (size_t)(r->end - r->p);
}

SDTLS_MUST_CHECK int sdtls_rd_u8(sdtls_rd *r, uint8_t *v);
SDTLS_MUST_CHECK int sdtls_rd_u16(sdtls_rd *r, uint16_t *v);
SDTLS_MUST_CHECK int sdtls_rd_u24(sdtls_rd *r, uint32_t *v);
SDTLS_MUST_CHECK int sdtls_rd_u32(sdtls_rd *r, uint32_t *v);
SDTLS_MUST_CHECK int sdtls_rd_u48(sdtls_rd *r, uint64_t *v);
SDTLS_MUST_CHECK int sdtls_rd_u64(sdtls_rd *r, uint64_t *v);
/* Take n bytes: *bytes points into the input. */
SDTLS_MUST_CHECK int sdtls_rd_take(sdtls_rd *r, size_t n, const uint8_t **bytes);
SDTLS_MUST_CHECK int sdtls_rd_copy(sdtls_rd *r, void *dst, size_t n);
SDTLS_MUST_CHECK int sdtls_rd_skip(sdtls_rd *r, size_t n);
/* Open a vector with a len_bytes (1, 2 or 3) length prefix whose value must lie in
 * [min, max] (the RFC's <min..max>); inner covers its body. */
SDTLS_MUST_CHECK int sdtls_rd_vec(sdtls_rd *r, size_t len_bytes, size_t min, size_t max,
                                  sdtls_rd *inner);
/* Fails with SDTLS_ALERT(DECODE_ERROR) unless every byte was consumed. */
SDTLS_MUST_CHECK int sdtls_rd_done(const sdtls_rd *r);

#endif
