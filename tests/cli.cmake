# The command-line tool as users meet it: bad input never crashes or clobbers.
add_test(NAME cli_errors COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_errors.sh
         $<TARGET_FILE:terracl_cli> ${CMAKE_CURRENT_SOURCE_DIR}/fixtures)
set_tests_properties(cli_errors PROPERTIES LABELS model SKIP_RETURN_CODE 77
  ENVIRONMENT "${TERRACL_TEST_ENV}")
add_test(NAME cli_bench COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_bench.sh
         $<TARGET_FILE:terracl_cli>)
set_tests_properties(cli_bench PROPERTIES LABELS unit ENVIRONMENT "${TERRACL_TEST_ENV}")
# Every sub-command answers -h/--help (found through `terracl --help`).
add_test(NAME cli_help COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_help.sh
         $<TARGET_FILE:terracl_cli> ${PROJECT_SOURCE_DIR}/src/cli)
set_tests_properties(cli_help PROPERTIES LABELS unit ENVIRONMENT "${TERRACL_TEST_ENV}")
# `terracl info` on every decoder and neck, with and without arguments.
add_test(NAME cli_info COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_info.sh $<TARGET_FILE:terracl_cli>)
set_tests_properties(cli_info PROPERTIES LABELS unit ENVIRONMENT "${TERRACL_TEST_ENV}")
# The unused-tensor warning names only tensors TerraTorch would not ignore too.
add_test(NAME cli_unused COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_unused.sh
         $<TARGET_FILE:terracl_cli> ${CMAKE_CURRENT_SOURCE_DIR}/fixtures)
set_tests_properties(cli_unused PROPERTIES LABELS model ENVIRONMENT "${TERRACL_TEST_ENV}")
# Unknown components in a config: which one, which registry, near names only.
add_test(NAME cli_components COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_components.sh
         $<TARGET_FILE:terracl_cli> ${CMAKE_CURRENT_SOURCE_DIR}/fixtures)
set_tests_properties(cli_components PROPERTIES LABELS model ENVIRONMENT "${TERRACL_TEST_ENV}")

# PNG pictures of outputs (the tool's code, compiled in).
if(PNG_FOUND)
  terracl_add_test(test_output_image
    SOURCES test_output_image.c test_common.c ${PROJECT_SOURCE_DIR}/src/cli/output_image.c
    LABELS unit)
  target_link_libraries(test_output_image PRIVATE PNG::PNG)
  target_compile_definitions(test_output_image PRIVATE TERRACL_HAVE_PNG)
endif()
# Multimodal TerraMind inputs through `terracl run` (one dataset per modality).
add_test(NAME cli_terramind COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_terramind.sh
         $<TARGET_FILE:terracl_cli> ${CMAKE_CURRENT_SOURCE_DIR}/fixtures)
set_tests_properties(cli_terramind PROPERTIES LABELS model SKIP_RETURN_CODE 77
  ENVIRONMENT "${TERRACL_TEST_ENV}")
