terracl_add_test(test_ops_resize SOURCES test_ops_resize.c test_common.c LABELS cl)
