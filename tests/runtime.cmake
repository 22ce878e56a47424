terracl_add_test(test_runtime SOURCES test_runtime.c test_common.c LABELS cl)
terracl_add_test(test_ops SOURCES test_ops.c test_common.c LABELS cl)
terracl_add_test(test_gemm SOURCES test_gemm.c test_common.c LABELS cl)
terracl_add_test(test_core SOURCES test_core.c test_common.c LABELS unit)
terracl_add_test(test_gemm_params SOURCES test_gemm_params.c test_common.c LABELS unit)
# First runtimes of a process from several threads (each round a fresh process).
add_executable(test_first_use test_first_use.c)
target_include_directories(test_first_use PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(test_first_use PRIVATE terracl_static Threads::Threads m)
target_compile_options(test_first_use PRIVATE ${TERRACL_WARNINGS})
target_compile_definitions(test_first_use PRIVATE _POSIX_C_SOURCE=200809L)
add_test(NAME test_first_use COMMAND test_first_use)
# use_sigaltstack=0: PoCL compiles the first kernels inside these threads,
# and LLVM's crash recovery replaces the thread's alternate signal stack,
# which AddressSanitizer then fails to unmap when the thread exits.
set_tests_properties(test_first_use PROPERTIES LABELS cl SKIP_RETURN_CODE 77
  ENVIRONMENT "${TERRACL_TEST_ENV};ASAN_OPTIONS=use_sigaltstack=0;LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0")
