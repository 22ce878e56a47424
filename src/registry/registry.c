/*
 * Registries with TerraTorch's semantics (Registry and MultiSourceRegistry):
 * a plain registry is an ordered set of names with constructors; a
 * multi-source registry holds plain registries under prefixes and resolves
 * "<prefix>_<name>" or, without a known prefix, the first source (in
 * registration order) that has the name.
 *
 * One process-wide mutex guards every registry. Lookups copy what they need
 * under the lock and call constructors outside it, so a constructor may use
 * the registries itself (a factory building its backbone) and a slow build
 * does not hold up other threads.
 */
#include "registry/registry.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "core/value.h"
#include "core/error.h"
#include "registry/builtin.h"

struct reg_entry {
    char *name;
    terracl_constructor ctor;
    void *user;
    int includes_head;
};

struct reg_source {
    char *prefix;
    terracl_registry *reg;
};

struct terracl_registry {
    char *name; /* singular noun for messages: "backbone" */
    int multi;
    int is_static; /* a top-level registry: never freed */
    int is_source; /* owned by a multi-source registry */
    struct reg_entry *entries;
    size_t n, cap;
    struct reg_source *sources;
    size_t nsrc, srccap;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static void lock(void) { pthread_mutex_lock(&g_lock); }
static void unlock(void) { pthread_mutex_unlock(&g_lock); }

/* ---- creation ------------------------------------------------------------------------------- */

static terracl_status create(const char *name, int multi, terracl_registry **out,
                             terracl_error *err)
{
    if (out == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "registry create: no output pointer");
    *out = NULL;
    terracl_registry *r = calloc(1, sizeof *r);
    char *n = strdup(name != NULL ? name : "registry");
    if (r == NULL || n == NULL) {
        free(r);
        free(n);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory creating a registry");
    }
    r->name = n;
    r->multi = multi;
    *out = r;
    return TERRACL_OK;
}

terracl_status terracl_registry_create(const char *name, terracl_registry **out,
                                       terracl_error *err)
{
    return create(name, 0, out, err);
}

terracl_status terracl_registry_create_multi(const char *name, terracl_registry **out,
                                             terracl_error *err)
{
    return create(name, 1, out, err);
}

static void destroy_contents(terracl_registry *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->entries[i].name);
    free(r->entries);
    for (size_t i = 0; i < r->nsrc; i++) {
        free(r->sources[i].prefix);
        destroy_contents(r->sources[i].reg);
        free(r->sources[i].reg->name);
        free(r->sources[i].reg);
    }
    free(r->sources);
}

void terracl_registry_destroy(terracl_registry *reg)
{
    /* Sources are destroyed with the registry that owns them. */
    if (reg == NULL || reg->is_static || reg->is_source)
        return;
    destroy_contents(reg);
    free(reg->name);
    free(reg);
}

int terracl_registry_is_multi(const terracl_registry *reg) { return reg != NULL && reg->multi; }

/* ---- plain registries ----------------------------------------------------------------------- */

static struct reg_entry *find_entry(const terracl_registry *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->entries[i].name, name) == 0)
            return &r->entries[i];
    return NULL;
}

/* Caller holds the lock. */
static terracl_status register_locked(terracl_registry *r, const char *name,
                                      terracl_constructor ctor, void *user, int includes_head,
                                      terracl_error *err)
{
    struct reg_entry *e = find_entry(r, name);
    if (e != NULL) {
        /* Like a dict assignment: the new constructor keeps the old position. */
        e->ctor = ctor;
        e->user = user;
        e->includes_head = includes_head != 0;
        return TERRACL_OK;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap : 16, bytes;
        if ((r->cap && tc_mul_overflow(r->cap, 2, &cap)) ||
            tc_mul_overflow(cap, sizeof *r->entries, &bytes))
            return tc_fail(err, TERRACL_ERR_OVERFLOW, "%s registry too large", r->name);
        struct reg_entry *p = realloc(r->entries, bytes);
        if (p == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory registering %s", name);
        r->entries = p;
        r->cap = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory registering %s", name);
    r->entries[r->n++] = (struct reg_entry){copy, ctor, user, includes_head != 0};
    return TERRACL_OK;
}

terracl_status terracl_registry_register(terracl_registry *reg, const char *name,
                                         terracl_constructor ctor, void *user, int includes_head,
                                         terracl_error *err)
{
    if (reg == NULL || name == NULL || name[0] == '\0')
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "register: %s",
                       reg == NULL ? "no registry" : "a component needs a non-empty name");
    if (ctor == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "register %s '%s': the constructor is NULL (register a function)",
                       reg->name, name);
    if (reg->multi)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED,
                       "cannot register '%s' into the multi-source %s registry directly: register "
                       "it into its \"terratorch\" source (terracl_registry_source(reg, "
                       "\"terratorch\"))",
                       name, reg->name);
    lock();
    terracl_status st = register_locked(reg, name, ctor, user, includes_head, err);
    unlock();
    return st;
}

