/*
 * sdtls — a sans-I/O DTLS library.
 *
 * The engine never touches a socket or a clock. The caller feeds it each received datagram
 * with the current monotonic time in milliseconds, takes out datagrams to send (one per call,
 * written into a caller buffer sized to the path MTU), reads the next deadline, calls the
 * timeout handler when it passes, and pulls events.
 *
 * Ownership rule, for every function below:
 *  - Input buffers stay owned by the caller; the engine copies what it keeps.
 *  - Output buffers are the caller's; the engine writes at most `cap` bytes.
 *  - A pointer the engine returns (event data, names) stays valid until the next call on the
 *    same object (connection or config), unless the function says otherwise.
 *  - A config is shared read-only by its connections once the first connection is created; it
 *    must outlive them. A connection is used by one thread at a time.
 *
 * Return codes: 0 success, negative failure (see SDTLS_ERRORS below). A code in
 * -(0x100 + alert) means "we abort and send this alert": call sdtls_conn_send() until it
 * reports nothing more, then free. A code in -(0x200 + alert) means "the peer sent this fatal
 * alert": free. Fatal errors are sticky: every later call on the connection returns the same
 * code.
 *
 * Build profiles (CMake option SDTLS_PROFILE; sdtls_version() names the one built):
 *  - full (default): everything below.
 *  - psk-ccm8: for constrained nodes, TLS_PSK_WITH_AES_128_CCM_8 only. The functions marked
 *    [certificates] and [DTLS-SRTP] below are not in that library (a program calling them
 *    does not link); sdtls_config_set_ciphers refuses every other suite name with
 *    SDTLS_ERR_UNSUPPORTED. docs/footprint.md compares the two.
 */
#ifndef SDTLS_H
#define SDTLS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SDTLS_BUILDING) && defined(__GNUC__)
#define SDTLS_API __attribute__((visibility("default")))
#else
#define SDTLS_API
#endif

#define SDTLS_VERSION_STRING "0.1.0"
#define SDTLS_NO_DEADLINE UINT64_MAX

/* ------------------------------------------------------------------------------------------
 * Errors
 * ---------------------------------------------------------------------------------------- */

/* TLS alert descriptions (RFC 5246 7.2, RFC 8446 6). */
#define SDTLS_ALERT_CLOSE_NOTIFY 0
#define SDTLS_ALERT_UNEXPECTED_MESSAGE 10
#define SDTLS_ALERT_BAD_RECORD_MAC 20
#define SDTLS_ALERT_RECORD_OVERFLOW 22
#define SDTLS_ALERT_HANDSHAKE_FAILURE 40
#define SDTLS_ALERT_BAD_CERTIFICATE 42
#define SDTLS_ALERT_UNSUPPORTED_CERTIFICATE 43
#define SDTLS_ALERT_CERTIFICATE_REVOKED 44
#define SDTLS_ALERT_CERTIFICATE_EXPIRED 45
#define SDTLS_ALERT_CERTIFICATE_UNKNOWN 46
#define SDTLS_ALERT_ILLEGAL_PARAMETER 47
#define SDTLS_ALERT_UNKNOWN_CA 48
#define SDTLS_ALERT_ACCESS_DENIED 49
#define SDTLS_ALERT_DECODE_ERROR 50
#define SDTLS_ALERT_DECRYPT_ERROR 51
#define SDTLS_ALERT_PROTOCOL_VERSION 70
#define SDTLS_ALERT_INSUFFICIENT_SECURITY 71
#define SDTLS_ALERT_INTERNAL_ERROR 80
#define SDTLS_ALERT_USER_CANCELED 90
#define SDTLS_ALERT_NO_RENEGOTIATION 100
#define SDTLS_ALERT_MISSING_EXTENSION 109
#define SDTLS_ALERT_UNSUPPORTED_EXTENSION 110
#define SDTLS_ALERT_UNRECOGNIZED_NAME 112
#define SDTLS_ALERT_UNKNOWN_PSK_IDENTITY 115
#define SDTLS_ALERT_NO_APPLICATION_PROTOCOL 120

/* We abort the connection and send alert `a`. */
#define SDTLS_ERR_LOCAL_ALERT(a) (-(0x100 + (a)))
/* The peer aborted the connection with fatal alert `a`. */
#define SDTLS_ERR_PEER_ALERT(a) (-(0x200 + (a)))

