"""The registry of learned accuracy predictors: each name builds an unfitted, scikit-learn
style estimator (``fit(X, y)`` returns self, ``predict(X)``; hyperparameters in
``__init__``; learned attributes end in ``_``) from a seed and keyword hyperparameters.

Entries are declared here with the facts a caller needs before building one: the encoding
it expects by default, whether it predicts a spread (``predict(X, return_std=True)``),
whether it reads learning curves, and whether it imports torch. Builders import their
library only when called, so listing predictors imports neither xgboost nor torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nasbench.errors import InvalidParameterError, NasbenchError
from nasbench.registry import Registry

if TYPE_CHECKING:
    from nasbench.spaces import SearchSpace

#: (space, random_state, **hyperparameters) -> an unfitted estimator
Builder = Callable[..., Any]


@dataclass(frozen=True)
class PredictorSpec:
    """A registered predictor and what a caller must know before building one."""

    name: str
    build: Builder
    summary: str  # one line: the model
    reference: str = ""  # paper (and the setting its defaults follow)
    encoding: str = "onehot"  # the encoding it is fitted on by default
    std: bool = False  # predict(X, return_std=True) gives a spread
    curve: bool = False  # reads the first epochs of the learning curve (see predictors.features)
    torch: bool = False  # imports torch when fitted
    requires: str = ""  # the module it imports ("xgboost"), for a clear error when missing
    #: per metric (kendall, spearman, r2, p@10%, p@1%), how far a re-fit may differ from a
    #: recorded one when ``leaderboard verify`` re-runs it: float kernels differ in their last
    #: bits across CPU models; unlisted metrics must agree to VERIFY_ATOL
    verify_tolerance: Mapping[str, float] = field(default_factory=dict)


VERIFY_ATOL = 1e-9  # float64 BLAS/LAPACK across CPU models: GP's R2 moved by 3e-12, its ranks not at all


PREDICTORS: Registry[PredictorSpec] = Registry("predictor")


def register(spec: PredictorSpec) -> PredictorSpec:
    """Add ``spec`` to :data:`PREDICTORS` (its name must be new)."""
    PREDICTORS.add(spec.name, spec)
    return spec


def make_predictor(name: str, space: SearchSpace | None = None, random_state: Any = None, **params: Any) -> Any:
    """An unfitted predictor ``name`` seeded by ``random_state``, with ``params`` set.

    ``space`` supplies what an estimator needs to read its encoding (the graph shape for
    GIN). An unknown hyperparameter is an InvalidParameterError naming it.
    """
    spec = PREDICTORS.get(name)
    if spec.requires:
        require(spec.requires, f"the {name!r} predictor")
    estimator = spec.build(space=space, random_state=random_state)
    known = estimator.get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise InvalidParameterError(f"predictor {name!r}: unknown hyperparameter {unknown[0]!r} "
                                    f"(known: {', '.join(sorted(known))})")
    return estimator.set_params(**params) if params else estimator


def require(module: str, what: str) -> None:
    """Raise a one-line error saying how to install ``module`` if it does not import."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        hint = INSTALL_HINTS.get(module, f"pip install {module}")
        raise NasbenchError(f"{what} needs {module}, which is not installed: {hint}")


INSTALL_HINTS = {
    "xgboost": "pip install 'nasbench[xgb]' (the CPU-only xgboost-cpu wheel; with CUDA: pip install xgboost)",
    "torch": "pip install 'nasbench[train]'",
}


def load_predictors() -> None:
    """Import the modules that register the built-in predictors (cheap: no heavy imports)."""
    import predictors.catalog  # noqa: F401  (registers on import)
