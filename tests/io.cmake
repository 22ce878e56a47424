# io module: checkpoints (HDF5, safetensors) and tensor files. No device needed.
terracl_add_test(test_checkpoint SOURCES test_checkpoint.c test_common.c LABELS unit)
terracl_add_test(test_tensor_file SOURCES test_tensor_file.c test_common.c LABELS unit)
