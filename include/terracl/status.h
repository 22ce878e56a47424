/*
 * terracl status codes and the error record every fallible call fills.
 *
 * The list below is the single source of truth: the enum, the status names
 * and the short descriptions are all expanded from it, so they cannot drift.
 */
#ifndef TERRACL_STATUS_H
#define TERRACL_STATUS_H

#include "terracl/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, "what it means") */
#define TERRACL_STATUS_LIST(X)                                                          \
    X(OK, 0, "success")                                                                 \
    X(ERR_INVALID_ARG, -1, "invalid argument")                                          \
    X(ERR_NO_MEMORY, -2, "out of host memory")                                          \
    X(ERR_OVERFLOW, -3, "size arithmetic overflow")                                     \
    X(ERR_NOT_FOUND, -4, "not found")                                                   \
    X(ERR_NO_DEVICE, -5, "no OpenCL device")                                            \
    X(ERR_OPENCL, -6, "OpenCL call failed")                                             \
    X(ERR_KERNEL_BUILD, -7, "OpenCL program build failed")                              \
    X(ERR_GEMM, -8, "GEMM call failed")                                                 \
    X(ERR_SHAPE, -9, "tensor shape mismatch")                                           \
    X(ERR_TYPE, -10, "wrong type")                                                      \
    X(ERR_IO, -11, "file input/output failed")                                          \
    X(ERR_FORMAT, -12, "malformed file")                                                \
    X(ERR_CONFIG, -13, "invalid configuration")                                         \
    X(ERR_UNSUPPORTED, -14, "not supported")                                            \
    X(ERR_EXISTS, -15, "already exists")                                                \
    X(ERR_INTERNAL, -16, "internal error")

typedef enum terracl_status {
#define TERRACL_STATUS_ENUM_(name, value, text) TERRACL_##name = value,
    TERRACL_STATUS_LIST(TERRACL_STATUS_ENUM_)
#undef TERRACL_STATUS_ENUM_
} terracl_status;

/*
 * Detail of a failed call. The caller owns it (usually on the stack) and passes
 * it as the last argument of a fallible call; NULL means "I only want the code".
 * On failure `status` holds the code and `message` one line that names what
 * went wrong (file, tensor, key, OpenCL error, build log...). On success the
 * record is left untouched.
 */
#define TERRACL_ERROR_MESSAGE_SIZE 4096
typedef struct terracl_error {
    terracl_status status;
    char message[TERRACL_ERROR_MESSAGE_SIZE];
} terracl_error;

/* "TERRACL_ERR_SHAPE" etc. Static strings; "TERRACL_UNKNOWN" for other values. */
TERRACL_API const char *terracl_status_name(terracl_status status);
/* A short human description of the code. Static string. */
TERRACL_API const char *terracl_status_text(terracl_status status);

#ifdef __cplusplus
}
#endif
#endif /* TERRACL_STATUS_H */
