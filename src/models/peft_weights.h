/*
 * LoRA / PEFT checkpoints. A model fine-tuned in TerraTorch with
 * `peft_config` saves its adapters next to the frozen weights
 * (L.base_layer.weight, L.lora_A.<adapter>.weight, L.lora_B...). terracl runs
 * only merged weights: tools/convert_checkpoint.py merges the adapters and
 * writes the plain layout. This check turns the "missing tensor" a raw
 * adapter checkpoint would otherwise cause into a message saying what to do.
 */
#ifndef TC_MODELS_PEFT_WEIGHTS_H
#define TC_MODELS_PEFT_WEIGHTS_H

#include "core/error.h"
#include "io/checkpoint.h"

/* TERRACL_ERR_FORMAT naming the file and one adapter tensor when `ck` holds
 * unmerged PEFT adapter tensors; TERRACL_OK otherwise. */
TC_NODISCARD terracl_status tc_peft_refuse_unmerged(struct tc_checkpoint *ck,
                                                    terracl_error *err);

#endif /* TC_MODELS_PEFT_WEIGHTS_H */
