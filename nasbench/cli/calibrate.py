"""``nasbench calibrate STUDY --out DIR``: run (or resume) a calibration study and print its table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nasbench.atomic import atomic_write_text
from nasbench.cli.args import positive_int


def add_commands(commands: Any) -> None:
    """Register the ``calibrate`` command."""
    cal = commands.add_parser(
        "calibrate", help="train a fixed stratified architecture sample under each config of a study file")
    cal.add_argument("study", type=Path, help="study file (JSON; see nasbench.calibration.study)")
    cal.add_argument("--out", type=Path, required=True, help="results folder (one JSON per config; resumable)")
    cal.add_argument("--only", nargs="+", default=None, metavar="CONFIG", help="run only these configs")
    cal.add_argument("--workers", type=positive_int, default=1, help="worker processes, one torch thread each")
    cal.add_argument("--report", action="store_true", help="do not train; print the table of what is there")


def run(args: argparse.Namespace) -> int:
    """Train what is missing, then print (and write OUT/README.md with) the study's table."""
    from nasbench.calibration.report import (
        describe_configs,
        markdown_table,
        plot_study,
        summarise,
    )
    from nasbench.calibration.sample import sample_from_table
    from nasbench.calibration.study import Study, run_config
    from nasbench.table import load_table

    study = Study.read(args.study)
    names = args.only or [c.name for c in study.configs]
    configs = [study.config(name) for name in names]
    sample = sample_from_table(load_table(study.reference, args.tables_dir), study.strata, study.sample_seed)
    if not args.report:
        for config in configs:
            run_config(study, config, sample.indices, args.out, workers=args.workers)
    rows = summarise(study, sample, args.out)
    text = (f"Calibration study {args.study}: {len(sample)} classes sampled from {sample.reference} "
            f"(stratified, sample seed {sample.seed}), seeds {list(study.seeds)}.\n\n"
            f"{markdown_table(rows)}\n\n{describe_configs(rows)}\n")
    plot = plot_study(rows, Path(args.out) / "study.png")
    if plot is not None:
        text += f"\n![resolution against cost]({plot.name})\n"
    print(text, end="")
    atomic_write_text(Path(args.out) / "README.md", text)
    return 0
