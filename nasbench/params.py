"""Checks of hyperparameters (strategies, predictors): one-line errors naming the field."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

from nasbench.errors import InvalidParameterError


def positive_int(name: str, value: Any) -> int:
    """``value`` as an int >= 1, or an InvalidParameterError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidParameterError(f"{name}: must be a positive integer, got {value!r}")
    return int(value)


def number_at_least(name: str, value: Any, low: float, strict: bool = False) -> float:
    """``value`` as a finite float >= ``low`` (> with ``strict``), or a named error."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or (value <= low if strict else value < low):
        raise InvalidParameterError(f"{name}: expected a number {'>' if strict else '>='} {low:g}, got {value!r}")
    return float(value)


# -- hyperparameters given by name (``nasbench run --param NAME=VALUE``), checked up front ----------
_SIMPLE = {"int": int, "float": float, "bool": bool, "str": str, "None": type(None), "list": list,
           "tuple": tuple}
_WORDS = {int: "an integer", float: "a number", bool: "true or false", str: "a string", type(None): "null",
          list: "a list", tuple: "a list"}
_GOT = {int: "an integer", float: "a fraction", bool: "a boolean", str: "text", type(None): "null", list: "a list",
        dict: "an object"}


def _kinds(annotation: Any) -> list[Any] | None:
    """The accepted Python types (or ``("literal", value)``) of an annotation, in its order;
    ``None`` where it cannot be checked."""
    import types
    import typing

    if isinstance(annotation, str):  # unresolved (e.g. a name imported only for type checkers)
        parts = [part.strip() for part in annotation.split("|")]
        kinds = [_SIMPLE.get(part.split("[")[0]) for part in parts]
        return None if None in kinds else kinds
    if annotation is None or annotation is type(None):
        return [type(None)]
    if annotation in (int, float, bool, str):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        return [list]
    if origin is typing.Literal:
        return [("literal", value) for value in typing.get_args(annotation)]
    if origin is typing.Union or origin is types.UnionType:
        kinds: list[Any] = []
        for arg in typing.get_args(annotation):
            sub = _kinds(arg)
            if sub is None:
                return None
            kinds += [kind for kind in sub if kind not in kinds]
        return kinds
    return None


def _accepts(kinds: list[Any], value: Any) -> bool:
    """Whether a JSON-parsed ``value`` fits one of ``kinds`` (int is a float; a bool is no number)."""
    for kind in kinds:
        if isinstance(kind, tuple):
            if value == kind[1] and type(value) is type(kind[1]):
                return True
        elif kind is bool:
            if isinstance(value, bool):
                return True
        elif kind is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return True
        elif kind is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return True
        elif kind in (list, tuple):
            if isinstance(value, list):
                return True
        elif isinstance(value, kind):
            return True
    return False


def _describe(kinds: list[Any]) -> str:
    literals = [repr(kind[1]) for kind in kinds if isinstance(kind, tuple)]
    words = list(dict.fromkeys(_WORDS.get(kind, getattr(kind, "__name__", str(kind))) for kind in kinds
                               if not isinstance(kind, tuple)))
    return " or ".join(([f"one of {', '.join(literals)}"] if literals else []) + words)


def _resolved(func: Any, name: str, annotation: Any) -> Any:
    """``annotation`` of parameter ``name`` evaluated in ``func``'s module (it is text under
    ``from __future__ import annotations``); the text itself where it does not resolve."""
    import types
    import typing

    if not isinstance(annotation, str):
        return annotation
    holder = types.SimpleNamespace(__annotations__={name: annotation})
    try:
        return typing.get_type_hints(holder, globalns=getattr(func, "__globals__", {}))[name]
    except Exception:  # noqa: BLE001 - a name imported only for type checkers, a typo: keep the text
        return annotation


def check_keywords(func: Any, params: dict[str, Any], fixed: set[str], owner: str) -> None:
    """Check ``params`` against ``func``'s signature before it is called: every name must be a
    parameter (unless it takes ``**kwargs``), every required one given, and every value of the
    type its annotation (else its default) says. Raises InvalidParameterError in one line."""
    import inspect

    signature = inspect.signature(func)
    accepted = {name: p for name, p in signature.parameters.items()
                if name not in fixed and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY)}
    open_ended = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    for name, value in params.items():
        if name not in accepted:
            if open_ended:
                continue
            raise InvalidParameterError(
                f"param {name!r}: {owner} has no such hyperparameter (it takes: {', '.join(accepted) or 'none'})"
            )
        parameter = accepted[name]
        annotation = _resolved(func, name, parameter.annotation)
        if annotation is not inspect.Parameter.empty:
            kinds = _kinds(annotation)
            source = f"annotated {annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)}"
        elif parameter.default is not inspect.Parameter.empty and parameter.default is not None:
            kinds, source = _kinds(type(parameter.default)), f"default {parameter.default!r}"
        else:
            kinds, source = None, ""
        if kinds is not None and not _accepts(kinds, value):
            got = _GOT.get(type(value), type(value).__name__)
            shown = repr(value) if isinstance(value, str) else json.dumps(value, default=repr)
            raise InvalidParameterError(
                f"param {name}={shown}: {owner} expects {_describe(kinds)} ({source}), got {got}"
            )
    missing = [name for name, p in accepted.items() if p.default is inspect.Parameter.empty and name not in params]
    if missing:
        raise InvalidParameterError(
            f"param {missing[0]!r}: {owner} requires it (--param {missing[0]}=VALUE)"
        )
