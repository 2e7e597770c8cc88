"""The stats chart: accuracy by domain against the 75 % line, and weekly activity. PNG bytes.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no display, no global state), so
it is safe in the Slack app's worker threads. No Slack here.
"""

from __future__ import annotations

import io
import textwrap

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.stats import ChannelStats

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH_IN, HEIGHT_IN, DPI = 11.0, 4.2, 100
GOOD, WEAK, EMPTY = "#2e7d32", "#ef6c00", "#bdbdbd"
ANSWERS, ASKS, ACCURACY, TARGET = "#5c6bc0", "#b0bec5", "#c62828", "#424242"


def render_stats_chart(stats: ChannelStats, *, title: str | None = None) -> bytes:
    """A PNG (about 1100 x 420 px): left, accuracy per domain with the target line; right,
    answers and questions per ISO week with the week's accuracy."""
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(fig)
    # fixed margins: matplotlib's constrained layout would cost ~40 % of the rendering time
    fig.subplots_adjust(left=0.135, right=0.935, top=0.86, bottom=0.17, wspace=0.42)
    default = " · ".join(p for p in ("Study stats", stats.exam, stats.period_label) if p)
    fig.suptitle(title or default, fontsize=12, fontweight="bold")
    left, right = fig.subplots(1, 2, width_ratios=[1.1, 1])
    _accuracy_by_domain(left, stats)
    _weekly_activity(right, stats)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _accuracy_by_domain(ax, stats: ChannelStats) -> None:
    domains = [d for d in stats.domains if d.weight > 0 or d.answers]
    labels = [
        "\n".join(textwrap.wrap(f"{d.domain}. {d.name}", 22, max_lines=2, placeholder="…"))
        for d in domains
    ]
    values = [100 * (d.accuracy or 0.0) for d in domains]
    colors = [EMPTY if d.accuracy is None else GOOD if d.meets_target else WEAK for d in domains]
    ys = list(range(len(domains)))[::-1]  # domain 1 on top
    ax.barh(ys, values, color=colors, height=0.6)
    ax.axvline(100 * stats.target, color=TARGET, linestyle="--", linewidth=1.2)
    ax.text(
        100 * stats.target,
        len(domains) - 0.45,
        f" {stats.target:.0%} target",
        fontsize=8,
        color=TARGET,
        va="bottom",
    )
    for y, d, v in zip(ys, domains, values, strict=True):
        note = "no answers" if d.accuracy is None else f"{v:.0f}%  (n={d.answers})"
        ax.text(min(v, 100) + 1.5, y, note, va="center", fontsize=8)
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_xlim(0, 118)
    ax.set_ylim(-0.6, len(domains) - 0.1)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("accuracy (%)", fontsize=9)
    ax.set_title("Accuracy by exam domain", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)


def _weekly_activity(ax, stats: ChannelStats) -> None:
    weeks = stats.weeks
    xs = list(range(len(weeks)))
    labels = [w.week.split("-")[-1] for w in weeks]
    width = 0.38
    ax.bar([x - width / 2 for x in xs], [w.answers for w in weeks], width, color=ANSWERS)
    ax.bar([x + width / 2 for x in xs], [w.asks for w in weeks], width, color=ASKS)
    ax.set_xticks(xs, labels, fontsize=8)
    ax.set_ylabel("per week", fontsize=9)
    ax.set_title("Weekly activity", fontsize=10)
    ax.spines[["top"]].set_visible(False)
    top = max([w.answers for w in weeks] + [w.asks for w in weeks] + [1])
    ax.set_ylim(0, top * 1.25)
    acc = ax.twinx()
    points = [
        (x, 100 * w.accuracy) for x, w in zip(xs, weeks, strict=True) if w.accuracy is not None
    ]
    if points:
        acc.plot(*zip(*points, strict=True), color=ACCURACY, marker="o", linewidth=1.5)
    acc.axhline(100 * stats.target, color=TARGET, linestyle="--", linewidth=1)
    acc.set_ylim(0, 105)
    acc.set_ylabel("accuracy (%)", fontsize=9, color=ACCURACY)
    acc.tick_params(axis="y", labelsize=8, colors=ACCURACY)
    acc.spines[["top"]].set_visible(False)
    handles = [
        ax.patches[0] if weeks else None,
        ax.patches[len(weeks)] if weeks else None,
        acc.lines[0] if points else None,
    ]
    names = ["quiz answers", "questions asked", "accuracy"]
    shown = [(h, n) for h, n in zip(handles, names, strict=True) if h is not None]
    if shown:  # below the plot: over it, the accuracy line (drawn later) would cross it
        acc.legend(
            *zip(*shown, strict=True),
            fontsize=8,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.09),
            ncol=3,
            frameon=False,
        )
