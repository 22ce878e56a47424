# The Python tools: the checkpoint converter (needs numpy, h5py; its PyTorch
# cases need torch, which Debian's python3-torch provides) and the fixture
# generator (rebuilds fixtures with terratorch when it is installed; skips
# otherwise). TERRACL_PYTHON is chosen in tests/CMakeLists.txt.
if(TERRACL_PYTHON)
  add_test(NAME python_convert_checkpoint
           COMMAND ${TERRACL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/python/test_convert_checkpoint.py)
  add_test(NAME python_fixtures
           COMMAND ${TERRACL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/python/test_fixtures.py)
  set_tests_properties(python_convert_checkpoint python_fixtures PROPERTIES LABELS python)
endif()
# LoRA / PEFT checkpoints: the merge on its own (numpy only), then the
# TerraTorch + peft fixture converted and run by terracl (needs torch).
if(TERRACL_PYTHON)
  add_test(NAME python_peft_merge
           COMMAND ${TERRACL_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/python/test_peft_merge.py)
  set_tests_properties(python_peft_merge PROPERTIES LABELS python)
  add_test(NAME lora_checkpoint
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/lora_checkpoint.sh $<TARGET_FILE:terracl_cli>
                   ${CMAKE_CURRENT_SOURCE_DIR}/fixtures ${PROJECT_SOURCE_DIR}/tools ${TERRACL_PYTHON})
  set_tests_properties(lora_checkpoint PROPERTIES LABELS model SKIP_RETURN_CODE 77
    ENVIRONMENT "${TERRACL_TEST_ENV}")
endif()
