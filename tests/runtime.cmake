terracl_add_test(test_runtime SOURCES test_runtime.c test_common.c LABELS cl)
terracl_add_test(test_ops SOURCES test_ops.c test_common.c LABELS cl)
terracl_add_test(test_gemm SOURCES test_gemm.c test_common.c LABELS cl)
terracl_add_test(test_core SOURCES test_core.c test_common.c LABELS unit)
