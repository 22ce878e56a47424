/*
 * libFuzzer target: bytes -> HDF5 checkpoint -> every tensor read as
 * float32, as a model load does. libhdf5 itself (not instrumented) can
 * crash on malformed metadata, which no check of ours can prevent in the
 * same process; so each input goes through terracl_h5_probe first, as
 * `terracl run` does, and only inputs the probe passes are opened here.
 * Anything that then crashes or trips a sanitizer is terracl's bug (or the
 * probe's blind spot).
 */
#include "fuzz_checkpoint.h"
#include "fuzz_file.h"
#include "terracl/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(data, size, ".h5");
    terracl_error err = {0};
    if (terracl_h5_probe(path, TERRACL_H5_PROBE_DATA, 10, &err) != TERRACL_OK)
        return 0;
    fuzz_checkpoint(path);
    return 0;
}
