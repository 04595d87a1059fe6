/*
 * selftest.c: checks of the endpoint's STUN and SDP code without a browser (CTest
 * example_webrtc_selftest): the RFC 5769 2.1 sample request (MESSAGE-INTEGRITY, FINGERPRINT),
 * our response to it, rejected requests, and an offer captured from Chromium 156.
 */
#include "webrtc.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* RFC 5769 2.1: sample request, username "evtj:h6vY", password "VOkJxbRl1RmTxUk/WvJxBt". */
static const uint8_t rfc5769_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};
static const char rfc5769_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Find attribute `type` in a STUN message; returns its offset or 0. */
static size_t find_attr(const uint8_t *m, size_t len, uint16_t type)
{
    for (size_t off = 20; off + 4 <= len;) {
        uint16_t t = (uint16_t)(m[off] << 8 | m[off + 1]);
        size_t alen = (size_t)(m[off + 2] << 8 | m[off + 3]);
        if (t == type) {
            return off;
        }
        off += 4 + ((alen + 3) & ~(size_t)3);
    }
    return 0;
}

static void test_stun(void)
{
    uint8_t reply[256], req[sizeof(rfc5769_request)];
    size_t reply_len = 0;
    stun_request_info info;
    struct sockaddr_in from;

    CHECK(stun_crc32((const uint8_t *)"123456789", 9) == 0xCBF43926u);

    memset(&from, 0, sizeof(from));
    from.sin_family = AF_INET;
    from.sin_port = htons(32853);
    inet_pton(AF_INET, "192.0.2.1", &from.sin_addr);

    /* The sample verifies: FINGERPRINT, USERNAME, MESSAGE-INTEGRITY. */
    CHECK(stun_answer(rfc5769_request, sizeof(rfc5769_request), "evtj", rfc5769_pwd, "h6vY", &from,
                      reply, sizeof(reply), &reply_len, &info) == STUN_ANSWERED);
    CHECK(!info.use_candidate && !info.ice_controlling);
    CHECK(reply_len >= 20 && reply[0] == 0x01 && reply[1] == 0x01);
    CHECK(memcmp(reply + 4, rfc5769_request + 4, 16) == 0); /* cookie and transaction ID */

    /* XOR-MAPPED-ADDRESS gives back 192.0.2.1:32853, encoded as in RFC 5769 2.2. */
    static const uint8_t xma[8] = {0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
    size_t x = find_attr(reply, reply_len, 0x0020);
    CHECK(x != 0 && memcmp(reply + x + 4, xma, sizeof(xma)) == 0);
    if (x != 0) {
        CHECK((uint16_t)((reply[x + 6] << 8 | reply[x + 7]) ^ 0x2112) == 32853);
        CHECK((get32(reply + x + 8) ^ 0x2112A442u) == 0xC0000201u);
    }

    /* Our MESSAGE-INTEGRITY and FINGERPRINT verify. */
    size_t mi = find_attr(reply, reply_len, 0x0008), fp = find_attr(reply, reply_len, 0x8028);
    CHECK(mi != 0 && fp == mi + 24 && fp + 8 == reply_len);
    if (mi != 0 && fp == mi + 24 && fp + 8 == reply_len) {
        uint8_t copy[256], mac[20];
        unsigned int mac_len = 0;
        memcpy(copy, reply, mi);
        copy[2] = 0;
        copy[3] = (uint8_t)(mi + 24 - 20);
        HMAC(EVP_sha1(), rfc5769_pwd, (int)strlen(rfc5769_pwd), copy, mi, mac, &mac_len);
        CHECK(mac_len == 20 && memcmp(mac, reply + mi + 4, 20) == 0);
        CHECK((stun_crc32(reply, fp) ^ 0x5354554eu) == get32(reply + fp + 4));
    }

    /* Wrong password, wrong ufrag, wrong remote ufrag: 401 error responses. */
    CHECK(stun_answer(rfc5769_request, sizeof(rfc5769_request), "evtj", "wrong password", NULL,
                      &from, reply, sizeof(reply), &reply_len, &info) == STUN_REJECTED);
    CHECK(info.error_code == 401 && reply[0] == 0x01 && reply[1] == 0x11);
    CHECK(stun_answer(rfc5769_request, sizeof(rfc5769_request), "evtJ", rfc5769_pwd, NULL, &from,
                      reply, sizeof(reply), &reply_len, &info) == STUN_REJECTED);
    CHECK(info.error_code == 401);
    CHECK(stun_answer(rfc5769_request, sizeof(rfc5769_request), "evtj", rfc5769_pwd, "h6vZ", &from,
                      reply, sizeof(reply), &reply_len, &info) == STUN_REJECTED);

    /* One flipped bit: FINGERPRINT no longer matches, so it is not treated as STUN at all. */
    memcpy(req, rfc5769_request, sizeof(req));
    req[30] ^= 1;
    CHECK(stun_answer(req, sizeof(req), "evtj", rfc5769_pwd, NULL, &from, reply, sizeof(reply),
                      &reply_len, &info) == STUN_IGNORED);

    /* Truncated, and not a request. */
    CHECK(stun_answer(rfc5769_request, 19, "evtj", rfc5769_pwd, NULL, &from, reply, sizeof(reply),
                      &reply_len, &info) == STUN_IGNORED);
    memcpy(req, rfc5769_request, sizeof(req));
    req[1] = 0x11; /* Binding indication */
    CHECK(stun_answer(req, sizeof(req), "evtj", rfc5769_pwd, NULL, &from, reply, sizeof(reply),
                      &reply_len, &info) == STUN_IGNORED);
}

/* An offer from Chromium 156 (audio only, gathered on loopback), shortened a little. */
static const char chromium_offer[] =
    "v=0\r\n"
    "o=- 5096708410667154661 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS 6966146c-779f-4377-9c1a-896115bfef52\r\n"
    "m=audio 54223 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 127.0.0.1\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:1745879028 1 udp 2122260223 127.0.0.1 54223 typ host generation 0\r\n"
    "a=ice-ufrag:Vp8F\r\n"
    "a=ice-pwd:lMzQJDHDKelRBrutdTxygDwK\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 6C:CC:2B:DC:D5:8D:3A:9B:06:66:8C:C5:2C:9E:85:57:91:91:4D:68:29:4F:"
    "AF:A6:04:DC:09:88:46:B4:9B:B6\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=sendrecv\r\n"
    "a=msid:6966146c-779f-4377-9c1a-896115bfef52 3e9cdf76-3f11-4ff4-abe2-2b9db26f4d9f\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=ssrc:2701280072 cname:phgl8XCrlmhHfR1T\r\n"
    "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"
    "a=mid:1\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "a=mid:2\r\n";

static void test_sdp(void)
{
    static sdp_offer offer;
    char err[128], answer[8192];

    CHECK(sdp_parse_offer(chromium_offer, &offer, err, sizeof(err)) == 0);
    CHECK(offer.n_media == 3 && offer.has_bundle);
    int i = sdp_pick_media(&offer, "audio");
    CHECK(i == 0);
    if (i != 0) {
        return;
    }
    CHECK(offer.media[0].opus_pt == 111);
    CHECK(strcmp(offer.media[0].opus_fmtp, "minptime=10;useinbandfec=1") == 0);
    CHECK(strcmp(offer.media[0].mid, "0") == 0);
    CHECK(strcmp(sdp_ice_ufrag(&offer, 0), "Vp8F") == 0);
    CHECK(strncmp(sdp_fingerprint(&offer, 0), "sha-256 6C:CC:", 14) == 0);
    CHECK(strcmp(offer.media[0].setup, "actpass") == 0);

    sdp_answer_params p = {
        "127.0.0.1", 40000, "abcdEFGH", "0123456789abcdefghijklmn", "sha-256 AA:BB", "passive",
        12345,       1,     0};
    CHECK(sdp_write_answer(&offer, &p, answer, sizeof(answer)) == 0);
    static const char *const want[] = {
        "\na=ice-lite\n",
        "\na=group:BUNDLE 0\n",
        "\nm=audio 40000 UDP/TLS/RTP/SAVPF 111\n",
        "\na=ice-ufrag:abcdEFGH\n",
        "\na=fingerprint:sha-256 AA:BB\n",
        "\na=setup:passive\n",
        "\na=mid:0\n",
        "\na=rtcp-mux\n",
        "\na=rtpmap:111 opus/48000/2\n",
        "\na=fmtp:111 minptime=10;useinbandfec=1\n",
        "\na=ssrc:12345 cname:sdtls\n",
        "\na=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\n",
        "\nm=video 0 UDP/TLS/RTP/SAVPF 96\n",
        "\na=mid:1\n",
        "\nm=application 0 UDP/DTLS/SCTP webrtc-datachannel\n",
        "\na=mid:2\n",
    };
    for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        if (strstr(answer, want[k]) == NULL) {
            fprintf(stderr, "answer lacks '%.*s'\n", (int)strlen(want[k]) - 2, want[k] + 1);
            failures++;
        }
    }
    CHECK(strncmp(answer, "v=0\n", 4) == 0);

    /* No audio m-line we can serve. */
    CHECK(sdp_parse_offer("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", &offer, err, sizeof(err)) ==
          0);
    CHECK(sdp_pick_media(&offer, "audio") < 0);
    CHECK(sdp_parse_offer("v=0\r\n", &offer, err, sizeof(err)) != 0);
}

int main(void)
{
    test_stun();
    test_sdp();
    if (failures != 0) {
        fprintf(stderr, "webrtc selftest: %d check(s) failed\n", failures);
        return 1;
    }
    printf("webrtc selftest: all checks passed\n");
    return 0;
}
