#include "transport.h"

const char *sdtls__hs_type_name(int type)
{
    switch (type) {
    case SDTLS_HS_HELLO_REQUEST:
        return "HelloRequest";
    case SDTLS_HS_CLIENT_HELLO:
        return "ClientHello";
    case SDTLS_HS_SERVER_HELLO:
        return "ServerHello";
    case SDTLS_HS_HELLO_VERIFY_REQUEST:
        return "HelloVerifyRequest";
    case SDTLS_HS_CERTIFICATE:
        return "Certificate";
    case SDTLS_HS_SERVER_KEY_EXCHANGE:
        return "ServerKeyExchange";
    case SDTLS_HS_CERTIFICATE_REQUEST:
        return "CertificateRequest";
    case SDTLS_HS_SERVER_HELLO_DONE:
        return "ServerHelloDone";
    case SDTLS_HS_CERTIFICATE_VERIFY:
        return "CertificateVerify";
    case SDTLS_HS_CLIENT_KEY_EXCHANGE:
        return "ClientKeyExchange";
    case SDTLS_HS_FINISHED:
        return "Finished";
    case SDTLS_HS_CCS:
        return "ChangeCipherSpec";
    default:
        return "Unknown";
    }
}

int sdtls__hs_hdr_parse(sdtls_rd *r, sdtls__hs_hdr *h, const uint8_t **frag)
{
    sdtls_rd save = *r;
    uint16_t seq;
    int rc;
    if ((rc = sdtls_rd_u8(r, &h->type)) != 0 || (rc = sdtls_rd_u24(r, &h->length)) != 0 ||
        (rc = sdtls_rd_u16(r, &seq)) != 0 || (rc = sdtls_rd_u24(r, &h->frag_off)) != 0 ||
        (rc = sdtls_rd_u24(r, &h->frag_len)) != 0 || (rc = sdtls_rd_take(r, h->frag_len, frag)) != 0) {
        *r = save;
        return SDTLS_ALERT(DECODE_ERROR);
    }
    h->seq = seq;
    /* A fragment must lie inside its message. */
    if (h->frag_off > h->length || h->frag_len > h->length - h->frag_off) {
        *r = save;
        return SDTLS_ALERT(DECODE_ERROR);
    }
    return 0;
}

void sdtls__hs_hdr_write(uint8_t out[SDTLS_HS_HDR_LEN], const sdtls__hs_hdr *h)
{
    out[0] = h->type;
    sdtls_put_u24(out + 1, h->length);
    sdtls_put_u16(out + 4, h->seq);
    sdtls_put_u24(out + 6, h->frag_off);
    sdtls_put_u24(out + 9, h->frag_len);
}