/* ---- multi-source resolution ---------------------------------------------------------------- */

/* TerraTorch's prefix rule: the text before the first '_' is a prefix when
 * it names a source and at least one more piece follows. Returns the
 * source index, or (size_t)-1, and sets *rest to the name inside it. */
static size_t parse_prefix(const terracl_registry *m, const char *name, const char **rest)
{
    const char *us = strchr(name, '_');
    *rest = name;
    if (us == NULL)
        return (size_t)-1;
    size_t len = (size_t)(us - name);
    for (size_t i = 0; i < m->nsrc; i++) {
        if (strlen(m->sources[i].prefix) == len && strncmp(m->sources[i].prefix, name, len) == 0) {
            *rest = us + 1;
            return i;
        }
    }
    return (size_t)-1;
}

/* Finds the entry `name` resolves to (caller holds the lock). */
static const struct reg_entry *resolve(const terracl_registry *r, const char *name)
{
    if (!r->multi)
        return find_entry(r, name);
    const char *rest;
    size_t s = parse_prefix(r, name, &rest);
    if (s != (size_t)-1)
        return find_entry(r->sources[s].reg, rest);
    for (size_t i = 0; i < r->nsrc; i++) {
        const struct reg_entry *e = find_entry(r->sources[i].reg, name);
        if (e != NULL)
            return e;
    }
    return NULL;
}

/* timm.create_model takes "arch.tag" (a pretrained-weight tag such as
 * ".mae" or ".augreg_in21k") as the architecture `arch`, so a build through
 * the timm source does too; membership does not (timm.list_models() lists
 * no tags). Caller holds the lock. */
static const struct reg_entry *resolve_timm_tag(const terracl_registry *r, const char *name)
{
    const char *dot = strchr(name, '.');
    if (!r->multi || dot == NULL || dot[1] == '\0')
        return NULL;
    const char *rest;
    size_t s = parse_prefix(r, name, &rest);
    for (size_t i = 0; s == (size_t)-1 && i < r->nsrc; i++)
        if (strcmp(r->sources[i].prefix, "timm") == 0)
            s = i;
    if (s == (size_t)-1 || strcmp(r->sources[s].prefix, "timm") != 0)
        return NULL;
    char arch[256];
    size_t len = (size_t)(strchr(rest, '.') - rest);
    if (len == 0 || len >= sizeof arch)
        return NULL;
    memcpy(arch, rest, len);
    arch[len] = '\0';
    return find_entry(r->sources[s].reg, arch);
}

int terracl_registry_contains(const terracl_registry *reg, const char *name)
{
    if (reg == NULL || name == NULL)
        return 0;
    lock();
    int found = resolve(reg, name) != NULL;
    unlock();
    return found;
}

size_t terracl_registry_count(const terracl_registry *reg)
{
    if (reg == NULL)
        return 0;
    lock();
    size_t n = reg->n;
    for (size_t i = 0; i < reg->nsrc; i++)
        n += reg->sources[i].reg->n;
    unlock();
    return n;
}

