/* Bind hooks: per-module work run once its weights are on the device. */
#include <stdlib.h>
#include <string.h>

#include "graph/module.h"

terracl_status tc_module_add_bind_hook(terracl_module *m, tc_bind_hook_fn fn, const void *user,
                                       size_t user_size, terracl_error *err)
{
    void *copy = malloc(user_size ? user_size : 1);
    struct tc_bind_hook *grown =
        copy ? realloc(m->bind_hooks, (m->n_bind_hooks + 1) * sizeof *grown) : NULL;
    if (grown == NULL) {
        free(copy);
        return tc_fail(err, TERRACL_ERR_NO_MEMORY, "out of memory for a bind hook");
    }
    if (user_size)
        memcpy(copy, user, user_size);
    m->bind_hooks = grown;
    m->bind_hooks[m->n_bind_hooks++] = (struct tc_bind_hook){fn, copy};
    return TERRACL_OK;
}

terracl_status tc_module_run_bind_hooks(terracl_module *m, terracl_runtime *rt, terracl_error *err)
{
    terracl_status st = TERRACL_OK;
    for (size_t i = 0; i < m->nchildren && st == TERRACL_OK; i++)
        st = tc_module_run_bind_hooks(m->children[i].module, rt, err);
    for (size_t i = 0; i < m->n_bind_hooks && st == TERRACL_OK; i++)
        st = m->bind_hooks[i].fn(m, rt, m->bind_hooks[i].user, err);
    return st;
}

void tc_module_free_bind_hooks(terracl_module *m)
{
    for (size_t i = 0; i < m->n_bind_hooks; i++)
        free(m->bind_hooks[i].user);
    free(m->bind_hooks);
    m->bind_hooks = NULL;
    m->n_bind_hooks = 0;
}
