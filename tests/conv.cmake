terracl_add_test(test_ops_conv SOURCES test_ops_conv.c test_common.c LABELS cl)
terracl_add_test(test_decoders SOURCES test_decoders.c test_common.c LABELS model)
