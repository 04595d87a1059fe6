/*
 * Design notes: bits[0] bit 0 stands for `top`, bit i (across words) for top - i. A record
 * newer than top shifts the window; one older than top - (W - 1) is dropped as too old.
 */
#include "record.h"

#define WORDS (SDTLS_REPLAY_WINDOW / 64)

void sdtls__replay_reset(sdtls__replay *w)
{
    memset(w, 0, sizeof(*w));
}

static int bit_get(const sdtls__replay *w, uint64_t i)
{
    return (int)((w->bits[i / 64] >> (i % 64)) & 1u);
}

int sdtls__replay_check(const sdtls__replay *w, uint64_t seq)
{
    if (!w->has_top || seq > w->top) {
        return 0;
    }
    uint64_t age = w->top - seq;
    if (age >= SDTLS_REPLAY_WINDOW) {
        return SDTLS_DROP;
    }
    return bit_get(w, age) ? SDTLS_DROP : 0;
}

/* Shift the window toward older ages by n bits. */
static void shift(sdtls__replay *w, uint64_t n)
{
    if (n >= SDTLS_REPLAY_WINDOW) {
        memset(w->bits, 0, sizeof(w->bits));
        return;
    }
    size_t words = (size_t)(n / 64);
    unsigned bits = (unsigned)(n % 64);
    for (size_t i = WORDS; i-- > 0;) {
        uint64_t v = 0;
        if (i >= words) {
            v = w->bits[i - words] << bits;
            if (bits != 0 && i > words) {
                v |= w->bits[i - words - 1] >> (64 - bits);
            }
        }
        w->bits[i] = v;
    }
}

void sdtls__replay_update(sdtls__replay *w, uint64_t seq)
{
    if (!w->has_top) {
        w->has_top = 1;
        w->top = seq;
        memset(w->bits, 0, sizeof(w->bits));
        w->bits[0] = 1;
        return;
    }
    if (seq > w->top) {
        shift(w, seq - w->top);
        w->top = seq;
        w->bits[0] |= 1;
        return;
    }
    uint64_t age = w->top - seq;
    if (age < SDTLS_REPLAY_WINDOW) {
        w->bits[age / 64] |= UINT64_C(1) << (age % 64);
    }
}
