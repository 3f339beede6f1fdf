"""Stacked training: K NAS-Bench-201-style networks trained at once, each as if alone.

:class:`StackedNB201` holds K networks (any K cells, one macro skeleton) in one module whose
ops run once for all K; :func:`train_stacked` trains them together with the optimiser,
schedule, batching and evaluation of :func:`nasbench.training.train_architecture`, one
:class:`~nasbench.training.TrainRecord` per architecture.

Modules: :mod:`~nasbench.stacked.layers` (stacked convolutions, Conv-BN, exact NHWC average
pools), :mod:`~nasbench.stacked.network` (:class:`StackedNB201`, weights in and out),
:mod:`~nasbench.stacked.train` (:func:`train_stacked`).

How K networks live in one module. Activations are channels-last ``(B, H, W, K*C)``
tensors (1-D inputs as H=1); architecture k owns channels ``k*C .. (k+1)*C - 1``.

- Every convolution of the skeleton (stem, reduction blocks) is a grouped convolution with
  ``groups=K``; BatchNorm over ``K*C`` channels is per-architecture BatchNorm (statistics
  are per channel); the classifier is a ``(K, C, classes)`` weight applied with one
  batched matmul (``baddbmm``).
- On each cell edge, each op that some of the K cells use there gets ONE module serving
  exactly the architectures that use it: a ``nor_conv_*`` op is a grouped Conv-BN over
  only those architectures (their channels gathered with ``index_select`` after a ReLU
  shared per source node, the result added back with ``index_add``); ``skip_connect`` and
  ``avg_pool_3x3`` have no parameters, run on all channels and are added through a fixed
  0/1 channel mask when not every architecture uses them; ``none`` adds nothing. So the
  stacked module has no unused parameters: every parameter element belongs to exactly
  one architecture's network, and optimiser state never mixes architectures.
- Each architecture gets its OWN mini-batch: :meth:`StackedNB201.forward` takes
  ``(K, B, *input_shape)``; :meth:`StackedNB201.forward_shared` feeds one ``(B,
  *input_shape)`` batch to all K (evaluation). Outputs are ``(K, B, classes)``.

Equivalence with one-at-a-time training (tests/test_stacked.py):

- Initial weights: architecture k's are those of ``build_model(ops_k, macro)`` under the
  torch seed that ``train_architecture`` derives from seed k: the network is built that
  way and copied in (:meth:`StackedNB201.load_from_models`); :meth:`StackedNB201.export_model`
  copies architecture k back out into a plain network (both exact copies).
- Same function, same gradients, same updates: per architecture the same ops in the same
  order (a node sums its incoming edges in edge order; masked-out terms add exact zeros);
  the loss is the SUM over architectures of each one's mean cross-entropy over its own
  batch, so each architecture's gradient is its own; SGD (momentum, Nesterov, weight
  decay) and Adam are element-wise, so a step on the stacked tensors is a step of each
  network. Parameters that get NO gradient alone (dead edges, or everything before a cell
  whose output ignores its input: :func:`dead_parameters`) are skipped by the optimiser
  alone; here they are put back after each step. Batch order: architecture k's
  permutations come from the same generator and seed as ``train_architecture``'s.
  In float64 a 15-step SGD run agrees with the individual networks to ~1e-12.
- Not bit for bit in float32: the kernels differ (channels-last grouped convolutions and
  BatchNorm vs the builder's channels-first ones; the classifier as ``baddbmm``), so
  values agree to float rounding (~1e-6 in one forward). Over many SGD steps rounding
  differences grow as in any chaotic training run. Measured on digits (16 cells, final
  valid accuracy): with the calibrated 5-epoch one-stage config, stacked vs alone differ
  by 0.09 points on average (11 of 16 identical; two seeds differ by 4.4); with the
  10-epoch 3-stage default by 0.57 points, about as much as two seeds (0.64) there. For
  the same reason a result depends, at rounding level, on the architectures sharing its
  stack; a fixed stacking rule keeps runs deterministic.

Speed (tests/bench/test_bench_training.py: 32 random cells, one thread, 2-core VM): on
the default 3-stage 8-channel "tiny" skeleton, 1.15-1.2x the trainings per core-hour of
``train_architecture`` for K = 1..8 (K = 1 alone gives 1.15x: channels-last kernels and the
pooling's hand-written backward), 1.05-1.1x at K = 32; on the calibrated one-stage
16-channel skeletons (``training.CALIBRATED``) K = 1 is on par and stacking is SLOWER
(about 0.65x at K = 8, 0.5x at K = 32). At batch 64-128 these nets are not dominated by
Python overhead (about 30% of a step) but by convolution/BatchNorm kernels and by memory
traffic; a stack multiplies the activation working set by K (out of cache beyond a few
MB), and with random cells most edge ops serve only part of the stack (gathers, masks).
``epoch_seconds`` and ``eval_seconds`` of each record are the stack's wall times divided
by K (amortised: the K architectures ran interleaved, not one after another).
"""

from __future__ import annotations

from nasbench.stacked.network import (
    StackedCell,
    StackedNB201,
    StackedReduction,
    dead_parameters,
)
from nasbench.stacked.train import train_stacked

__all__ = ["StackedCell", "StackedNB201", "StackedReduction", "dead_parameters", "train_stacked"]
