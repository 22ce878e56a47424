# libFuzzer targets over the parsers that read untrusted files (tests/fuzz/).
# Each is compiled by clang directly from the sources it exercises (so they
# carry the fuzzer's coverage instrumentation), whatever compiler builds the
# library, with AddressSanitizer and UndefinedBehaviorSanitizer.
#
# The suite runs each one reproducibly: a fixed seed, a fixed number of
# inputs, and only the committed corpus (new inputs go to a scratch folder
# emptied before every run), so a failure reproduces with the same command.
# Longer random runs are a separate command: tools/fuzz.sh TARGET [SECONDS].
# Without clang's fuzzer runtime the tests report themselves skipped.
option(TERRACL_FUZZ "Build and run the libFuzzer targets (needs clang + libFuzzer)" ON)
set(TERRACL_FUZZ_RUNS 100000 CACHE STRING "Inputs per fuzz target in the test suite")
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

# terracl_add_fuzz(NAME SOURCES files... [FLAGS compile/link flags...] [MAX_LEN n] [RUNS n]
#                  [REPLAY] [LSAN_SUPP file])
# REPLAY: the suite only runs the committed corpus (no mutation), for targets
# whose coverage is not reproducible run to run.
# builds tests/fuzz_NAME from tests/fuzz/fuzz_NAME.c plus SOURCES, and the
# test fuzz_NAME_bounded over the corpus tests/fuzz/corpus_NAME.
function(terracl_add_fuzz name)
  cmake_parse_arguments(F "REPLAY" "MAX_LEN;RUNS;LSAN_SUPP" "SOURCES;FLAGS" ${ARGN})
  if(NOT F_MAX_LEN)
    set(F_MAX_LEN 4096)
  endif()
  if(F_REPLAY)
    set(F_RUNS 0) # replay the committed corpus only
  elseif(NOT F_RUNS)
    set(F_RUNS ${TERRACL_FUZZ_RUNS})
  endif()
  if(NOT TERRACL_FUZZ_SKIP STREQUAL "")
    add_test(NAME fuzz_${name}_bounded
      COMMAND sh -c "echo 'fuzz_${name} skipped: ${TERRACL_FUZZ_SKIP}'; exit 77")
    set_tests_properties(fuzz_${name}_bounded PROPERTIES LABELS "unit;fuzz" SKIP_RETURN_CODE 77)
    return()
  endif()
  set(sources ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_${name}.c ${F_SOURCES})
  set(bin "${CMAKE_CURRENT_BINARY_DIR}/fuzz_${name}")
  add_custom_command(OUTPUT "${bin}"
    COMMAND "${TERRACL_FUZZ_CC}" -g -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -DTERRACL_STATIC
            -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
            -I${PROJECT_SOURCE_DIR}/include -I${PROJECT_SOURCE_DIR}/src
            ${sources} ${F_FLAGS} -lm -o "${bin}"
    DEPENDS ${sources} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_file.h
            ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_checkpoint.h
    COMMAND_EXPAND_LISTS
    COMMENT "Building the libFuzzer target fuzz_${name} with ${TERRACL_FUZZ_CC}")
  add_custom_target(fuzz_${name} ALL DEPENDS "${bin}")
  set(work "${CMAKE_CURRENT_BINARY_DIR}/fuzz_${name}_work")
  set(lsan "")
  if(F_LSAN_SUPP)
    set(lsan ":suppressions=${F_LSAN_SUPP}")
  endif()
  add_test(NAME fuzz_${name}_bounded
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_bounded.sh "${bin}" "${work}"
            "${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus_${name}" ${F_RUNS} ${F_MAX_LEN})
  set_tests_properties(fuzz_${name}_bounded PROPERTIES LABELS "unit;fuzz" TIMEOUT 240
    ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1;UBSAN_OPTIONS=print_stacktrace=1;LSAN_OPTIONS=print_suppressions=0${lsan}")
endfunction()

# YAML -> values -> config extraction -> YAML round trip.
terracl_add_fuzz(yaml
  SOURCES ${PROJECT_SOURCE_DIR}/src/core/error.c
          ${PROJECT_SOURCE_DIR}/src/core/value.c
          ${PROJECT_SOURCE_DIR}/src/core/value_scalar.c
          ${PROJECT_SOURCE_DIR}/src/core/value_emit.c
          ${PROJECT_SOURCE_DIR}/src/core/value_nearest.c
          ${PROJECT_SOURCE_DIR}/src/io/yaml_config.c
          ${PROJECT_SOURCE_DIR}/src/io/yaml_model.c
  FLAGS ${YAML_CFLAGS} ${YAML_LDFLAGS})

# Checkpoints (safetensors and HDF5) and HDF5 input files: the readers of
# untrusted weights and inputs, linked against the system's libhdf5.
set(fuzz_io_sources
  ${PROJECT_SOURCE_DIR}/src/core/error.c
  ${PROJECT_SOURCE_DIR}/src/io/checkpoint.c
  ${PROJECT_SOURCE_DIR}/src/io/checkpoint_h5.c
  ${PROJECT_SOURCE_DIR}/src/io/checkpoint_safetensors.c
  ${PROJECT_SOURCE_DIR}/src/io/safetensors_json.c
  ${PROJECT_SOURCE_DIR}/src/io/h5_util.c
  ${PROJECT_SOURCE_DIR}/src/io/h5_probe.c
  ${PROJECT_SOURCE_DIR}/src/io/tensor_file.c)
set(fuzz_hdf5_flags)
foreach(dir IN LISTS HDF5_C_INCLUDE_DIRS HDF5_INCLUDE_DIRS)
  list(APPEND fuzz_hdf5_flags "-I${dir}")
endforeach()
list(APPEND fuzz_hdf5_flags ${HDF5_C_LIBRARIES} -lpthread)
list(REMOVE_DUPLICATES fuzz_hdf5_flags)
set(fuzz_hdf5_supp ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/lsan_hdf5.supp)
# Each input is written to a file, so fewer inputs than for YAML.
terracl_add_fuzz(safetensors SOURCES ${fuzz_io_sources} FLAGS ${fuzz_hdf5_flags}
  RUNS 30000 LSAN_SUPP ${fuzz_hdf5_supp})
# Every HDF5 input is probed in a child process (a fork per input), and
# libhdf5's behaviour on damaged files is not reproducible run to run (it
# reads freed and uninitialised memory on some), so mutation would explore
# different inputs each time: in the suite these targets replay their
# committed corpus (seed files plus the inputs earlier random runs found,
# tests/fuzz/corpus_h5*), and tools/fuzz.sh runs them randomly for longer.
# libhdf5 asks malloc for absurd sizes on damaged metadata and copes with
# NULL, as it gets outside AddressSanitizer (allocator_may_return_null).
terracl_add_fuzz(h5ckpt SOURCES ${fuzz_io_sources} FLAGS ${fuzz_hdf5_flags} MAX_LEN 32768
  REPLAY LSAN_SUPP ${fuzz_hdf5_supp})
terracl_add_fuzz(h5tensor SOURCES ${fuzz_io_sources} FLAGS ${fuzz_hdf5_flags} MAX_LEN 16384
  REPLAY LSAN_SUPP ${fuzz_hdf5_supp})
