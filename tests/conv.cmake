terracl_add_test(test_ops_conv SOURCES test_ops_conv.c test_common.c LABELS cl)
