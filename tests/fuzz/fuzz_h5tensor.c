/*
 * libFuzzer target: bytes -> HDF5 input file -> the datasets `terracl run`
 * reads (input's shape, then input, temporal_coords, location_coords), each
 * after terracl_h5_probe as the command does.
 */
#include <string.h>

#include "fuzz_file.h"
#include "io/tensor_file.h"
#include "terracl/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_file(data, size, ".h5");
    terracl_error err = {0};
    if (terracl_h5_probe(path, TERRACL_H5_PROBE_DATA, 10, &err) != TERRACL_OK)
        return 0;
    struct tc_host_tensor t;
    if (tc_tensor_file_shape(path, "input", &t, &err) == TERRACL_OK && t.data != NULL)
        abort(); /* the shape call never reads data */
    static const char *const names[] = {"input", "temporal_coords", "location_coords"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        terracl_status st = tc_tensor_file_read(path, names[i], &t, &err);
        if (st == TERRACL_OK) {
            size_t n = 1;
            for (int d = 0; d < t.ndim; d++)
                n *= (size_t)t.dims[d];
            if (n != t.count)
                abort();
            volatile float sink = t.count ? t.data[t.count - 1] : 0.0f;
            (void)sink;
            tc_host_tensor_free(&t);
        } else if (err.message[0] == '\0' || t.data != NULL) {
            abort();
        }
    }
    return 0;
}
