"""Write a state dict in terracl's HDF5 checkpoint layout (DESIGN.md section 2.2).

Shared by tools/convert_checkpoint.py and tools/make_fixtures.py so that the
fixtures are written by exactly the code users run on their own checkpoints.

Layout: every tensor "a.b.c" becomes the dataset "/a/b/c" (each dot starts a
group), with the tensor's shape. float16/32/64 keep their dtype, integer
tensors stay integers, booleans become uint8. The root may carry a string
attribute "config" (variable-length UTF-8) holding the YAML config text.

Only numpy and h5py are needed here; callers turn framework tensors into
numpy arrays first.
"""

import os
import tempfile

import numpy as np

try:
    import h5py
except ImportError:  # reported when a writer is actually needed
    h5py = None


class CheckpointError(Exception):
    """A problem with the input that the user can fix; the message is one line."""


_KEPT_KINDS = "fiu"  # float, signed int, unsigned int


def _as_storable(key, array):
    """Return `array` as a native-endian numpy array that h5py can store."""
    a = np.asarray(array)
    if a.dtype == np.bool_:
        return a.astype(np.uint8)
    if a.dtype.kind not in _KEPT_KINDS:
        raise CheckpointError(
            "tensor '%s' has dtype %s, which is not a real number type" % (key, a.dtype))
    if a.dtype.kind == "f" and a.dtype.itemsize not in (2, 4, 8):
        raise CheckpointError(
            "tensor '%s' has unsupported float dtype %s" % (key, a.dtype))
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    # np.ascontiguousarray would turn 0-d tensors (num_batches_tracked) into 1-d
    return np.require(a, requirements="C")


def check_keys(keys):
    """Validate state-dict keys for the dotted -> group mapping.

    Rejects empty keys, empty components ("a..b", ".a", "a."), keys holding
    "/" (HDF5's own separator) and collisions where one key is both a tensor
    and the group prefix of another key ("a.b" and "a.b.c").
    """
    seen = set()
    for key in keys:
        if not isinstance(key, str):
            raise CheckpointError("state dict key %r is not a string" % (key,))
        if key in seen:
            raise CheckpointError("duplicate key '%s'" % key)
        seen.add(key)
        if key == "":
            raise CheckpointError("empty tensor name in the state dict")
        if "/" in key:
            raise CheckpointError("tensor name '%s' contains '/', which HDF5 reserves" % key)
        if any(part == "" for part in key.split(".")):
            raise CheckpointError("tensor name '%s' has an empty component" % key)
        if key in (".", ".."):
            raise CheckpointError("tensor name '%s' is not allowed" % key)
    prefixes = {}
    for key in seen:
        parts = key.split(".")
        for i in range(1, len(parts)):
            prefixes.setdefault(".".join(parts[:i]), key)
    for key in sorted(seen):
        if key in prefixes:
            raise CheckpointError(
                "key collision: '%s' is a tensor and also a group prefix of '%s'"
                % (key, prefixes[key]))


def _dataset_options(array, compress):
    """gzip + shuffle for non-trivial tensors when asked; contiguous otherwise."""
    if not compress or array.size < 256 or array.ndim == 0:
        return {}
    if array.nbytes <= 16 * 1024 * 1024:
        chunks = array.shape  # one chunk: best ratio, one decompression per read
    else:
        chunks = True
    return {"compression": "gzip", "compression_opts": 6, "shuffle": True, "chunks": chunks}


def _file_options(compress):
    # Compressed files use the HDF5 1.10 object formats (single-chunk index,
    # compact groups): a third smaller for many small tensors, and still
    # readable by HDF5 1.10 (Debian 12). Plain files keep the widest format.
    opts = {"track_order": True}
    if compress:
        opts["libver"] = ("v110", "v110")
    return opts


def _write_file(path, tensors, config_text, compress):
    with h5py.File(path, "w", **_file_options(compress)) as f:
        for key, array in tensors:
            f.create_dataset("/" + key.replace(".", "/"), data=array,
                             **_dataset_options(array, compress))
        if config_text is not None:
            f.attrs.create("config", config_text, dtype=h5py.string_dtype("utf-8"))


def write_state_dict(out_path, state, config_text=None, compress=False):
    """Write `state` (an ordered mapping name -> numpy array) to `out_path`.

    With `compress`, tensors are stored chunked with the shuffle and gzip
    filters (readers need nothing special: HDF5 decodes them).

    The file is written to a temporary name in the output folder and renamed
    into place, so `out_path` is never left partial or clobbered on failure.
    Raises CheckpointError for problems with the data or the destination.
    """
    if h5py is None:
        raise CheckpointError("h5py is not installed (pip install h5py, or apt install python3-h5py)")
    if config_text is not None and not isinstance(config_text, str):
        raise CheckpointError("config text must be a string")
    keys = list(state.keys())
    if not keys:
        raise CheckpointError("the state dict holds no tensors")
    check_keys(keys)
    tensors = [(k, _as_storable(k, state[k])) for k in keys]

    out_path = os.path.abspath(out_path)
    folder = os.path.dirname(out_path)
    if not os.path.isdir(folder):
        raise CheckpointError("output folder '%s' does not exist" % folder)
    if os.path.isdir(out_path):
        raise CheckpointError("output '%s' is a folder" % out_path)
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(out_path) + ".",
                                   suffix=".tmp", dir=folder)
    except OSError as e:
        raise CheckpointError("cannot create a file in '%s': %s" % (folder, e.strerror))
    os.close(fd)
    try:
        _write_file(tmp, tensors, config_text, compress)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise CheckpointError("cannot write '%s': %s" % (out_path, e))
        raise


def write_arrays(out_path, arrays, attrs=None, compress=False):
    """Write plain named datasets (input/expected files); names may hold '/'.

    Same temporary-file-and-rename discipline as write_state_dict.
    """
    if h5py is None:
        raise CheckpointError("h5py is not installed")
    out_path = os.path.abspath(out_path)
    folder = os.path.dirname(out_path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(out_path) + ".",
                               suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        with h5py.File(tmp, "w", **_file_options(compress)) as f:
            for name, array in arrays.items():
                a = _as_storable(name, array)
                f.create_dataset(name, data=a, **_dataset_options(a, compress))
            for name, value in (attrs or {}).items():
                if isinstance(value, str):
                    f.attrs.create(name, value, dtype=h5py.string_dtype("utf-8"))
                else:
                    f.attrs[name] = value
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_state_dict(path):
    """Read a terracl checkpoint back as {dotted key: numpy array} (for tests)."""
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name.replace("/", ".")] = obj[()]

    with h5py.File(path, "r") as f:
        f.visititems(visit)
        config = f.attrs.get("config")
    if isinstance(config, bytes):
        config = config.decode("utf-8")
    return out, config
