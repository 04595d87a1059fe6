/*
 * sdp.c: parse a browser's offer and write our answer (RFC 8866 syntax, JSEP RFC 8829 rules,
 * RFC 8839 ICE attributes, RFC 8122 fingerprints, RFC 5763 setup roles).
 *
 * Deliberately small: one bundled audio m-line is served, everything else is rejected with
 * port 0. We are an ICE-lite agent (RFC 8445 2.5) with one host candidate, so the answer
 * carries a=ice-lite and a=end-of-candidates and the browser does all connectivity checks.
 */
#include "webrtc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PRINTF_LIKE(fmt, args)
#endif

/* Copy the value of "name" from a line "a=name:value" (or "a=name" for flags) into dst.
 * Returns 1 if the line is that attribute. */
static int attr(const char *line, const char *name, char *dst, size_t cap)
{
    size_t n = strlen(name);
    if (strncmp(line, "a=", 2) != 0 || strncmp(line + 2, name, n) != 0) {
        return 0;
    }
    const char *v = line + 2 + n;
    if (*v == ':') {
        v++;
    } else if (*v != 0) {
        return 0; /* a longer attribute name with the same prefix */
    }
    if (dst != NULL && cap > 0) {
        snprintf(dst, cap, "%s", v);
    }
    return 1;
}

static void set_err(char *err, size_t cap, const char *msg)
{
    if (err != NULL && cap > 0) {
        snprintf(err, cap, "%s", msg);
    }
}

int sdp_parse_offer(const char *text, sdp_offer *offer, char *err, size_t err_cap)
{
    char line[1024];
    sdp_media *m = NULL;
    const char *p = text;

    memset(offer, 0, sizeof(*offer));
    while (*p != 0) {
        size_t len = strcspn(p, "\r\n");
        if (len >= sizeof(line)) {
            set_err(err, err_cap, "SDP line longer than 1023 bytes");
            return -1;
        }
        memcpy(line, p, len);
        line[len] = 0;
        p += len;
        while (*p == '\r' || *p == '\n') {
            p++;
        }
        if (len == 0) {
            continue;
        }
        if (strncmp(line, "m=", 2) == 0) {
            if (offer->n_media == SDP_MAX_MEDIA) {
                set_err(err, err_cap, "too many m-lines");
                return -1;
            }
            m = &offer->media[offer->n_media++];
            m->opus_pt = -1;
            snprintf(m->direction, sizeof(m->direction), "sendrecv");
            int used = 0;
            if (sscanf(line + 2, "%15s %d %63s %n", m->kind, &m->port, m->proto, &used) != 3) {
                set_err(err, err_cap, "malformed m-line");
                return -1;
            }
            snprintf(m->fmts, sizeof(m->fmts), "%s", line + 2 + used);
            continue;
        }
        if (strncmp(line, "a=", 2) != 0) {
            continue;
        }
        if (strncmp(line, "a=group:BUNDLE", 14) == 0) {
            offer->has_bundle = 1;
            continue;
        }
        if (m == NULL) { /* session level */
            (void)(attr(line, "ice-ufrag", offer->ice_ufrag, sizeof(offer->ice_ufrag)) ||
                   attr(line, "ice-pwd", offer->ice_pwd, sizeof(offer->ice_pwd)) ||
                   attr(line, "fingerprint", offer->fingerprint, sizeof(offer->fingerprint)) ||
                   attr(line, "setup", offer->setup, sizeof(offer->setup)));
            continue;
        }
        int pt;
        char codec[64];
        if (attr(line, "ice-ufrag", m->ice_ufrag, sizeof(m->ice_ufrag)) ||
            attr(line, "ice-pwd", m->ice_pwd, sizeof(m->ice_pwd)) ||
            attr(line, "fingerprint", m->fingerprint, sizeof(m->fingerprint)) ||
            attr(line, "setup", m->setup, sizeof(m->setup)) ||
            attr(line, "mid", m->mid, sizeof(m->mid))) {
            continue;
        }
        if (attr(line, "rtcp-mux", NULL, 0)) {
            m->has_rtcp_mux = 1;
        } else if (attr(line, "sendrecv", NULL, 0) || attr(line, "sendonly", NULL, 0) ||
                   attr(line, "recvonly", NULL, 0) || attr(line, "inactive", NULL, 0)) {
            snprintf(m->direction, sizeof(m->direction), "%.15s", line + 2);
        } else if (sscanf(line, "a=rtpmap:%d %63s", &pt, codec) == 2 && m->opus_pt < 0 &&
                   strncasecmp(codec, "opus/48000", 10) == 0) {
            m->opus_pt = pt;
        }
    }
    if (offer->n_media == 0) {
        set_err(err, err_cap, "offer has no m-line");
        return -1;
    }
    /* Second pass for a=fmtp of the Opus payload type: an offer may list it before rtpmap. */
    size_t mi = 0;
    int in_media = 0;
    for (p = text; *p != 0;) {
        size_t len = strcspn(p, "\r\n");
        snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
        p += len;
        while (*p == '\r' || *p == '\n') {
            p++;
        }
        if (strncmp(line, "m=", 2) == 0) {
            mi = in_media ? mi + 1 : 0;
            in_media = 1;
            continue;
        }
        int pt, used = 0;
        if (in_media && mi < offer->n_media && sscanf(line, "a=fmtp:%d %n", &pt, &used) == 1 &&
            used > 0 && pt == offer->media[mi].opus_pt) {
            snprintf(offer->media[mi].opus_fmtp, sizeof(offer->media[mi].opus_fmtp), "%s",
                     line + used);
        }
    }
    return 0;
}