/* X-macro list of the usage/resource codes: name, value, message. */
#define SDTLS_ERRORS(X)                                                                            \
    X(SDTLS_ERR_ARG, -1, "invalid argument")                                                       \
    X(SDTLS_ERR_BUF_SMALL, -2, "output buffer too small")                                          \
    X(SDTLS_ERR_NOMEM, -3, "out of memory")                                                        \
    X(SDTLS_ERR_BUDGET, -4, "a fixed budget was exceeded")                                         \
    X(SDTLS_ERR_STATE, -5, "call not valid in the current state")                                  \
    X(SDTLS_ERR_CRYPTO, -6, "cryptographic backend failure")                                       \
    X(SDTLS_ERR_TIMEOUT, -7, "handshake timed out: peer did not answer our retransmissions")       \
    X(SDTLS_ERR_CLOSED, -8, "connection is closed")                                                \
    X(SDTLS_ERR_IO, -9, "could not read a file")                                                   \
    X(SDTLS_ERR_UNSUPPORTED, -10, "unsupported name or parameter")                                 \
    X(SDTLS_ERR_AGAIN, -11, "not now: send the pending handshake datagrams first")

enum {
#define SDTLS_ERR_ENUM_(name, value, msg) name = value,
    SDTLS_ERRORS(SDTLS_ERR_ENUM_)
#undef SDTLS_ERR_ENUM_
};

/* A human-readable message for any sdtls return code (never NULL; static storage). */
SDTLS_API const char *sdtls_strerror(int err);
/* The alert description carried by a local- or peer-alert code, or -1. */
SDTLS_API int sdtls_err_alert(int err);
/* 1 if err is a local-alert or peer-alert code or a timeout, else 0. */
SDTLS_API int sdtls_err_is_fatal(int err);
/* Name of an alert description ("handshake_failure"), or "unknown". */
SDTLS_API const char *sdtls_alert_name(int alert);

/* ------------------------------------------------------------------------------------------
 * Configuration
 * ---------------------------------------------------------------------------------------- */

typedef struct sdtls_config sdtls_config;
typedef struct sdtls_conn sdtls_conn;

/* Allocator used for every allocation made on behalf of a config and its connections. */
typedef struct sdtls_allocator {
    void *(*alloc)(void *user, size_t size); /* returns NULL on failure; memory need not be zeroed */
    void (*free)(void *user, void *ptr, size_t size); /* ptr may be NULL */
    void *user;
} sdtls_allocator;

/* Random bytes: fill buf with len bytes; return 0 or a negative value on failure. */
typedef int (*sdtls_rng_fn)(void *user, uint8_t *buf, size_t len);

typedef enum { SDTLS_ROLE_CLIENT = 0, SDTLS_ROLE_SERVER = 1 } sdtls_role;

typedef enum {
    SDTLS_KEY_EC_P256 = 0,
    SDTLS_KEY_EC_P384 = 1,
    SDTLS_KEY_RSA2048 = 2,
    SDTLS_KEY_ED25519 = 3,
} sdtls_key_type;

typedef enum {
    SDTLS_VERIFY_NONE = 0,        /* accept any peer certificate (insecure; tests only) */
    SDTLS_VERIFY_CA = 1,          /* chain to a CA from sdtls_config_set_ca_file(); hostname */
    SDTLS_VERIFY_FINGERPRINT = 2, /* pinned hash of the peer's end-entity certificate */
    SDTLS_VERIFY_CALLBACK = 3,    /* application callback */
} sdtls_verify_mode;

typedef enum {
    SDTLS_LOG_ERROR = 0,
    SDTLS_LOG_INFO = 1,  /* handshake milestones, flights sent/received, negotiated values */
    SDTLS_LOG_DEBUG = 2, /* every record and fragment */
} sdtls_log_level;

/* Log hook: `msg` is a NUL-terminated line without newline, valid during the call only. */
typedef void (*sdtls_log_fn)(void *user, sdtls_log_level level, const char *msg);

/* Key log hook: one NSS key log line ("CLIENT_RANDOM <hex> <hex>"), valid during the call. */
typedef void (*sdtls_keylog_fn)(void *user, const char *line);

