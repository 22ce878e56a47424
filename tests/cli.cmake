# The command-line tool as users meet it: bad input never crashes or clobbers.
add_test(NAME cli_errors COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_errors.sh
         $<TARGET_FILE:terracl_cli> ${CMAKE_CURRENT_SOURCE_DIR}/fixtures)
set_tests_properties(cli_errors PROPERTIES LABELS model SKIP_RETURN_CODE 77
  ENVIRONMENT "${TERRACL_TEST_ENV}")
add_test(NAME cli_bench COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_bench.sh
         $<TARGET_FILE:terracl_cli>)
set_tests_properties(cli_bench PROPERTIES LABELS unit ENVIRONMENT "${TERRACL_TEST_ENV}")
