# Registries, typed values, YAML configs and the list/info commands.
terracl_add_test(test_value SOURCES test_value.c test_common.c LABELS unit)
terracl_add_test(test_registry SOURCES test_registry.c test_common.c LABELS unit)
terracl_add_test(test_yaml SOURCES test_yaml.c test_common.c LABELS unit)
terracl_add_test(test_config_limits SOURCES test_config_limits.c test_common.c LABELS unit)
# The list/info commands' code is compiled in, so the test can register its
# own components and check what the commands print.
terracl_add_test(test_registry_cli
  SOURCES test_registry_cli.c test_common.c ${PROJECT_SOURCE_DIR}/src/cli/cmd_list.c
          ${PROJECT_SOURCE_DIR}/src/cli/cmd_info.c ${PROJECT_SOURCE_DIR}/src/cli/help.c
  LABELS unit)

# The installed command: exit statuses of list/info (0 ok, 1 unknown name, 2 usage).
add_test(NAME cli_list_info_status
  COMMAND sh -c "\"$0\" list >/dev/null && \"$0\" list backbones >/dev/null && \"$0\" list backbone >/dev/null && \
{ \"$0\" list nonsense 2>/dev/null; test $? -eq 1; } && \
{ \"$0\" info backbone no_such_backbone 2>/dev/null; test $? -eq 1; } && \
{ \"$0\" info gizmo x 2>/dev/null; test $? -eq 1; } && \
{ \"$0\" info backbone 2>/dev/null; test $? -eq 2; }" $<TARGET_FILE:terracl_cli>)
set_tests_properties(cli_list_info_status PROPERTIES LABELS unit)

# libFuzzer target over YAML -> values -> config extraction -> YAML round trip.
# It is compiled by clang directly from the sources it exercises (so they
# carry the fuzzer's coverage instrumentation), whatever compiler builds the
# library. Without clang's fuzzer runtime the test reports itself skipped.
option(TERRACL_FUZZ "Build and run the libFuzzer YAML target (needs clang + libFuzzer)" ON)
set(TERRACL_FUZZ_SKIP "")
if(NOT TERRACL_FUZZ)
  set(TERRACL_FUZZ_SKIP "TERRACL_FUZZ is OFF")
else()
  if(CMAKE_C_COMPILER_ID MATCHES "Clang")
    set(TERRACL_FUZZ_CC "${CMAKE_C_COMPILER}")
  else()
    find_program(TERRACL_FUZZ_CC NAMES clang clang-16 clang-15 clang-14)
  endif()
  if(NOT TERRACL_FUZZ_CC)
    set(TERRACL_FUZZ_SKIP "clang not found (apt-get install clang libclang-rt-14-dev)")
  else()
    set(probe_dir "${CMAKE_CURRENT_BINARY_DIR}/fuzz_probe")
    file(MAKE_DIRECTORY "${probe_dir}")
    file(WRITE "${probe_dir}/probe.c"
      "#include <stddef.h>\n#include <stdint.h>\n"
      "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
    execute_process(
      COMMAND "${TERRACL_FUZZ_CC}" -fsanitize=fuzzer,address "${probe_dir}/probe.c"
              -o "${probe_dir}/probe"
      RESULT_VARIABLE probe_rc OUTPUT_QUIET ERROR_QUIET)
    if(NOT probe_rc EQUAL 0)
      set(TERRACL_FUZZ_SKIP
          "${TERRACL_FUZZ_CC} cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)")
    endif()
  endif()
endif()

if(TERRACL_FUZZ_SKIP STREQUAL "")
  set(fuzz_sources
    ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_yaml.c
    ${PROJECT_SOURCE_DIR}/src/core/error.c
    ${PROJECT_SOURCE_DIR}/src/core/value.c
    ${PROJECT_SOURCE_DIR}/src/core/value_scalar.c
    ${PROJECT_SOURCE_DIR}/src/core/value_emit.c
    ${PROJECT_SOURCE_DIR}/src/core/value_nearest.c
    ${PROJECT_SOURCE_DIR}/src/io/yaml_config.c
    ${PROJECT_SOURCE_DIR}/src/io/yaml_model.c)
  set(fuzz_bin "${CMAKE_CURRENT_BINARY_DIR}/fuzz_yaml")
  add_custom_command(OUTPUT "${fuzz_bin}"
    COMMAND "${TERRACL_FUZZ_CC}" -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -DTERRACL_STATIC
            -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
            -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_SOURCE_DIR}/src ${YAML_CFLAGS}
            ${fuzz_sources} ${YAML_LDFLAGS} -lm -o "${fuzz_bin}"
    DEPENDS ${fuzz_sources} ${PROJECT_SOURCE_DIR}/src/core/value.h
            ${PROJECT_SOURCE_DIR}/src/io/yaml_config.h
    COMMENT "Building the libFuzzer YAML target with ${TERRACL_FUZZ_CC}")
  add_custom_target(fuzz_yaml ALL DEPENDS "${fuzz_bin}")
  # New inputs go to the scratch folder (first), never into the committed corpus.
  set(fuzz_work "${CMAKE_CURRENT_BINARY_DIR}/fuzz_yaml_work")
  file(MAKE_DIRECTORY "${fuzz_work}")
  add_test(NAME fuzz_yaml_bounded
    COMMAND "${fuzz_bin}" -runs=50000 -max_total_time=20 -max_len=4096 -timeout=10
            -rss_limit_mb=2048 "${fuzz_work}" "${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus_yaml")
  set_tests_properties(fuzz_yaml_bounded PROPERTIES LABELS "unit;fuzz" TIMEOUT 120
    ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1")
else()
  message(STATUS "terracl: fuzz_yaml skipped: ${TERRACL_FUZZ_SKIP}")
  add_test(NAME fuzz_yaml_bounded
    COMMAND sh -c "echo 'fuzz_yaml skipped: ${TERRACL_FUZZ_SKIP}'; exit 77")
  set_tests_properties(fuzz_yaml_bounded PROPERTIES LABELS "unit;fuzz" SKIP_RETURN_CODE 77)
endif()