/* Certificate check hook for SDTLS_VERIFY_CALLBACK: the peer chain, DER, leaf first.
 * Return 0 to accept, or an alert description (e.g. SDTLS_ALERT_BAD_CERTIFICATE) to refuse. */
typedef int (*sdtls_verify_fn)(void *user, const uint8_t *const *der, const size_t *der_len,
                               size_t count);

/* Create a config with safe defaults: all suites and groups, cookies on, EMS required,
 * MTU 1200, retransmission 1000 ms doubling to 60000 ms, 10 retransmissions of a flight
 * (11 sends, about 5 minutes before SDTLS_ERR_TIMEOUT; enough for 30% loss in the loss
 * sweep), peer verification CA (set a mode explicitly for servers).
 * `mem` may be NULL (malloc/free). Returns 0, SDTLS_ERR_ARG, SDTLS_ERR_NOMEM, SDTLS_ERR_CRYPTO. */
SDTLS_API int sdtls_config_new(sdtls_config **out, const sdtls_allocator *mem);
/* Free a config (NULL is fine). All its connections must be freed first. */
SDTLS_API void sdtls_config_free(sdtls_config *cfg);

/* Replace the RNG (default: the crypto backend's CSPRNG). Tests use a deterministic one. */
SDTLS_API int sdtls_config_set_rng(sdtls_config *cfg, sdtls_rng_fn fn, void *user);

/* [certificates] Our certificate chain and private key, PEM (the chain: leaf first). Copied.
 * Returns 0, SDTLS_ERR_ARG (unparsable or key does not match), SDTLS_ERR_NOMEM. */
SDTLS_API int sdtls_config_set_cert_pem(sdtls_config *cfg, const char *chain_pem,
                                        size_t chain_len, const char *key_pem, size_t key_len);
/* [certificates] Same, from files. Returns also SDTLS_ERR_IO. */
SDTLS_API int sdtls_config_load_cert_files(sdtls_config *cfg, const char *chain_path,
                                           const char *key_path);
/* [certificates] Generate a self-signed certificate in memory (subject CN=`common_name`, 30 days validity,
 * serial from the RNG) and use it. `common_name` may be NULL ("sdtls"). */
SDTLS_API int sdtls_config_generate_cert(sdtls_config *cfg, sdtls_key_type type,
                                         const char *common_name);
/* [certificates] Write our certificate (PEM) / key (PEM) into caller buffers; *out_len receives the length.
 * Returns 0, SDTLS_ERR_STATE (no certificate), SDTLS_ERR_BUF_SMALL. */
SDTLS_API int sdtls_config_get_cert_pem(const sdtls_config *cfg, char *out, size_t cap,
                                        size_t *out_len);
SDTLS_API int sdtls_config_get_key_pem(const sdtls_config *cfg, char *out, size_t cap,
                                       size_t *out_len);
/* [certificates] Our end-entity certificate's fingerprint in SDP form "sha-256 AB:CD:…" (NUL-terminated).
 * `hash` is "sha-256", "sha-384" or "sha-512". Returns 0, SDTLS_ERR_STATE, SDTLS_ERR_BUF_SMALL,
 * SDTLS_ERR_UNSUPPORTED. 128 bytes are enough for sha-256, 200 for sha-512. */
SDTLS_API int sdtls_config_get_fingerprint(const sdtls_config *cfg, const char *hash, char *out,
                                           size_t cap);

/* Pre-shared keys (RFC 4279, RFC 5489). A client offers the PSK suites (and, unless a cipher
 * list was set explicitly, only them) once it has an identity and key; a server can use PSK
 * suites once it has a key (one identity) or a lookup callback (many identities).
 * Identity up to 128 bytes, key 1..64 bytes; both copied.
 * Returns 0 or SDTLS_ERR_ARG. */
SDTLS_API int sdtls_config_set_psk(sdtls_config *cfg, const uint8_t *identity, size_t identity_len,
                                   const uint8_t *key, size_t key_len);
/* Server: the identity hint sent in ServerKeyExchange (up to 128 bytes; none by default). */
SDTLS_API int sdtls_config_set_psk_hint(sdtls_config *cfg, const uint8_t *hint, size_t len);
/* Server PSK lookup: write the key for `identity` into key (at most key_cap = 64 bytes) and
 * return its length, or return -1 for an unknown identity (the handshake then fails with
 * unknown_psk_identity). Called during sdtls_conn_recv; must not call into the connection. */
