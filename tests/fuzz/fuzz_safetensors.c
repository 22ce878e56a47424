/*
 * libFuzzer target: bytes -> safetensors checkpoint (header length, JSON
 * header, dtypes, shapes, offsets) -> every tensor read as float32. Bad
 * input must end in an error with a message, never a crash, a leak or a
 * sanitizer report.
 */
#include "fuzz_checkpoint.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_checkpoint(fuzz_write_file(data, size, ".safetensors"));
    return 0;
}
