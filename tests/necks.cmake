# Resize/pool/pad ops, necks and heads (parity fixtures: tools/gen_neck_head_fixtures.py).
terracl_add_test(test_ops_resize SOURCES test_ops_resize.c test_common.c LABELS cl)
terracl_add_test(test_necks SOURCES test_necks.c test_common.c LABELS "cl;model")
terracl_add_test(test_heads SOURCES test_heads.c test_necks.c test_common.c LABELS "cl;model")
target_compile_definitions(test_heads PRIVATE TC_PARITY_NO_MAIN)
