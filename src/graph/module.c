/* Module trees: creation, parameters, children, traversal. */
#include "graph/module.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"

void tc_feats_free(struct tc_feats *f)
{
    for (size_t i = 0; i < f->n; i++)
        tc_tensor_free(&f->t[i]);
    f->n = 0;
}

terracl_status tc_module_create(const char *type, const struct tc_module_vtable *vt, void *impl,
                                terracl_module **out, terracl_error *err)
{
    *out = NULL;
    terracl_module *m = calloc(1, sizeof *m);
    char *t = strdup(type);
    if (m == NULL || t == NULL) {
        free(m);
        free(t);
        if (impl && vt && vt->destroy_impl)
            vt->destroy_impl(impl);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory creating module %s", type);
    }
    m->type = t;
    m->vt = vt;
    m->impl = impl;
    *out = m;
    return TERRACL_OK;
}

void terracl_module_destroy(terracl_module *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nchildren; i++) {
        terracl_module_destroy(m->children[i].module);
        free(m->children[i].name);
    }
    free(m->children);
    for (size_t i = 0; i < m->nparams; i++) {
        free(m->params[i].name);
        free(m->params[i].host);
        tc_tensor_free(&m->params[i].value);
    }
    free(m->params);
    tc_module_free_bind_hooks(m);
    if (m->impl && m->vt && m->vt->destroy_impl)
        m->vt->destroy_impl(m->impl);
    terracl_value_free(m->config);
    free(m->type);
    free(m);
}

const char *terracl_module_type(const terracl_module *m) { return m ? m->type : NULL; }
const terracl_value *terracl_module_config(const terracl_module *m) { return m ? m->config : NULL; }

uint64_t terracl_module_param_count(const terracl_module *m)
{
    if (m == NULL)
        return 0;
    uint64_t total = 0;
    for (size_t i = 0; i < m->nparams; i++) {
        if (!m->params[i].learnable)
            continue;
        uint64_t n = 1;
        for (int d = 0; d < m->params[i].ndim; d++)
            n *= (uint64_t)m->params[i].dims[d];
        total += n;
    }
    for (size_t i = 0; i < m->nchildren; i++)
        total += terracl_module_param_count(m->children[i].module);
    return total;
}

size_t terracl_module_out_channels(const terracl_module *m, int64_t *channels, size_t cap)
{
    if (m == NULL)
        return 0;
    for (size_t i = 0; i < m->n_out_channels && i < cap; i++)
        channels[i] = m->out_channels[i];
    return m->n_out_channels;
}

static terracl_status push_param(terracl_module *m, const char *name, int ndim, const int64_t *dims,
                                 size_t *index, terracl_error *err)
{
    if (ndim < 0 || ndim > TC_MAX_DIMS)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "parameter %s: rank %d outside 0..%d", name,
                       ndim, TC_MAX_DIMS);
    size_t count;
    if (!tc_shape_count(dims, ndim, &count))
        return tc_fail(err, TERRACL_ERR_OVERFLOW, "parameter %s: invalid shape", name);
    if (m->nparams == m->params_cap) {
        size_t cap = m->params_cap ? m->params_cap * 2 : 8;
        struct tc_param *p = realloc(m->params, cap * sizeof *p);
        if (p == NULL)
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        m->params = p;
        m->params_cap = cap;
    }
    struct tc_param *p = &m->params[m->nparams];
    memset(p, 0, sizeof *p);
    p->name = strdup(name);
    if (p->name == NULL)
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    p->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        p->dims[i] = dims[i];
    if (index)
        *index = m->nparams;
    m->nparams++;
    return TERRACL_OK;
}

terracl_status tc_module_add_param(terracl_module *m, const char *name, int ndim,
                                   const int64_t *dims, size_t *index, terracl_error *err)
{
    size_t i;
    terracl_status st = push_param(m, name, ndim, dims, &i, err);
    if (st != TERRACL_OK)
        return st;
    m->params[i].learnable = 1;
    m->params[i].from_checkpoint = 1;
    if (index)
        *index = i;
    return TERRACL_OK;
}

terracl_status tc_module_add_buffer(terracl_module *m, const char *name, int ndim,
                                    const int64_t *dims, size_t *index, terracl_error *err)
{
    size_t i;
    terracl_status st = push_param(m, name, ndim, dims, &i, err);
    if (st != TERRACL_OK)
        return st;
    m->params[i].from_checkpoint = 1;
    if (index)
        *index = i;
    return TERRACL_OK;
}

