# A second, independent OpenCL implementation: Mesa's rusticl on llvmpipe
# (Debian's mesa-opencl-icd, enabled with RUSTICL_ENABLE=llvmpipe; OpenCL
# 3.0, no fp64, 2 GiB largest allocation, its own compiler). A small subset
# of the op tests and one backbone's TerraTorch parity run there, so that
# terracl is not only ever checked against PoCL. rusticl is slow (its first
# run compiles every kernel into the test cache: the packed-weight GEMM
# cases alone took over five minutes cold), hence the small subset: the
# layernorm op cases, the cases where llvmpipe's loop limit bites (long GEMM
# sums, Conv2d), and a whole backbone, whose parity run (GEMMs, attention,
# patch embedding) takes about 40 s cold.
# Without the driver the selector matches no device and the tests report
# themselves skipped (exit 77).
set(TERRACL_RUSTICL_ENV
  "${TERRACL_TEST_ENV};RUSTICL_ENABLE=llvmpipe;TERRACL_DEVICE=llvmpipe;TERRACL_FIXTURES=${CMAKE_CURRENT_SOURCE_DIR}/fixtures;LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0")
# One op test binary's cases (a cmocka filter) on rusticl.
function(terracl_rusticl_op_test name binary filter)
  add_test(NAME ${name} COMMAND ${binary})
  set_tests_properties(${name} PROPERTIES LABELS "cl;rusticl" SKIP_RETURN_CODE 77
    TIMEOUT 900 ENVIRONMENT "${TERRACL_RUSTICL_ENV};TERRACL_TEST_FILTER=${filter}")
endfunction()
terracl_rusticl_op_test(test_ops_rusticl test_ops "test_layernorm*")
# Where llvmpipe ends a work-item's loops after 65535 passes (tc_runtime_loop_limit):
# GEMMs with long sums, convolutions over many input channels, GroupNorm
# over long groups (statistics in chunks), reductions over long rows and
# adaptive pooling over large cells (both in chunks).
terracl_rusticl_op_test(test_gemm_rusticl test_gemm "test_native_long_k")
terracl_rusticl_op_test(test_loop_limit_rusticl test_ops "test_loop_limit*")
terracl_rusticl_op_test(test_pool_loop_limit_rusticl test_ops_resize "test_loop_limit*")
terracl_rusticl_op_test(test_ops_conv_rusticl test_ops_conv "test_conv2d")
terracl_rusticl_op_test(test_groupnorm_rusticl test_ops_smp "test_groupnorm")
add_test(NAME test_parity_rusticl COMMAND test_parity_backbones bb_tiny)
set_tests_properties(test_parity_rusticl PROPERTIES LABELS "model;rusticl" SKIP_RETURN_CODE 77
  TIMEOUT 900 ENVIRONMENT "${TERRACL_RUSTICL_ENV}")