typedef int (*sdtls_psk_fn)(void *user, const uint8_t *identity, size_t identity_len, uint8_t *key,
                            size_t key_cap);
SDTLS_API int sdtls_config_set_psk_callback(sdtls_config *cfg, sdtls_psk_fn fn, void *user);

/* [certificates] Raw public keys (RFC 7250): send our key (the one of our certificate) as a bare
 * SubjectPublicKeyInfo and ask for the peer's the same way. A client then requires the
 * server to use a raw key; a server uses one with clients that offer it and X.509 with the
 * others. Verify a raw key with SDTLS_VERIFY_FINGERPRINT (the hash of the peer's
 * SubjectPublicKeyInfo, see sdtls_config_get_public_key_fingerprint) or a callback (given
 * the SubjectPublicKeyInfo DER as a one-element chain); SDTLS_VERIFY_CA refuses them. */
SDTLS_API int sdtls_config_set_raw_public_key(sdtls_config *cfg, int enable);
/* [certificates] Hash of our SubjectPublicKeyInfo, "sha-256 AB:…": what a peer pins for our raw key. */
SDTLS_API int sdtls_config_get_public_key_fingerprint(const sdtls_config *cfg, const char *hash,
                                                      char *out, size_t cap);

/* [certificates] Trust anchors for SDTLS_VERIFY_CA (PEM file with one or more certificates). */
SDTLS_API int sdtls_config_set_ca_file(sdtls_config *cfg, const char *path);
/* [certificates] How the peer's certificate is checked (default SDTLS_VERIFY_CA). */
SDTLS_API int sdtls_config_set_verify(sdtls_config *cfg, sdtls_verify_mode mode);
/* [certificates] */
SDTLS_API int sdtls_config_set_verify_callback(sdtls_config *cfg, sdtls_verify_fn fn, void *user);
/* [certificates] Default pinned fingerprint for SDTLS_VERIFY_FINGERPRINT ("sha-256 AB:CD:…", or the SDP line
 * "a=fingerprint:sha-256 AB:CD:…"; hash sha-256, sha-384 or sha-512; hex in either case, as
 * RFC 8122 5 says). A connection may override it. Returns 0 or SDTLS_ERR_ARG. */
SDTLS_API int sdtls_config_set_peer_fingerprint(sdtls_config *cfg, const char *fingerprint);
/* [certificates] Server: send a CertificateRequest; `require` 1 fails the handshake without a client cert. */
SDTLS_API int sdtls_config_set_client_auth(sdtls_config *cfg, int request, int require);

/* Colon- or comma-separated IANA suite names, in preference order
 * ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:…"). Unknown names: SDTLS_ERR_UNSUPPORTED. */
SDTLS_API int sdtls_config_set_ciphers(sdtls_config *cfg, const char *list);
/* Colon- or comma-separated group names: x25519, secp256r1 (P-256), secp384r1 (P-384).
 * In DTLS 1.2 a client's groups also name the curves it accepts in ECDSA certificates
 * (RFC 8422 5.1): a list without secp256r1 keeps servers with P-256 certificates (OpenSSL's,
 * for one) from choosing an ECDSA suite. */
SDTLS_API int sdtls_config_set_groups(sdtls_config *cfg, const char *list);
/* Comma-separated ALPN protocol names (client: offered; server: accepted, in preference). */
SDTLS_API int sdtls_config_set_alpn(sdtls_config *cfg, const char *list);
/* Largest UDP payload we send (default 1200; 256..16384). */
SDTLS_API int sdtls_config_set_mtu(sdtls_config *cfg, size_t mtu);
/* RFC 6347 4.2.4 timer: initial and maximum timeout, and how many retransmissions of one
 * flight before giving up with SDTLS_ERR_TIMEOUT. */
SDTLS_API int sdtls_config_set_retransmit(sdtls_config *cfg, uint32_t initial_ms, uint32_t max_ms,
                                          uint32_t max_count);
