/*
 * YAML 1.1 scalar resolution, as PyYAML's safe loader does it, because that
 * is how TerraTorch users' configs have always been read. One deliberate
 * difference, shared with jsonargparse (which LightningCLI uses to load
 * TerraTorch configs): exponents without a dot or a signed exponent
 * ("1e-4", "5e3") are floats, where bare PyYAML would return strings.
 * Timestamps stay strings (there is no date type here, and jsonargparse
 * drops that resolver too).
 */
#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/value.h"

static int is_one_of(const char *s, const char *const *set)
{
    for (; *set != NULL; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

static const char *const k_null[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const k_true[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON",
                                     NULL};
static const char *const k_false[] = {"false", "False", "FALSE", "no",  "No",  "NO",
                                      "off",   "Off",   "OFF",   NULL};

/* Skips characters of `set` (plus '_' when `under`); returns the count. */
static size_t span(const char **p, const char *set)
{
    size_t n = strspn(*p, set);
    *p += n;
    return n;
}

#define DEC "0123456789_"

/* [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+ followed by `tail` (NULL: end). For
 * floats the last part may carry a fraction: ".[0-9_]*". */
static int match_sexagesimal(const char *s, int fraction)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (fraction ? !isdigit((unsigned char)*p) : !(*p >= '1' && *p <= '9'))
        return 0;
    span(&p, DEC);
    int parts = 0;
    while (*p == ':') {
        p++;
        if (*p >= '0' && *p <= '5' && isdigit((unsigned char)p[1]))
            p += 2;
        else if (isdigit((unsigned char)*p))
            p++;
        else
            return 0;
        parts++;
    }
    if (parts == 0)
        return 0;
    if (fraction) {
        if (*p != '.')
            return 0;
        p++;
        span(&p, DEC);
    }
    return *p == '\0';
}

enum int_form { INT_NONE, INT_DEC, INT_OCT, INT_HEX, INT_BIN, INT_SEXA };

static enum int_form match_int(const char *s)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (p[0] == '0' && p[1] == 'b') {
        p += 2;
        return span(&p, "01_") > 0 && *p == '\0' ? INT_BIN : INT_NONE;
    }
    if (p[0] == '0' && p[1] == 'x') {
        p += 2;
        return span(&p, "0123456789abcdefABCDEF_") > 0 && *p == '\0' ? INT_HEX : INT_NONE;
    }
    if (p[0] == '0') {
        p++;
        if (*p == '\0')
            return INT_DEC;
        return span(&p, "01234567_") > 0 && *p == '\0' ? INT_OCT : INT_NONE;
    }
    if (*p >= '1' && *p <= '9') {
        span(&p, DEC);
        if (*p == '\0')
            return INT_DEC;
    }
    return match_sexagesimal(s, 0) ? INT_SEXA : INT_NONE;
}

/* Optional exponent [eE][-+]?[0-9]+ at *p; returns 1 if one was there. */
static int skip_exponent(const char **p, int *bad)
{
    if (**p != 'e' && **p != 'E')
        return 0;
    const char *q = *p + 1;
    if (*q == '-' || *q == '+')
        q++;
    if (span(&q, "0123456789") == 0) {
        *bad = 1;
        return 0;
    }
    *p = q;
    return 1;
}

enum float_form { FLOAT_NONE, FLOAT_PLAIN, FLOAT_SEXA, FLOAT_INF, FLOAT_NAN };

static enum float_form match_float(const char *s)
{
    const char *p = s;
    if (strcmp(s, ".nan") == 0 || strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0)
        return FLOAT_NAN;
    if (*p == '-' || *p == '+')
        p++;
    if (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 || strcmp(p, ".INF") == 0)
        return FLOAT_INF;
    int bad = 0;
    if (*p == '.') {
        /* .5, .5e-3 */
        p++;
        if (!isdigit((unsigned char)*p))
            return FLOAT_NONE;
        span(&p, DEC);
        skip_exponent(&p, &bad);
        return !bad && *p == '\0' ? FLOAT_PLAIN : FLOAT_NONE;
    }
    if (!isdigit((unsigned char)*p))
        return FLOAT_NONE;
    span(&p, DEC);
    if (*p == '.') {
        p++;
        span(&p, DEC);
        skip_exponent(&p, &bad);
        return !bad && *p == '\0' ? FLOAT_PLAIN : FLOAT_NONE;
    }
    if (skip_exponent(&p, &bad) && *p == '\0')
        return FLOAT_PLAIN;
    return match_sexagesimal(s, 1) ? FLOAT_SEXA : FLOAT_NONE;
}

/* Copies s without '_' into a new string; NULL when out of memory. */
static char *strip_underscores(const char *s)
{
    size_t n = strlen(s);
    char *t = malloc(n + 1);
    if (t == NULL)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_')
            t[j++] = s[i];
    t[j] = '\0';
    return t;
}

/* Parses digits of `base` into *mag; returns 0 on overflow past 2^63. */
static int accumulate(const char *p, unsigned base, uint64_t *mag)
{
    const uint64_t limit = (uint64_t)INT64_MAX + 1;
    for (; *p != '\0'; p++) {
        unsigned d = isdigit((unsigned char)*p) ? (unsigned)(*p - '0')
                                                : (unsigned)(tolower((unsigned char)*p) - 'a' + 10);
        if (*mag > (limit - d) / base)
            return 0;
        *mag = *mag * base + d;
    }
    return 1;
}

static terracl_value *make_int(const char *text, enum int_form form, terracl_status *status)
{
    char *t = strip_underscores(text);
    if (t == NULL) {
        *status = TERRACL_ERR_NO_MEMORY;
        return NULL;
    }
    const char *p = t;
    int neg = 0;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    uint64_t mag = 0;
    int ok = 1;
    switch (form) {
    case INT_BIN:
        ok = accumulate(p + 2, 2, &mag);
        break;
    case INT_HEX:
        ok = accumulate(p + 2, 16, &mag);
        break;
    case INT_OCT:
        ok = accumulate(p + 1, 8, &mag);
        break;
    case INT_DEC:
        ok = accumulate(p, 10, &mag);
        break;
    default: {
        /* Sexagesimal: each ':'-separated part is a base-60 digit. */
        const uint64_t limit = (uint64_t)INT64_MAX + 1;
        const char *q = p;
        while (ok && *q != '\0') {
            uint64_t part = 0;
            while (isdigit((unsigned char)*q) && ok) {
                unsigned d = (unsigned)(*q++ - '0');
                ok = part <= (limit - d) / 10;
                part = part * 10 + d;
            }
            ok = ok && mag <= (limit - part) / 60;
            mag = mag * 60 + part;
            if (*q == ':')
                q++;
        }
        break;
    }
    }
    free(t);
    if (!ok || (!neg && mag > (uint64_t)INT64_MAX)) {
        *status = TERRACL_ERR_OVERFLOW;
        return NULL;
    }
    int64_t value = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag)
                        : (int64_t)mag;
    terracl_value *v = terracl_value_new_int(value);
    if (v == NULL)
        *status = TERRACL_ERR_NO_MEMORY;
    return v;
}

