#include "wr.h"

static int wr_be(sdtls_wr *w, size_t n, uint64_t v)
{
    uint8_t *p = sdtls_wr_reserve(w, n);
    if (p == NULL) {
        return SDTLS_ERR_BUF_SMALL;
    }
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    }
    return 0;
}

uint8_t *sdtls_wr_reserve(sdtls_wr *w, size_t n)
{
    if (w->overflow || w->cap - w->len < n) {
        w->overflow = 1;
        return NULL;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

int sdtls_wr_u8(sdtls_wr *w, uint8_t v)
{
    return wr_be(w, 1, v);
}
int sdtls_wr_u16(sdtls_wr *w, uint16_t v)
{
    return wr_be(w, 2, v);
}
int sdtls_wr_u24(sdtls_wr *w, uint32_t v)
{
    return wr_be(w, 3, v);
}
int sdtls_wr_u32(sdtls_wr *w, uint32_t v)
{
    return wr_be(w, 4, v);
}
int sdtls_wr_u48(sdtls_wr *w, uint64_t v)
{
    return wr_be(w, 6, v);
}
int sdtls_wr_u64(sdtls_wr *w, uint64_t v)
{
    return wr_be(w, 8, v);
}

int sdtls_wr_bytes(sdtls_wr *w, const void *src, size_t n)
{
    uint8_t *p = sdtls_wr_reserve(w, n);
    if (p == NULL) {
        return SDTLS_ERR_BUF_SMALL;
    }
    if (n > 0) {
        memcpy(p, src, n);
    }
    return 0;
}

int sdtls_wr_vec_open(sdtls_wr *w, size_t len_bytes, size_t *mark)
{
    *mark = w->len;
    return wr_be(w, len_bytes, 0);
}

int sdtls_wr_vec_close(sdtls_wr *w, size_t len_bytes, size_t mark)
{
    if (w->overflow) {
        return SDTLS_ERR_BUF_SMALL;
    }
    size_t body = w->len - mark - len_bytes;
    if (len_bytes < 3 && body >= ((size_t)1 << (8 * len_bytes))) {
        w->overflow = 1;
        return SDTLS_ERR_BUF_SMALL;
    }
    if (len_bytes == 3 && body >= ((size_t)1 << 24)) {
        w->overflow = 1;
        return SDTLS_ERR_BUF_SMALL;
    }
    for (size_t i = 0; i < len_bytes; i++) {
        w->buf[mark + i] = (uint8_t)(body >> (8 * (len_bytes - 1 - i)));
    }
    return 0;
}

int sdtls_wr_vec(sdtls_wr *w, size_t len_bytes, const void *src, size_t n)
{
    size_t mark;
    SDTLS_TRY(sdtls_wr_vec_open(w, len_bytes, &mark));
    SDTLS_TRY(sdtls_wr_bytes(w, src, n));
    return sdtls_wr_vec_close(w, len_bytes, mark);
}
