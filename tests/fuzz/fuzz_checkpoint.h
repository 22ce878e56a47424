/* Opening and reading a checkpoint the way a model load does; shared by the
 * safetensors and HDF5 checkpoint targets. */
#ifndef TC_FUZZ_CHECKPOINT_H
#define TC_FUZZ_CHECKPOINT_H

#include <stdlib.h>
#include <string.h>

#include "io/checkpoint.h"

static void fuzz_checkpoint(const char *path)
{
    struct tc_checkpoint *ck = NULL;
    terracl_error err = {0};
    terracl_status st = tc_checkpoint_open(path, &ck, &err);
    if (st != TERRACL_OK) {
        if (ck != NULL || err.message[0] == '\0')
            abort(); /* a failure leaves nothing open and says why */
        return;
    }
    const char *cfg = tc_checkpoint_config(ck);
    if (cfg != NULL)
        (void)strlen(cfg);
    for (size_t i = 0; i < tc_checkpoint_count(ck); i++) {
        struct tc_checkpoint_entry *e = tc_checkpoint_entry(ck, i);
        if (!e->valid || e->numel > ((size_t)1 << 20))
            continue;
        float *buf = malloc((e->numel ? e->numel : 1) * sizeof(float));
        if (buf == NULL)
            continue;
        st = tc_checkpoint_read_f32(ck, i, buf, e->numel, &err);
        if (st != TERRACL_OK && err.message[0] == '\0')
            abort();
        free(buf);
    }
    char summary[256];
    (void)tc_checkpoint_unused_summary(ck, 4, summary, sizeof summary);
    tc_checkpoint_close(ck);
}

#endif /* TC_FUZZ_CHECKPOINT_H */