/* Server: HelloVerifyRequest cookies on (default) or off; cookie lifetime (default 30000 ms). */
SDTLS_API int sdtls_config_set_cookie(sdtls_config *cfg, int enabled, uint32_t lifetime_ms);
/* Connection ID (RFC 9146). cid_len 0..20: negotiate CIDs and ask peers to put a random
 * cid_len-byte CID in every record they send us after the handshake (0: we need none but
 * will send the peer's); -1 (default): no connection_id extension. */
SDTLS_API int sdtls_config_set_cid(sdtls_config *cfg, int cid_len);
/* Legacy suites for old devices that offer nothing else, off by default:
 * TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA and TLS_PSK_WITH_AES_128_CBC_SHA256, only ever with
 * encrypt-then-MAC (RFC 7366; a peer without it cannot choose them), preferred last, and not
 * together with connection IDs. */
SDTLS_API int sdtls_config_set_legacy_cbc(sdtls_config *cfg, int enable);
/* Heartbeat (RFC 6520), off by default. 1: offer the extension and let the peer send us
 * requests (we answer them); 2: offer it but ask the peer not to send requests; 0: off. */
SDTLS_API int sdtls_config_set_heartbeat(sdtls_config *cfg, int mode);
/* Per-connection memory budgets: the largest handshake message accepted (certificate chains
 * included; default 16384, psk-ccm8 profile 2048), the reassembly pool (at least
 * max_handshake_msg * 9 / 8; 0 here gives that plus 64; without this call 36864, psk-ccm8
 * 4608), the transcript kept during the handshake (default 32768, psk-ccm8 4096), and the
 * largest datagram accepted (the receive buffer; default 18957, the
 * largest DTLS 1.2 record plus slack). Small devices with PSK and small peers can cut a
 * connection to a few kilobytes; see docs/footprint.md. Returns 0 or SDTLS_ERR_ARG. */
SDTLS_API int sdtls_config_set_budgets(sdtls_config *cfg, size_t max_handshake_msg,
                                       size_t reassembly, size_t transcript,
                                       size_t max_datagram);
/* Extended master secret (RFC 7627): required (default, 1) or merely preferred (0). */
SDTLS_API int sdtls_config_set_require_ems(sdtls_config *cfg, int required);
SDTLS_API int sdtls_config_set_log(sdtls_config *cfg, sdtls_log_level level, sdtls_log_fn fn,
                                   void *user);
SDTLS_API int sdtls_config_set_keylog(sdtls_config *cfg, sdtls_keylog_fn fn, void *user);

/* ------------------------------------------------------------------------------------------
 * Server front door: stateless cookie screening
 * ---------------------------------------------------------------------------------------- */

typedef enum {
    SDTLS_VERDICT_IGNORE = 0, /* not a ClientHello we answer: drop the datagram */
    SDTLS_VERDICT_REPLY = 1,  /* send `reply` (a HelloVerifyRequest) back, keep no state */
    SDTLS_VERDICT_ACCEPT = 2, /* cookie verified (or cookies off): create a server conn and
                                 feed it this same datagram */
} sdtls_verdict;

/* Screen a datagram from an address we have no connection for. Allocates nothing; reads only
 * the datagram, the config's cookie secret and the peer address bytes (any stable encoding,
 * e.g. a sockaddr; at most 128 bytes). The reply is never larger than the datagram.
 * Returns 0 (see *verdict), SDTLS_ERR_ARG, SDTLS_ERR_BUF_SMALL. */
SDTLS_API int sdtls_server_screen(const sdtls_config *cfg, const uint8_t *dgram, size_t len,
                                  const void *peer_addr, size_t addr_len, uint64_t now_ms,
                                  uint8_t *reply, size_t reply_cap, size_t *reply_len,
                                  sdtls_verdict *verdict);

/* ------------------------------------------------------------------------------------------
 * Connections
 * ---------------------------------------------------------------------------------------- */

typedef enum {
    SDTLS_EV_NONE = 0,
    SDTLS_EV_HANDSHAKE_DONE = 1, /* keys are up: write and read application data */
    SDTLS_EV_DATA = 2,           /* data/len: one application record (view, see ownership) */
    SDTLS_EV_ALERT = 3,          /* alert_level/alert: peer sent an alert (warning or fatal) */
    SDTLS_EV_CLOSED = 4,         /* close_notify exchanged, or connection failed */
    SDTLS_EV_HEARTBEAT = 5,      /* len: size of the datagram our answered heartbeat was in */
} sdtls_event_type;