/* strtod in any locale: the decimal point of the text is always '.'. */
static double parse_double(char *t)
{
    const char *dp = localeconv()->decimal_point;
    if (dp != NULL && dp[0] != '\0' && dp[0] != '.' && dp[1] == '\0') {
        char *dot = strchr(t, '.');
        if (dot != NULL)
            *dot = dp[0];
    }
    return strtod(t, NULL);
}

static terracl_value *make_float(const char *text, enum float_form form, terracl_status *status)
{
    double f = 0.0;
    if (form == FLOAT_NAN) {
        f = NAN;
    } else if (form == FLOAT_INF) {
        f = text[0] == '-' ? -INFINITY : INFINITY;
    } else {
        char *t = strip_underscores(text);
        if (t == NULL) {
            *status = TERRACL_ERR_NO_MEMORY;
            return NULL;
        }
        if (form == FLOAT_PLAIN) {
            f = parse_double(t);
        } else {
            /* Sexagesimal: integer parts in base 60, the last with a fraction. */
            char *p = t;
            int neg = 0;
            if (*p == '-' || *p == '+')
                neg = *p++ == '-';
            char *colon;
            while ((colon = strchr(p, ':')) != NULL) {
                *colon = '\0';
                f = f * 60.0 + parse_double(p);
                p = colon + 1;
            }
            f = f * 60.0 + parse_double(p);
            if (neg)
                f = -f;
        }
        free(t);
    }
    terracl_value *v = terracl_value_new_float(f);
    if (v == NULL)
        *status = TERRACL_ERR_NO_MEMORY;
    return v;
}

static terracl_value *checked(terracl_value *v, terracl_status *status)
{
    if (v == NULL)
        *status = TERRACL_ERR_NO_MEMORY;
    return v;
}

terracl_value *tc_value_resolve_plain(const char *text, terracl_status *status)
{
    *status = TERRACL_OK;
    if (is_one_of(text, k_null))
        return checked(terracl_value_new_null(), status);
    if (is_one_of(text, k_true))
        return checked(terracl_value_new_bool(1), status);
    if (is_one_of(text, k_false))
        return checked(terracl_value_new_bool(0), status);
    enum int_form iform = match_int(text);
    if (iform != INT_NONE)
        return make_int(text, iform, status);
    enum float_form fform = match_float(text);
    if (fform != FLOAT_NONE)
        return make_float(text, fform, status);
    return checked(terracl_value_new_string(text), status);
}

terracl_value *tc_value_resolve_tagged(const char *text, const char *kind, terracl_status *status)
{
    *status = TERRACL_OK;
    if (strcmp(kind, "null") == 0)
        return checked(terracl_value_new_null(), status);
    if (strcmp(kind, "bool") == 0) {
        if (is_one_of(text, k_true))
            return checked(terracl_value_new_bool(1), status);
        if (is_one_of(text, k_false))
            return checked(terracl_value_new_bool(0), status);
        return NULL;
    }
    enum int_form iform = match_int(text);
    if (strcmp(kind, "int") == 0)
        return iform != INT_NONE ? make_int(text, iform, status) : NULL;
    if (strcmp(kind, "float") == 0) {
        enum float_form fform = match_float(text);
        if (fform != FLOAT_NONE)
            return make_float(text, fform, status);
        if (iform == INT_NONE)
            return NULL;
        terracl_value *i = make_int(text, iform, status);
        if (i == NULL)
            return NULL;
        terracl_value *f = checked(terracl_value_new_float((double)terracl_value_int(i)), status);
        terracl_value_free(i);
        return f;
    }
    return NULL;
}
