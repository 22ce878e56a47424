#!/usr/bin/env python3
"""Generate terracl's scene-prediction fixtures with the real TerraTorch package.

    python3 tools/make_scene_fixtures.py              # tests/fixtures/scenes/* + weights/sample scene
    python3 tools/make_scene_fixtures.py --out /tmp/x  # somewhere else

Everything numerical comes from TerraTorch 1.2.13's own code:
  * the model: EncoderDecoderFactory with random weights (fixed seeds, as
    tools/make_fixtures.py gives them);
  * the input: TerraTorch's generic pixel-wise dataset reads the scene
    (rioxarray, nodata -> NaN -> no_data_replace, band selection,
    constant_scale, optional expand_temporal_dimension), and its Normalize
    applies means/stds;
  * the tiling: terratorch.tasks.tiled_inference.tiled_inference with the
    config's tiled_inference_parameters, as the task's predict_step calls it;
  * the output file: terratorch.cli_tools.save_prediction (its source is run
    as is, because importing cli_tools pulls in the whole Lightning CLI).

Each folder holds config.yaml (a Lightning config: data.init_args and
model.init_args.tiled_inference_parameters), weights.h5, scene.tif (a
synthetic, georeferenced scene of odd size with a nodata region) and
expected.h5: "logits" (tiled_inference's output [1, C, H, W]), "pred"
(the prediction save_prediction writes, [H, W], -1 on nodata),
"geotransform" [6]; plus expected_pred.tif as TerraTorch writes it.
A second config, config_onepass.yaml, drops the tiling: expected.h5 holds
"logits_onepass", the model's output for the whole scene in one pass; with
"input" it also holds the normalised batch.

The multimodal fixture (tests/fixtures/scenes/mm) is a reduced TerraMind +
UNet model (built as tools/make_terramind_fixtures.py builds them) with two
scenes on one grid, s2.tif (S2L2A) and s1.tif (S1GRD): TerraTorch's
GenericMultimodalSegmentationDataset reads them with per-modality
dataset_bands / output_bands / constant_scale, MultimodalNormalize applies
the per-modality means/stds, tiled_inference takes the dict, and
save_prediction writes the prediction from the sample's first file, as
TerraTorch's prediction writer does.

A tiling fixture (tests/fixtures/scenes/tiling/tiling.h5) records, for odd sizes
and several parameter sets, TerraTorch's blend masks and the output of
tiled_inference with a position-dependent stand-in model.
"""

import argparse
import ast
import collections
import logging
import os
import sys
import tempfile
import warnings

import numpy as np
import yaml

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)


def import_terratorch():
    """Import TerraTorch (its dataset-only dependencies may be placeholders, see
    tools/terratorch_import.py) and the modules used here."""
    import terratorch_import
    terratorch_import.import_terratorch()
    import terratorch.datamodules.utils  # noqa: F401
    import terratorch.datasets.generic_pixel_wise_dataset  # noqa: F401
    import terratorch.tasks.tiled_inference  # noqa: F401


def terratorch_save_prediction():
    """terratorch.cli_tools.save_prediction and its helpers, from its source."""
    import importlib.util
    import rasterio
    path = os.path.join(list(sys.modules["terratorch"].__path__)[0], "cli_tools.py")
    tree = ast.parse(open(path).read())
    wanted = {"open_tiff", "is_one_band", "write_tiff", "save_prediction"}
    body = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in wanted]
    ns = {"np": np, "os": os, "rasterio": rasterio, "logger": logging.getLogger("terratorch")}
    exec(compile(ast.Module(body=body, type_ignores=[]), path, "exec"), ns)
    return ns["save_prediction"]


# ------------------------------------------------------------------ specs

BANDS7 = ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2", "CIRRUS"]
OUT6 = ["RED", "GREEN", "BLUE", "NIR_NARROW", "SWIR_1", "SWIR_2"]  # reordered subset
MEANS6 = [775.2, 1080.9, 1228.5, 2497.2, 2204.2, 1610.8]
STDS6 = [1281.5, 1270.0, 1399.5, 1368.3, 1291.7, 1154.5]

SPECS = collections.OrderedDict()

