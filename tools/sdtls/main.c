/* sdtls command-line tool: subcommand dispatch, keygen, fingerprint, version. */
#define _POSIX_C_SOURCE 200809L

#include <string.h>

#include "cli.h"

/* Fingerprint text: "sha-256 " + 32 * "XX:" fits in 104 bytes. */
#define FP_CAP 128

static int keygen(int argc, char **argv)
{
    sdtls_key_type type = SDTLS_KEY_EC_P256;
    const char *cert = NULL;
    const char *key = NULL;
    char fp[FP_CAP];
    int i;
    int rc;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        const char *val = NULL;
        const char *name = a;
        size_t name_len = strcspn(a, "=");

        if (strncmp(a, "--type", name_len) == 0 && name_len == 6) {
            name = "--type";
        } else if (strncmp(a, "--cert", name_len) == 0 && name_len == 6) {
            dst = &cert;
        } else if (strncmp(a, "--key", name_len) == 0 && name_len == 5) {
            dst = &key;
        } else {
            fprintf(stderr, "error: keygen: unexpected argument '%s'\n", a);
            cli_usage(stderr);
            return CLI_EXIT_USAGE;
        }
        if (a[name_len] == '=') {
            val = a + name_len + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "error: keygen: option '%s' needs a value\n", a);
            return CLI_EXIT_USAGE;
        }
        if (dst != NULL) {
            *dst = val;
        } else if (cli_parse_key_type(val, &type) != 0) {
            fprintf(stderr, "error: keygen: %s: unknown key type '%s' (ec, rsa, ed25519)\n", name,
                    val);
            return CLI_EXIT_USAGE;
        }
    }
    if (cert == NULL || key == NULL) {
        fprintf(stderr, "error: keygen needs --cert FILE and --key FILE\n");
        cli_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    rc = sdtls_keygen_files(type, cert, key, fp, sizeof(fp));
    if (rc != 0) {
        fprintf(stderr, "error: keygen: %s\n", sdtls_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    printf("%s\n", fp);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int fingerprint(int argc, char **argv)
{
    char fp[FP_CAP];
    int rc;

    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "error: fingerprint needs exactly one FILE\n");
        cli_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    rc = sdtls_fingerprint_file(argv[0], fp, sizeof(fp));
    if (rc != 0) {
        fprintf(stderr, "error: %s: %s\n", argv[0], sdtls_strerror(rc));
        return CLI_EXIT_FAIL;
    }
    printf("%s\n", fp);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 2) {
        cli_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("%s\n", sdtls_version());
        return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        cli_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (cli_install_signals() != 0) {
        fprintf(stderr, "error: cannot install signal handlers\n");
        return CLI_EXIT_FAIL;
    }
    if (strcmp(cmd, "server") == 0) {
        return cli_server(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "client") == 0) {
        return cli_client(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "keygen") == 0) {
        return keygen(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "fingerprint") == 0) {
        return fingerprint(argc - 2, argv + 2);
    }
    fprintf(stderr, "error: unknown command '%s'\n", cmd);
    cli_usage(stderr);
    return CLI_EXIT_USAGE;
}
