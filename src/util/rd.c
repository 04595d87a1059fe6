#include "rd.h"

static int rd_be(sdtls_rd *r, size_t n, uint64_t *v)
{
    if (sdtls_rd_left(r) < n) {
        return SDTLS_ALERT(DECODE_ERROR);
    }
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        x = (x << 8) | r->p[i];
    }
    r->p += n;
    *v = x;
    return 0;
}

int sdtls_rd_u8(sdtls_rd *r, uint8_t *v)
{
    uint64_t x;
    SDTLS_TRY(rd_be(r, 1, &x));
    *v = (uint8_t)x;
    return 0;
}

int sdtls_rd_u16(sdtls_rd *r, uint16_t *v)
{
    uint64_t x;
    SDTLS_TRY(rd_be(r, 2, &x));
    *v = (uint16_t)x;
    return 0;
}

int sdtls_rd_u24(sdtls_rd *r, uint32_t *v)
{
    uint64_t x;
    SDTLS_TRY(rd_be(r, 3, &x));
    *v = (uint32_t)x;
    return 0;
}

int sdtls_rd_u32(sdtls_rd *r, uint32_t *v)
{
    uint64_t x;
    SDTLS_TRY(rd_be(r, 4, &x));
    *v = (uint32_t)x;
    return 0;
}

int sdtls_rd_u48(sdtls_rd *r, uint64_t *v)
{
    return rd_be(r, 6, v);
}

int sdtls_rd_u64(sdtls_rd *r, uint64_t *v)
{
    return rd_be(r, 8, v);
}

int sdtls_rd_take(sdtls_rd *r, size_t n, const uint8_t **bytes)
{
    if (sdtls_rd_left(r) < n) {
        return SDTLS_ALERT(DECODE_ERROR);
    }
    *bytes = r->p;
    r->p += n;
    return 0;
}

int sdtls_rd_copy(sdtls_rd *r, void *dst, size_t n)
{
    const uint8_t *b;
    SDTLS_TRY(sdtls_rd_take(r, n, &b));
    if (n > 0) {
        memcpy(dst, b, n);
    }
    return 0;
}

int sdtls_rd_skip(sdtls_rd *r, size_t n)
{
    const uint8_t *b;
    return sdtls_rd_take(r, n, &b);
}

int sdtls_rd_vec(sdtls_rd *r, size_t len_bytes, size_t min, size_t max, sdtls_rd *inner)
{
    if (len_bytes < 1 || len_bytes > 3) {
        return SDTLS_ALERT(INTERNAL_ERROR);
    }
    sdtls_rd save = *r;
    uint64_t n;
    SDTLS_TRY(rd_be(r, len_bytes, &n));
    if (n < min || n > max || n > sdtls_rd_left(r)) {
        *r = save;
        return SDTLS_ALERT(DECODE_ERROR);
    }
    inner->p = r->p;
    inner->end = r->p + n;
    r->p += n;
    return 0;
}

int sdtls_rd_done(const sdtls_rd *r)
{
    return r->p == r->end ? 0 : SDTLS_ALERT(DECODE_ERROR);
}