SPECS["seg"] = dict(
    seed=401, task="segmentation", size=(45, 61), frames=1, save_input=True,
    model_args=collections.OrderedDict([
        ("backbone", "prithvi_eo_tiny"), ("backbone_img_size", 32), ("backbone_patch_size", 8),
        ("backbone_num_frames", 1), ("backbone_embed_dim", 32), ("backbone_depth", 2),
        ("backbone_num_heads", 2), ("backbone_bands", OUT6),
        ("decoder", "FCNDecoder"), ("decoder_channels", 16), ("decoder_num_convs", 2),
        ("num_classes", 3)]),
    data=collections.OrderedDict([
        ("dataset_bands", BANDS7), ("output_bands", OUT6), ("constant_scale", 1.0),
        ("no_data_replace", 0), ("means", MEANS6), ("stds", STDS6)]),
    tiled=collections.OrderedDict([("crop", 32), ("stride", 16), ("delta", 4), ("batch_size", 5)]),
    note="segmentation: 7-band int16 scene, 6 bands selected in another order, nodata -9999 "
         "replaced by 0, HLS means/stds; tiled 32/16/4 (12 chips, batches of 5)")

SPECS["reg"] = dict(
    seed=402, task="regression", size=(39, 83), frames=1,
    model_args=collections.OrderedDict([
        ("backbone", "prithvi_eo_v2_300"), ("backbone_img_size", 32), ("backbone_patch_size", 8),
        ("backbone_num_frames", 1), ("backbone_embed_dim", 16), ("backbone_depth", 4),
        ("backbone_num_heads", 2), ("backbone_bands", OUT6),
        ("necks", [{"name": "SelectIndices", "indices": [0, 1, 2, 3]},
                   {"name": "ReshapeTokensToImage"},
                   {"name": "LearnedInterpolateToPyramidal"}]),
        ("decoder", "UNetDecoder"), ("decoder_channels", [16, 8, 8, 8])]),
    data=collections.OrderedDict([
        ("dataset_bands", BANDS7), ("output_bands", OUT6), ("constant_scale", 0.0001),
        ("no_data_replace", 0), ("means", [m / 10000 for m in MEANS6]),
        ("stds", [s / 10000 for s in STDS6])]),
    tiled=collections.OrderedDict([("h_crop", 32), ("w_crop", 48), ("h_stride", 20),
                                   ("w_stride", 32), ("delta", 3), ("batch_size", 4),
                                   ("average_patches", True)]),
    note="pixel-wise regression: constant_scale 1e-4 with reflectance means/stds, UNet decoder, "
         "rectangular crops 32x48 with strides 20/32")

SPECS["t2"] = dict(
    seed=403, task="segmentation", size=(37, 43), frames=2,
    model_args=collections.OrderedDict([
        ("backbone", "prithvi_eo_v2_300"), ("backbone_img_size", 32), ("backbone_patch_size", 8),
        ("backbone_num_frames", 2), ("backbone_embed_dim", 32), ("backbone_depth", 2),
        ("backbone_num_heads", 2), ("backbone_bands", OUT6),
        ("necks", [{"name": "SelectIndices", "indices": [0, 1]},
                   {"name": "ReshapeTokensToImage", "effective_time_dim": 2}]),
        ("decoder", "UperNetDecoder"), ("decoder_channels", 16), ("num_classes", 2)]),
    data=collections.OrderedDict([
        ("dataset_bands", BANDS7), ("output_bands", OUT6), ("constant_scale", 1.0),
        ("no_data_replace", 0), ("expand_temporal_dimension", True),
        ("means", MEANS6), ("stds", STDS6)]),
    tiled=collections.OrderedDict([("crop", 32), ("stride", 24), ("delta", 4), ("batch_size", 3),
                                   ("padding", "reflect")]),
    note="multi-temporal: 14 bands = 2 time steps x 7 (grouped by time), "
         "expand_temporal_dimension -> [C=6, T=2], UperNet")

# The README's sample scene: the segmentation fixture's model on a larger scene.
SAMPLE = dict(spec="seg", size=(97, 131), seed=499)


# ------------------------------------------------------------------ helpers