terracl_status tc_module_add_counted(terracl_module *m, const char *name, int ndim,
                                     const int64_t *dims, terracl_error *err)
{
    size_t i;
    terracl_status st = push_param(m, name, ndim, dims, &i, err);
    if (st == TERRACL_OK)
        m->params[i].learnable = 1; /* from_checkpoint 0, no host value: never bound */
    return st;
}

void tc_module_mark_gemm_weight(terracl_module *m, size_t index)
{
    if (index < m->nparams && m->params[index].ndim >= 2)
        m->params[index].gemm_weight = TC_PACKED;
}

void tc_module_mark_conv_weight(terracl_module *m, size_t index)
{
    if (index < m->nparams && m->params[index].ndim == 4)
        m->params[index].gemm_weight = TC_PACKED_TAPS;
}

void tc_module_mark_conv_transpose_weight(terracl_module *m, size_t index)
{
    if (index < m->nparams && m->params[index].ndim == 4)
        m->params[index].gemm_weight = TC_PACKED_KN;
}

terracl_status tc_module_add_fixed(terracl_module *m, const char *name, int ndim,
                                   const int64_t *dims, float *host, size_t *index,
                                   terracl_error *err)
{
    size_t i;
    terracl_status st = push_param(m, name, ndim, dims, &i, err);
    if (st != TERRACL_OK) {
        free(host);
        return st;
    }
    m->params[i].host = host;
    if (index)
        *index = i;
    return TERRACL_OK;
}

terracl_status tc_module_add_child(terracl_module *m, const char *name, terracl_module *child,
                                   terracl_error *err)
{
    if (m->nchildren == m->children_cap) {
        size_t cap = m->children_cap ? m->children_cap * 2 : 4;
        struct tc_child *c = realloc(m->children, cap * sizeof *c);
        if (c == NULL) {
            terracl_module_destroy(child);
            return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
        }
        m->children = c;
        m->children_cap = cap;
    }
    char *n = strdup(name);
    if (n == NULL) {
        terracl_module_destroy(child);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory");
    }
    m->children[m->nchildren].name = n;
    m->children[m->nchildren].module = child;
    m->nchildren++;
    return TERRACL_OK;
}

void tc_module_set_config(terracl_module *m, terracl_value *cfg)
{
    terracl_value_free(m->config);
    m->config = cfg;
}

terracl_status tc_module_set_out_channels(terracl_module *m, const int64_t *channels, size_t n,
                                          terracl_error *err)
{
    if (n > TC_MAX_FEATS)
        return tc_fail(err, TERRACL_ERR_INVALID_ARG, "%s: %zu outputs, at most %d supported",
                       m->type, n, TC_MAX_FEATS);
    for (size_t i = 0; i < n; i++)
        m->out_channels[i] = channels[i];
    m->n_out_channels = n;
    return TERRACL_OK;
}

terracl_status tc_module_forward(terracl_module *m, struct tc_exec *ex, const struct tc_feats *in,
                                 struct tc_feats *out, terracl_error *err)
{
    memset(out, 0, sizeof *out);
    if (m->vt == NULL || m->vt->forward == NULL)
        return tc_fail(err, TERRACL_ERR_UNSUPPORTED, "module %s cannot run on its own", m->type);
    terracl_status st = m->vt->forward(m, ex, in, out, err);
    if (st != TERRACL_OK)
        tc_feats_free(out);
    return st;
}

static terracl_status visit(terracl_module *m, char *path, size_t len, size_t cap,
                            tc_param_visitor fn, void *user, terracl_error *err)
{
    for (size_t i = 0; i < m->nparams; i++) {
        int w = snprintf(path + len, cap - len, "%s%s", len ? "." : "", m->params[i].name);
        if (w < 0 || (size_t)w >= cap - len)
            return tc_fail(err, TERRACL_ERR_INVALID_ARG, "parameter name too long under %s", path);
        terracl_status st = fn(user, path, &m->params[i], err);
        path[len] = '\0';
        if (st != TERRACL_OK)
            return st;
    }
    for (size_t i = 0; i < m->nchildren; i++) {
        int w = snprintf(path + len, cap - len, "%s%s", len ? "." : "", m->children[i].name);
        if (w < 0 || (size_t)w >= cap - len)
            return tc_fail(err, TERRACL_ERR_INVALID_ARG, "module name too long under %s", path);
        terracl_status st = visit(m->children[i].module, path, len + (size_t)w, cap, fn, user, err);
        path[len] = '\0';
        if (st != TERRACL_OK)
            return st;
    }
    return TERRACL_OK;
}

terracl_status tc_module_visit_params(terracl_module *m, tc_param_visitor fn, void *user,
                                      terracl_error *err)
{
    char path[1024];
    path[0] = '\0';
    return visit(m, path, 0, sizeof path, fn, user, err);
}
