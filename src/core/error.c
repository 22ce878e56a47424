/* Status names and the error-record helpers declared in error.h. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *terracl_status_name(terracl_status status)
{
    switch (status) {
#define TC_STATUS_NAME_(name, value, text)                                                         \
    case TERRACL_##name:                                                                           \
        return "TERRACL_" #name;
        TERRACL_STATUS_LIST(TC_STATUS_NAME_)
#undef TC_STATUS_NAME_
    }
    return "TERRACL_UNKNOWN";
}

const char *terracl_status_text(terracl_status status)
{
    switch (status) {
#define TC_STATUS_TEXT_(name, value, text)                                                         \
    case TERRACL_##name:                                                                           \
        return text;
        TERRACL_STATUS_LIST(TC_STATUS_TEXT_)
#undef TC_STATUS_TEXT_
    }
    return "unknown status";
}

terracl_status tc_fail(terracl_error *err, terracl_status code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->status = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

terracl_status tc_fail_context(terracl_error *err, terracl_status code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    if (err->status == TERRACL_OK)
        err->status = code;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix);
    size_t mlen = strlen(err->message);
    /* Shift the old message right to make room for "prefix: ". */
    size_t room = sizeof err->message - 1;
    if (plen + 2 >= room)
        return err->status;
    size_t keep = mlen;
    if (plen + 2 + keep > room)
        keep = room - plen - 2;
    memmove(err->message + plen + 2, err->message, keep);
    err->message[plen + 2 + keep] = '\0';
    memcpy(err->message, prefix, plen);
    err->message[plen] = ':';
    err->message[plen + 1] = ' ';
    return err->status;
}
