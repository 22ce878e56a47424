"""Import the real `terratorch` package when some of its dataset-only dependencies are absent.

`import terratorch` imports terratorch.datasets, which needs packages the model code
never uses (scikit-learn, torchgeo, pycocotools, lightly, joblib). Where terratorch
was installed with --no-deps, those may be missing. `import_terratorch()` lets such
imports resolve to inert placeholder modules (only for the names listed below, and
only when the real package cannot be found), then imports terratorch. Models,
registries, factories and tasks are TerraTorch's own code either way.
"""

import importlib.abc
import importlib.machinery
import sys
import types

DATASET_ONLY = ("sklearn", "torchgeo", "pycocotools", "lightly", "joblib")


class _Placeholder(type):
    """A class for any name taken from a placeholder module (usable as a base class)."""

    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _placeholder_class(name)


def _placeholder_class(name):
    return _Placeholder(name, (object,), {"__init__": lambda self, *a, **k: None})


class _PlaceholderModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = _placeholder_class(name)
        setattr(self, name, value)
        return value


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self):
        self.used = set()

    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] not in DATASET_ONLY:
            return None
        self.used.add(fullname.split(".")[0])
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        module = _PlaceholderModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def import_terratorch():
    """Import terratorch; returns the sorted list of placeholder packages used."""
    finder = _Finder()
    sys.meta_path.append(finder)  # last: real packages always win
    import terratorch  # noqa: F401
    import terratorch.models  # noqa: F401  (registers backbones, necks, decoders)
    return sorted(finder.used)
