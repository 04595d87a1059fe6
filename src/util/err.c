#include "common.h"

#include "../crypto/crypto.h"

#include <stdio.h>

/* One list of alert names (RFC 5246 7.2, RFC 8446 6.2) for logs and error strings. */
#define SDTLS_ALERT_NAMES(X)                                                                       \
    X(CLOSE_NOTIFY, "close_notify")                                                                \
    X(UNEXPECTED_MESSAGE, "unexpected_message")                                                    \
    X(BAD_RECORD_MAC, "bad_record_mac")                                                            \
    X(RECORD_OVERFLOW, "record_overflow")                                                          \
    X(HANDSHAKE_FAILURE, "handshake_failure")                                                      \
    X(BAD_CERTIFICATE, "bad_certificate")                                                          \
    X(UNSUPPORTED_CERTIFICATE, "unsupported_certificate")                                          \
    X(CERTIFICATE_REVOKED, "certificate_revoked")                                                  \
    X(CERTIFICATE_EXPIRED, "certificate_expired")                                                  \
    X(CERTIFICATE_UNKNOWN, "certificate_unknown")                                                  \
    X(ILLEGAL_PARAMETER, "illegal_parameter")                                                      \
    X(UNKNOWN_CA, "unknown_ca")                                                                    \
    X(ACCESS_DENIED, "access_denied")                                                              \
    X(DECODE_ERROR, "decode_error")                                                                \
    X(DECRYPT_ERROR, "decrypt_error")                                                              \
    X(PROTOCOL_VERSION, "protocol_version")                                                        \
    X(INSUFFICIENT_SECURITY, "insufficient_security")                                              \
    X(INTERNAL_ERROR, "internal_error")                                                            \
    X(USER_CANCELED, "user_canceled")                                                              \
    X(NO_RENEGOTIATION, "no_renegotiation")                                                        \
    X(MISSING_EXTENSION, "missing_extension")                                                      \
    X(UNSUPPORTED_EXTENSION, "unsupported_extension")                                              \
    X(UNRECOGNIZED_NAME, "unrecognized_name")                                                      \
    X(UNKNOWN_PSK_IDENTITY, "unknown_psk_identity")                                                \
    X(NO_APPLICATION_PROTOCOL, "no_application_protocol")

const char *sdtls_alert_name(int alert)
{
    switch (alert) {
#define ALERT_CASE_(id, name)                                                                      \
    case SDTLS_ALERT_##id:                                                                         \
        return name;
        SDTLS_ALERT_NAMES(ALERT_CASE_)
#undef ALERT_CASE_
    default:
        return "unknown";
    }
}

int sdtls_err_alert(int err)
{
    if (err <= -0x100 && err > -0x200) {
        return -err - 0x100;
    }
    if (err <= -0x200 && err > -0x300) {
        return -err - 0x200;
    }
    return -1;
}

int sdtls_err_is_fatal(int err)
{
    return sdtls_err_alert(err) >= 0 || err == SDTLS_ERR_TIMEOUT;
}

const char *sdtls_strerror(int err)
{
    /* Alert codes get a composed message; one static buffer per kind keeps it simple and
     * the result is still static storage (not thread-safe for alert codes: documented). */
    static _Thread_local char buf[96];
    if (err == 0) {
        return "success";
    }
    if (err <= -0x100 && err > -0x200) {
        snprintf(buf, sizeof(buf), "we aborted the connection: %s",
                 sdtls_alert_name(sdtls_err_alert(err)));
        return buf;
    }
    if (err <= -0x200 && err > -0x300) {
        snprintf(buf, sizeof(buf), "peer sent alert %s", sdtls_alert_name(sdtls_err_alert(err)));
        return buf;
    }
    switch (err) {
#define ERR_CASE_(name, value, msg)                                                                \
    case name:                                                                                     \
        return msg;
        SDTLS_ERRORS(ERR_CASE_)
#undef ERR_CASE_
    case SDTLS_DROP:
        return "record dropped";
    default:
        return "unknown error";
    }
}