def write_scene(path, size, frames, seed, nodata=-9999):
    """A synthetic georeferenced int16 scene: smooth fields plus noise, one
    rectangular nodata region (all bands) and a few single-band nodata pixels."""
    import rasterio
    from rasterio.transform import from_origin
    rng = np.random.default_rng(seed)
    h, w = size
    n = len(BANDS7) * frames
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    data = np.empty((n, h, w), np.int16)
    for b in range(n):
        f = (np.sin(yy / (5 + b) + b) + np.cos(xx / (7 + 2 * b) - b)) * 800 + 1500 + 300 * b % 7
        f += rng.normal(0, 120, size=(h, w))
        data[b] = np.clip(np.round(f), 0, 10000).astype(np.int16)
    data[:, h // 3:h // 3 + 5, w // 2:w // 2 + 9] = nodata     # a hole in every band
    for k in range(4):                                           # holes in single bands
        data[(3 * k + 1) % n, rng.integers(0, h), rng.integers(0, w)] = nodata
    profile = dict(driver="GTiff", width=w, height=h, count=n, dtype="int16", nodata=nodata,
                   crs="EPSG:32633", transform=from_origin(499980.0, 4200000.0, 30.0, 30.0),
                   compress="deflate", predictor=2)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return data


def build_model(spec):
    import make_fixtures
    from terratorch.registry import MODEL_FACTORY_REGISTRY
    factory = MODEL_FACTORY_REGISTRY.build("EncoderDecoderFactory")
    model = factory.build_model(task=spec["task"], **dict(spec["model_args"]))
    make_fixtures.randomise(model, spec["seed"])
    model.eval()
    return model


def dataset_image(spec, scene_path):
    """The image TerraTorch's predict dataset yields for the scene."""
    from terratorch.datasets.generic_pixel_wise_dataset import (
        GenericNonGeoPixelwiseRegressionDataset, GenericNonGeoSegmentationDataset)
    d = spec["data"]
    # label_grep: the predict dataset also globs labels; point it at the scene.
    kw = dict(data_root=os.path.dirname(scene_path), image_grep=os.path.basename(scene_path),
              label_grep=os.path.basename(scene_path),
              dataset_bands=d["dataset_bands"], output_bands=d["output_bands"],
              constant_scale=d["constant_scale"], no_data_replace=d["no_data_replace"],
              expand_temporal_dimension=d.get("expand_temporal_dimension", False))
    if spec["task"] == "segmentation":
        ds = GenericNonGeoSegmentationDataset(num_classes=spec["model_args"]["num_classes"], **kw)
    else:
        ds = GenericNonGeoPixelwiseRegressionDataset(**kw)
    return ds[0]["image"]


def predict(spec, model, image, tiled):
    """Normalize + (tiled) forward + output selection, as the task's predict_step."""
    import torch
    from terratorch.datamodules.utils import Normalize
    from terratorch.tasks.tiled_inference import tiled_inference
    d = spec["data"]
    batch = Normalize(d["means"], d["stds"])({"image": image[None].float()})
    x = batch["image"]

    def model_forward(x, **kwargs):
        return model(x, **kwargs).output

    with torch.no_grad():
        if tiled:
            y = tiled_inference(model_forward, x, **dict(spec["tiled"]))
        else:
            y = model(x).output
    return y


def config_doc(spec, tiled):
    task_cls = {"segmentation": "SemanticSegmentationTask",
                "regression": "PixelwiseRegressionTask"}[spec["task"]]
    dm = {"segmentation": "GenericNonGeoSegmentationDataModule",
          "regression": "GenericNonGeoPixelwiseRegressionDataModule"}[spec["task"]]
    init = collections.OrderedDict([("batch_size", 1), ("num_workers", 0)])
    if spec["task"] == "segmentation":
        init["num_classes"] = spec["model_args"]["num_classes"]
    init["predict_data_root"] = "."
    init.update(spec["data"])
    minit = collections.OrderedDict([("model_factory", "EncoderDecoderFactory"),
                                     ("model_args", spec["model_args"])])
    if tiled:
        minit["tiled_inference_parameters"] = spec["tiled"]
    return collections.OrderedDict([
        ("seed_everything", spec["seed"]),
        ("trainer", collections.OrderedDict([("accelerator", "cpu")])),
        ("data", collections.OrderedDict([("class_path", "terratorch.datamodules." + dm),
                                          ("init_args", init)])),
        ("model", collections.OrderedDict([("class_path", "terratorch.tasks." + task_cls),
                                           ("init_args", minit)]))])


def dump_yaml(doc, header):
    def plain(v):
        if isinstance(v, dict):
            return {k: plain(w) for k, w in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(w) for w in v]
        return v

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(dict, lambda d, data: d.represent_mapping(
        "tag:yaml.org,2002:map", data.items(), flow_style=False))
    Dumper.add_representer(list, lambda d, data: d.represent_sequence(
        "tag:yaml.org,2002:seq", data,
        flow_style=not any(isinstance(v, (dict, list)) for v in data)))
    return header + yaml.dump(plain(doc), Dumper=Dumper, sort_keys=False, width=100)


def header(name, spec, vers):
    return ("# terracl scene fixture '%s', generated by tools/make_scene_fixtures.py "
            "(do not edit by hand).\n# %s.\n# RANDOM weights (seed %d): not a trained model.\n"
            "# Generated with %s.\n" % (name, spec["note"], spec["seed"],
                                        ", ".join("%s %s" % kv for kv in vers.items())))


def make_scene_fixture(name, spec, folder, vers, save_prediction, size=None, seed=None,
                       sample=False):
    import torch
    import make_fixtures
    from terracl_h5 import write_arrays, write_state_dict

    def write_weights(model, path, config_text=None):
        write_state_dict(path, make_fixtures.state_to_numpy(model), config_text=config_text,
                         compress=True)
    torch.manual_seed(spec["seed"])
    os.makedirs(folder, exist_ok=True)
    size = size or spec["size"]
    scene = os.path.join(folder, "scene.tif")
    raw = write_scene(scene, size, spec["frames"], seed or spec["seed"] + 1000)
    model = build_model(spec)
    image = dataset_image(spec, scene)
    logits = predict(spec, model, image, tiled=True)
    if spec["task"] == "segmentation":
        pred = logits.argmax(dim=1)       # output_on_inference "prediction"
    else:
        pred = logits                     # tiled: [1, 1, H, W]
    with tempfile.TemporaryDirectory() as tmp:
        save_prediction(pred[0], scene, tmp,
                        dtype="int16" if spec["task"] == "segmentation" else "float32")
        import rasterio
        written = os.path.join(tmp, os.path.splitext(os.path.basename(scene))[0] + "_pred.tif")
        with rasterio.open(written) as src:
            saved = src.read(1)
            gt = np.array(src.transform.to_gdal(), np.float64)
    if sample:
        text = dump_yaml(config_doc(spec, True), header(name, spec, vers)
                         + "# The README's sample scene model (config also stored in scene_model.h5).\n")
        with open(os.path.join(folder, "scene_model.yaml"), "w") as f:
            f.write(text)
        write_weights(model, os.path.join(folder, "scene_model.h5"), config_text=text)
        print("sample: scene %s, %d KB scene" % (size, os.path.getsize(scene) // 1024))
        return
    write_weights(model, os.path.join(folder, "weights.h5"))
    with open(os.path.join(folder, "config.yaml"), "w") as f:
        f.write(dump_yaml(config_doc(spec, True), header(name, spec, vers)))
    with open(os.path.join(folder, "config_onepass.yaml"), "w") as f:
        f.write(dump_yaml(config_doc(spec, False), header(name, spec, vers)
                          + "# The same model without tiled_inference_parameters: one pass.\n"))
    arrays = collections.OrderedDict([
        ("logits", logits.numpy().astype(np.float32)),
        ("pred", saved.astype(np.float32)),
        ("geotransform", gt),
    ])
    if spec.get("save_input"):
        # The normalised batch tiled_inference got, for `terracl run --tiled`.
        from terratorch.datamodules.utils import Normalize
        d = spec["data"]
        x = Normalize(d["means"], d["stds"])({"image": image[None].float()})["image"]
        arrays["input"] = x.numpy().astype(np.float32)
    # Without tiling parameters: one forward pass over the whole (odd-sized)
    # scene, which the model pads symmetrically and crops back itself.
    onepass = predict(spec, model, image, tiled=False)
    arrays["logits_onepass"] = onepass.numpy().astype(np.float32)
    write_arrays(os.path.join(folder, "expected.h5"), arrays, compress=True)
    print("%s: scene %s x %d bands, logits %s, %d nodata pixels, %d KB" % (
        name, size, raw.shape[0], tuple(logits.shape), int((saved == -1).sum()),
        sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)) // 1024))


# ------------------------------------------------------------------ multimodal

MM_S2_BANDS = ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1"]
MM = dict(
    seed=421, task="segmentation", size=(45, 39),
    model_args=collections.OrderedDict([
        ("backbone", "terramind_v1_tiny"), ("backbone_modalities", ["S2L2A", "S1GRD"]),
        ("backbone_bands", {"S2L2A": ["RED", "GREEN", "BLUE"]}),
        ("backbone_img_size", 32), ("backbone_dim", 8), ("backbone_encoder_depth", 4),
        ("backbone_num_heads", 2),
        ("necks", [{"name": "SelectIndices", "indices": [0, 1, 2, 3]},
                   {"name": "ReshapeTokensToImage", "remove_cls_token": False},
                   {"name": "LearnedInterpolateToPyramidal"}]),
        ("decoder", "UNetDecoder"), ("decoder_channels", [8, 8, 4, 4]), ("num_classes", 3)]),
    data=collections.OrderedDict([
        ("modalities", ["S2L2A", "S1GRD"]),
        ("dataset_bands", {"S2L2A": MM_S2_BANDS}),
        ("output_bands", {"S2L2A": ["RED", "GREEN", "BLUE"]}),
        ("constant_scale", {"S2L2A": 0.0001}),
        ("no_data_replace", 0),
        ("means", {"S2L2A": [0.1228, 0.1081, 0.0775], "S1GRD": [-12.5, -20.1]}),
        ("stds", {"S2L2A": [0.1399, 0.1270, 0.1281], "S1GRD": [4.2, 5.3]})]),
    tiled=collections.OrderedDict([("crop", 32), ("stride", 24), ("delta", 4),
                                   ("batch_size", 4)]),
    note="multimodal: TerraMind tiny layout (dim 8, depth 4) + UNet, S2L2A from a 5-band int16 "
         "scene (3 bands selected, reordered, constant_scale 1e-4) and S1GRD from a 2-band float32 "
         "scene, each with nodata holes, per-modality means/stds; tiled 32/24/4")


def write_mm_scenes(folder, size, seed):
    """s2.tif: 5-band int16 (nodata -9999, a hole in every band); s1.tif:
    2-band float32 dB values (nodata -32768, a hole elsewhere), same grid."""
    import rasterio
    from rasterio.transform import from_origin
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    s2 = np.empty((len(MM_S2_BANDS), h, w), np.int16)
    for b in range(s2.shape[0]):
        f = (np.sin(yy / (4 + b) + b) + np.cos(xx / (6 + b) - b)) * 700 + 1400 + 150 * b
        s2[b] = np.clip(np.round(f + rng.normal(0, 100, size=(h, w))), 0, 10000)
    s2[:, 5:9, 20:27] = -9999
    s2[3, 30, 11] = -9999                      # one band: the whole pixel is nodata
    s1 = np.empty((2, h, w), np.float32)
    for b in range(2):
        f = np.sin(yy / 6 - b) * 4 + np.cos(xx / 9 + b) * 3 - 12 - 7 * b
        s1[b] = np.round(f + rng.normal(0, 1, size=(h, w)), 2)
    s1[:, 33:37, 3:8] = -32768                 # not the output's nodata (first file's only)
    grid = dict(driver="GTiff", width=w, height=h, crs="EPSG:32631",
                transform=from_origin(600000.0, 5300000.0, 10.0, 10.0), compress="deflate")
    with rasterio.open(os.path.join(folder, "s2.tif"), "w", count=5, dtype="int16", nodata=-9999,
                       predictor=2, **grid) as dst:
        dst.write(s2)
    with rasterio.open(os.path.join(folder, "s1.tif"), "w", count=2, dtype="float32",
                       nodata=-32768, **grid) as dst:
        dst.write(s1)
    # Off-grid variants for the refusals (shifted by one pixel, one column
    # less); their values do not matter.
    s1 = np.zeros_like(s1)
    shifted = dict(grid, transform=from_origin(600010.0, 5300000.0, 10.0, 10.0))
    with rasterio.open(os.path.join(folder, "s1_shifted.tif"), "w", count=2, dtype="float32",
                       nodata=-32768, **shifted) as dst:
        dst.write(s1)
    narrow = dict(grid, width=w - 1)
    with rasterio.open(os.path.join(folder, "s1_narrow.tif"), "w", count=2, dtype="float32",
                       nodata=-32768, **narrow) as dst:
        dst.write(s1[:, :, :-1])


def make_mm_scene_fixture(folder, vers, save_prediction):
    import torch
    import make_fixtures
    import make_terramind_fixtures  # noqa: F401  (its imports set up TerraMind's sizes)
    from terracl_h5 import write_arrays, write_state_dict
    from terratorch.datamodules.generic_multimodal_data_module import MultimodalNormalize
    from terratorch.datasets.generic_multimodal_dataset import GenericMultimodalSegmentationDataset
    from terratorch.tasks.tiled_inference import tiled_inference
    import rasterio
    spec = MM
    make_fixtures.terramind_sizes()
    torch.manual_seed(spec["seed"])
    os.makedirs(folder, exist_ok=True)
    write_mm_scenes(folder, spec["size"], spec["seed"] + 1000)
    model = make_fixtures.build_model(spec["task"], spec["model_args"])
    make_fixtures.randomise(model, spec["seed"])
    model.eval()
    d = spec["data"]
    files = {"S2L2A": os.path.join(folder, "s2.tif"), "S1GRD": os.path.join(folder, "s1.tif")}
    with tempfile.TemporaryDirectory() as tmp:
        # One folder per modality holding the sample's file under one name.
        roots = {}
        for m, f in files.items():
            roots[m] = os.path.join(tmp, m)
            os.makedirs(roots[m])
            os.symlink(f, os.path.join(roots[m], "sample.tif"))
        ds = GenericMultimodalSegmentationDataset(
            data_root=roots, label_data_root=None, num_classes=3,
            image_grep={m: "*.tif" for m in roots}, dataset_bands=d["dataset_bands"],
            output_bands=d["output_bands"], constant_scale=d["constant_scale"],
            no_data_replace=d["no_data_replace"], image_modalities=d["modalities"])
        sample = ds[0]
    image = collections.OrderedDict((m, sample["image"][m][None].float()) for m in d["modalities"])
    batch = MultimodalNormalize(d["means"], d["stds"])({"image": image})
    x = batch["image"]
    with torch.no_grad():
        logits = tiled_inference(lambda t, **kw: model(t, **kw).output, dict(x), **spec["tiled"])
    pred = logits.argmax(dim=1)
    with tempfile.TemporaryDirectory() as tmp:
        # The prediction writer takes the first modality's file of the sample.
        save_prediction(pred[0], files[d["modalities"][0]], tmp, dtype="int16")
        with rasterio.open(os.path.join(tmp, "s2_pred.tif")) as src:
            saved = src.read(1)
            gt = np.array(src.transform.to_gdal(), np.float64)
    write_state_dict(os.path.join(folder, "weights.h5"), make_fixtures.state_to_numpy(model),
                     compress=True)
    doc = config_doc(spec, True)
    doc["data"]["class_path"] = "terratorch.datamodules.GenericMultiModalDataModule"
    with open(os.path.join(folder, "config.yaml"), "w") as f:
        f.write(dump_yaml(doc, header("mm", spec, vers)))
    write_arrays(os.path.join(folder, "expected.h5"), collections.OrderedDict([
        ("logits", logits.numpy().astype(np.float32)), ("pred", saved.astype(np.float32)),
        ("geotransform", gt)]), compress=True)
    print("mm: scenes %s, logits %s, %d nodata pixels, %d KB" % (
        spec["size"], tuple(logits.shape), int((saved == -1).sum()),
        sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)) // 1024))


# ------------------------------------------------------------------ tiling

TILING_CASES = [
    # name, H, W, params
    ("defaults_odd", 35, 53, dict(crop=16, stride=12, delta=2, batch_size=7)),
    ("no_padding", 37, 53, dict(crop=16, stride=12, delta=2, padding=False, batch_size=4)),
    ("no_blend", 29, 43, dict(crop=12, stride=8, delta=2, blend_overlaps=False)),
    # range(0, H - crop - 1, stride) can stop two rows short: TerraTorch fails.
    ("gap_error", 37, 53, dict(crop=16, stride=12, delta=2)),
    ("overwrite", 29, 41, dict(crop=12, stride=8, delta=1, average_patches=False)),
    ("overwrite_nopad", 31, 23, dict(h_crop=12, w_crop=10, h_stride=9, w_stride=6, delta=1,
                                     padding=False, average_patches=False)),
    ("rect_delta_reduced", 33, 47, dict(h_crop=14, w_crop=18, h_stride=10, w_stride=12, delta=5)),
    ("replicate", 25, 27, dict(crop=10, stride=7, delta=1, padding="replicate")),
    ("one_pass", 12, 15, dict(crop=16, stride=12, delta=2)),
]


def stand_in_model(x):
    """A position-dependent chip model: blending and chip placement change its
    tiled output. Channel 0 = x0 + row/10, 1 = x1 * col/7, 2 = x0 - x1."""
    import torch
    b, c, h, w = x.shape
    rows = torch.arange(h, dtype=torch.float32).view(1, h, 1)
    cols = torch.arange(w, dtype=torch.float32).view(1, 1, w)
    return torch.stack([x[:, 0] + rows / 10, x[:, 1] * cols / 7, x[:, 0] - x[:, 1]], dim=1)


def make_tiling_fixture(folder):
    import torch
    import make_fixtures
    from terracl_h5 import write_arrays
    from terratorch.tasks.tiled_inference import get_blend_mask, tiled_inference
    os.makedirs(folder, exist_ok=True)
    arrays = collections.OrderedDict()
    g = torch.Generator().manual_seed(77)
    lines = []
    for name, h, w, p in TILING_CASES:
        x = torch.randn((1, 2, h, w), generator=g)
        make_fixtures.round_mantissa(x, 6)  # small file; still arbitrary values
        arrays[name + "/input"] = x.numpy()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y = tiled_inference(stand_in_model, x, **p)
            arrays[name + "/output"] = y.numpy()
        except RuntimeError as e:  # "Some pixels did not receive a classification!"
            arrays[name + "/error"] = np.ones(1, np.float32)
            print("tiling: %s fails in TerraTorch as expected: %s" % (name, e))
        lines.append("%s %d %d %s" % (name, h, w, " ".join("%s=%s" % kv for kv in p.items())))
    for hc, hs, wc, ws, d in [(16, 12, 16, 12, 2), (14, 10, 18, 12, 2), (12, 8, 12, 8, 0),
                              (40, 32, 40, 32, 4), (21, 13, 9, 9, 0)]:
        arrays["mask/%d_%d_%d_%d_%d" % (hc, hs, wc, ws, d)] = get_blend_mask(hc, hs, wc, ws, d).numpy()
    write_arrays(os.path.join(folder, "tiling.h5"), arrays, compress=True)
    with open(os.path.join(folder, "cases.txt"), "w") as f:
        f.write("# name H W tiled_inference parameters (generated by tools/make_scene_fixtures.py)\n")
        f.write("\n".join(lines) + "\n")
    print("tiling: %d cases" % len(TILING_CASES))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "scenes"))
    ap.add_argument("--sample-out", default=os.path.join(ROOT, "weights", "sample"))
    ap.add_argument("--only", choices=["tiling", *SPECS, "sample", "mm"], action="append",
                    help="make only these fixtures (repeatable; default: all)")
    args = ap.parse_args(argv)
    want = set(args.only or ["tiling", *SPECS, "sample", "mm"])
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    import_terratorch()
    import torch
    import make_fixtures
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    vers = make_fixtures.versions()
    vers["rasterio"] = __import__("rasterio").__version__
    save_prediction = terratorch_save_prediction()
    if "tiling" in want:
        make_tiling_fixture(os.path.join(args.out, "tiling"))
    for name, spec in SPECS.items():
        if name in want:
            make_scene_fixture(name, spec, os.path.join(args.out, name), vers, save_prediction)
    if "sample" in want:
        spec = dict(SPECS[SAMPLE["spec"]])
        make_scene_fixture("sample", spec, args.sample_out, vers, save_prediction,
                           size=SAMPLE["size"], seed=SAMPLE["seed"], sample=True)
    if "mm" in want:
        make_mm_scene_fixture(os.path.join(args.out, "mm"), vers, save_prediction)
    return 0


if __name__ == "__main__":
    sys.exit(main())
