/* Command-line parsing, config building and reporting shared by client and server. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Fingerprint text: "sha-256 " + 32 * "XX:" fits in 104 bytes; sha-512 needs 200. */
#define FP_CAP 200

volatile sig_atomic_t cli_stop = 0;

void cli_usage(FILE *f)
{
    fputs(
        "usage:\n"
        "  sdtls server [--listen ADDR:PORT] (--cert FILE --key FILE | --generate-cert [ec|rsa])\n"
        "               [--ca FILE] [--require-client-cert] [--verify-fingerprint FP]\n"
        "               [--echo] [--once] [--no-cookie] [--max-sessions N]\n"
        "               [--max-half-open N] [--handshake-timeout MS] [COMMON]\n"
        "  sdtls client ADDR:PORT (--ca FILE | --verify-fingerprint FP | --insecure)\n"
        "               [--cert FILE --key FILE | --generate-cert] [--servername NAME] "
        "[--timeout MS] [COMMON]\n"
        "  sdtls keygen [--type ec|rsa|ed25519] --cert FILE --key FILE\n"
        "  sdtls fingerprint FILE\n"
        "  sdtls --version\n"
        "\n"
        "COMMON: [--ciphers LIST] [--groups LIST] [--mtu N] [--keylog FILE]\n"
        "        [--export-keying-material LABEL:LEN] [--srtp PROFILE[:PROFILE...]]\n"
        "        [--psk-identity ID --psk HEX] [--psk-file FILE (server)]\n"
        "        [--raw-public-key] [--cid N] [--heartbeat] [--legacy-cbc] [-v|-vv]\n"
        "\n"
        "ADDR:PORT is 127.0.0.1:4433, [::1]:4433 or localhost:4433; the server listens on\n"
        "127.0.0.1:4433 by default, port 0 picks a free port. FP is \"sha-256 AB:CD:...\".\n"
        "The client sends each stdin line as one record and prints received records on\n"
        "stdout. SSLKEYLOGFILE is honoured when --keylog is not given.\n"
        "Exit status: 0 success, 1 failure, 2 usage error.\n",
        f);
}

static void on_signal(int sig)
{
    (void)sig;
    cli_stop = 1;
}

