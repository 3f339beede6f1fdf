"""The calibration study: which training config resolves a table's top at a fixed CPU budget.

``sample`` draws the fixed, stratified set of architectures; ``study`` trains it under each
config of a study file (resumably, in worker processes) and ``report`` prints the
resolution figures of :mod:`nasbench.resolution` per config. CLI: ``nasbench calibrate``.
"""
