"""Figures of the regularized stage (paper C, Figs. 1-5, and the cross-paper comparison).

Each function takes the stage's tables concatenated with an ``example`` (or ``reference``)
column and returns ``(figure, plotted_data)`` (see :mod:`bonkl.plots.style`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import ticker

from bonkl.plots.style import panels

PROB_LABEL = "probability"
BETA_LABEL = "β (KL coefficient)"
FLOOR = 1e-12  # log-scale floor for drawn probabilities


def policy_fit(data: pd.DataFrame):
    """Fig. 1: each policy class fitted by each divergence, per task, against the target."""
    keys = list(data.groupby(["task", "divergence"], sort=False).groups)
    fig, axes = panels(len(keys), width=4.0, height=3.0, columns=2)
    colors = sns.color_palette()
    for ax, (task, divergence) in zip(axes, keys, strict=False):
        part = data[(data["task"] == task) & (data["divergence"] == divergence)]
        first = part[part["policy"] == part["policy"].iloc[0]]
        ax.fill_between(first["y"], first["target"], color="grey", alpha=0.3, label="target")
        if task != "bimodal":
            scale = first["target"].max() / first["prob_ref"].max()
            ax.plot(first["y"], first["prob_ref"] * scale, color="black", lw=0.8, ls=":",
                    label="reference (rescaled)")
        for color, (name, fit) in zip(colors, part.groupby("policy", sort=False), strict=False):
            ax.plot(fit["y"], fit["fitted"], color=color, lw=1.4,
                    label=f"{name}: KL(fit ‖ target)={fit['kl_fit_to_target'].iloc[0]:.3g}")
        how = ("min KL(π ‖ T)" if divergence == "reverse" else "min KL(T ‖ π)") \
            if task == "bimodal" else f"max E r − β·{divergence} KL"
        ax.set(title=f"{task}: {how}", xlabel="y", ylabel=PROB_LABEL)
        ax.legend(fontsize="xx-small")
    return fig, data


def mode_switch(data: pd.DataFrame):
    """Fig. 2: reference and reward; log G(y1)/G(y2) and mode masses against β, crossovers."""
    fig, axes = panels(3, width=4.2, height=3.2)
    one = data[(data["regulariser"] == "reverse") & (data["beta"] == data["beta"].min())]
    axes[0].plot(one["y"], one["prob_ref"] / one["prob_ref"].max(), label="reference / max")
    axes[0].plot(one["y"], one["reward"], label="reward")
    axes[0].set(xlabel="y", ylabel="reward, scaled reference", title="setup")
    axes[0].legend(fontsize="x-small")
    rows = []
    for color, (regulariser, part) in zip(sns.color_palette(), data.groupby("regulariser",
                                                                           sort=False),
                                          strict=False):
        low, high = part["low_mode"].iloc[0], part["high_mode"].iloc[0]
        midpoint = 0.5 * (low + high)
        for beta, sweep in part.groupby("beta"):
            logs = sweep.set_index("y")["log_target"]
            rows.append({"regulariser": regulariser, "beta": beta,
                         "log_ratio": logs[low] - logs[high],
                         "mass_low_mode": sweep.loc[sweep["y"] < midpoint, "target"].sum(),
                         "mass_high_mode": sweep.loc[sweep["y"] >= midpoint, "target"].sum(),
                         "crossover_predicted": part["crossover_predicted"].iloc[0],
                         "crossover_bisected": part["crossover_bisected"].iloc[0]})
        curve = pd.DataFrame(rows[-part["beta"].nunique():])
        axes[1].plot(curve["beta"], curve["log_ratio"], color=color, label=regulariser)
        axes[2].plot(curve["beta"], curve["mass_low_mode"], color=color,
                     label=f"{regulariser}: lower-reward mode")
        axes[2].plot(curve["beta"], curve["mass_high_mode"], color=color, ls="--",
                     label=f"{regulariser}: higher-reward mode")
        for ax in axes[1:]:
            ax.axvline(curve["crossover_predicted"].iloc[0], color=color, lw=0.8, ls=":")
    axes[1].axhline(0.0, color="black", lw=0.6)
    axes[1].set(xscale="log", xlabel=BETA_LABEL,
                ylabel="log G(y₁)/G(y₂) [nats]",
                title="pointwise ratio; dotted: G(y₁) = G(y₂)")
    axes[1].set_yscale("symlog", linthresh=1.0)
    axes[2].set(xscale="log", xlabel=BETA_LABEL, ylabel="target mass",
                title="mass per side; dotted: pointwise switch")
    for ax in axes[1:]:
        ax.legend(fontsize="xx-small")
    return fig, pd.DataFrame(rows)


def three_actions(data: pd.DataFrame):
    """Figs. 3-4: target probabilities of three actions per method and parameter (log scale,
    floored a decade below the smallest positive target; a target below the floor, which a
    double rounds to 0, is marked by :func:`mark_below_floor`)."""
    data = data.assign(series=[f"{m}, β={v:g}" if m in ("reverse", "forward")
                               else (f"best-of-{int(v)}" if m == "best-of-n" else m)
                               for m, v in zip(data["method"], data["parameter"], strict=True)])
    examples = list(data.groupby("example", sort=False))
    fig, axes = panels(len(examples), width=7.0, height=3.4, columns=1)
    for ax, (name, part) in zip(axes, examples, strict=False):
        floor = 10.0 ** (np.floor(np.log10(part.loc[part["target"] > 0, "target"].min())) - 1)
        shown = part.assign(drawn=part["target"].clip(lower=floor))
        sns.barplot(shown, x="series", y="drawn", hue="action", ax=ax, palette="colorblind")
        mark_below_floor(ax, shown, floor)
        rewards = ", ".join(f"{r:g}" for r in part.groupby("action")["reward"].first())
        refs = ", ".join(f"{p:.3g}" for p in part.groupby("action")["prob_ref"].first())
        ax.set(yscale="log", ylim=(floor, 2.0), xlabel="",
               ylabel=f"{PROB_LABEL} (floor {floor:.0e})",
               title=f"{name}: rewards ({rewards}), reference ({refs})")
        ax.tick_params(axis="x", labelrotation=30, labelsize="x-small")
        ax.legend(title="action", fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig, data


def mark_below_floor(ax, shown: pd.DataFrame, floor: float) -> None:
    """A downward triangle on every bar whose target is below the floor (a double could not
    hold it, so it reads 0): such a bar is empty, and the mark says it is not zero."""
    series = list(dict.fromkeys(shown["series"]))
    actions = sorted(shown["action"].unique())
    below = shown.set_index(["series", "action"])["target"] < floor
    label = "below the floor (not zero)"
    for action, bars in zip(actions, ax.containers, strict=False):
        for name, bar in zip(series, bars, strict=False):
            if below.get((name, action), False):
                ax.scatter(bar.get_x() + bar.get_width() / 2, floor * 1.8, marker="v", s=14,
                           color="black", zorder=3, label=label)
                label = None


MARA_STYLES = {"vanilla": dict(lw=1.2, ls="-"), "algorithm_2": dict(lw=3.2, ls="-", alpha=0.45),
               "algorithm_1": dict(lw=1.2, ls="--"), "algorithm_1_lambda": dict(lw=1.4, ls=":")}


def plateau_shares(part: pd.DataFrame) -> pd.DataFrame:
    """Each contiguous run of good bins (a plateau)'s share of the good mass, per algorithm."""
    rows = []
    for algorithm, line in part.groupby("algorithm", sort=False):
        good = line["good"].astype(bool).to_numpy()
        bins, target = line["bin"].to_numpy(), line["target"].to_numpy()
        run = np.cumsum(good & ~np.r_[False, good[:-1]])
        total = target[good].sum()
        for k in range(1, run.max() + 1):
            inside = good & (run == k)
            rows.append({"algorithm": algorithm, "share": target[inside].sum() / total,
                         "plateau": f"bins {bins[inside].min()}–{bins[inside].max()}"})
    return pd.DataFrame(rows)


