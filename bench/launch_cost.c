/*
 * launch_cost: what a device's driver charges per kernel launch and per
 * work-group, apart from the work. A kernel that does almost nothing is
 * enqueued back to back, as a model's layers are, with 1 to 65536
 * work-groups of one work-item each (terracl's CPU kernels' shape); the
 * time per launch at one work-group is the launch's own cost, and the
 * growth with the work-group count is the cost of each.
 *
 *   build/bench/launch_cost [--device N] [--launches L] [--repeat R]
 *
 * --device N: the N-th OpenCL device over all platforms (default 0);
 * --launches L: launches per timing (default 200); --repeat R: timings
 * per size, the best reported (default 5).
 */
#define _POSIX_C_SOURCE 200809L
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_time.h"

static const char k_kernel[] = "__kernel __attribute__((reqd_work_group_size(1, 1, 1)))\n"
                               "void nearly_empty(__global float *x)\n"
                               "{\n"
                               "    if (get_global_id(0) == 0)\n"
                               "        x[0] += 1.0f;\n"
                               "}\n";

static cl_device_id nth_device(int n)
{
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS)
        return NULL;
    for (cl_uint p = 0; p < np; p++) {
        cl_device_id devs[16];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 16, devs, &nd) != CL_SUCCESS)
            continue;
        if ((cl_uint)n < nd)
            return devs[n];
        n -= (int)nd;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int device = 0, launches = 200, repeat = 5;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--device") == 0 && v)
            device = atoi(v), i++;
        else if (strcmp(argv[i], "--launches") == 0 && v)
            launches = atoi(v), i++;
        else if (strcmp(argv[i], "--repeat") == 0 && v)
            repeat = atoi(v), i++;
        else {
            fprintf(stderr, "usage: launch_cost [--device N] [--launches L] [--repeat R]\n");
            return 2;
        }
    }
    if (launches < 1 || repeat < 1 || device < 0) {
        fprintf(stderr, "launch_cost: --launches and --repeat take 1 or more, "
                        "--device 0 or more\n");
        return 2;
    }
    cl_device_id dev = nth_device(device);
    if (!dev) {
        fprintf(stderr, "launch_cost: no OpenCL device %d\n", device);
        return 1;
    }
    char name[256] = "";
    clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof name, name, NULL);
    cl_int e = CL_SUCCESS;
    cl_context ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &e);
    cl_command_queue q = e == CL_SUCCESS ? clCreateCommandQueue(ctx, dev, 0, &e) : NULL;
    const char *src = k_kernel;
    cl_program prog = e == CL_SUCCESS ? clCreateProgramWithSource(ctx, 1, &src, NULL, &e) : NULL;
    if (e == CL_SUCCESS)
        e = clBuildProgram(prog, 1, &dev, "", NULL, NULL);
    cl_kernel k = e == CL_SUCCESS ? clCreateKernel(prog, "nearly_empty", &e) : NULL;
    cl_mem buf = e == CL_SUCCESS ? clCreateBuffer(ctx, CL_MEM_READ_WRITE, 64, NULL, &e) : NULL;
    if (e == CL_SUCCESS)
        e = clSetKernelArg(k, 0, sizeof buf, &buf);
    if (e != CL_SUCCESS) {
        fprintf(stderr, "launch_cost: OpenCL set-up failed (%d) on %s\n", e, name);
        return 1;
    }
    printf("device: %s; %d launches back to back per timing, best of %d\n", name, launches, repeat);
    printf("%12s %16s %20s\n", "work-groups", "us per launch", "ns per work-group");
    static const size_t groups[] = {1, 16, 256, 4096, 65536};
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        size_t global = groups[g], local = 1;
        double best = 1e30;
        for (int r = 0; r < repeat && e == CL_SUCCESS; r++) {
            e = clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 0, NULL, NULL);
            if (e == CL_SUCCESS)
                e = clFinish(q); /* warm: the kernel is built and the workers awake */
            double t0 = now_ms();
            for (int l = 0; l < launches && e == CL_SUCCESS; l++)
                e = clEnqueueNDRangeKernel(q, k, 1, NULL, &global, &local, 0, NULL, NULL);
            if (e == CL_SUCCESS)
                e = clFinish(q);
            double ms = (now_ms() - t0) / launches;
            if (ms < best)
                best = ms;
        }
        if (e != CL_SUCCESS) {
            fprintf(stderr, "launch_cost: a launch failed (%d)\n", e);
            break;
        }
        printf("%12zu %16.1f %20.1f\n", global, best * 1e3, best * 1e6 / (double)global);
    }
    clReleaseMemObject(buf);
    clReleaseKernel(k);
    clReleaseProgram(prog);
    clReleaseCommandQueue(q);
    clReleaseContext(ctx);
    return e == CL_SUCCESS ? 0 : 1;
}