typedef struct sdtls_event {
    sdtls_event_type type;
    const uint8_t *data;
    size_t len;
    uint8_t alert_level;
    uint8_t alert;
} sdtls_event;

/* Counters, readable at any time. */
typedef struct sdtls_stats {
    uint64_t dgrams_rx, records_rx, records_tx, dgrams_tx;
    uint64_t drop_bad_mac, drop_replay, drop_bad_epoch, drop_malformed, drop_over_budget;
    uint64_t rtx_flights;  /* flights retransmitted (timer or peer retransmission) */
    uint64_t rtx_records;  /* records sent again */
    uint64_t app_bytes_rx, app_bytes_tx;
} sdtls_stats;

/* Create a connection. For a server, call after sdtls_server_screen() said ACCEPT (or for a
 * peer without cookies) and feed it that datagram with sdtls_conn_recv(). The peer address
 * (server) binds the cookie: pass the same bytes as to sdtls_server_screen(). A client starts
 * its handshake at the first sdtls_conn_send().
 * Returns 0, SDTLS_ERR_ARG, SDTLS_ERR_NOMEM, SDTLS_ERR_STATE (server config without cert). */
SDTLS_API int sdtls_conn_new(const sdtls_config *cfg, sdtls_role role, const void *peer_addr,
                             size_t addr_len, sdtls_conn **out);
SDTLS_API void sdtls_conn_free(sdtls_conn *c);

/* Client: server name for SNI and hostname verification (copied; NULL clears). */
SDTLS_API int sdtls_conn_set_server_name(sdtls_conn *c, const char *name);
/* [certificates] Override the config's pinned fingerprint for this connection. */
SDTLS_API int sdtls_conn_set_peer_fingerprint(sdtls_conn *c, const char *fingerprint);

/* Feed one received datagram. Invalid records are dropped silently and counted.
 * Pull every event (sdtls_conn_next_event) before the next call: DATA events point into the
 * connection's receive buffer, and DATA events still queued when the next datagram comes in
 * are discarded. A close_notify from the peer is answered with ours automatically (send it
 * with sdtls_conn_send). Returns 0, or a fatal code (sticky). After a local-alert code, call
 * sdtls_conn_send() to get the alert datagram. After a clean close, recv returns 0 and
 * ignores further datagrams' data; sdtls_conn_is_closed() tells. */
SDTLS_API int sdtls_conn_recv(sdtls_conn *c, const uint8_t *dgram, size_t len, uint64_t now_ms);
/* Take the next datagram to send (handshake flights, retransmissions, alerts), at most
 * min(cap, MTU) bytes. *out_len 0 means nothing to send now. Returns 0, SDTLS_ERR_BUF_SMALL
 * (cap below 256 bytes, or too small for a pending record), or the sticky fatal code once
 * the pending alert has been written. */
SDTLS_API int sdtls_conn_send(sdtls_conn *c, uint8_t *out, size_t cap, size_t *out_len,
                              uint64_t now_ms);
/* Absolute time of the next timer, or SDTLS_NO_DEADLINE. */
SDTLS_API uint64_t sdtls_conn_deadline(const sdtls_conn *c);
/* Call when now_ms >= deadline: may schedule retransmissions (then call send). Returns 0,
 * SDTLS_ERR_TIMEOUT (gave up; fatal), or the sticky fatal code. */
SDTLS_API int sdtls_conn_on_timeout(sdtls_conn *c, uint64_t now_ms);
/* Pull the next event; ev->type SDTLS_EV_NONE when there is none. Returns 0. */
SDTLS_API int sdtls_conn_next_event(sdtls_conn *c, sdtls_event *ev);
/* Protect `len` bytes of application data as one record in one datagram written to `out`.
 * Returns 0, SDTLS_ERR_STATE (handshake not done or closed), SDTLS_ERR_AGAIN (our last
 * handshake flight is not all sent yet: call sdtls_conn_send() until it reports nothing,
 * then write; a server meets this right after SDTLS_EV_HANDSHAKE_DONE), SDTLS_ERR_BUF_SMALL,
 * SDTLS_ERR_ARG (len larger than what fits the MTU; see sdtls_conn_max_data()). */
