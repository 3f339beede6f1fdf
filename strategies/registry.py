"""Strategy registry: ``@register("name")`` on a Strategy subclass; look-ups by name or by
``path/to/file.py:ClassName`` for user strategies kept outside the package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from nasbench.errors import UnknownNameError
from nasbench.registry import Registry

STRATEGIES: Registry[type] = Registry("strategy")


def register(name: str):
    """Class decorator: register a strategy under ``name`` and set its ``name``."""

    def decorate(cls: type) -> type:
        cls.name = name
        STRATEGIES.add(name, cls)
        return cls

    return decorate


def get_strategy(spec: str) -> type:
    """A strategy class by registered name, or from ``path/to/file.py:ClassName``."""
    from strategies.base import Strategy

    if ":" not in spec or spec in STRATEGIES:
        return STRATEGIES.get(spec)
    path_text, _, class_name = spec.rpartition(":")
    path = Path(path_text)
    if not path.is_file():
        raise UnknownNameError(f"strategy file {path_text!r} does not exist")
    module_name = f"nasbench_user_strategy_{path.stem}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    module_spec.loader.exec_module(module)
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise UnknownNameError(f"strategy {class_name!r}: {path_text} has no Strategy subclass of that name")
    if not cls.name:
        cls.name = class_name
    return cls