int sdp_pick_media(const sdp_offer *offer, const char *kind)
{
    for (size_t i = 0; i < offer->n_media; i++) {
        const sdp_media *m = &offer->media[i];
        if (strcmp(m->kind, kind) == 0 && strcmp(m->proto, "UDP/TLS/RTP/SAVPF") == 0 &&
            m->opus_pt >= 0 && m->has_rtcp_mux && m->port != 0) {
            return (int)i;
        }
    }
    return -1;
}

const char *sdp_ice_ufrag(const sdp_offer *offer, size_t i)
{
    return offer->media[i].ice_ufrag[0] != 0 ? offer->media[i].ice_ufrag : offer->ice_ufrag;
}

const char *sdp_ice_pwd(const sdp_offer *offer, size_t i)
{
    return offer->media[i].ice_pwd[0] != 0 ? offer->media[i].ice_pwd : offer->ice_pwd;
}

const char *sdp_fingerprint(const sdp_offer *offer, size_t i)
{
    return offer->media[i].fingerprint[0] != 0 ? offer->media[i].fingerprint : offer->fingerprint;
}

/* An appending writer over a fixed buffer; `ok` drops to 0 once something did not fit. */
typedef struct sdp_wr {
    char *p;
    size_t cap, len;
    int ok;
} sdp_wr;

static void put(sdp_wr *w, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void put(sdp_wr *w, const char *fmt, ...)
{
    va_list ap;
    if (!w->ok) {
        return;
    }
    va_start(ap, fmt);
    int n = vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len) {
        w->ok = 0;
        return;
    }
    w->len += (size_t)n;
}

/* RFC 3264 6: the answer's direction mirrors the offer's. */
static const char *answer_direction(const char *offered)
{
    if (strcmp(offered, "sendonly") == 0) {
        return "recvonly";
    }
    if (strcmp(offered, "recvonly") == 0) {
        return "sendonly";
    }
    if (strcmp(offered, "inactive") == 0) {
        return "inactive";
    }
    return "sendrecv";
}

int sdp_write_answer(const sdp_offer *offer, const sdp_answer_params *a, char *out, size_t cap)
{
    sdp_wr w = {out, cap, 0, 1};
    const sdp_media *s = &offer->media[a->served];

    put(&w, "v=0\n");
    put(&w, "o=- %llu 2 IN IP4 %s\n", (unsigned long long)a->session_id, a->addr);
    put(&w, "s=-\n");
    put(&w, "t=0 0\n");
    /* RFC 8445 2.5: a lite agent says so at session level; it never sends checks. */
    put(&w, "a=ice-lite\n");
    if (offer->has_bundle && s->mid[0] != 0) {
        put(&w, "a=group:BUNDLE %s\n", s->mid);
    }
    put(&w, "a=msid-semantic: WMS sdtls\n");
    for (size_t i = 0; i < offer->n_media; i++) {
        const sdp_media *m = &offer->media[i];
        if ((int)i != a->served) {
            /* RFC 8829 5.3.1: a rejected m-section has port 0 and keeps its mid. */
            char first[32] = "0";
            sscanf(m->fmts, "%31s", first);
            put(&w, "m=%s 0 %s %s\n", m->kind, m->proto, first);
            put(&w, "c=IN IP4 0.0.0.0\n");
            if (m->mid[0] != 0) {
                put(&w, "a=mid:%s\n", m->mid);
            }
            if (strcmp(m->kind, "application") != 0) {
                put(&w, "a=inactive\n");
            }
            continue;
        }
        put(&w, "m=%s %d UDP/TLS/RTP/SAVPF %d\n", m->kind, a->port, m->opus_pt);
        put(&w, "c=IN IP4 %s\n", a->addr);
        put(&w, "a=ice-ufrag:%s\n", a->ice_ufrag);
        put(&w, "a=ice-pwd:%s\n", a->ice_pwd);
        put(&w, "a=fingerprint:%s\n", a->fingerprint);
        put(&w, "a=setup:%s\n", a->setup);
        if (m->mid[0] != 0) {
            put(&w, "a=mid:%s\n", m->mid);
        }
        put(&w, "a=%s\n", answer_direction(m->direction));
        put(&w, "a=msid:sdtls sdtls-audio\n");
        put(&w, "a=rtcp-mux\n");
        put(&w, "a=rtpmap:%d opus/48000/2\n", m->opus_pt);
        if (m->opus_fmtp[0] != 0) {
            put(&w, "a=fmtp:%d %s\n", m->opus_pt, m->opus_fmtp);
        }
        put(&w, "a=ssrc:%lu cname:sdtls\n", (unsigned long)a->ssrc);
        put(&w, "a=ssrc:%lu msid:sdtls sdtls-audio\n", (unsigned long)a->ssrc);
        /* RFC 8839 5.1: foundation, component 1 (RTP; RTCP is muxed), UDP, priority of a
         * host candidate (type preference 126, local preference 65535), address, port. */
        put(&w, "a=candidate:1 1 udp 2130706431 %s %d typ host\n", a->addr, a->port);
        put(&w, "a=end-of-candidates\n");
    }
    return w.ok ? 0 : -1;
}
