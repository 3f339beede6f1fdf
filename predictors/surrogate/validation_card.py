"""The surrogate's quality card (QUALITY.md): what NAS-Bench-301 reported for its surrogate,
measured for this one, with the numbers that say how far to trust it."""

from __future__ import annotations

from typing import Any

TAU_GOAL = 0.8  # the goal for the strategy-ranking Kendall tau


def _scores(m: dict[str, Any] | None) -> str:
    if not m:
        return "- | - | -"
    return f"{m['r2']:.3f} | {m['kendall_tau']:.3f} | {m['sparse_kendall_tau']:.3f}"


def _coverage(noise: dict[str, Any] | None) -> str:
    if not noise or noise.get("noise_coverage_50") is None:
        return "-"
    return f"{noise['noise_coverage_50']:.0%} / {noise['noise_coverage_90']:.0%}"


def fraction_lines(quality: dict[str, Any]) -> list[str]:
    lines = ["| sampler | fraction | cells | valid R2 | valid tau | valid sparse tau | test R2 | test tau "
             "| test sparse tau | noise 50% / 90% coverage |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in quality["fractions"]:
        if "skipped" in row:
            lines.append(f"| {row['sampler']} | {row['fraction']:g} | - | skipped: {row['skipped']} ||||||")
            continue
        h = row["held_out"]
        lines.append(f"| {row['sampler']} | {row['fraction']:g} | {row['train']:,} | {_scores(h['final_valid_acc'])} "
                     f"| {_scores(h['test_acc'])} | {_coverage(h.get('noise'))} |")
    return lines


def loso_lines(quality: dict[str, Any]) -> list[str]:
    lines = ["| left out | fitted on | tested on | valid R2 | valid tau | valid sparse tau | test R2 | test tau "
             "| test sparse tau |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in quality["leave_one_strategy_out"]:
        if "skipped" in row:
            lines.append(f"| {row['strategy']} | skipped: {row['skipped']} |||||||")
        else:
            lines.append(f"| {row['strategy']} | {row['train']:,} | {row['test']:,} | {_scores(row['final_valid_acc'])} "
                         f"| {_scores(row['test_acc'])} |")
    return lines


def run_lines(quality: dict[str, Any]) -> list[str]:
    lines = ["| run | strategy | seeds | table: regret [95% CI] | surrogate: regret [95% CI] |",
             "|---|---|---:|---|---|"]
    for row in quality["runs"]:
        t, s = row["table"], row["surrogate"]
        lines.append(f"| {row['label']} | {row['strategy']} | {row['seeds']} | {t['mean']:.2f} [{t['low']:.2f}, "
                     f"{t['high']:.2f}] | {s['mean']:.2f} [{s['low']:.2f}, {s['high']:.2f}] |")
    return lines


def ranking_lines(quality: dict[str, Any]) -> list[str]:
    r = quality.get("ranking")
    if not r:
        return ["Fewer than 3 unconstrained regret runs were given: no ranking to compare."]
    verdict = "meets" if r["kendall_tau"] >= TAU_GOAL else "misses"
    low, high = r["kendall_tau_ci"]
    lines = [f"Kendall tau between the rankings of mean regret after {r['at']} queries (unconstrained runs scored "
             f"by regret): **{r['kendall_tau']:.2f}** (seed-bootstrap 95% interval [{low:.2f}, {high:.2f}], "
             f"{r['bootstrap']} resamples); it {verdict} the goal of {TAU_GOAL}.",
             "",
             f"Of the {r['pairs']} pairs of runs, the table separates {r['table_significant_pairs']} "
             f"(Welch's t-test, Holm-corrected, alpha 0.05); the surrogate orders {r['same_order']} of those the same "
             f"way, and reverses {len(r['reversed_significantly'])} significantly"
             + (f" ({', '.join(' vs '.join(p) for p in r['reversed_significantly'])})" if r["reversed_significantly"]
                else "") + f". The surrogate itself separates {r['surrogate_significant_pairs']} pairs. Pairs the "
             "table cannot separate have no true order, so tau over them measures noise, not the surrogate."]
    half = quality.get("table_split_half")
    if half:
        lo, hi = half["range_95"]
        lines += ["", f"For scale, the table against itself: two random halves of each run's seeds rank the runs with "
                  f"Kendall tau {half['kendall_tau_mean']:.2f} on average (95% of {half['splits']} splits in "
                  f"[{lo:.2f}, {hi:.2f}]). That is the agreement the table's own seed noise allows (with half the "
                  "seeds, so a low estimate): a surrogate cannot be asked to agree with the table more than the "
                  "table agrees with itself."]
    if quality.get("ranking_at"):
        lines += ["", "Tau by budget: " + ", ".join(f"{q} queries {t:.2f}" for q, t in quality["ranking_at"].items())
                  + "."]
    return lines


def quality_card(quality: dict[str, Any], figures: dict[str, str]) -> str:
    """The card as Markdown."""
    t = quality["table"]
    kept = quality["kept"]
    plan = quality["plan"]
    h = kept["held_out"]
    out = [f"# Quality card: surrogate `{quality['surrogate']}`", "",
           f"Surrogate of table `{t['name']}` (sha256 `{t['sha256'][:16]}`; {t['architectures']:,} architectures, "
           f"{len(t['seeds'])} training seeds, {t['epochs']} epochs). The surrogate kept is fitted on "
           f"{kept['train']:,} cells ({plan['ranking_sampler']}, {plan['ranking_fraction']:g} of the table, sample seed "
           f"{plan['sample_seed']}, model seed {plan['seed']}); artifact sha256 `{quality['surrogate_sha256'][:16]}`.",
           "Produced by `nasbench surrogate validate` (see the surrogate's README section); every number below is "
           "recomputed by that one command.", "",
           "## Held-out fit of the kept surrogate", "",
           "| target | R2 | Kendall tau | sparse Kendall tau |", "|---|---:|---:|---:|",
           f"| final validation accuracy | {_scores(h['final_valid_acc'])} |",
           f"| final test accuracy | {_scores(h['test_acc'])} |", "",
           "Sparse Kendall tau ranks true and predicted values rounded to 0.1 points (NAS-Bench-301's code rounds "
           "only the predictions, to one decimal). Held out: the "
           f"{h['architectures']:,} cells with no isomorph among the cells fitted on (the table shares one record "
           "per isomorphism class, so an isomorph of a training cell would be a free answer).", "",
           "## Fit by training-set size and sampler", "",
           "'trajectories' draws the training cells from those the table runs below visited (NAS-Bench-301 fitted on "
           "optimizer trajectories); a fraction larger than what they visited is skipped.", "",
           *fraction_lines(quality), ""]
    noise = h.get("noise") or {}
    if noise.get("noise_coverage_50") is not None:
        out += ["## Noise model", "",
                f"A training seed's deviation from its architecture's seed mean falls inside the model's central 50% / "
                f"90% intervals for {noise['noise_coverage_50']:.1%} / {noise['noise_coverage_90']:.1%} of held-out "
                f"(cell, seed) pairs (calibrated: 50% / 90%); rms of the standardised residual "
                f"{noise['noise_rms_z']:.2f} (calibrated: 1), per epoch {noise.get('noise_rms_z_per_epoch')}. "
                f"A seed's value about the predicted mean (mean error and noise together) falls inside them for "
                f"{noise['predictive_coverage_50']:.1%} / {noise['predictive_coverage_90']:.1%}.", ""]
    out += ["## Leave one strategy out", "",
            "Fitted on the cells every other strategy visited, minus the left-out strategy's own; tested on its own.",
            "", *loso_lines(quality), "",
            f"## Strategies on the surrogate and on the table ({quality['queries']} queries, same seeds)", "",
            *run_lines(quality), "", *ranking_lines(quality), ""]
    if "regret" in figures:
        out += [f"![regret on table and surrogate]({figures['regret']})", ""]
    if "calibration" in figures:
        out += [f"![noise-model calibration]({figures['calibration']})", ""]
    if "fractions" in figures:
        out += [f"![held-out fit by training fraction]({figures['fractions']})", ""]
    return "\n".join(out)
