/* Internal declarations of the UDP driver, shared by udp.c and sock.c. */
#ifndef SDTLS_UDP_INT_H
#define SDTLS_UDP_INT_H

#include <netdb.h>

#include "sdtls_udp.h"

#if defined(__GNUC__)
#define SDTLS_UDP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SDTLS_UDP_PRINTF(f, a)
#endif

/* Longest canonical peer key: family (1) + port (2) + IPv6 address (16) + scope id (4). */
#define SDTLS_UDP_KEY_CAP 23

/* Record the detail of a failure for sdtls_udp_last_error() (printf-style). */
void sdtls__udp_set_error(const char *fmt, ...) SDTLS_UDP_PRINTF(1, 2);
void sdtls__udp_clear_error(void);

/* Resolve "HOST:PORT" into a getaddrinfo list (free with freeaddrinfo()).
 * Returns 0 or SDTLS_UDP_ERR_RESOLVE. */
int sdtls__udp_resolve(const char *text, int passive, struct addrinfo **res);

/* Open a non-blocking, close-on-exec UDP socket for `ai` and bind (is_bind 1) or connect it.
 * Returns the descriptor, or -1 with the error recorded. */
int sdtls__udp_open(const struct addrinfo *ai, int is_bind, const char *text);

/* Canonical bytes for a peer address (stable across recvfrom() calls, so they can key the
 * session table and bind the cookie). Returns the key length, 0 for an unsupported family. */
size_t sdtls__udp_addr_key(const sdtls_udp_addr *addr, uint8_t key[SDTLS_UDP_KEY_CAP]);

#endif
