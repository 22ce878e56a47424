# The timm backbone source beyond its ResNets (tests/parity.cmake holds those):
# ConvNeXt's ops against naive C, its fixtures' every feature, its names.
terracl_add_test(test_timm_convnext SOURCES test_timm_convnext.c backbone_check.c test_common.c LABELS "cl;model")
# Plain ViTs: every fixture feature, tags, out_indices forms, refusals.
terracl_add_test(test_timm_vit SOURCES test_timm_vit.c backbone_check.c test_common.c LABELS "cl;model")
# The "d" ResNets' average-pool shortcut.
terracl_add_test(test_ops_avgpool SOURCES test_ops_avgpool.c test_common.c LABELS cl)
# TerraTorch's torchgeo names (ssl4eol_*, ssl4eos12_*, seco_*, fmow_*, satlas_*):
# feature selection, refusals, ckpt_data by band and from a fine-tuned model.
terracl_add_test(test_torchgeo SOURCES test_torchgeo.c test_common.c LABELS "cl;model")