terracl_status terracl_registry_name(const terracl_registry *reg, size_t i, char *buf, size_t cap,
                                     terracl_error *err)
{
    if (reg == NULL || buf == NULL || cap == 0)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "registry name: no registry or buffer");
    terracl_status st = TERRACL_OK;
    const char *prefix = NULL, *name = NULL;
    size_t index = i;
    lock();
    if (!reg->multi) {
        if (index < reg->n)
            name = reg->entries[index].name;
    } else {
        for (size_t s = 0; s < reg->nsrc && name == NULL; s++) {
            const terracl_registry *src = reg->sources[s].reg;
            if (index < src->n) {
                prefix = reg->sources[s].prefix;
                name = src->entries[index].name;
            } else {
                index -= src->n;
            }
        }
    }
    if (name == NULL) {
        st = tc_fail(err, TERRACL_ERR_NOT_FOUND, "%s registry has no entry %zu", reg->name, i);
    } else {
        size_t plen = prefix ? strlen(prefix) + 1 : 0, nlen = strlen(name);
        if (plen + nlen + 1 > cap) {
            st = tc_fail(err, TERRACL_ERR_INVALID_ARG,
                         "%s name '%s' needs %zu bytes, the buffer has %zu", reg->name, name,
                         plen + nlen + 1, cap);
        } else {
            if (prefix) {
                memcpy(buf, prefix, plen - 1);
                buf[plen - 1] = '_';
            }
            memcpy(buf + plen, name, nlen + 1);
        }
    }
    unlock();
    return st;
}

/* Sources that TerraTorch's registries have and terracl does not (timm and
 * smp backbones, smp and mmseg decoders): a name with such a prefix gets a
 * sentence saying so instead of a guess. */
static const char *const k_foreign_sources[] = {"timm", "smp", "mmseg"};

/* "DECODER" for the registry named "decoder", "MODEL_FACTORY" for "model factory". */
static void registry_label(const terracl_registry *r, char *buf, size_t cap)
{
    size_t i = 0;
    for (; r->name[i] != '\0' && i + 1 < cap; i++)
        buf[i] = r->name[i] == ' ' ? '_' : (char)toupper((unsigned char)r->name[i]);
    buf[i] = '\0';
}

/* NOT_FOUND naming `name`, the registry and its sources, and the known
 * names near it, if any (caller holds the lock). */
