/*
 * Writes a value tree as YAML text (what `terracl info` prints). The output
 * reads back, through the YAML reader, as an equal tree: strings are quoted
 * whenever a plain scalar would resolve to something else, floats always
 * look like floats, and characters YAML cannot carry raw are escaped.
 */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "core/value.h"

struct sbuf {
    char *p;
    size_t n, cap;
    terracl_status st;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
    if (b->st != TERRACL_OK)
        return;
    size_t need;
    if (tc_add_overflow(b->n, n + 1, &need)) {
        b->st = TERRACL_ERR_OVERFLOW;
        return;
    }
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
            if (tc_mul_overflow(cap, 2, &cap)) {
                b->st = TERRACL_ERR_OVERFLOW;
                return;
            }
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->st = TERRACL_ERR_NO_MEMORY;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void puts_(struct sbuf *b, const char *s) { put(b, s, strlen(s)); }

static void printf_(struct sbuf *b, const char *fmt, ...) TC_PRINTF(2, 3);
static void printf_(struct sbuf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void indent(struct sbuf *b, int n)
{
    for (int i = 0; i < n; i++)
        put(b, " ", 1);
}

static int plain_char(char c, int first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    if (c == '_' || c == '.' || c == '/' || c == '(' || c == ')')
        return 1;
    return !first && (c == '-' || c == '+' || c == ' ');
}

/* Whether s can be written unquoted and still read back as this string. */
static int plain_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || s[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!plain_char(s[i], i == 0))
            return 0;
    terracl_status st;
    terracl_value *v = tc_value_resolve_plain(s, &st);
    int ok = v != NULL && terracl_value_type_of(v) == TERRACL_VALUE_STRING;
    terracl_value_free(v);
    return ok;
}

/* Decodes one UTF-8 sequence; returns its length, or 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
    if (len == 0 || s[0] > 0xF4)
        return 0;
    uint32_t c = s[0] & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

static int printable(uint32_t c)
{
    return (c >= 0x20 && c <= 0x7E) || (c >= 0xA0 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF) || (c >= 0x10000 && c <= 0x10FFFF);
}

static void quoted(struct sbuf *b, const char *s)
{
    put(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p != '\0') {
        uint32_t c;
        size_t len = utf8_decode(p, &c);
        if (len == 0) {
            printf_(b, "\\x%02X", *p);
            p++;
            continue;
        }
        if (c == '"' || c == '\\') {
            put(b, "\\", 1);
            put(b, (const char *)p, 1);
        } else if (c == '\n') {
            puts_(b, "\\n");
        } else if (c == '\t') {
            puts_(b, "\\t");
        } else if (c == 0x85) {
            puts_(b, "\\N");
        } else if (c == 0x2028) {
            puts_(b, "\\L");
        } else if (c == 0x2029) {
            puts_(b, "\\P");
        } else if (printable(c)) {
            put(b, (const char *)p, len);
        } else if (c <= 0xFF) {
            printf_(b, "\\x%02X", (unsigned)c);
        } else {
            printf_(b, "\\u%04X", (unsigned)c);
        }
        p += len;
    }
    put(b, "\"", 1);
}

static void string_scalar(struct sbuf *b, const char *s)
{
    if (plain_ok(s))
        puts_(b, s);
    else
        quoted(b, s);
}

static void float_scalar(struct sbuf *b, double f)
{
    if (isnan(f)) {
        puts_(b, ".nan");
        return;
    }
    if (isinf(f)) {
        puts_(b, f < 0 ? "-.inf" : ".inf");
        return;
    }
    char tmp[48];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, f);
        if (strtod(tmp, NULL) == f)
            break;
    }
    /* snprintf follows the locale's decimal point; YAML wants '.'. */
    const char *dp = localeconv()->decimal_point;
    if (dp != NULL && dp[0] != '\0' && dp[0] != '.' && dp[1] == '\0') {
        char *q = strchr(tmp, dp[0]);
        if (q != NULL)
            *q = '.';
    }
    char *e = strchr(tmp, 'e');
    if (strchr(tmp, '.') == NULL) {
        if (e != NULL) {
            put(b, tmp, (size_t)(e - tmp));
            puts_(b, ".0");
            puts_(b, e);
        } else {
            puts_(b, tmp);
            puts_(b, ".0");
        }
        return;
    }
    puts_(b, tmp);
}

