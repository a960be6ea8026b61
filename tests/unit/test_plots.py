"""bonkl.plots: every stage's FIGURES function drawn on a tiny tidy table, as the figure rule
draws it (scripts/figure.py), with the Agg backend.

The tables come from the stages' own study functions on the references, examples and
scenarios of ``config/test.yaml`` (with smaller grids), labelled the way
``bonkl.plumbing.tables.read_labelled`` labels them, so a column a plot needs and a table no
longer has fails here, not in the slow workflow test. Each figure must have a visible axes
with data, axis labels on every axes that holds data (a KL in nats says so), a non-empty
plotted table with no NaN or inf, and (for one figure) byte-identical PNG, PDF and CSV
when drawn twice.

Not covered: ``bonkl.plots.policy_gradient``, whose tables need the stage's training runs
(tests/unit/test_policy_gradient.py and the workflow tests draw it)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import yaml  # noqa: E402

from bonkl.plots import bestofn as plots_bestofn  # noqa: E402
from bonkl.plots import kl_constrained as plots_kl  # noqa: E402
from bonkl.plots import regularized as plots_regularized  # noqa: E402
from bonkl.plots import samples as plots_samples  # noqa: E402
from bonkl.plots import winrate as plots_winrate  # noqa: E402
from bonkl.plots.style import save_figure, set_style  # noqa: E402
from bonkl.plumbing.seeding import generator  # noqa: E402
from bonkl.plumbing.tables import check_finite  # noqa: E402
from bonkl.references import build_reference  # noqa: E402
from bonkl.study import bestofn as study_bestofn  # noqa: E402
from bonkl.study import kl_constrained as study_kl  # noqa: E402
from bonkl.study import regularized as study_regularized  # noqa: E402
from bonkl.study import samples as study_samples  # noqa: E402
from bonkl.study import winrate as study_winrate  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "config" / "test.yaml").read_text(encoding="utf-8"))
N_GRID = [1, 3, 10, 100, 1000]


def labelled(tables: dict, column: str) -> pd.DataFrame:
    """The tables stacked, each with its label in a last column (as read_labelled does)."""
    return pd.concat([table.assign(**{column: label}) for label, table in tables.items()],
                     ignore_index=True)


def reference(name: str):
    spec = next(s for s in CONFIG["references"] if s["name"] == name)
    if spec["family"] == "file":
        spec = {**spec, "path": str(ROOT / spec["path"])}
    table = build_reference(spec, CONFIG["seed"])
    return table["prob"].to_numpy(float), table["reward"].to_numpy(float)


def bestofn_table(name: str) -> pd.DataFrame:
    p, r = reference(name)
    exact = study_bestofn.kl_summary(p, r, N_GRID)
    rng = generator(CONFIG["seed"], "bestofn", name)
    sampled = study_bestofn.monte_carlo_columns(p, r, N_GRID, 50, rng)
    size = CONFIG["bestofn"]["sample_size"]
    needed = study_bestofn.sample_size_columns(p, r, N_GRID, size["accuracy"], size["confidence"],
                                               10, rng)
    return pd.concat([exact, sampled, needed], axis=1)


def winrate_tables(name: str) -> dict[str, pd.DataFrame]:
    p, r = reference(name)
    rng = generator(CONFIG["seed"], "winrate", name)
    by_n = pd.concat([study_winrate.win_rate_by_n(p, r, N_GRID),
                      study_winrate.sampled_by_n(p, r, N_GRID, 50, rng)], axis=1)
    rewind = study_winrate.rewind_by_threshold(p, r, 4, 50, rng)
    betas = [float(b) for b in np.geomspace(1e-4, 10.0, 6)]
    return {"winrate_vs_n": by_n, "winrate_rewind": rewind,
            "winrate_tradeoff": study_winrate.tradeoff_curves(by_n, rewind, p, r, betas)}


def stage_data() -> dict[str, tuple[object, pd.DataFrame]]:
    """``figure name -> (drawing function, labelled data)`` for every covered figure."""
    data = {}
    for figure, names in CONFIG["bestofn"]["figures"].items():
        data[figure] = (plots_bestofn.FIGURES[figure],
                        labelled({n: bestofn_table(n) for n in names}, "reference"))
    # the tied outcome form's worst random reference, as bestofn_random_worst writes it
    data["kl_gap_bounds_random"] = (plots_bestofn.FIGURES["kl_gap_bounds_random"], labelled(
        {"chunk 0": bestofn_table("zipf_50_tied").assign(reference="random-0-0")}, "chunk"))
    for figure, names in CONFIG["winrate"]["figures"].items():
        data[figure] = (plots_winrate.FIGURES[figure],
                        labelled({n: winrate_tables(n)[figure] for n in names}, "reference"))
    fractions = [float(f) for f in np.geomspace(1e-3, 1.0, 4)]
    for figure, names in CONFIG["kl_constrained"]["figures"].items():
        frontier = {n: study_kl.frontier_table(*reference(n), fractions, N_GRID[:4])
                    for n in names}
        data[figure] = (plots_kl.FIGURES[figure], labelled(frontier, "reference"))
    scenarios = CONFIG["kl_constrained"]["scenarios"]
    memoryless = {
        "kl_convergence": lambda s: study_kl.convergence_table(s["p"], s["r"], s["deltas"],
                                                               [1, 10, 100], 100),
        "kl_rate_function": lambda s: study_kl.rate_table(s["p"], s["r"], s["deltas"], [10], 4),
        "kl_cumulants": lambda s: study_kl.cumulant_figure_table(
            study_kl.cumulant_table(s["p"], s["r"], s["deltas"], [1, 10]),
            study_kl.renyi_table(s["p"], s["r"], s["deltas"], CONFIG["kl_constrained"]["renyi_t"])),
    }
    for figure, build in memoryless.items():
        data[figure] = (plots_kl.FIGURES[figure],
                        labelled({s["name"]: build(s) for s in scenarios}, "scenario"))
    examples = CONFIG["regularized"]["examples"]
    betas = CONFIG["regularized"]["check_betas"]
    for figure, names in {"regularized_policy_fit": ["policy_fit"],
                          "regularized_mode_switch": ["mode_switch"],
                          "regularized_three_actions": ["three_actions_gap", "three_actions_tie"],
                          "regularized_mara_bins": ["mara_bins"]}.items():
        tables = {n: study_regularized.EXAMPLES[n]({**examples[n], "name": n}, betas)[0]
                  for n in names}
        data[figure] = (plots_regularized.FIGURES[figure], labelled(tables, "example"))
    for figure, names in CONFIG["regularized"]["cross_paper_figures"].items():
        tables = {n: study_regularized.cross_paper(*reference(n), CONFIG["regularized"]
                                                   ["cross_paper_n"])[0] for n in names}
        data[figure] = (plots_regularized.FIGURES[figure], labelled(tables, "reference"))
    section = {**CONFIG["samples"], "path": str(ROOT / CONFIG["samples"]["path"])}
    per_reward = {reward: study_samples.estimate(
        study_samples.read_config_samples(section, reward), [1, 4, 16], section["estimators"],
        section["level"], section.get("known_law"), reward)
        for reward in CONFIG["samples"]["rewards"]}
    data["samples_kl"] = (plots_samples.FIGURES["samples_kl"], labelled(per_reward, "reward"))
    return data


@pytest.fixture(scope="module")
def figures():
    return stage_data()


COVERED = [plots_bestofn, plots_winrate, plots_kl, plots_regularized, plots_samples]


def test_every_figure_of_the_covered_modules_is_drawn(figures):
    declared = {name for module in COVERED for name in module.FIGURES}
    assert declared == set(figures)


def _labels_say_units(ax) -> None:
    """A KL plotted on an axis (``KL(...)`` in its label) carries its unit."""
    for label in (ax.get_xlabel(), ax.get_ylabel()):
        if "KL(" in label:
            assert "nats" in label, f"KL axis without its unit: {label!r}"


def _categorical(axis) -> bool:
    """An axis whose ticks are names (actions, answers), which need no axis label."""
    return any(t.get_text() and not t.get_text().lstrip("−-").replace(".", "").isdigit()
               for t in axis.get_ticklabels())


@pytest.mark.parametrize("figure", sorted({name for module in COVERED
                                           for name in module.FIGURES}))
def test_figure_draws_labelled_data(figures, figure):
    draw, data = figures[figure]
    set_style()
    fig, plotted = draw(data)
    try:
        axes = [ax for ax in fig.axes if ax.get_visible()]
        with_data = [ax for ax in axes if ax.lines or ax.collections or ax.patches]
        assert with_data, f"{figure}: no axes draws anything"
        for ax in with_data:
            assert ax.get_xlabel() or _categorical(ax.xaxis), f"{figure}: an axes without x label"
            assert ax.get_ylabel() or _categorical(ax.yaxis), f"{figure}: an axes without y label"
            _labels_say_units(ax)
        assert any(len(line.get_xdata()) for ax in with_data for line in ax.lines) or \
            any(ax.collections or ax.patches for ax in with_data)
    finally:
        plt.close(fig)
    assert isinstance(plotted, pd.DataFrame) and len(plotted) > 0
    check_finite(plotted, figure)  # what save_figure writes beside the figure


def test_saved_figure_is_byte_stable(figures, tmp_path):
    """PNG, PDF and CSV carry no date: the same data gives the same bytes (one figure; the
    workflow tests compare every figure of a run)."""
    draw, data = figures["kl_binary"]
    set_style()
    written = []
    for attempt in ("first", "second"):
        paths = [tmp_path / f"{attempt}.{ext}" for ext in ("png", "pdf", "csv")]
        fig, plotted = draw(data)
        save_figure(fig, plotted, *paths)
        written.append([path.read_bytes() for path in paths])
    png, pdf, csv = written[0]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and pdf[:5] == b"%PDF-"
    assert len(pd.read_csv(tmp_path / "first.csv")) == len(plotted)
    assert written[0] == written[1]
