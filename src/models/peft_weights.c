/* Refusing checkpoints whose LoRA adapters were not merged (peft_weights.h). */
#include "models/peft_weights.h"

#include <string.h>

/* Name components that only a PEFT-wrapped layer has. */
static const char *const ADAPTER_PARTS[] = {
    "lora_A", "lora_B", "base_layer", "lora_embedding_A", "lora_embedding_B",
    "lora_magnitude_vector",
};

/* True when one dot-separated component of `name` equals `part`. */
static int has_component(const char *name, const char *part)
{
    size_t n = strlen(part);
    for (const char *p = name; (p = strstr(p, part)) != NULL; p += n) {
        int starts = p == name || p[-1] == '.';
        int ends = p[n] == '\0' || p[n] == '.';
        if (starts && ends)
            return 1;
    }
    return 0;
}

terracl_status tc_peft_refuse_unmerged(struct tc_checkpoint *ck, terracl_error *err)
{
    /* Parts outer, so the example named is an adapter matrix when there is one. */
    size_t count = tc_checkpoint_count(ck);
    for (size_t k = 0; k < sizeof ADAPTER_PARTS / sizeof ADAPTER_PARTS[0]; k++) {
        for (size_t i = 0; i < count; i++) {
            const char *name = tc_checkpoint_entry(ck, i)->name;
            if (has_component(name, ADAPTER_PARTS[k]))
                return tc_fail(err, TERRACL_ERR_FORMAT,
                               "%s holds unmerged LoRA/PEFT adapter tensors (such as '%s'): "
                               "run tools/convert_checkpoint.py on it (or on the original "
                               ".ckpt/.pt), which merges the adapters into the weights",
                               tc_checkpoint_path(ck), name);
        }
    }
    return TERRACL_OK;
}