/* Scalars and lists of scalars are written on one line. */
static int is_inline(const terracl_value *v)
{
    terracl_value_type t = terracl_value_type_of(v);
    if (t == TERRACL_VALUE_MAP)
        return terracl_value_map_size(v) == 0;
    if (t != TERRACL_VALUE_LIST)
        return 1;
    for (size_t i = 0; i < terracl_value_list_size(v); i++) {
        terracl_value_type it = terracl_value_type_of(terracl_value_list_get(v, i));
        if (it == TERRACL_VALUE_LIST || it == TERRACL_VALUE_MAP)
            return 0;
    }
    return 1;
}

static void emit_inline(struct sbuf *b, const terracl_value *v)
{
    switch (terracl_value_type_of(v)) {
    case TERRACL_VALUE_NULL:
        puts_(b, "null");
        break;
    case TERRACL_VALUE_BOOL:
        puts_(b, terracl_value_bool(v) ? "true" : "false");
        break;
    case TERRACL_VALUE_INT:
        printf_(b, "%" PRId64, terracl_value_int(v));
        break;
    case TERRACL_VALUE_FLOAT:
        float_scalar(b, terracl_value_float(v));
        break;
    case TERRACL_VALUE_STRING:
        string_scalar(b, terracl_value_string(v));
        break;
    case TERRACL_VALUE_LIST:
        put(b, "[", 1);
        for (size_t i = 0; i < terracl_value_list_size(v); i++) {
            if (i > 0)
                puts_(b, ", ");
            emit_inline(b, terracl_value_list_get(v, i));
        }
        put(b, "]", 1);
        break;
    case TERRACL_VALUE_MAP:
        puts_(b, "{}");
        break;
    }
}

/* Writes a block collection whose lines start at column `ind`; the first
 * line's indentation is left out when `skip_first` (after "- "). */
static void emit_block(struct sbuf *b, const terracl_value *v, int ind, int skip_first);

static void emit_item(struct sbuf *b, const terracl_value *v, int ind)
{
    if (is_inline(v)) {
        put(b, " ", 1);
        emit_inline(b, v);
        put(b, "\n", 1);
    } else {
        put(b, "\n", 1);
        emit_block(b, v, ind, 0);
    }
}

/* YAML readers (libyaml among them) accept an implicit key "key: value"
 * only when the key ends within 1024 characters of its start; longer keys
 * are written as explicit keys ("? key" then ": value" on the next line).
 * The limit is checked on bytes, which are never fewer than characters. */
#define TC_YAML_IMPLICIT_KEY_MAX 1000

static void emit_block(struct sbuf *b, const terracl_value *v, int ind, int skip_first)
{
    if (terracl_value_type_of(v) == TERRACL_VALUE_MAP) {
        for (size_t i = 0; i < terracl_value_map_size(v); i++) {
            if (i > 0 || !skip_first)
                indent(b, ind);
            struct sbuf key = {0};
            string_scalar(&key, terracl_value_map_key(v, i));
            if (key.st != TERRACL_OK) {
                if (b->st == TERRACL_OK)
                    b->st = key.st;
                free(key.p);
                return;
            }
            if (key.n > TC_YAML_IMPLICIT_KEY_MAX) {
                put(b, "? ", 2);
                put(b, key.p, key.n);
                put(b, "\n", 1);
                indent(b, ind);
            } else {
                put(b, key.p, key.n);
            }
            free(key.p);
            put(b, ":", 1);
            emit_item(b, terracl_value_map_at(v, i), ind + 2);
        }
        return;
    }
    for (size_t i = 0; i < terracl_value_list_size(v); i++) {
        const terracl_value *item = terracl_value_list_get(v, i);
        if (i > 0 || !skip_first)
            indent(b, ind);
        put(b, "-", 1);
        if (is_inline(item)) {
            put(b, " ", 1);
            emit_inline(b, item);
            put(b, "\n", 1);
        } else {
            put(b, " ", 1);
            emit_block(b, item, ind + 2, 1);
        }
    }
}

terracl_status terracl_value_to_yaml(const terracl_value *v, char **out, terracl_error *err)
{
    *out = NULL;
    struct sbuf b = {0};
    if (v == NULL || is_inline(v)) {
        emit_inline(&b, v);
        put(&b, "\n", 1);
    } else {
        emit_block(&b, v, 0, 0);
    }
    if (b.st != TERRACL_OK) {
        free(b.p);
        return tc_fail(err, b.st, "writing a value as YAML: %s", terracl_status_text(b.st));
    }
    *out = b.p;
    return TERRACL_OK;
}