static terracl_status not_found(const terracl_registry *r, const char *name, terracl_error *err)
{
    char label[64], where[256] = "", hint[512] = "";
    registry_label(r, label, sizeof label);
    size_t used = 0;
    for (size_t s = 0; r->multi && s < r->nsrc && used < sizeof where; s++) {
        int w = snprintf(where + used, sizeof where - used, "%s%s", s ? ", " : " (sources: ",
                         r->sources[s].prefix);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (used > 0 && used + 1 < sizeof where)
        strcat(where, ")");

    const char **names = NULL;
    size_t total = r->n;
    for (size_t s = 0; s < r->nsrc; s++)
        total += r->sources[s].reg->n;
    size_t bytes;
    if (total > 0 && !tc_mul_overflow(total, sizeof *names, &bytes))
        names = malloc(bytes);
    /* Compare the name inside its source when it carries a known prefix. */
    const char *query = name;
    if (r->multi && parse_prefix(r, name, &query) == (size_t)-1) {
        const char *us = strchr(name, '_');
        for (size_t f = 0; us != NULL && f < sizeof k_foreign_sources / sizeof *k_foreign_sources;
             f++)
            if (strlen(k_foreign_sources[f]) == (size_t)(us - name) &&
                strncmp(name, k_foreign_sources[f], (size_t)(us - name)) == 0)
                snprintf(hint, sizeof hint, "; terracl has no '%s' source", k_foreign_sources[f]);
    }
    if (total == 0) {
        snprintf(hint, sizeof hint, "; no %s is registered", r->name);
    } else if (names != NULL && hint[0] == '\0') {
        /* Only names near enough to be a likely slip are offered. */
        size_t k = 0;
        for (size_t i = 0; i < r->n; i++)
            if (tc_name_is_near(query, r->entries[i].name))
                names[k++] = r->entries[i].name;
        for (size_t s = 0; s < r->nsrc; s++)
            for (size_t i = 0; i < r->sources[s].reg->n; i++)
                if (tc_name_is_near(query, r->sources[s].reg->entries[i].name))
                    names[k++] = r->sources[s].reg->entries[i].name;
        size_t best[3];
        size_t nb = tc_nearest_names(query, names, k, 3, best);
        size_t len = 0;
        for (size_t i = 0; i < nb && len < sizeof hint; i++) {
            int w = snprintf(hint + len, sizeof hint - len, "%s%s",
                             len ? ", " : "; did you mean ", names[best[i]]);
            if (w < 0)
                break;
            len += (size_t)w;
        }
        if (len > 0 && len + 1 < sizeof hint)
            strcat(hint, "?");
    }
    free(names);
    return tc_fail(err, TERRACL_ERR_NOT_FOUND, "%s '%s' is not in the %s registry%s%s", r->name,
                   name, label, where, hint);
}

terracl_status terracl_registry_build(const terracl_registry *reg, const char *name,
                                      const terracl_value *first, const terracl_value *args,
                                      terracl_module **out, terracl_error *err)
{
    if (out == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "registry build: no output pointer");
    *out = NULL;
    if (reg == NULL || name == NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "registry build: no registry or name");
    if (args != NULL && terracl_value_type_of(args) != TERRACL_VALUE_MAP)
        return tc_fail(err, TERRACL_ERR_TYPE, "building %s %s: arguments must be a map, not a %s",
                       reg->name, name, terracl_value_type_name(terracl_value_type_of(args)));
    lock();
    const struct reg_entry *e = resolve(reg, name);
    if (e == NULL)
        e = resolve_timm_tag(reg, name);
    struct reg_entry found = {0};
    terracl_status st = TERRACL_OK;
    if (e != NULL)
        found = *e;
    else
        st = not_found(reg, name, err);
    unlock();
    if (st != TERRACL_OK)
        return st;

    terracl_value *empty = NULL;
    if (args == NULL) {
        empty = terracl_value_new_map();
        if (empty == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "building %s %s: out of memory", reg->name,
                           name);
        args = empty;
    }
    terracl_error inner = {0};
    terracl_module *m = NULL;
    st = found.ctor(first, args, found.user, &m, &inner);
    terracl_value_free(empty);
    if (st == TERRACL_OK && m == NULL) {
        st = tc_fail(&inner, TERRACL_ERR_INTERNAL, "the constructor returned no module");
    } else if (st != TERRACL_OK) {
        terracl_module_destroy(m);
        if (inner.status == TERRACL_OK || inner.message[0] == '\0')
            tc_fail(&inner, st, "%s", terracl_status_text(st));
    }
    if (st != TERRACL_OK) {
        if (err != NULL) {
            *err = inner;
            err->status = st;
        }
        return tc_fail_context(err, st, "building %s %s", reg->name, name);
    }
    *out = m;
    return TERRACL_OK;
}

int terracl_registry_includes_head(const terracl_registry *reg, const char *name)
{
    if (reg == NULL || name == NULL)
        return 0;
    lock();
    const struct reg_entry *e = resolve(reg, name);
    int head = e != NULL && e->includes_head;
    unlock();
    return head;
}

/* ---- sources -------------------------------------------------------------------------------- */

/* Caller holds the lock. */
static terracl_status add_source_locked(terracl_registry *m, const char *prefix,
                                        terracl_registry *source, terracl_error *err)
{
    for (size_t i = 0; i < m->nsrc; i++)
        if (strcmp(m->sources[i].prefix, prefix) == 0)
            return tc_fail(err, TERRACL_ERR_EXISTS,
                           "a source for prefix '%s' already exists in the %s registry", prefix,
                           m->name);
    if (m->nsrc == m->srccap) {
        size_t cap = m->srccap ? m->srccap : 4, bytes;
        if ((m->srccap && tc_mul_overflow(m->srccap, 2, &cap)) ||
            tc_mul_overflow(cap, sizeof *m->sources, &bytes))
            return tc_fail(err, TERRACL_ERR_OVERFLOW, "too many sources");
        struct reg_source *p = realloc(m->sources, bytes);
        if (p == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory adding source %s", prefix);
        m->sources = p;
        m->srccap = cap;
    }
    char *copy = strdup(prefix);
    if (copy == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory adding source %s", prefix);
    m->sources[m->nsrc++] = (struct reg_source){copy, source};
    source->is_source = 1;
    return TERRACL_OK;
}

terracl_status terracl_registry_register_source(terracl_registry *multi, const char *prefix,
                                                terracl_registry *source, terracl_error *err)
{
    if (multi == NULL || !multi->multi)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "register_source: the target is not a multi-source registry");
    if (prefix == NULL || prefix[0] == '\0' || strchr(prefix, '_') != NULL)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "register_source: prefix '%s' must be non-empty and contain no '_' (names "
                       "are split at the first '_')",
                       prefix ? prefix : "(null)");
    if (source == NULL || source->multi || source->is_static || source == multi)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG,
                       "register_source '%s': a source must be a plain registry", prefix);
    lock();
    terracl_status st;
    if (source->is_source)
        st = tc_fail(err, TERRACL_ERR_INVALID_ARG,
                     "register_source '%s': the registry is already a source of another", prefix);
    else
        st = add_source_locked(multi, prefix, source, err);
    unlock();
    return st;
}

