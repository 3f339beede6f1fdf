"""Strategy registry: ``@register("name")`` on a Strategy subclass; look-ups by name or by
``path/to/file.py:ClassName`` for user strategies kept outside the package."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

from nasbench.errors import StrategyError, UnknownNameError
from nasbench.registry import Registry
from nasbench.tracebacks import load_failure

STRATEGIES: Registry[type] = Registry("strategy")
USER_MODULE_PREFIX = "nasbench_user_strategy_"  # module name of a strategy file loaded by path


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

    if ":" not in spec and (spec.endswith(".py") or Path(spec).is_file()) and spec not in STRATEGIES:
        raise UnknownNameError(_name_the_class(spec))
    if ":" not in spec or spec in STRATEGIES:
        return STRATEGIES.get(spec)
    path_text, _, class_name = spec.rpartition(":")
    path = Path(path_text)
    if not path.is_file():
        raise UnknownNameError(f"strategy file {path_text!r} does not exist")
    module = load_strategy_file(path)
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        found = ", ".join(strategy_classes(module)) or "none"
        raise UnknownNameError(
            f"strategy {class_name!r}: {path_text} has no Strategy subclass of that name (it defines: {found})"
        )
    if "name" not in vars(cls):  # its own name, not the one of a registered strategy it extends
        cls.name = class_name
    return cls


def load_strategy_file(path: Path) -> ModuleType:
    """Import a user's strategy file; a fault in it is one line naming ``file:line``."""
    module_name = f"{USER_MODULE_PREFIX}{path.stem}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise StrategyError(f"strategy file {str(path)!r}: not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except KeyboardInterrupt:
        del sys.modules[module_name]
        raise
    except BaseException as exc:  # the user's code: a syntax error, a missing import, a bug, sys.exit()
        del sys.modules[module_name]
        raise StrategyError(load_failure(exc, str(path))) from exc
    return module


def strategy_classes(module: ModuleType) -> list[str]:
    """Names of the concrete Strategy subclasses defined in ``module`` (not imported into it)."""
    from strategies.base import Strategy

    return [
        name for name, obj in vars(module).items()
        if isinstance(obj, type) and issubclass(obj, Strategy) and obj.__module__ == module.__name__
        and not inspect.isabstract(obj)
    ]


def _name_the_class(spec: str) -> str:
    """The error for ``nasbench run file.py`` without ``:ClassName``: how to name the class."""
    path = Path(spec)
    if not path.is_file():
        return (f"strategy {spec!r}: no such file; give a registered name ({', '.join(STRATEGIES.names())}) "
                f"or path/to/file.py:ClassName")
    try:
        found = strategy_classes(load_strategy_file(path))
    except StrategyError:
        found = None  # it does not import: the user learns that when naming a class
    if found:
        listing = f" (Strategy subclasses in it: {', '.join(found)})"
    elif found is not None:
        listing = " (it defines no Strategy subclass)"
    else:
        listing = ""
    example = found[0] if found else "ClassName"
    return f"strategy {spec!r}: name the class as {spec}:{example}{listing}"