SDTLS_API int sdtls_conn_write(sdtls_conn *c, const uint8_t *data, size_t len, uint8_t *out,
                               size_t cap, size_t *out_len);
/* Largest application payload that fits one datagram at the configured MTU. */
SDTLS_API size_t sdtls_conn_max_data(const sdtls_conn *c);
/* Start closing: queue close_notify (send it with sdtls_conn_send()). */
SDTLS_API int sdtls_conn_close(sdtls_conn *c);

SDTLS_API int sdtls_conn_is_handshake_done(const sdtls_conn *c);
SDTLS_API int sdtls_conn_is_closed(const sdtls_conn *c);
/* Negotiated values after the handshake (static strings; "" before). */
SDTLS_API const char *sdtls_conn_version_name(const sdtls_conn *c); /* "DTLSv1.2" */
SDTLS_API const char *sdtls_conn_cipher_name(const sdtls_conn *c);  /* IANA name */
SDTLS_API const char *sdtls_conn_group_name(const sdtls_conn *c);   /* "x25519" */
SDTLS_API const char *sdtls_conn_alpn(const sdtls_conn *c);         /* "" if none */
/* [certificates] Peer end-entity certificate fingerprint, "sha-256 AB:…" (NUL-terminated): the certificate
 * (or raw public key) the peer presented, also when verification refused it.
 * Returns 0, SDTLS_ERR_STATE (no peer certificate), SDTLS_ERR_BUF_SMALL. */
SDTLS_API int sdtls_conn_peer_fingerprint(const sdtls_conn *c, char *out, size_t cap);
/* RFC 5705 keying material exporter (DTLS 1.2: PRF(master, label, client_random +
 * server_random [+ u16 context_len + context])). `context` NULL means "no context".
 * Returns 0, SDTLS_ERR_STATE, SDTLS_ERR_ARG. */
SDTLS_API int sdtls_conn_export(const sdtls_conn *c, const char *label, const uint8_t *context,
                                size_t context_len, uint8_t *out, size_t out_len);
SDTLS_API void sdtls_conn_stats(const sdtls_conn *c, sdtls_stats *out);
/* Send a HeartbeatRequest (RFC 6520) as one datagram of exactly `dgram_len` bytes (padding
 * fills it: a keepalive with a small size, a path MTU probe with the size to try). When the
 * response comes back, sdtls_conn_next_event gives SDTLS_EV_HEARTBEAT with len = dgram_len:
 * that size got through. One request at a time; a new one replaces an unanswered one (the
 * library does not retransmit: the caller decides when a probe is lost).
 * Returns 0, SDTLS_ERR_STATE (not negotiated, or the peer does not accept requests),
 * SDTLS_ERR_ARG (dgram_len too small or above 16384), SDTLS_ERR_BUF_SMALL. */
SDTLS_API int sdtls_conn_heartbeat(sdtls_conn *c, size_t dgram_len, uint8_t *out, size_t cap,
                                   size_t *out_len);

/* Our connection ID, the one the peer writes in records to us (route datagrams by it).
 * Returns 0, SDTLS_ERR_STATE (none negotiated, or handshake not done), SDTLS_ERR_BUF_SMALL. */
SDTLS_API int sdtls_conn_cid(const sdtls_conn *c, uint8_t *out, size_t cap, size_t *out_len);
/* 1 if the last datagram given to sdtls_conn_recv held an authenticated record newer than any
 * before it. RFC 9146 6: only then may a server move the peer to the datagram's source
 * address (a NAT rebinding), so a replayed or delayed datagram cannot redirect traffic. */
SDTLS_API int sdtls_conn_rx_was_newest(const sdtls_conn *c);
/* If the datagram's first record is a tls12_cid record (a receiver CID of cid_len bytes),
 * point *cid at its CID and return 1; else 0. For routing before a connection is known. */
SDTLS_API int sdtls_datagram_cid(const uint8_t *dgram, size_t len, size_t cid_len,
                                 const uint8_t **cid);
/* Retransmission count of the handshake (flights sent again). */
SDTLS_API uint32_t sdtls_conn_handshake_rtx(const sdtls_conn *c);