int cli_install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: poll() must return EINTR so the loops see the flag at once. */
    sa.sa_flags = 0;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
        return -1;
    }
    /* A closed stdout must be an error we report, not a silent death. */
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0) {
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Parsing
 * ---------------------------------------------------------------------------------------- */

enum { ROLE_CLIENT = 1, ROLE_SERVER = 2, ROLE_BOTH = 3 };
enum { ARG_NONE = 0, ARG_REQUIRED = 1, ARG_KEYTYPE = 2 };

enum {
    OPT_LISTEN,
    OPT_CERT,
    OPT_KEY,
    OPT_GENERATE_CERT,
    OPT_CA,
    OPT_REQUIRE_CLIENT_CERT,
    OPT_VERIFY_FINGERPRINT,
    OPT_ECHO,
    OPT_ONCE,
    OPT_CIPHERS,
    OPT_GROUPS,
    OPT_MTU,
    OPT_NO_COOKIE,
    OPT_KEYLOG,
    OPT_EKM,
    OPT_INSECURE,
    OPT_SERVERNAME,
    OPT_MAX_SESSIONS,
    OPT_MAX_HALF_OPEN,
    OPT_HANDSHAKE_TIMEOUT,
    OPT_TIMEOUT,
    OPT_VERBOSE,
    OPT_SRTP,
    OPT_PSK_IDENTITY,
    OPT_PSK,
    OPT_PSK_FILE,
    OPT_RAW_PUBLIC_KEY,
    OPT_CID,
    OPT_HEARTBEAT,
    OPT_LEGACY_CBC,
};

typedef struct opt_def {
    const char *name;
    int arg;
    int roles;
    int id;
} opt_def;

static const opt_def opt_defs[] = {
    {"--listen", ARG_REQUIRED, ROLE_SERVER, OPT_LISTEN},
    {"--cert", ARG_REQUIRED, ROLE_BOTH, OPT_CERT},
    {"--key", ARG_REQUIRED, ROLE_BOTH, OPT_KEY},
    {"--generate-cert", ARG_KEYTYPE, ROLE_BOTH, OPT_GENERATE_CERT},
    {"--ca", ARG_REQUIRED, ROLE_BOTH, OPT_CA},
    {"--require-client-cert", ARG_NONE, ROLE_SERVER, OPT_REQUIRE_CLIENT_CERT},
    {"--verify-fingerprint", ARG_REQUIRED, ROLE_BOTH, OPT_VERIFY_FINGERPRINT},
    {"--echo", ARG_NONE, ROLE_SERVER, OPT_ECHO},
    {"--once", ARG_NONE, ROLE_SERVER, OPT_ONCE},
    {"--ciphers", ARG_REQUIRED, ROLE_BOTH, OPT_CIPHERS},
    {"--groups", ARG_REQUIRED, ROLE_BOTH, OPT_GROUPS},
    {"--mtu", ARG_REQUIRED, ROLE_BOTH, OPT_MTU},
    {"--no-cookie", ARG_NONE, ROLE_SERVER, OPT_NO_COOKIE},
    {"--keylog", ARG_REQUIRED, ROLE_BOTH, OPT_KEYLOG},
    {"--export-keying-material", ARG_REQUIRED, ROLE_BOTH, OPT_EKM},
    {"--insecure", ARG_NONE, ROLE_CLIENT, OPT_INSECURE},
    {"--servername", ARG_REQUIRED, ROLE_CLIENT, OPT_SERVERNAME},
    {"--max-sessions", ARG_REQUIRED, ROLE_SERVER, OPT_MAX_SESSIONS},
    {"--max-half-open", ARG_REQUIRED, ROLE_SERVER, OPT_MAX_HALF_OPEN},
    {"--handshake-timeout", ARG_REQUIRED, ROLE_SERVER, OPT_HANDSHAKE_TIMEOUT},
    {"--timeout", ARG_REQUIRED, ROLE_CLIENT, OPT_TIMEOUT},
    {"--verbose", ARG_NONE, ROLE_BOTH, OPT_VERBOSE},
    {"--srtp", ARG_REQUIRED, ROLE_BOTH, OPT_SRTP},
    {"--psk-identity", ARG_REQUIRED, ROLE_BOTH, OPT_PSK_IDENTITY},
    {"--psk", ARG_REQUIRED, ROLE_BOTH, OPT_PSK},
    {"--psk-file", ARG_REQUIRED, ROLE_SERVER, OPT_PSK_FILE},
    {"--raw-public-key", ARG_NONE, ROLE_BOTH, OPT_RAW_PUBLIC_KEY},
    {"--cid", ARG_REQUIRED, ROLE_BOTH, OPT_CID},
    {"--heartbeat", ARG_NONE, ROLE_BOTH, OPT_HEARTBEAT},
    {"--legacy-cbc", ARG_NONE, ROLE_BOTH, OPT_LEGACY_CBC},
};

static int usage_error(const char *fmt, ...) CLI_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n", stderr);
    cli_usage(stderr);
    return CLI_EXIT_USAGE;
}

/* Key type name for --generate-cert and keygen --type; -1 if unknown. */
static int parse_key_type(const char *s, sdtls_key_type *out)
{
    if (strcmp(s, "ec") == 0 || strcmp(s, "p256") == 0 || strcmp(s, "ecdsa") == 0) {
        *out = SDTLS_KEY_EC_P256;
    } else if (strcmp(s, "p384") == 0) {
        *out = SDTLS_KEY_EC_P384;
    } else if (strcmp(s, "rsa") == 0) {
        *out = SDTLS_KEY_RSA2048;
    } else if (strcmp(s, "ed25519") == 0) {
        *out = SDTLS_KEY_ED25519;
    } else {
        return -1;
    }
    return 0;
}

int cli_parse_key_type(const char *s, sdtls_key_type *out)
{
    return parse_key_type(s, out);
}

