terracl_add_test(test_attention SOURCES test_attention.c test_common.c LABELS cl)
