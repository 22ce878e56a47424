/*
 * Internal error reporting: every fallible internal function takes a
 * `terracl_error *err` (may be NULL) and returns a status. These helpers fill
 * the record and return the code, so a failure reads `return tc_fail(...)`.
 */
#ifndef TC_CORE_ERROR_H
#define TC_CORE_ERROR_H

#include "terracl/status.h"

#if defined(__GNUC__)
#define TC_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#define TC_NODISCARD __attribute__((warn_unused_result))
#else
#define TC_PRINTF(fmt_index, first_arg)
#define TC_NODISCARD
#endif

/* Sets err->status = code and err->message = formatted text; returns code. */
terracl_status tc_fail(terracl_error *err, terracl_status code, const char *fmt, ...)
    TC_PRINTF(3, 4);

/* Prepends "context: " to the message already in err (keeps its status);
 * returns err->status, or `code` when err is NULL. Used to add the outer
 * context (which file, which layer) to a failure reported further down. */
terracl_status tc_fail_context(terracl_error *err, terracl_status code, const char *fmt, ...)
    TC_PRINTF(3, 4);

#endif /* TC_CORE_ERROR_H */
