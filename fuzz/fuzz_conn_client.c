/*
 * A whole client connection driven by fuzzer bytes: one variant byte, then a script of
 * datagrams (as if from the server), timer events and closes, on a fixed virtual clock
 * (format in fuzz_common.h). The client sends its ClientHello before the first step. The seed
 * corpus holds real server transcripts made by gen_corpus, which replay to a completed
 * handshake. Everything is freed every run.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    fz_ep ep;
    if (fz_ep_init(&ep, SDTLS_ROLE_CLIENT, data[0], NULL, NULL) == 0) {
        fz_run_script(&ep, data + 1, size - 1);
    }
    fz_ep_free(&ep);
    return 0;
}
