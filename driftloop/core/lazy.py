"""Packages whose public names load from their modules on first use.

`import driftloop.models` then imports neither MLflow nor TensorFlow, and `import
driftloop.ingest` no pandas, until a name that needs them is used: `status` and `history`
import only what they read. A submodule named like the function it holds (`admit`,
`finetune`, `monitor`) is bound as that function, as when the package imported it eagerly.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


class LazyPackage(types.ModuleType):
    """A package module whose names (`_home`: name -> submodule) load on first use."""

    _home: dict[str, str]

    def __getattr__(self, name: str) -> Any:
        home = self.__dict__.get("_home", {})
        if name not in home:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{self.__name__}.{home[name]}"), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_home", {}).get(name) == name and isinstance(value, types.ModuleType):
            value = getattr(value, name)  # the import system binds a loaded submodule here
        super().__setattr__(name, value)


def make_lazy(package: str, home: dict[str, str]) -> None:
    """Make the loaded `package` load each name of `home` from its submodule on first use."""
    module = sys.modules[package]
    module.__class__ = LazyPackage
    module.__dict__["_home"] = dict(home)
