# Scene prediction: the tiling module against TerraTorch's numbers (no
# device), and whole scenes through `terracl predict`'s library call against
# TerraTorch fixtures (tests/fixtures/scenes, tools/make_scene_fixtures.py).
terracl_add_test(test_tiling SOURCES test_tiling.c test_common.c LABELS unit)
terracl_add_test(test_predict SOURCES test_predict.c test_common.c LABELS model)
