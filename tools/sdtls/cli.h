/* Shared pieces of the sdtls command-line tool. */
#ifndef SDTLS_CLI_H
#define SDTLS_CLI_H

#include <signal.h>
#include <stdio.h>

#include "sdtls.h"
#include "sdtls_udp.h"

#if defined(__GNUC__)
#define CLI_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CLI_PRINTF(f, a)
#endif

/* Exit codes. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1  /* protocol, handshake, socket or file failure */
#define CLI_EXIT_USAGE 2 /* bad command line */

/* Poll slice: how long a wait may last before the loop looks at the signal flag again. */
#define CLI_TICK_MS 200

/* Largest label and length accepted by --export-keying-material. */
#define CLI_EKM_LABEL_CAP 128
#define CLI_EKM_MAX_LEN 1024

/* Parsed command line of `sdtls client` and `sdtls server`. */
typedef struct cli_opts {
    int is_server;
    const char *addr; /* client: server address; server: listen address */
    const char *cert;
    const char *key;
    const char *ca;
    const char *fingerprint;
    const char *servername;
    const char *ciphers;
    const char *groups;
    const char *keylog;
    int generate_cert;
    sdtls_key_type gen_type;
    int require_client_cert;
    int echo;
    int once;
    int insecure;
    int no_cookie;
    int verbose;
    int has_mtu;
    size_t mtu;
    size_t max_sessions;
    size_t max_half_open; /* server: 0 for the driver's default */
    int has_handshake_timeout;
    size_t handshake_timeout_ms; /* server: 0 disables the handshake deadline */
    size_t timeout_ms;           /* client: handshake time limit, 0 for the engine's own */
    int has_ekm;
    char ekm_label[CLI_EKM_LABEL_CAP];
    size_t ekm_len;
    const char *srtp;         /* DTLS-SRTP profiles, RFC 5764 names */
    const char *psk_identity; /* client (and single-identity server) */
    const char *psk_hex;
    const char *psk_file;     /* server: identity:hexkey lines */
    int raw_public_key;
    int cid;                  /* -1: off; else our CID length */
    int heartbeat;
    int legacy_cbc;
} cli_opts;

/* Server PSK table loaded from --psk-file. */
#define CLI_PSK_MAX 256
typedef struct cli_psk {
    char identity[129];
    size_t identity_len;
    uint8_t key[64];
    size_t key_len;
} cli_psk;

/* Process-wide state the hooks need: log time base, key log file. */
typedef struct cli_ctx {
    uint64_t start_ms;
    int verbose;
    FILE *keylog;
    cli_psk *psks; /* --psk-file entries */
    size_t n_psks;
} cli_ctx;

/* Set by SIGINT/SIGTERM; the loops check it at least every CLI_TICK_MS. */
extern volatile sig_atomic_t cli_stop;

void cli_usage(FILE *f);
int cli_install_signals(void);

/* Parse argv (after the subcommand). Returns 0 or CLI_EXIT_USAGE (message printed). */
/* Key type names: ec (P-256), p384, rsa, ed25519. Returns 0 or -1. */
int cli_parse_key_type(const char *s, sdtls_key_type *out);
int cli_parse(int argc, char **argv, int is_server, cli_opts *o);
/* Build the config from the options. Returns CLI_EXIT_OK with *out set, or an exit code
 * (message printed). */
int cli_build_config(const cli_opts *o, cli_ctx *ctx, sdtls_config **out);
void cli_ctx_close(cli_ctx *ctx);

/* "fingerprint: sha-256 …" on stderr when the config has a certificate. */
void cli_print_own_fingerprint(const sdtls_config *cfg);
/* The "handshake: …" line and, if asked, the "exporter: …" line (stderr). Returns 0, or
 * CLI_EXIT_FAIL if the exporter failed. */
int cli_print_handshake(const sdtls_udp_session *s, const cli_opts *o);
void cli_stats_add(sdtls_stats *acc, const sdtls_stats *x);
void cli_print_stats(const sdtls_stats *st, const sdtls_udp_stats *ds);
/* Print a driver/library failure with the system detail if there is one. */
void cli_error(const char *what, int err);
/* Write one received record to stdout and flush. Returns 0 or -1. */
int cli_output(const uint8_t *data, size_t len);

int cli_client(int argc, char **argv);
int cli_server(int argc, char **argv);

#endif
