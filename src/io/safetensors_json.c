/*
 * Recursive-descent JSON parser for safetensors headers. Headers come from
 * files anyone can hand us, so every step is bounds-checked and the limits
 * (depth, node count) are enforced before memory is spent.
 */
#include "io/safetensors_json.h"

#include <stdlib.h>
#include <string.h>

struct parser {
    const char *src;
    size_t len, pos;
    char *out; /* decoded strings, written at their source offsets */
    struct tc_json *json;
    terracl_error *err;
    terracl_status st;
};

static uint32_t fail(struct parser *p, const char *what)
{
    if (p->st == TERRACL_OK)
        p->st = tc_fail(p->err, TERRACL_ERR_FORMAT, "malformed JSON at header byte %zu: %s",
                        p->pos, what);
    return TC_JSON_NONE;
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len) {
        char c = p->src[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static uint32_t new_node(struct parser *p, enum tc_json_type type)
{
    struct tc_json *j = p->json;
    if (j->count == j->cap) {
        if (j->cap >= TC_JSON_MAX_NODES)
            return fail(p, "too many values");
        uint32_t cap = j->cap ? j->cap * 2 : 64;
        if (cap > TC_JSON_MAX_NODES)
            cap = TC_JSON_MAX_NODES;
        struct tc_json_node *nodes = realloc(j->nodes, (size_t)cap * sizeof *nodes);
        if (nodes == NULL) {
            if (p->st == TERRACL_OK)
                p->st = tc_fail(p->err, TERRACL_ERR_NO_MEMORY, "out of memory parsing JSON");
            return TC_JSON_NONE;
        }
        j->nodes = nodes;
        j->cap = cap;
    }
    uint32_t i = j->count++;
    memset(&j->nodes[i], 0, sizeof j->nodes[i]);
    j->nodes[i].type = type;
    j->nodes[i].child = TC_JSON_NONE;
    j->nodes[i].next = TC_JSON_NONE;
    return i;
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

static size_t put_utf8(char *dst, uint32_t cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xc0 | (cp >> 6));
        dst[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xe0 | (cp >> 12));
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        dst[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    dst[0] = (char)(0xf0 | (cp >> 18));
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    dst[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Length of the valid UTF-8 sequence starting at s (n bytes available), or
 * 0 when it is invalid (overlong, surrogate, above U+10FFFF, cut short). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* Parses the string at p->pos (an opening quote) and decodes it into
 * p->out at the same offset; the decoded form is never longer. */
static bool parse_string(struct parser *p, const char **str, size_t *str_len)
{
    const unsigned char *s = (const unsigned char *)p->src;
    size_t start = p->pos;
    char *w = p->out + start;
    p->pos++; /* opening quote */
    for (;;) {
        if (p->pos >= p->len) {
            fail(p, "unterminated string");
            return false;
        }
        unsigned char c = s[p->pos];
        if (c == '"') {
            p->pos++;
            break;
        }
        if (c < 0x20) {
            fail(p, "control character in string");
            return false;
        }
        if (c >= 0x80) {
            size_t n = utf8_len(s + p->pos, p->len - p->pos);
            if (n == 0) {
                fail(p, "invalid UTF-8 in string");
                return false;
            }
            memcpy(w, s + p->pos, n);
            w += n;
            p->pos += n;
            continue;
        }
        if (c != '\\') {
            *w++ = (char)c;
            p->pos++;
            continue;
        }
        if (p->pos + 1 >= p->len) {
            fail(p, "unterminated string");
            return false;
        }
        char e = (char)s[p->pos + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && simple != NULL) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            *w++ = decoded[simple - "\"\\/bfnrt"];
            p->pos += 2;
            continue;
        }
        if (e != 'u') {
            fail(p, "invalid escape in string");
            return false;
        }
        int hi = p->pos + 6 <= p->len ? hex4(p->src + p->pos + 2) : -1;
        if (hi < 0) {
            fail(p, "invalid \\u escape");
            return false;
        }
        p->pos += 6;
        uint32_t cp = (uint32_t)hi;
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            fail(p, "unpaired surrogate in \\u escape");
            return false;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            int lo = -1;
            if (p->pos + 6 <= p->len && p->src[p->pos] == '\\' && p->src[p->pos + 1] == 'u')
                lo = hex4(p->src + p->pos + 2);
            if (lo < 0xdc00 || lo > 0xdfff) {
                fail(p, "unpaired surrogate in \\u escape");
                return false;
            }
            p->pos += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
        }
        if (cp == 0) {
            fail(p, "NUL character in string");
            return false;
        }
        w += put_utf8(w, cp);
    }
    *w = '\0'; /* at most at the closing quote's offset */
    *str = p->out + start;
    *str_len = (size_t)(w - (p->out + start));
    return true;
}

static uint32_t parse_number(struct parser *p)
{
    const char *s = p->src;
    size_t i = p->pos;
    bool plain = true;
    uint64_t v = 0;
    if (i < p->len && s[i] == '-') {
        plain = false;
        i++;
    }
    if (i >= p->len || s[i] < '0' || s[i] > '9')
        return fail(p, "invalid number");
    if (s[i] == '0') {
        i++;
        v = 0;
    } else {
        while (i < p->len && s[i] >= '0' && s[i] <= '9') {
            uint64_t d = (uint64_t)(s[i] - '0');
            if (v > (UINT64_MAX - d) / 10)
                plain = false; /* too large for u64: still valid JSON */
            else
                v = v * 10 + d;
            i++;
        }
    }
    if (i < p->len && s[i] == '.') {
        plain = false;
        i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9') {
            p->pos = i;
            return fail(p, "invalid number");
        }
        while (i < p->len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        plain = false;
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9') {
            p->pos = i;
            return fail(p, "invalid number");
        }
        while (i < p->len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    uint32_t n = new_node(p, TC_JSON_NUMBER);
    if (n == TC_JSON_NONE)
        return n;
    p->json->nodes[n].is_uint = plain;
    p->json->nodes[n].u64 = plain ? v : 0;
    p->pos = i;
    return n;
}

static bool literal(struct parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->src + p->pos, word, n) != 0)
        return false;
    p->pos += n;
    return true;
}

struct key_ref {
    const char *key;
    size_t len;
};

static int key_cmp(const void *a, const void *b)
{
    const struct key_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* Rejects an object with two equal keys: a safetensors header with a
 * duplicate tensor name is ambiguous. */
static bool check_duplicates(struct parser *p, uint32_t obj)
{
    uint32_t count = p->json->nodes[obj].count;
    if (count < 2)
        return true;
    struct key_ref *keys = malloc((size_t)count * sizeof *keys);
    if (keys == NULL) {
        if (p->st == TERRACL_OK)
            p->st = tc_fail(p->err, TERRACL_ERR_NO_MEMORY, "out of memory parsing JSON");
        return false;
    }
    uint32_t k = 0;
    for (uint32_t i = p->json->nodes[obj].child; i != TC_JSON_NONE; i = p->json->nodes[i].next)
        keys[k++] = (struct key_ref){p->json->nodes[i].key, p->json->nodes[i].key_len};
    qsort(keys, k, sizeof *keys, key_cmp);
    for (uint32_t i = 1; i < k; i++) {
        if (key_cmp(&keys[i - 1], &keys[i]) == 0) {
            if (p->st == TERRACL_OK)
                p->st = tc_fail(p->err, TERRACL_ERR_FORMAT, "duplicate key '%.200s' in JSON",
                                keys[i].key);
            free(keys);
            return false;
        }
    }
    free(keys);
    return true;
}

static uint32_t parse_value(struct parser *p, int depth);

static uint32_t parse_container(struct parser *p, int depth, bool object)
{
    if (depth >= TC_JSON_MAX_DEPTH)
        return fail(p, "nesting too deep");
    uint32_t self = new_node(p, object ? TC_JSON_OBJECT : TC_JSON_ARRAY);
    if (self == TC_JSON_NONE)
        return self;
    char close = object ? '}' : ']';
    p->pos++; /* '{' or '[' */
    skip_ws(p);
    if (p->pos < p->len && p->src[p->pos] == close) {
        p->pos++;
        return self;
    }
    uint32_t last = TC_JSON_NONE;
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        if (object) {
            if (p->pos >= p->len || p->src[p->pos] != '"')
                return fail(p, "expected a string key");
            if (!parse_string(p, &key, &key_len))
                return TC_JSON_NONE;
            skip_ws(p);
            if (p->pos >= p->len || p->src[p->pos] != ':')
                return fail(p, "expected ':'");
            p->pos++;
            skip_ws(p);
        }
        uint32_t v = parse_value(p, depth + 1);
        if (v == TC_JSON_NONE)
            return v;
        struct tc_json_node *nodes = p->json->nodes;
        nodes[v].key = key;
        nodes[v].key_len = key_len;
        if (last == TC_JSON_NONE)
            nodes[self].child = v;
        else
            nodes[last].next = v;
        last = v;
        nodes[self].count++;
        skip_ws(p);
        if (p->pos >= p->len)
            return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        char c = p->src[p->pos];
        if (c == close) {
            p->pos++;
            break;
        }
        if (c != ',')
            return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
        p->pos++;
        skip_ws(p);
    }
    if (object && !check_duplicates(p, self))
        return TC_JSON_NONE;
    return self;
}

static uint32_t parse_value(struct parser *p, int depth)
{
    if (p->pos >= p->len)
        return fail(p, "unexpected end of text");
    char c = p->src[p->pos];
    if (c == '{' || c == '[')
        return parse_container(p, depth, c == '{');
    if (c == '"') {
        const char *s;
        size_t n;
        if (!parse_string(p, &s, &n))
            return TC_JSON_NONE;
        uint32_t i = new_node(p, TC_JSON_STRING);
        if (i != TC_JSON_NONE) {
            p->json->nodes[i].str = s;
            p->json->nodes[i].str_len = n;
        }
        return i;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(p);
    bool is_true = literal(p, "true");
    if (is_true || literal(p, "false")) {
        uint32_t i = new_node(p, TC_JSON_BOOL);
        if (i != TC_JSON_NONE)
            p->json->nodes[i].boolean = is_true;
        return i;
    }
    if (literal(p, "null"))
        return new_node(p, TC_JSON_NULL);
    return fail(p, "unexpected character");
}

terracl_status tc_json_parse(const char *text, size_t len, struct tc_json *out,
                             terracl_error *err)
{
    memset(out, 0, sizeof *out);
    if (len == SIZE_MAX)
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "JSON text too large");
    out->text = malloc(len + 1);
    if (out->text == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory parsing JSON");
    out->text[len] = '\0';
    struct parser p = {text, len, 0, out->text, out, err, TERRACL_OK};
    skip_ws(&p);
    uint32_t root = parse_value(&p, 0);
    if (root != TC_JSON_NONE) {
        skip_ws(&p);
        if (p.pos != p.len)
            fail(&p, "unexpected text after the value");
    }
    if (p.st != TERRACL_OK) {
        tc_json_free(out);
        return p.st;
    }
    return TERRACL_OK;
}

void tc_json_free(struct tc_json *json)
{
    if (json == NULL)
        return;
    free(json->nodes);
    free(json->text);
    memset(json, 0, sizeof *json);
}

const struct tc_json_node *tc_json_at(const struct tc_json *json, uint32_t index)
{
    if (index == TC_JSON_NONE || index >= json->count)
        return NULL;
    return &json->nodes[index];
}

const struct tc_json_node *tc_json_member(const struct tc_json *json,
                                          const struct tc_json_node *obj, const char *key)
{
    if (obj == NULL || obj->type != TC_JSON_OBJECT)
        return NULL;
    size_t n = strlen(key);
    for (const struct tc_json_node *m = tc_json_at(json, obj->child); m != NULL;
         m = tc_json_at(json, m->next))
        if (m->key_len == n && memcmp(m->key, key, n) == 0)
            return m;
    return NULL;
}
