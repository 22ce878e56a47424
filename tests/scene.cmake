# Scene prediction: the tiling module against TerraTorch's numbers (no
# device), and whole scenes through `terracl predict`'s library call against
# TerraTorch fixtures (tests/fixtures/scenes, tools/make_scene_fixtures.py).
terracl_add_test(test_tiling SOURCES test_tiling.c test_common.c LABELS unit)
terracl_add_test(test_scene_config SOURCES test_scene_config.c test_common.c LABELS unit)
# Whole scenes are GeoTIFFs: a build without GDAL has none of these.
if(NOT TERRACL_WITH_GDAL)
  return()
endif()
terracl_add_test(test_predict SOURCES test_predict.c test_common.c LABELS model)
terracl_add_test(test_predict_multimodal SOURCES test_predict_multimodal.c test_common.c LABELS model)
# The command line on a folder with bad scenes, resuming, options.
add_test(NAME cli_predict COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_predict.sh
         $<TARGET_FILE:terracl_cli> ${CMAKE_CURRENT_SOURCE_DIR}/fixtures)
set_tests_properties(cli_predict PROPERTIES LABELS model SKIP_RETURN_CODE 77
  ENVIRONMENT "${TERRACL_TEST_ENV}")
# The same under mpirun with two ranks (skips without MPI).
add_test(NAME cli_predict_mpi COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cli_predict_mpi.sh
         $<TARGET_FILE:terracl_cli> ${CMAKE_CURRENT_SOURCE_DIR}/fixtures "${MPIEXEC_EXECUTABLE}")
set_tests_properties(cli_predict_mpi PROPERTIES LABELS "model;mpi" SKIP_RETURN_CODE 77
  ENVIRONMENT "${TERRACL_TEST_ENV}")