/* ------------------------------------------------------------------------------------------
 * DTLS-SRTP (RFC 5764, RFC 7714) and WebRTC helpers
 * [DTLS-SRTP]: sdtls_config_set_srtp_*, sdtls_conn_srtp_* are only in the full profile.
 * ---------------------------------------------------------------------------------------- */

/* Offer (client) or accept (server, in this preference order) DTLS-SRTP protection profiles:
 * colon- or comma-separated RFC 5764 names: SRTP_AES128_CM_HMAC_SHA1_80,
 * SRTP_AES128_CM_HMAC_SHA1_32, SRTP_AEAD_AES_128_GCM, SRTP_AEAD_AES_256_GCM (OpenSSL's
 * spellings SRTP_AES128_CM_SHA1_80/_32 are accepted too). Once set, DTLS-SRTP is required:
 * a peer that does not negotiate it fails the handshake with handshake_failure.
 * Returns 0, SDTLS_ERR_ARG, SDTLS_ERR_UNSUPPORTED (unknown name). */
SDTLS_API int sdtls_config_set_srtp_profiles(sdtls_config *cfg, const char *list);
/* Client: the srtp_mki value to offer (0..255 bytes, copied). A server echoes the client's. */
SDTLS_API int sdtls_config_set_srtp_mki(sdtls_config *cfg, const uint8_t *mki, size_t len);

/* SRTP master keys and salts, split as RFC 5764 4.2 says, from the exporter with label
 * "EXTRACTOR-dtls_srtp": client_key, server_key, client_salt, server_salt. */
typedef struct sdtls_srtp_keys {
    uint16_t profile;         /* RFC 5764 code point, e.g. 0x0001 */
    const char *profile_name; /* static string, e.g. "SRTP_AES128_CM_HMAC_SHA1_80" */
    size_t key_len, salt_len; /* 16/14 (AES-CM), 16/12 or 32/12 (AEAD) */
    uint8_t client_key[32], server_key[32];
    uint8_t client_salt[14], server_salt[14];
    uint8_t mki[255];
    size_t mki_len;
    uint8_t material[2 * (32 + 14)]; /* the exporter output as is: 2 * (key + salt) bytes */
    size_t material_len;
} sdtls_srtp_keys;

/* After the handshake: the negotiated profile and keys. Returns 0, SDTLS_ERR_STATE (handshake
 * not done, or no DTLS-SRTP negotiated). Wipe the struct after use. */
SDTLS_API int sdtls_conn_srtp_keys(const sdtls_conn *c, sdtls_srtp_keys *out);
/* The negotiated profile name, or "" (static). */
SDTLS_API const char *sdtls_conn_srtp_profile_name(const sdtls_conn *c);

/* RFC 7983 demultiplexing of one UDP port shared by STUN, DTLS and RTP/RTCP: classify a
 * datagram by its first byte. */
typedef enum {
    SDTLS_DEMUX_UNKNOWN = 0,
    SDTLS_DEMUX_STUN = 1,         /* 0..3 */
    SDTLS_DEMUX_ZRTP = 2,         /* 16..19 */
    SDTLS_DEMUX_DTLS = 3,         /* 20..63 */
    SDTLS_DEMUX_TURN_CHANNEL = 4, /* 64..79 */
    SDTLS_DEMUX_RTP = 5,          /* 128..191: RTP and RTCP */
} sdtls_demux;
SDTLS_API sdtls_demux sdtls_demux_classify(const uint8_t *dgram, size_t len);

/* ------------------------------------------------------------------------------------------
 * Utilities
 * ---------------------------------------------------------------------------------------- */

/* Library version, build profile and crypto backend, e.g.
 * "sdtls 0.1.0 full (OpenSSL 3.0.19 …)". Static. */
SDTLS_API const char *sdtls_version(void);
/* [certificates] SHA-256 fingerprint of a PEM or DER certificate file, "sha-256 AB:…". */
SDTLS_API int sdtls_fingerprint_file(const char *path, char *out, size_t cap);
/* [certificates] Generate a self-signed certificate and key and write them to PEM files. If fingerprint is
 * not NULL it receives the sha-256 fingerprint (NUL-terminated, cap >= 104). */
SDTLS_API int sdtls_keygen_files(sdtls_key_type type, const char *cert_path, const char *key_path,
                                 char *fingerprint, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
