/*
 * webrtc.h: the pieces of examples/webrtc that are not DTLS: the SDP offer/answer (sdp.c) and
 * the ICE-lite STUN responder (stun.c). endpoint.c ties them to sdtls and libsrtp2.
 */
#ifndef SDTLS_EXAMPLE_WEBRTC_H
#define SDTLS_EXAMPLE_WEBRTC_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------------------------
 * SDP (RFC 8866, JSEP RFC 8829): just what a browser offer needs for one bundled audio stream
 * ---------------------------------------------------------------------------------------- */

#define SDP_MAX_MEDIA 16

typedef struct sdp_media {
    char kind[16];  /* "audio", "video", "application" */
    char proto[64]; /* "UDP/TLS/RTP/SAVPF" */
    char fmts[256]; /* the m-line's format list, as offered */
    char mid[64];   /* a=mid value ("" if none) */
    char ice_ufrag[257], ice_pwd[257];
    char fingerprint[256]; /* "sha-256 AB:CD:…" (media level) or "" */
    char setup[16];        /* a=setup value or "" */
    char direction[16];    /* sendrecv (default), sendonly, recvonly, inactive */
    int port;
    int has_rtcp_mux;
    int opus_pt;         /* payload type of opus/48000/2, or -1 */
    char opus_fmtp[256]; /* its a=fmtp parameters, or "" */
} sdp_media;

typedef struct sdp_offer {
    char ice_ufrag[257], ice_pwd[257]; /* session level (media level wins) */
    char fingerprint[256];             /* session level (media level wins) */
    char setup[16];
    int has_bundle;
    sdp_media media[SDP_MAX_MEDIA];
    size_t n_media;
} sdp_offer;

/* Parse a complete offer, one SDP line per line (CR LF or LF). Returns 0, or -1 with a
 * message in err. */
int sdp_parse_offer(const char *text, sdp_offer *offer, char *err, size_t err_cap);

/* The first m-line we can serve for `kind` ("audio": RTP/SAVPF with Opus and rtcp-mux), or -1. */
int sdp_pick_media(const sdp_offer *offer, const char *kind);

/* The effective ICE credentials and fingerprint of media line i (media level, else session). */
const char *sdp_ice_ufrag(const sdp_offer *offer, size_t i);
const char *sdp_ice_pwd(const sdp_offer *offer, size_t i);
const char *sdp_fingerprint(const sdp_offer *offer, size_t i);

typedef struct sdp_answer_params {
    const char *addr; /* our address, dotted quad */
    int port;         /* our UDP port */
    const char *ice_ufrag, *ice_pwd;
    const char *fingerprint; /* "sha-256 AB:CD:…" */
    const char *setup;       /* "active" or "passive" */
    uint32_t ssrc;           /* the SSRC we send with */
    uint64_t session_id;
    int served; /* the media index we answer, the others get port 0 */
} sdp_answer_params;

/* Write the answer, one line per line ending in "\n". Returns 0, or -1 if it does not fit. */
int sdp_write_answer(const sdp_offer *offer, const sdp_answer_params *p, char *out, size_t cap);

/* ------------------------------------------------------------------------------------------
 * STUN (RFC 8489) Binding responder for an ICE-lite agent (RFC 8445 2.5, 7.3)
 * ---------------------------------------------------------------------------------------- */

typedef enum {
    STUN_IGNORED = 0,  /* not a request we answer (indication, response, malformed): drop */
    STUN_ANSWERED = 1, /* an authenticated Binding request: send `reply` (a success response) */
    STUN_REJECTED = 2, /* a Binding request that failed a check: send `reply` (an error) */
} stun_result;

typedef struct stun_request_info {
    int use_candidate;   /* USE-CANDIDATE present */
    int ice_controlling; /* ICE-CONTROLLING present (the browser must be controlling) */
    int error_code;      /* for STUN_REJECTED: 400, 401 or 420 */
    const char *why;     /* for STUN_REJECTED/IGNORED: what was wrong (static string) */
} stun_request_info;

/* Answer one datagram that starts like STUN. `local_ufrag`/`local_pwd` are ours (the request's
 * USERNAME must be "local_ufrag:remote_ufrag" and its MESSAGE-INTEGRITY keyed with
 * local_pwd); `remote_ufrag` may be NULL (not checked). `from` is the request's source, which
 * goes back in XOR-MAPPED-ADDRESS. The reply is at most 256 bytes. */
stun_result stun_answer(const uint8_t *msg, size_t len, const char *local_ufrag,
                        const char *local_pwd, const char *remote_ufrag,
                        const struct sockaddr_in *from, uint8_t *reply, size_t reply_cap,
                        size_t *reply_len, stun_request_info *info);

/* CRC-32 (ISO-HDLC, as zlib's crc32), for the STUN FINGERPRINT attribute. */
uint32_t stun_crc32(const uint8_t *p, size_t len);

#endif