def mara_bins(data: pd.DataFrame):
    """Fig. 5: vanilla and the MARA variants' targets over the bins (log scale), and each
    plateau's share of the good mass, per regulariser and β."""
    keys = list(data.groupby(["regulariser", "beta"], sort=False).groups)
    fig, axes = panels(2 * len(keys), width=4.2, height=3.0, columns=2)
    colors = dict(zip(MARA_STYLES, sns.color_palette(), strict=False))
    for ax, share_ax, (regulariser, beta) in zip(axes[0::2], axes[1::2], keys, strict=False):
        part = data[(data["regulariser"] == regulariser) & (data["beta"] == beta)]
        ref = part[part["algorithm"] == "vanilla"]
        ax.plot(ref["bin"], ref["prob_ref"], color="black", lw=0.8, ls=":", label="reference")
        for algorithm in MARA_STYLES:
            line = part[part["algorithm"] == algorithm]
            ax.plot(line["bin"], line["target"].clip(lower=FLOOR), color=colors[algorithm],
                    label=algorithm.replace("_", " "), **MARA_STYLES[algorithm])
        good = ref.loc[ref["good"].astype(bool), "bin"]
        ax.scatter(good, np.full(good.size, 1.5), marker="|", color="grey", s=10,
                   label="reward ≥ τ")
        ax.set(yscale="log", ylim=(FLOOR, 3.0), xlabel="bin", ylabel=PROB_LABEL,
               title=f"{regulariser} KL, β={beta:g}")
        ax.legend(fontsize="xx-small")
        shares = plateau_shares(part)
        sns.barplot(shares, x="algorithm", y="share", hue="plateau", ax=share_ax,
                    order=list(MARA_STYLES), palette="Greys")
        share_ax.axhline(0.5, color="black", lw=0.6, ls="--")
        share_ax.set(ylim=(0, 1), xlabel="", ylabel="share of the good mass",
                     title=f"{regulariser} KL, β={beta:g}: plateau shares")
        share_ax.tick_params(axis="x", labelrotation=20, labelsize="x-small")
        share_ax.legend(fontsize="xx-small", title="plateau")
    return fig, data