/* Decimal size in [min, max]; -1 if not. */
static int parse_size(const char *s, size_t min, size_t max, size_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (s[0] < '0' || s[0] > '9') {
        return -1;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

/* LABEL:LEN, split at the last colon (labels such as "EXTRACTOR-dtls_srtp" have none, but
 * a label with a colon still works). */
static int parse_ekm(const char *s, cli_opts *o)
{
    const char *colon = strrchr(s, ':');
    size_t label_len;

    if (colon == NULL || colon == s) {
        return -1;
    }
    label_len = (size_t)(colon - s);
    if (label_len >= sizeof(o->ekm_label)) {
        return -1;
    }
    if (parse_size(colon + 1, 1, CLI_EKM_MAX_LEN, &o->ekm_len) != 0) {
        return -1;
    }
    memcpy(o->ekm_label, s, label_len);
    o->ekm_label[label_len] = '\0';
    o->has_ekm = 1;
    return 0;
}

static int apply_opt(const opt_def *d, const char *val, cli_opts *o)
{
    switch (d->id) {
    case OPT_LISTEN:
        o->addr = val;
        break;
    case OPT_CERT:
        o->cert = val;
        break;
    case OPT_KEY:
        o->key = val;
        break;
    case OPT_GENERATE_CERT:
        o->generate_cert = 1;
        if (val != NULL && parse_key_type(val, &o->gen_type) != 0) {
            return usage_error("--generate-cert: unknown key type '%s' (ec, rsa)", val);
        }
        break;
    case OPT_CA:
        o->ca = val;
        break;
    case OPT_REQUIRE_CLIENT_CERT:
        o->require_client_cert = 1;
        break;
    case OPT_VERIFY_FINGERPRINT:
        o->fingerprint = val;
        break;
    case OPT_ECHO:
        o->echo = 1;
        break;
    case OPT_ONCE:
        o->once = 1;
        break;
    case OPT_CIPHERS:
        o->ciphers = val;
        break;
    case OPT_GROUPS:
        o->groups = val;
        break;
    case OPT_MTU:
        if (parse_size(val, 1, 65535, &o->mtu) != 0) {
            return usage_error("--mtu: '%s' is not a datagram size", val);
        }
        o->has_mtu = 1;
        break;
    case OPT_NO_COOKIE:
        o->no_cookie = 1;
        break;
    case OPT_KEYLOG:
        o->keylog = val;
        break;
    case OPT_EKM:
        if (parse_ekm(val, o) != 0) {
            return usage_error("--export-keying-material: expected LABEL:LEN (LEN 1..1024), "
                               "got '%s'",
                               val);
        }
        break;
    case OPT_INSECURE:
        o->insecure = 1;
        break;
    case OPT_SERVERNAME:
        o->servername = val;
        break;
    case OPT_MAX_SESSIONS:
        if (parse_size(val, 1, 100000, &o->max_sessions) != 0) {
            return usage_error("--max-sessions: '%s' is not a count in 1..100000", val);
        }
        break;
    case OPT_MAX_HALF_OPEN:
        if (parse_size(val, 1, 100000, &o->max_half_open) != 0) {
            return usage_error("--max-half-open: '%s' is not a count in 1..100000", val);
        }
        break;
    case OPT_HANDSHAKE_TIMEOUT:
        if (parse_size(val, 0, 86400000, &o->handshake_timeout_ms) != 0) {
            return usage_error("--handshake-timeout: '%s' is not a time in milliseconds "
                               "(0 disables)",
                               val);
        }
        o->has_handshake_timeout = 1;
        break;
    case OPT_TIMEOUT:
        if (parse_size(val, 1, 86400000, &o->timeout_ms) != 0) {
            return usage_error("--timeout: '%s' is not a time in milliseconds", val);
        }
        break;
    case OPT_VERBOSE:
        o->verbose++;
        break;
    case OPT_SRTP:
        o->srtp = val;
        break;
    case OPT_PSK_IDENTITY:
        o->psk_identity = val;
        break;
    case OPT_PSK:
        o->psk_hex = val;
        break;
    case OPT_PSK_FILE:
        o->psk_file = val;
        break;
    case OPT_RAW_PUBLIC_KEY:
        o->raw_public_key = 1;
        break;
    case OPT_CID: {
        size_t n;
        if (parse_size(val, 0, 20, &n) != 0) {
            return usage_error("--cid: '%s' is not a connection ID length in 0..20", val);
        }
        o->cid = (int)n;
        break;
    }
    case OPT_HEARTBEAT:
        o->heartbeat = 1;
        break;
    case OPT_LEGACY_CBC:
        o->legacy_cbc = 1;
        break;
    default:
        return usage_error("internal: unhandled option %s", d->name);
    }
    return 0;
}

/* -v, -vv, -vvv. Returns the count, or 0 if `a` is not of that form. */
static int verbose_flags(const char *a)
{
    int n = 0;

    if (a[0] != '-' || a[1] != 'v') {
        return 0;
    }
    for (a++; *a == 'v'; a++) {
        n++;
    }
    return *a == '\0' ? n : 0;
}

int cli_parse(int argc, char **argv, int is_server, cli_opts *o)
{
    int role = is_server ? ROLE_SERVER : ROLE_CLIENT;
    int only_positional = 0;
    int i;

    memset(o, 0, sizeof(*o));
    o->is_server = is_server;
    o->cid = -1;
    o->gen_type = SDTLS_KEY_EC_P256;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const opt_def *d = NULL;
        const char *val = NULL;
        size_t name_len;
        size_t k;
        int rc;

        if (only_positional || a[0] != '-' || strcmp(a, "-") == 0) {
            if (is_server) {
                return usage_error("unexpected argument '%s'", a);
            }
            if (o->addr != NULL) {
                return usage_error("unexpected argument '%s' (one ADDR:PORT only)", a);
            }
            o->addr = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if (verbose_flags(a) > 0) {
            o->verbose += verbose_flags(a);
            continue;
        }
        name_len = strcspn(a, "=");
        for (k = 0; k < sizeof(opt_defs) / sizeof(opt_defs[0]); k++) {
            if (strlen(opt_defs[k].name) == name_len &&
                strncmp(opt_defs[k].name, a, name_len) == 0) {
                d = &opt_defs[k];
                break;
            }
        }
        if (d == NULL) {
            return usage_error("unknown option '%s'", a);
        }
        if ((d->roles & role) == 0) {
            return usage_error(is_server ? "option '%s' is for the client only"
                                         : "option '%s' is for the server only",
                               d->name);
        }
        if (a[name_len] == '=') {
            if (d->arg == ARG_NONE) {
                return usage_error("option '%s' takes no value", d->name);
            }
            val = a + name_len + 1;
        } else if (d->arg == ARG_REQUIRED) {
            if (i + 1 >= argc) {
                return usage_error("option '%s' needs a value", d->name);
            }
            val = argv[++i];
        } else if (d->arg == ARG_KEYTYPE && i + 1 < argc && argv[i + 1][0] != '-') {
            sdtls_key_type t;

            /* Optional value: only a key type name is taken, an address is not. */
            if (parse_key_type(argv[i + 1], &t) == 0) {
                val = argv[++i];
            }
        }
        rc = apply_opt(d, val, o);
        if (rc != 0) {
            return rc;
        }
    }

    if ((o->cert == NULL) != (o->key == NULL)) {
        return usage_error("%s", "--cert and --key go together");
    }
    if (o->cert != NULL && o->generate_cert) {
        return usage_error("%s", "use either --cert/--key or --generate-cert");
    }
    if ((o->psk_identity == NULL) != (o->psk_hex == NULL)) {
        return usage_error("%s", "--psk-identity and --psk go together");
    }
    int has_psk = o->psk_hex != NULL || o->psk_file != NULL;
    if (is_server) {
        if (o->cert == NULL && !o->generate_cert && !has_psk) {
            return usage_error("%s", "the server needs --cert FILE --key FILE, --generate-cert, "
                                     "or a PSK (--psk-identity/--psk or --psk-file)");
        }
        if (o->ca != NULL && o->fingerprint != NULL) {
            return usage_error("%s", "use either --ca or --verify-fingerprint");
        }
        if (o->addr == NULL) {
            o->addr = "127.0.0.1:4433";
        }
    } else {
        int modes = (o->ca != NULL) + (o->fingerprint != NULL) + (o->insecure != 0);

        if (o->addr == NULL) {
            return usage_error("%s", "the client needs the server ADDR:PORT");
        }
        if (modes == 0 && !has_psk) {
            return usage_error("%s", "choose how to verify the server: --ca FILE, "
                                     "--verify-fingerprint \"sha-256 XX:...\" or --insecure "
                                     "(or use a PSK)");
        }
        if (modes > 1) {
            return usage_error("%s", "use only one of --ca, --verify-fingerprint, --insecure");
        }
        if (o->generate_cert && o->gen_type != SDTLS_KEY_EC_P256) {
            /* The client generates EC keys only, as documented. */
            o->gen_type = SDTLS_KEY_EC_P256;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Config
 * ---------------------------------------------------------------------------------------- */

static void log_hook(void *user, sdtls_log_level level, const char *msg)
{
    const cli_ctx *ctx = user;
    uint64_t now = sdtls_udp_now_ms();
    uint64_t t = now >= ctx->start_ms ? now - ctx->start_ms : 0;

    (void)level;
    fprintf(stderr, "[+%llu.%03llus] %s\n", (unsigned long long)(t / 1000),
            (unsigned long long)(t % 1000), msg);
    fflush(stderr);
}

static void keylog_hook(void *user, const char *line)
{
    cli_ctx *ctx = user;

    if (ctx->keylog == NULL) {
        return;
    }
    if (fprintf(ctx->keylog, "%s\n", line) < 0 || fflush(ctx->keylog) != 0) {
        fprintf(stderr, "warning: cannot write the key log: %s\n", strerror(errno));
    }
}

void cli_ctx_close(cli_ctx *ctx)
{
    if (ctx->psks != NULL) {
        memset(ctx->psks, 0, CLI_PSK_MAX * sizeof(*ctx->psks));
        free(ctx->psks);
        ctx->psks = NULL;
    }
    if (ctx->keylog != NULL) {
        (void)fclose(ctx->keylog);
        ctx->keylog = NULL;
    }
}

/* Report a failed config call; usage errors for values given on the command line. */
static int cfg_fail(const char *what, int err, int code)
{
    fprintf(stderr, "error: %s: %s\n", what, sdtls_strerror(err));
    return code;
}

static int setup_verification(const cli_opts *o, sdtls_config *cfg)
{
    int rc;

    if (o->ca != NULL) {
        rc = sdtls_config_set_ca_file(cfg, o->ca);
        if (rc != 0) {
            fprintf(stderr, "error: --ca %s: %s\n", o->ca, sdtls_strerror(rc));
            return CLI_EXIT_FAIL;
        }
        rc = sdtls_config_set_verify(cfg, SDTLS_VERIFY_CA);
    } else if (o->fingerprint != NULL) {
        rc = sdtls_config_set_peer_fingerprint(cfg, o->fingerprint);
        if (rc != 0) {
            fprintf(stderr, "error: --verify-fingerprint '%s': %s (expected \"sha-256 XX:...\")\n",
                    o->fingerprint, sdtls_strerror(rc));
            return CLI_EXIT_USAGE;
        }
        rc = sdtls_config_set_verify(cfg, SDTLS_VERIFY_FINGERPRINT);
    } else {
        /* Client: --insecure. Server: any client certificate, or none asked. */
        rc = sdtls_config_set_verify(cfg, SDTLS_VERIFY_NONE);
    }
    if (rc != 0) {
        return cfg_fail("sdtls_config_set_verify", rc, CLI_EXIT_FAIL);
    }
    if (o->is_server) {
        int want = o->ca != NULL || o->fingerprint != NULL || o->require_client_cert;

        rc = sdtls_config_set_client_auth(cfg, want, want);
        if (rc != 0) {
            return cfg_fail("sdtls_config_set_client_auth", rc, CLI_EXIT_FAIL);
        }
    }
    return CLI_EXIT_OK;
}

static int setup_certificate(const cli_opts *o, sdtls_config *cfg)
{
    int rc;

    if (o->cert != NULL) {
        rc = sdtls_config_load_cert_files(cfg, o->cert, o->key);
        if (rc != 0) {
            fprintf(stderr, "error: cannot load --cert %s / --key %s: %s\n", o->cert, o->key,
                    sdtls_strerror(rc));
            return CLI_EXIT_FAIL;
        }
    } else if (o->generate_cert) {
        rc = sdtls_config_generate_cert(cfg, o->gen_type, NULL);
        if (rc != 0) {
            return cfg_fail("cannot generate a certificate", rc, CLI_EXIT_FAIL);
        }
    }
    return CLI_EXIT_OK;
}

static int setup_policy(const cli_opts *o, sdtls_config *cfg)
{
    int rc;

    if (o->ciphers != NULL && (rc = sdtls_config_set_ciphers(cfg, o->ciphers)) != 0) {
        fprintf(stderr, "error: --ciphers '%s': %s\n", o->ciphers, sdtls_strerror(rc));
        return CLI_EXIT_USAGE;
    }
    if (o->groups != NULL && (rc = sdtls_config_set_groups(cfg, o->groups)) != 0) {
        fprintf(stderr, "error: --groups '%s': %s\n", o->groups, sdtls_strerror(rc));
        return CLI_EXIT_USAGE;
    }
    if (o->has_mtu && (rc = sdtls_config_set_mtu(cfg, o->mtu)) != 0) {
        fprintf(stderr, "error: --mtu %zu: %s (256..16384)\n", o->mtu, sdtls_strerror(rc));
        return CLI_EXIT_USAGE;
    }
    if (o->no_cookie && (rc = sdtls_config_set_cookie(cfg, 0, 0)) != 0) {
        return cfg_fail("--no-cookie", rc, CLI_EXIT_FAIL);
    }
    return CLI_EXIT_OK;
}

static int setup_hooks(const cli_opts *o, cli_ctx *ctx, sdtls_config *cfg)
{
    const char *path = o->keylog;
    int rc;

    ctx->verbose = o->verbose;
    if (o->verbose > 0) {
        sdtls_log_level lvl = o->verbose >= 2 ? SDTLS_LOG_DEBUG : SDTLS_LOG_INFO;

        rc = sdtls_config_set_log(cfg, lvl, log_hook, ctx);
        if (rc != 0) {
            return cfg_fail("sdtls_config_set_log", rc, CLI_EXIT_FAIL);
        }
    }
    if (path == NULL) {
        path = getenv("SSLKEYLOGFILE");
        if (path != NULL && path[0] == '\0') {
            path = NULL;
        }
    }
    if (path != NULL) {
        ctx->keylog = fopen(path, "a");
        if (ctx->keylog == NULL) {
            fprintf(stderr, "error: cannot open key log %s: %s\n", path, strerror(errno));
            return CLI_EXIT_FAIL;
        }
        rc = sdtls_config_set_keylog(cfg, keylog_hook, ctx);
        if (rc != 0) {
            return cfg_fail("sdtls_config_set_keylog", rc, CLI_EXIT_FAIL);
        }
    }
    return CLI_EXIT_OK;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Hex (optionally 0x-prefixed) to bytes. Returns the length, or -1. */
static long parse_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
    }
    while (s[0] != '\0' && s[0] != '\n' && s[0] != '\r') {
        int hi = hexval((unsigned char)s[0]);
        int lo = hi >= 0 ? hexval((unsigned char)s[1]) : -1;
        if (lo < 0 || n == cap) {
            return -1;
        }
        out[n++] = (uint8_t)(hi << 4 | lo);
        s += 2;
    }
    return n > 0 ? (long)n : -1;
}

static int psk_lookup(void *user, const uint8_t *id, size_t id_len, uint8_t *key, size_t cap)
{
    const cli_ctx *ctx = user;
    for (size_t i = 0; i < ctx->n_psks; i++) {
        const cli_psk *p = &ctx->psks[i];
        if (p->identity_len == id_len && memcmp(p->identity, id, id_len) == 0 &&
            p->key_len <= cap) {
            memcpy(key, p->key, p->key_len);
            return (int)p->key_len;
        }
    }
    return -1;
}

/* --psk-file: "identity:hexkey" per line; blank lines and '#' comments skipped. */
static int load_psk_file(const char *path, cli_ctx *ctx)
{
    FILE *f = fopen(path, "r");
    char line[512];
    size_t lineno = 0;
    if (f == NULL) {
        fprintf(stderr, "error: --psk-file %s: %s\n", path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    ctx->psks = calloc(CLI_PSK_MAX, sizeof(*ctx->psks));
    if (ctx->psks == NULL) {
        fclose(f);
        return CLI_EXIT_FAIL;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        char *colon = strrchr(line, ':');
        if (line[0] == '#' || line[0] == '\n' || line[0] == '\0') {
            continue;
        }
        cli_psk *p = &ctx->psks[ctx->n_psks];
        long klen;
        if (colon == NULL || ctx->n_psks == CLI_PSK_MAX ||
            (size_t)(colon - line) >= sizeof(p->identity) ||
            (klen = parse_hex(colon + 1, p->key, sizeof(p->key))) < 0) {
            fprintf(stderr, "error: --psk-file %s:%zu: expected identity:hexkey\n", path, lineno);
            fclose(f);
            return CLI_EXIT_USAGE;
        }
        p->identity_len = (size_t)(colon - line);
        memcpy(p->identity, line, p->identity_len);
        p->key_len = (size_t)klen;
        ctx->n_psks++;
    }
    fclose(f);
    return CLI_EXIT_OK;
}

static int setup_features(const cli_opts *o, cli_ctx *ctx, sdtls_config *cfg)
{
    int rc;
    if (o->srtp != NULL && (rc = sdtls_config_set_srtp_profiles(cfg, o->srtp)) != 0) {
        fprintf(stderr, "error: --srtp '%s': %s\n", o->srtp, sdtls_strerror(rc));
        return CLI_EXIT_USAGE;
    }
    if (o->psk_hex != NULL) {
        uint8_t key[64];
        long n = parse_hex(o->psk_hex, key, sizeof(key));
        if (n < 0) {
            fprintf(stderr, "error: --psk: expected 1..64 bytes of hex\n");
            return CLI_EXIT_USAGE;
        }
        rc = sdtls_config_set_psk(cfg, (const uint8_t *)o->psk_identity, strlen(o->psk_identity),
                                  key, (size_t)n);
        if (rc != 0) {
            return cfg_fail("--psk-identity/--psk", rc, CLI_EXIT_USAGE);
        }
    }
    if (o->psk_file != NULL) {
        rc = load_psk_file(o->psk_file, ctx);
        if (rc != CLI_EXIT_OK) {
            return rc;
        }
        if ((rc = sdtls_config_set_psk_callback(cfg, psk_lookup, ctx)) != 0) {
            return cfg_fail("--psk-file", rc, CLI_EXIT_FAIL);
        }
    }
    if (o->raw_public_key && (rc = sdtls_config_set_raw_public_key(cfg, 1)) != 0) {
        return cfg_fail("--raw-public-key", rc, CLI_EXIT_FAIL);
    }
    if (o->cid >= 0 && (rc = sdtls_config_set_cid(cfg, o->cid)) != 0) {
        return cfg_fail("--cid", rc, CLI_EXIT_USAGE);
    }
    if (o->legacy_cbc && (rc = sdtls_config_set_legacy_cbc(cfg, 1)) != 0) {
        return cfg_fail("--legacy-cbc", rc, CLI_EXIT_FAIL);
    }
    if (o->heartbeat && (rc = sdtls_config_set_heartbeat(cfg, 1)) != 0) {
        return cfg_fail("--heartbeat", rc, CLI_EXIT_FAIL);
    }
    return CLI_EXIT_OK;
}

int cli_build_config(const cli_opts *o, cli_ctx *ctx, sdtls_config **out)
{
    sdtls_config *cfg = NULL;
    int rc;

    *out = NULL;
    rc = sdtls_config_new(&cfg, NULL);
    if (rc != 0) {
        return cfg_fail("sdtls_config_new", rc, CLI_EXIT_FAIL);
    }
    /* Hooks first, so certificate loading and the rest can already log. */
    rc = setup_hooks(o, ctx, cfg);
    if (rc == CLI_EXIT_OK) {
        rc = setup_certificate(o, cfg);
    }
    if (rc == CLI_EXIT_OK) {
        rc = setup_verification(o, cfg);
    }
    if (rc == CLI_EXIT_OK) {
        rc = setup_policy(o, cfg);
    }
    if (rc == CLI_EXIT_OK) {
        rc = setup_features(o, ctx, cfg);
    }
    if (rc != CLI_EXIT_OK) {
        sdtls_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------------------------
 * Reporting
 * ---------------------------------------------------------------------------------------- */

void cli_print_own_fingerprint(const sdtls_config *cfg)
{
    char fp[FP_CAP];

    if (sdtls_config_get_fingerprint(cfg, "sha-256", fp, sizeof(fp)) == 0) {
        fprintf(stderr, "fingerprint: %s\n", fp);
        fflush(stderr);
    }
}

static void print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fprintf(stderr, "%02x", p[i]);
    }
}

static int print_exporter(const sdtls_conn *c, const cli_opts *o)
{
    uint8_t buf[CLI_EKM_MAX_LEN];
    size_t i;
    int rc;

    rc = sdtls_conn_export(c, o->ekm_label, NULL, 0, buf, o->ekm_len);
    if (rc != 0) {
        fprintf(stderr, "error: keying material exporter: %s\n", sdtls_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    fprintf(stderr, "exporter: %s ", o->ekm_label);
    for (i = 0; i < o->ekm_len; i++) {
        fprintf(stderr, "%02x", buf[i]);
    }
    fputs("\n", stderr);
    fflush(stderr);
    return 0;
}

int cli_print_handshake(const sdtls_udp_session *s, const cli_opts *o)
{
    const sdtls_conn *c = sdtls_udp_session_conn(s);
    char fp[FP_CAP];

    if (sdtls_conn_peer_fingerprint(c, fp, sizeof(fp)) != 0) {
        snprintf(fp, sizeof(fp), "none");
    }
    fprintf(stderr, "handshake: %s %s group=%s peer=%s rtx=%lu ms=%llu\n",
            sdtls_conn_version_name(c), sdtls_conn_cipher_name(c),
            sdtls_conn_group_name(c)[0] != '\0' ? sdtls_conn_group_name(c) : "none", fp,
            (unsigned long)sdtls_conn_handshake_rtx(c),
            (unsigned long long)sdtls_udp_session_handshake_ms(s));
    fflush(stderr);
    sdtls_srtp_keys k;
    if (sdtls_conn_srtp_keys(c, &k) == 0) {
        fprintf(stderr, "srtp: %s client_key=", k.profile_name);
        print_hex(k.client_key, k.key_len);
        fputs(" client_salt=", stderr);
        print_hex(k.client_salt, k.salt_len);
        fputs(" server_key=", stderr);
        print_hex(k.server_key, k.key_len);
        fputs(" server_salt=", stderr);
        print_hex(k.server_salt, k.salt_len);
        fputs("\n", stderr);
        fflush(stderr);
        memset(&k, 0, sizeof(k));
    }
    uint8_t cid[32];
    size_t cid_len;
    if (sdtls_conn_cid(c, cid, sizeof(cid), &cid_len) == 0) {
        fputs("cid: ", stderr);
        print_hex(cid, cid_len);
        fputs("\n", stderr);
        fflush(stderr);
    }
    if (o->has_ekm) {
        return print_exporter(c, o);
    }
    return 0;
}

void cli_stats_add(sdtls_stats *acc, const sdtls_stats *x)
{
    acc->dgrams_rx += x->dgrams_rx;
    acc->records_rx += x->records_rx;
    acc->records_tx += x->records_tx;
    acc->dgrams_tx += x->dgrams_tx;
    acc->drop_bad_mac += x->drop_bad_mac;
    acc->drop_replay += x->drop_replay;
    acc->drop_bad_epoch += x->drop_bad_epoch;
    acc->drop_malformed += x->drop_malformed;
    acc->drop_over_budget += x->drop_over_budget;
    acc->rtx_flights += x->rtx_flights;
    acc->rtx_records += x->rtx_records;
    acc->app_bytes_rx += x->app_bytes_rx;
    acc->app_bytes_tx += x->app_bytes_tx;
}

void cli_print_stats(const sdtls_stats *st, const sdtls_udp_stats *ds)
{
    fprintf(stderr,
            "stats: dgrams_rx=%llu dgrams_tx=%llu records_rx=%llu records_tx=%llu "
            "app_bytes_rx=%llu app_bytes_tx=%llu rtx_flights=%llu rtx_records=%llu\n",
            (unsigned long long)st->dgrams_rx, (unsigned long long)st->dgrams_tx,
            (unsigned long long)st->records_rx, (unsigned long long)st->records_tx,
            (unsigned long long)st->app_bytes_rx, (unsigned long long)st->app_bytes_tx,
            (unsigned long long)st->rtx_flights, (unsigned long long)st->rtx_records);
    fprintf(stderr,
            "stats: drop_bad_mac=%llu drop_replay=%llu drop_bad_epoch=%llu "
            "drop_malformed=%llu drop_over_budget=%llu\n",
            (unsigned long long)st->drop_bad_mac, (unsigned long long)st->drop_replay,
            (unsigned long long)st->drop_bad_epoch, (unsigned long long)st->drop_malformed,
            (unsigned long long)st->drop_over_budget);
    if (ds != NULL) {
        fprintf(stderr,
                "driver: dgrams_rx=%llu dgrams_tx=%llu screened=%llu hvr_sent=%llu "
                "accepted=%llu ignored=%llu table_full=%llu half_open_full=%llu "
                "handshake_timeouts=%llu restarts=%llu cid_routed=%llu cid_migrations=%llu "
                "tx_errors=%llu closed=%llu failed=%llu\n",
                (unsigned long long)ds->dgrams_rx, (unsigned long long)ds->dgrams_tx,
                (unsigned long long)ds->screened, (unsigned long long)ds->hvr_sent,
                (unsigned long long)ds->accepted, (unsigned long long)ds->ignored,
                (unsigned long long)ds->table_full, (unsigned long long)ds->half_open_full,
                (unsigned long long)ds->handshake_timeouts, (unsigned long long)ds->restarts,
                (unsigned long long)ds->cid_routed, (unsigned long long)ds->cid_migrations,
                (unsigned long long)ds->tx_errors, (unsigned long long)ds->closed,
                (unsigned long long)ds->failed);
        /* A client endpoint accepts nothing: its one session started the handshake. */
        uint64_t started = ds->accepted > 0 ? ds->accepted : ds->handshakes_done + ds->failed;
        fprintf(stderr, "handshakes: started=%llu completed=%llu failed=%llu",
                (unsigned long long)started, (unsigned long long)ds->handshakes_done,
                (unsigned long long)(started >= ds->handshakes_done
                                         ? started - ds->handshakes_done
                                         : 0));
        for (int a = 0; a < 256; a++) {
            if (ds->failed_alert_sent[a] != 0) {
                fprintf(stderr, " sent_%s=%llu", sdtls_alert_name(a),
                        (unsigned long long)ds->failed_alert_sent[a]);
            }
            if (ds->failed_alert_received[a] != 0) {
                fprintf(stderr, " received_%s=%llu", sdtls_alert_name(a),
                        (unsigned long long)ds->failed_alert_received[a]);
            }
        }
        fputs("\n", stderr);
    }
    fflush(stderr);
}

void cli_error(const char *what, int err)
{
    const char *detail = sdtls_udp_last_error();

    if (err <= SDTLS_UDP_ERR_RESOLVE && err >= SDTLS_UDP_ERR_RESTARTED && detail[0] != '\0') {
        fprintf(stderr, "error: %s: %s (%s)\n", what, sdtls_udp_strerror(err), detail);
    } else {
        fprintf(stderr, "error: %s: %s\n", what, sdtls_udp_strerror(err));
    }
    fflush(stderr);
}

int cli_output(const uint8_t *data, size_t len)
{
    if (len > 0 && fwrite(data, 1, len, stdout) != len) {
        return -1;
    }
    return fflush(stdout) == 0 ? 0 : -1;
}
