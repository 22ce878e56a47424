/*
 * Whether the device ends a work-item's loops early, measured once when the
 * runtime is created. Mesa's llvmpipe (rusticl) does: every loop of a
 * work-item stops after 65535 passes in all, without an error, so a GEMM
 * tile summing a few thousand products returns a partial sum. The ops that
 * loop long inside one work-item split their launches to stay under the
 * limit there (tc_runtime_loop_limit).
 *
 * The probe is the runtime's own kernel, built from the source below rather
 * than through the program cache: it must not depend on a user's kernel
 * folder, and it is not one of the model's programs.
 */
#include <stddef.h>
#include <stdint.h>

#include "runtime/cl_internal.h"

/* One work-item counts the passes of a loop of n iterations; the loads keep
 * the compiler from folding the loop into its trip count. */
static const char k_probe_source[] =
    "__kernel void tc_probe_loop_passes(__global const uint *ones, uint n,\n"
    "                                   __global uint *out)\n"
    "{\n"
    "    uint count = 0;\n"
    "    for (uint i = 0; i < n; i++)\n"
    "        count += ones[i & 15];\n"
    "    out[0] = count;\n"
    "}\n";

/* Iterations the probe asks for: well past any limit a driver is known to
 * have, a millisecond or so where there is none. */
#define PROBE_PASSES (1u << 20)

void tc_runtime_probe_loop_limit(terracl_runtime *rt)
{
    rt->loop_limit = 0;
    cl_uint ones[16], n = PROBE_PASSES, count = PROBE_PASSES;
    for (int i = 0; i < 16; i++)
        ones[i] = 1;
    const char *src = k_probe_source;
    cl_int rc = CL_SUCCESS;
    cl_program prog = clCreateProgramWithSource(rt->context, 1, &src, NULL, &rc);
    cl_kernel kern = NULL;
    cl_mem in = NULL, out = NULL;
    if (rc == CL_SUCCESS)
        rc = clBuildProgram(prog, 1, &rt->device, "", NULL, NULL);
    if (rc == CL_SUCCESS)
        kern = clCreateKernel(prog, "tc_probe_loop_passes", &rc);
    if (rc == CL_SUCCESS)
        in = clCreateBuffer(rt->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof ones,
                            ones, &rc);
    if (rc == CL_SUCCESS)
        out = clCreateBuffer(rt->context, CL_MEM_WRITE_ONLY, sizeof count, NULL, &rc);
    if (rc == CL_SUCCESS)
        rc = clSetKernelArg(kern, 0, sizeof in, &in);
    if (rc == CL_SUCCESS)
        rc = clSetKernelArg(kern, 1, sizeof n, &n);
    if (rc == CL_SUCCESS)
        rc = clSetKernelArg(kern, 2, sizeof out, &out);
    const size_t one = 1;
    if (rc == CL_SUCCESS)
        rc = clEnqueueNDRangeKernel(rt->queue, kern, 1, NULL, &one, &one, 0, NULL, NULL);
    if (rc == CL_SUCCESS)
        rc = clEnqueueReadBuffer(rt->queue, out, CL_TRUE, 0, sizeof count, &count, 0, NULL, NULL);
    /* A device that cannot run the probe is taken at its word: no limit. */
    if (rc == CL_SUCCESS && count < PROBE_PASSES)
        rt->loop_limit = count > 0 ? count : 1;
    if (out)
        clReleaseMemObject(out);
    if (in)
        clReleaseMemObject(in);
    if (kern)
        clReleaseKernel(kern);
    if (prog)
        clReleaseProgram(prog);
}

size_t tc_runtime_loop_limit(const terracl_runtime *rt) { return rt->loop_limit; }

size_t tc_runtime_loop_budget(const terracl_runtime *rt)
{
    return rt->loop_limit == 0 ? SIZE_MAX : rt->loop_limit / 2;
}
