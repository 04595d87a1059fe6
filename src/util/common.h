/* Internal definitions shared by every module. */
#ifndef SDTLS_COMMON_H
#define SDTLS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sdtls.h"

#if defined(__GNUC__)
#define SDTLS_MUST_CHECK __attribute__((warn_unused_result))
#define SDTLS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SDTLS_MUST_CHECK
#define SDTLS_PRINTF(f, a)
#endif

/* Internal only: the record or datagram is discarded silently (RFC 6347 4.1.2.7) and counted.
 * Never returned from a public function. */
#define SDTLS_DROP (-99)

/* We abort with alert `name` (SDTLS_ALERT(DECODE_ERROR)). */
#define SDTLS_ALERT(name) SDTLS_ERR_LOCAL_ALERT(SDTLS_ALERT_##name)
#define SDTLS_IS_LOCAL_ALERT(e) ((e) <= -0x100 && (e) > -0x200)

#define SDTLS_TRY(expr)                                                                            \
    do {                                                                                           \
        int try_rc_ = (expr);                                                                      \
        if (try_rc_ != 0) {                                                                        \
            return try_rc_;                                                                        \
        }                                                                                          \
    } while (0)

#define SDTLS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
