/*
 * Design notes
 *  - Fragments of the next expected message and of up to SDTLS_REASM_SLOTS - 1 later
 *    messages are kept; anything further ahead is dropped (the peer will retransmit).
 *  - Bodies and bitmaps are carved from one fixed pool by a bump pointer, reset when every
 *    slot is empty. If the next expected message does not fit, later messages are evicted
 *    (they will come again) so the expected one always gets the room.
 *  - A fragment that disagrees with what a slot holds (type or length) is dropped: epoch 0 is
 *    unauthenticated, so a conflicting fragment must not be able to kill the handshake.
 *    Overlapping fragments with different bytes keep the first copy: the Finished MAC
 *    catches any tampering.
 */
#include "transport.h"

void sdtls__reasm_init(sdtls__reasm *ra, uint8_t *pool, size_t pool_cap, uint32_t max_msg)
{
    memset(ra, 0, sizeof(*ra));
    ra->pool = pool;
    ra->pool_cap = pool_cap;
    ra->max_msg = max_msg;
}

void sdtls__reasm_clear(sdtls__reasm *ra)
{
    for (size_t i = 0; i < SDTLS_REASM_SLOTS; i++) {
        ra->slot[i].used = 0;
    }
    ra->pool_used = 0;
}

static size_t slot_bytes(uint32_t length)
{
    return (size_t)length + ((size_t)length + 7) / 8;
}

static sdtls__reasm_slot *find(sdtls__reasm *ra, uint16_t seq)
{
    for (size_t i = 0; i < SDTLS_REASM_SLOTS; i++) {
        if (ra->slot[i].used && ra->slot[i].seq == seq) {
            return &ra->slot[i];
        }
    }
    return NULL;
}

static int any_used(const sdtls__reasm *ra)
{
    for (size_t i = 0; i < SDTLS_REASM_SLOTS; i++) {
        if (ra->slot[i].used) {
            return 1;
        }
    }
    return 0;
}

static sdtls__reasm_slot *alloc_slot(sdtls__reasm *ra, const sdtls__hs_hdr *h)
{
    size_t need = slot_bytes(h->length);
    if (!any_used(ra)) {
        ra->pool_used = 0;
    }
    if (ra->pool_cap - ra->pool_used < need) {
        if (h->seq != ra->next_seq) {
            return NULL;
        }
        /* Make room for the message we need now. */
        sdtls__reasm_clear(ra);
        if (ra->pool_cap < need) {
            return NULL;
        }
    }
    for (size_t i = 0; i < SDTLS_REASM_SLOTS; i++) {
        sdtls__reasm_slot *s = &ra->slot[i];
        if (!s->used) {
            s->used = 1;
            s->type = h->type;
            s->seq = h->seq;
            s->length = h->length;
            s->have = 0;
            s->body_off = ra->pool_used;
            s->map_off = ra->pool_used + h->length;
            memset(ra->pool + s->map_off, 0, ((size_t)h->length + 7) / 8);
            ra->pool_used += need;
            return s;
        }
    }
    return NULL;
}

int sdtls__reasm_add(sdtls__reasm *ra, const sdtls__hs_hdr *h, const uint8_t *frag)
{
    if (!ra->seq_known) {
        ra->next_seq = h->seq;
        ra->seq_known = 1;
    }
    /* 16-bit sequence arithmetic is not needed: DTLS 1.2 handshakes use a handful. */
    if (h->seq < ra->next_seq) {
        return SDTLS_REASM_OLD;
    }
    if (h->seq >= ra->next_seq + SDTLS_REASM_SLOTS) {
        return SDTLS_DROP;
    }
    if (h->length > ra->max_msg) {
        /* The message we need next can never fit: fail clearly instead of timing out. */
        return h->seq == ra->next_seq ? SDTLS_ALERT(HANDSHAKE_FAILURE) : SDTLS_DROP;
    }
    sdtls__reasm_slot *s = find(ra, h->seq);
    if (s == NULL) {
        s = alloc_slot(ra, h);
        if (s == NULL) {
            return SDTLS_DROP;
        }
    } else if (s->type != h->type || s->length != h->length) {
        return SDTLS_DROP;
    }
    uint8_t *body = ra->pool + s->body_off;
    uint8_t *map = ra->pool + s->map_off;
    for (uint32_t i = 0; i < h->frag_len; i++) {
        uint32_t at = h->frag_off + i;
        uint8_t bit = (uint8_t)(1u << (at % 8));
        if ((map[at / 8] & bit) == 0) {
            map[at / 8] |= bit;
            body[at] = frag[i];
            s->have++;
        }
    }
    return 0;
}

int sdtls__reasm_peek(const sdtls__reasm *ra, sdtls__hs_hdr *h, const uint8_t **body)
{
    if (!ra->seq_known) {
        return 0;
    }
    for (size_t i = 0; i < SDTLS_REASM_SLOTS; i++) {
        const sdtls__reasm_slot *s = &ra->slot[i];
        if (s->used && s->seq == ra->next_seq && s->have == s->length) {
            h->type = s->type;
            h->length = s->length;
            h->seq = s->seq;
            h->frag_off = 0;
            h->frag_len = s->length;
            *body = ra->pool + s->body_off;
            return 1;
        }
    }
    return 0;
}

void sdtls__reasm_pop(sdtls__reasm *ra)
{
    sdtls__reasm_slot *s = find(ra, ra->next_seq);
    if (s != NULL) {
        s->used = 0;
    }
    ra->next_seq++;
    if (!any_used(ra)) {
        ra->pool_used = 0;
    }
}
