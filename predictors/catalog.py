"""The built-in predictors, registered by name with their defaults and references.

Where a maintained library has the model (scikit-learn, xgboost) it is used as it is, with
defaults chosen on nb201-digits and nb201-mnist1d (``nasbench predictors evaluate``); the
others are this package's own estimators. Every builder imports its library only when
called, and single-threads it (``n_jobs=1``): the evaluation parallelises over fits.
"""

from __future__ import annotations

from typing import Any

from predictors.registry import PredictorSpec, register
from predictors.seeding import int_seed

XGB_DEFAULTS = dict(n_estimators=400, learning_rate=0.05, max_depth=6, min_child_weight=1.0,
                    subsample=0.8, colsample_bytree=0.8, tree_method="hist", n_jobs=1)


def _xgb(space: Any = None, random_state: Any = None) -> Any:
    from xgboost import XGBRegressor

    return XGBRegressor(**XGB_DEFAULTS, random_state=int_seed(random_state))


def _random_forest(space: Any = None, random_state: Any = None) -> Any:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=300, max_features=0.5, min_samples_leaf=1, n_jobs=1,
                                 random_state=int_seed(random_state))


def _gaussian_process(space: Any = None, random_state: Any = None) -> Any:
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    kernel = ConstantKernel(1.0, (1e-2, 1e2)) * RBF(3.0, (1e-1, 1e3)) + WhiteKernel(0.1, (1e-6, 1e1))
    return GaussianProcessRegressor(kernel=kernel, normalize_y=True, n_restarts_optimizer=0,
                                    random_state=int_seed(random_state))


def _mlp(space: Any = None, random_state: Any = None) -> Any:
    from predictors.ensemble import MLPEnsemble

    return MLPEnsemble(n_models=1, hidden_layer_sizes=(64,) * 3, learning_rate_init=0.01, max_iter=300,
                       alpha=1e-3, random_state=int_seed(random_state))


def _mlp_ensemble(space: Any = None, random_state: Any = None) -> Any:
    from predictors.ensemble import MLPEnsemble

    return MLPEnsemble(n_models=5, hidden_layer_sizes=(20,) * 10, learning_rate_init=0.01, max_iter=200,
                       random_state=int_seed(random_state))


def _bagged_xgb(space: Any = None, random_state: Any = None) -> Any:
    from xgboost import XGBRegressor

    from predictors.bagging import BaggedEnsemble

    member = XGBRegressor(**{**XGB_DEFAULTS, "n_estimators": 200})
    return BaggedEnsemble(estimator=member, n_estimators=5, bootstrap=True, n_jobs=1,
                          random_state=int_seed(random_state))


def _gin(space: Any = None, random_state: Any = None) -> Any:
    from predictors.gin import GINPredictor

    shape = getattr(space, "graph_shape", None)
    if space is not None and shape is None:
        from nasbench.errors import NasbenchError

        raise NasbenchError(f"the 'gin' predictor needs a graph encoding, and space {space.name!r} has none")
    n_nodes, n_types = shape if shape else (None, None)
    return GINPredictor(n_nodes=n_nodes, n_types=n_types, random_state=int_seed(random_state))


def _learning_curve_svr(space: Any = None, random_state: Any = None) -> Any:
    from predictors.learning_curve import LearningCurveSVR

    return LearningCurveSVR()  # deterministic: nothing to seed


register(PredictorSpec(
    "xgb", _xgb, "gradient-boosted trees (XGBoost)", requires="xgboost",
    reference="Chen & Guestrin 2016; as a NAS predictor: White et al. 2021, NAS-Bench-Suite-Zero 2022"))
register(PredictorSpec(
    "rf", _random_forest, "random forest (scikit-learn)",
    reference="Breiman 2001; as a NAS predictor: White et al. 2021 (How powerful are performance predictors)"))
register(PredictorSpec(
    "gp", _gaussian_process, "Gaussian process, RBF kernel + noise, marginal-likelihood fit (scikit-learn)",
    std=True, reference="Rasmussen & Williams 2006; as a NAS predictor: White et al. 2021"))
register(PredictorSpec(
    "mlp", _mlp, "one feed-forward network on standardised targets (scikit-learn MLPRegressor)",
    reference="as a NAS predictor: White et al. 2021 (NASLib's MLP)"))
register(PredictorSpec(
    "mlp-ensemble", _mlp_ensemble, "5 feed-forward networks differing by seed: mean and spread (BANANAS')",
    encoding="path", std=True, reference="White, Neiswanger & Savani 2021 (BANANAS)"))
register(PredictorSpec(
    "bagged-xgb", _bagged_xgb, "5 XGBoost models on bootstrap resamples: mean and spread", std=True,
    requires="xgboost", reference="Breiman 1996 (bagging) around XGBoost"))
register(PredictorSpec(
    "gin", _gin, "graph isomorphism network on the architecture DAG (plain torch)", encoding="graph",
    torch=True, requires="torch",
    reference="Xu et al. 2019 (GIN); as a NAS predictor/surrogate: Siems et al. 2020 (NAS-Bench-301)",
    # float32 training: re-fitted on another CPU model, measured up to 0.0045 Kendall, 0.009 R2,
    # one cell of P@1% (at 25 and 100 training cells; none at 400 and 1,600); twice that allowed
    verify_tolerance={"kendall": 0.01, "spearman": 0.01, "r2": 0.02, "p@10%": 0.04, "p@1%": 0.2}))
register(PredictorSpec(
    "lcsvr", _learning_curve_svr, "nu-SVR on the first 25% of the learning curve + the architecture",
    curve=True, reference="Baker, Gupta, Raskar & Naik 2018 (learning-curve extrapolation)"))
