/*
 * Bounds-checked writer over a fixed caller buffer; it never grows. Overflow sets a sticky
 * flag: check sdtls_wr_ok() (or use the return codes) before using the output.
 */
#ifndef SDTLS_WR_H
#define SDTLS_WR_H

#include "common.h"

typedef struct sdtls_wr {
    uint8_t *buf;
    size_t len, cap;
    int overflow;
} sdtls_wr;

static inline sdtls_wr sdtls_wr_init(uint8_t *buf, size_t cap)
{
    sdtls_wr w = {buf, 0, cap, 0};
    return w;
}
static inline int sdtls_wr_ok(const sdtls_wr *w)
{
    return !w->overflow;
}

/* Each returns 0 or SDTLS_ERR_BUF_SMALL (and sets the overflow flag). */
int sdtls_wr_u8(sdtls_wr *w, uint8_t v);
int sdtls_wr_u16(sdtls_wr *w, uint16_t v);
int sdtls_wr_u24(sdtls_wr *w, uint32_t v);
int sdtls_wr_u32(sdtls_wr *w, uint32_t v);
int sdtls_wr_u48(sdtls_wr *w, uint64_t v);
int sdtls_wr_u64(sdtls_wr *w, uint64_t v);
int sdtls_wr_bytes(sdtls_wr *w, const void *src, size_t n);
/* Reserve n bytes and return a pointer to them (NULL on overflow). */
uint8_t *sdtls_wr_reserve(sdtls_wr *w, size_t n);
/* Reserve a len_bytes (1, 2, 3) length prefix; *mark remembers where it is. */
int sdtls_wr_vec_open(sdtls_wr *w, size_t len_bytes, size_t *mark);
/* Back-patch the prefix opened at mark; SDTLS_ERR_BUF_SMALL if the body outgrew it. */
int sdtls_wr_vec_close(sdtls_wr *w, size_t len_bytes, size_t mark);
/* Write a whole vector: prefix then bytes. */
int sdtls_wr_vec(sdtls_wr *w, size_t len_bytes, const void *src, size_t n);

/* Big-endian helpers for fixed fields in already-bounded buffers. */
static inline void sdtls_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void sdtls_put_u24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}
static inline void sdtls_put_u48(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 6; i++) {
        p[i] = (uint8_t)(v >> (8 * (5 - i)));
    }
}

#endif
