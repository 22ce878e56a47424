# Model factories built from model_args without a device (PrithviModelFactory
# against EncoderDecoderFactory); their numbers are checked by test_parity.
terracl_add_test(test_prithvi_factory SOURCES test_prithvi_factory.c test_common.c LABELS unit)
# The command shows it: listed after EncoderDecoderFactory (TerraTorch's
# registration order), and `info` names the arguments it renames.
add_test(NAME cli_prithvi_factory
  COMMAND sh -c "\"$0\" list factories | tr -d ' ' | grep -n Factory | grep -q '^2:terratorch_PrithviModelFactory$' && \
\"$0\" list factories | grep -q '^ *terratorch_EncoderDecoderFactory$' && \
\"$0\" info factory PrithviModelFactory | grep -q 'bands: required; becomes backbone_bands' && \
\"$0\" info factory terratorch_PrithviModelFactory | grep -q 'num_frames: 1; becomes backbone_num_frames'" $<TARGET_FILE:terracl_cli>)
set_tests_properties(cli_prithvi_factory PROPERTIES LABELS unit)
