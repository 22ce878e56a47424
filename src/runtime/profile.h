/*
 * Kernel profiling inside the runtime: when a runtime is created with
 * params.profile set, every launch (terracl's kernels and CLBlast's GEMMs)
 * leaves an OpenCL event here; terracl_runtime_profile (runtime.h) turns
 * them into per-kernel totals. Nothing outside src/runtime/ includes this.
 */
#ifndef TC_RUNTIME_PROFILE_H
#define TC_RUNTIME_PROFILE_H

#include "runtime/cl_internal.h"

/* Where an enqueue call should put its event: NULL when not profiling. */
static inline cl_event *tc_profile_slot(terracl_runtime *rt, cl_event *slot)
{
    return rt->profile != NULL ? slot : NULL;
}

/* Takes ownership of `event` (released even on failure) and files it under
 * (kernel, variant); variant is free text such as build options or a GEMM
 * shape and may be NULL. */
terracl_status tc_profile_record(terracl_runtime *rt, const char *kernel, const char *variant,
                                 cl_event event, terracl_error *err);

/* The variant under which a GEMM launch is filed: "MxNxK", " xBATCH" for
 * batched calls, then what its epilogue adds (0: nothing, 1: bias, 2: bias
 * and GELU, 3: row bias, 4: row bias and ReLU) and " +C" when it
 * accumulates into C (beta != 0). */
void tc_profile_gemm_tag(char *buf, size_t cap, size_t m, size_t n, size_t k, size_t batch,
                         int epilogue, float beta);

/* Allocates the profile of a runtime created with profiling on. */
terracl_status tc_profile_create(terracl_runtime *rt, terracl_error *err);
void tc_profile_destroy(terracl_runtime *rt);

#endif /* TC_RUNTIME_PROFILE_H */
