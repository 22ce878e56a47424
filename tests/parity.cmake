# Parity with TerraTorch on the committed fixtures: backbones (bb_*) and
# whole models (fm_*) as separate ctest entries so failures point at a family.
terracl_add_test(test_parity_backbones SOURCES test_parity.c test_common.c LABELS model ARGS bb_)
add_test(NAME test_parity_models COMMAND test_parity_backbones fm_)
set_tests_properties(test_parity_models PROPERTIES LABELS model SKIP_RETURN_CODE 77
  ENVIRONMENT "${TERRACL_TEST_ENV};TERRACL_FIXTURES=${CMAKE_CURRENT_SOURCE_DIR}/fixtures")
add_test(NAME test_parity_terramind COMMAND test_parity_backbones tm_)
set_tests_properties(test_parity_terramind PROPERTIES LABELS model SKIP_RETURN_CODE 77
  ENVIRONMENT "${TERRACL_TEST_ENV};TERRACL_FIXTURES=${CMAKE_CURRENT_SOURCE_DIR}/fixtures")
terracl_add_test(test_terramind SOURCES test_terramind.c test_common.c LABELS unit)
terracl_add_test(test_param_counts SOURCES test_param_counts.c test_common.c LABELS unit)
terracl_add_test(test_threads SOURCES test_threads.c test_common.c LABELS model)
target_link_libraries(test_threads PRIVATE Threads::Threads)
# The same fixtures through the route GPUs take for GEMMs (CLBlast, plain
# weights, bias and GELU as separate passes), so it stays right on machines
# without a GPU too.
add_test(NAME test_parity_clblast COMMAND test_parity_backbones "")
set_tests_properties(test_parity_clblast PROPERTIES LABELS model SKIP_RETURN_CODE 77
  ENVIRONMENT "${TERRACL_TEST_ENV};TERRACL_FIXTURES=${CMAKE_CURRENT_SOURCE_DIR}/fixtures;TERRACL_GEMM=clblast")
# TerraTorch's own example configs (tools/make_example_fixtures.py), reduced.
add_test(NAME test_parity_examples COMMAND test_parity_backbones ex_)
set_tests_properties(test_parity_examples PROPERTIES LABELS model SKIP_RETURN_CODE 77
  ENVIRONMENT "${TERRACL_TEST_ENV};TERRACL_FIXTURES=${CMAKE_CURRENT_SOURCE_DIR}/fixtures")
terracl_add_test(test_memory_check SOURCES test_memory_check.c test_common.c LABELS model)
terracl_add_test(test_timm_resnet SOURCES test_timm_resnet.c backbone_check.c test_common.c LABELS "cl;model")
terracl_add_test(test_terramind_inputs SOURCES test_terramind_inputs.c test_common.c LABELS model)
# segmentation_models_pytorch decoders as TerraTorch wraps them (decoder: smp_*)
# and smp's own models (SMPModelFactory): tools/make_smp_fixtures.py.
add_test(NAME test_parity_smp COMMAND test_parity_backbones smp_)
set_tests_properties(test_parity_smp PROPERTIES LABELS model SKIP_RETURN_CODE 77
  ENVIRONMENT "${TERRACL_TEST_ENV};TERRACL_FIXTURES=${CMAKE_CURRENT_SOURCE_DIR}/fixtures")
