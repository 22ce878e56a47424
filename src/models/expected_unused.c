/* Which unused checkpoint tensors are expected (see expected_unused.h). */
#include "models/expected_unused.h"

#include <string.h>

static int last_component_is(const char *name, const char *last)
{
    const char *dot = strrchr(name, '.');
    return strcmp(dot ? dot + 1 : name, last) == 0;
}

/* TerraTorch's Prithvi filter works on the name inside the backbone, with
 * the legacy "_timm_module." wrapper ignored; substrings, as it matches. */
static int backbone_drops(const char *rel)
{
    return strstr(rel, "pos_embed") != NULL || strstr(rel, "decoder") != NULL ||
           strstr(rel, "_dec") != NULL || last_component_is(rel, "mask_token") ||
           strstr(rel, "temporal_embed") != NULL || strstr(rel, "location_embed") != NULL;
}

void tc_mark_expected_unused(struct tc_checkpoint *ck, const char *backbone_prefix)
{
    size_t plen = backbone_prefix ? strlen(backbone_prefix) : 0;
    size_t n = tc_checkpoint_count(ck);
    for (size_t i = 0; i < n; i++) {
        struct tc_checkpoint_entry *e = tc_checkpoint_entry(ck, i);
        if (e->used)
            continue;
        if (last_component_is(e->name, "num_batches_tracked"))
            e->used = true;
        else if (backbone_prefix != NULL && strncmp(e->name, "aux_heads.", 10) == 0)
            e->used = true;
        else if ((backbone_prefix == NULL || strncmp(e->name, backbone_prefix, plen) == 0) &&
                 backbone_drops(e->name + plen))
            e->used = true;
    }
}