def cross_paper(data: pd.DataFrame):
    """Mass on each good (top-reward) mode at best-of-n's KL: best-of-n, tilt, forward KL."""
    refs = list(data.groupby("reference", sort=False))
    fig, axes = panels(2 * len(refs), width=4.2, height=3.0, columns=2)
    for (name, part), top_ax, share_ax in zip(refs, axes[0::2], axes[1::2], strict=False):
        totals = part.groupby(["method", "n"], sort=False)["top_mass"].first().reset_index()
        for color, (method, line) in zip(sns.color_palette(), totals.groupby("method",
                                                                             sort=False),
                                         strict=False):
            top_ax.plot(line["n"], line["top_mass"], "o-", color=color, ms=3, label=method)
        top_ax.set(xscale="log", xlabel="n (KL matched to best-of-n's)",
                   ylabel="mass on top-reward outcomes", title=f"{name}: mass on C*")
        top_ax.legend(fontsize="xx-small")
        largest_n = part["n"].max()
        last = part[part["n"] == largest_n]
        for marker, (method, line) in zip("o^s", last.groupby("method", sort=False),
                                          strict=False):
            share_ax.scatter(line["ref_share"], line["share"], marker=marker, s=18, alpha=0.7,
                             label=method)
        edge = [last["ref_share"].min() * 0.8, last["ref_share"].max() * 1.2]
        share_ax.plot(edge, edge, color="black", lw=0.6, ls=":", label="reference proportions")
        share_ax.axhline(1.0 / last["outcome"].nunique(), color="grey", lw=0.6, ls="--",
                         label="flat over good modes")
        if last["ref_share"].nunique() == 1:  # equal good modes: every point coincides
            share_ax.text(0.03, 0.04, f"all {last['outcome'].nunique()} good modes have equal "
                          "reference mass:\nevery mode of every method is at one point",
                          transform=share_ax.transAxes, fontsize="xx-small", va="bottom")
        share_ax.set(xscale="log", yscale="log", xlabel="reference share p(y)/p(C*)",
                     ylabel="share of mass on C*", title=f"{name}: shares at n={largest_n:g}")
        for axis in (share_ax.xaxis, share_ax.yaxis):  # few, short labels: they overlapped
            axis.set_minor_locator(ticker.LogLocator(subs=(2.0, 5.0)))
            axis.set_minor_formatter(ticker.FormatStrFormatter("%.2g"))
        share_ax.tick_params(axis="both", which="both", labelsize="x-small")
        share_ax.tick_params(axis="x", which="both", labelrotation=40)
        share_ax.legend(fontsize="xx-small")
    return fig, data


FIGURES = {
    "regularized_policy_fit": policy_fit,
    "regularized_mode_switch": mode_switch,
    "regularized_three_actions": three_actions,
    "regularized_mara_bins": mara_bins,
    "regularized_cross_paper": cross_paper,
}
