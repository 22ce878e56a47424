# The ops smp's decoders brought (GroupNorm, depthwise convolution) against naive C.
terracl_add_test(test_ops_smp SOURCES test_ops_smp.c test_common.c LABELS cl)
