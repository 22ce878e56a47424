/*
 * A program outside the terracl tree: lists the OpenCL devices, opens the
 * default one and multiplies two small matrices with terracl's GEMM.
 * Build it against an installed terracl with CMake (find_package(terracl))
 * or with pkg-config (see tools/check_install.sh).
 */
#include <math.h>
#include <stdio.h>

#include <terracl/terracl.h>

int main(void)
{
    terracl_error err = {0};
    size_t count = 0;
    if (terracl_device_count(&count, &err) != TERRACL_OK || count == 0) {
        fprintf(stderr, "no OpenCL device: %s\n", err.message);
        return 77;
    }
    for (size_t i = 0; i < count; i++) {
        struct terracl_device_info info;
        if (terracl_device_get_info(i, &info, &err) == TERRACL_OK)
            printf("device %zu: %s (%s)\n", i, info.name, info.type);
    }

    terracl_runtime *rt = NULL;
    if (terracl_runtime_create(NULL, &rt, &err) != TERRACL_OK) {
        fprintf(stderr, "runtime: %s\n", err.message);
        return 1;
    }
    /* [2x3] x [3x2] */
    const float a[6] = {1, 2, 3, 4, 5, 6};
    const float b[6] = {7, 8, 9, 10, 11, 12};
    const float want[4] = {58, 64, 139, 154};
    float c[4] = {0};
    terracl_status st = terracl_sgemm_host(rt, 0, 0, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2, &err);
    terracl_runtime_destroy(rt);
    if (st != TERRACL_OK) {
        fprintf(stderr, "gemm: %s\n", err.message);
        return 1;
    }
    for (int i = 0; i < 4; i++)
        if (fabsf(c[i] - want[i]) > 1e-4f) {
            fprintf(stderr, "wrong GEMM result at %d: %g != %g\n", i, c[i], want[i]);
            return 1;
        }
    printf("GEMM verified: [[%g, %g], [%g, %g]]\n", c[0], c[1], c[2], c[3]);
    return 0;
}
