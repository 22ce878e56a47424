/* The kernel sources from cl_kernels/, embedded at build time (generated). */
#ifndef TC_RUNTIME_KERNEL_SOURCES_H
#define TC_RUNTIME_KERNEL_SOURCES_H

#include <stddef.h>

struct tc_kernel_source {
    const char *name; /* file stem: "elementwise" for cl_kernels/elementwise.cl */
    const unsigned char *text;
    size_t size;
};

extern const struct tc_kernel_source tc_kernel_sources[];
extern const size_t tc_kernel_source_count;

#endif /* TC_RUNTIME_KERNEL_SOURCES_H */