size_t terracl_registry_source_count(const terracl_registry *multi)
{
    if (multi == NULL)
        return 0;
    lock();
    size_t n = multi->nsrc;
    unlock();
    return n;
}

const char *terracl_registry_source_prefix(const terracl_registry *multi, size_t i)
{
    if (multi == NULL)
        return NULL;
    lock();
    const char *p = i < multi->nsrc ? multi->sources[i].prefix : NULL;
    unlock();
    return p;
}

terracl_registry *terracl_registry_source(terracl_registry *multi, const char *prefix)
{
    if (multi == NULL || prefix == NULL)
        return NULL;
    lock();
    terracl_registry *r = NULL;
    for (size_t i = 0; i < multi->nsrc && r == NULL; i++)
        if (strcmp(multi->sources[i].prefix, prefix) == 0)
            r = multi->sources[i].reg;
    unlock();
    return r;
}

/* ---- the top-level registries --------------------------------------------------------------- */

#define TC_KINDS 5
static terracl_registry g_top[TC_KINDS];
static pthread_once_t g_top_once = PTHREAD_ONCE_INIT;

const char *tc_registry_kind_name(enum terracl_registry_kind kind)
{
    switch (kind) {
    case TERRACL_REGISTRY_BACKBONE:
        return "backbone";
    case TERRACL_REGISTRY_NECK:
        return "neck";
    case TERRACL_REGISTRY_DECODER:
        return "decoder";
    case TERRACL_REGISTRY_MODEL_FACTORY:
        return "model factory";
    case TERRACL_REGISTRY_FULL_MODEL:
        return "full model";
    }
    return "component";
}

/* Adds a further built-in source after "terratorch" (TerraTorch's search
 * order); out of memory leaves the registry without it, as below. */
static void add_builtin_source(terracl_registry *top, const char *prefix,
                               const struct tc_builtin *table)
{
    terracl_registry *src = NULL;
    if (create(prefix, 0, &src, NULL) != TERRACL_OK)
        return;
    terracl_status st = TERRACL_OK;
    for (const struct tc_builtin *b = table; b->name != NULL && st == TERRACL_OK; b++)
        st = register_locked(src, b->name, b->ctor, NULL, b->includes_head, NULL);
    if (st == TERRACL_OK)
        st = add_source_locked(top, prefix, src, NULL);
    if (st != TERRACL_OK)
        terracl_registry_destroy(src);
}

/* Fills each top-level registry's "terratorch" source from its built-in
 * table. Out of memory here leaves that registry without its source (it
 * then behaves as an empty registry): there is no caller to tell. */
static void init_top(void)
{
    for (int k = 0; k < TC_KINDS; k++) {
        terracl_registry *top = &g_top[k];
        top->name = (char *)tc_registry_kind_name((enum terracl_registry_kind)k);
        top->multi = 1;
        top->is_static = 1;
        char srcname[64];
        snprintf(srcname, sizeof srcname, "%s", top->name);
        terracl_registry *src = NULL;
        if (create(srcname, 0, &src, NULL) != TERRACL_OK)
            continue;
        terracl_status st = TERRACL_OK;
        for (const struct tc_builtin *b = tc_builtin_table((enum terracl_registry_kind)k);
             b->name != NULL && st == TERRACL_OK; b++)
            st = register_locked(src, b->name, b->ctor, NULL, b->includes_head, NULL);
        if (st == TERRACL_OK)
            st = add_source_locked(top, "terratorch", src, NULL);
        if (st != TERRACL_OK)
            terracl_registry_destroy(src);
        if (k == TERRACL_REGISTRY_BACKBONE)
            add_builtin_source(top, "timm", tc_builtin_timm_backbones());
        if (k == TERRACL_REGISTRY_DECODER)
            add_builtin_source(top, "smp", tc_builtin_smp_decoders());
    }
}

terracl_registry *terracl_registry_get(enum terracl_registry_kind kind)
{
    pthread_once(&g_top_once, init_top);
    int k = (int)kind;
    if (k < 0 || k >= TC_KINDS)
        k = 0;
    return &g_top[k];
}
