"""Block Kit for the study stats: the lead's channel summary, `/study me` and the App Home.

Pure functions from `bot.stats` results to `slack_sdk.models` blocks. Text goes through
`bot.slack.blocks.fit_blocks` (the one cutter); user ids appear only as Slack mentions.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.slack.blocks import fit_blocks, header_block, help_blocks, label
from bot.slack.mrkdwn import escape
from bot.stats import (
    ChannelStats,
    DomainFigure,
    FeedbackFigure,
    Focus,
    LearnerProgress,
    Readiness,
)
from knowledge.blueprint import Blueprint

HOME_MAX_BLOCKS = 100  # Slack's limit for a Home tab view
BAR_WIDTH = 10
QUIZ_DOMAIN_ACTION = "quiz_domain_{n}"  # value: the domain number; see listeners.home
QUIZ_DOMAIN_PREFIX = "quiz_domain_"

REFUSAL = (
    "Sorry, channel stats are for team leads. Ask your study group's lead, or try "
    "`{command} me` for your own progress."
)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def bar(value: float | None, width: int = BAR_WIDTH) -> str:
    if value is None:
        return "▱" * width
    full = round(max(0.0, min(1.0, value)) * width)
    return "▰" * full + "▱" * (width - full)


def _mark(d: DomainFigure) -> str:
    if d.accuracy is None:
        return "▫️"
    return "✅" if d.meets_target else "⚠️"


def domain_lines(domains: Sequence[DomainFigure], target: float) -> str:
    lines = []
    for d in domains:
        name = f"*{d.domain}. {escape(d.name)}*"
        if d.accuracy is None:
            lines.append(f"{_mark(d)} {name} — no answers yet")
            continue
        below = "" if d.meets_target else f" · below {pct(target)}"
        lines.append(
            f"{_mark(d)} {name} — {pct(d.accuracy)} `{bar(d.accuracy)}` "
            f"{d.correct}/{d.answers}{below}"
        )
    return "\n".join(lines)


def focus_line(focus: Focus | None, *, who: str = "the group") -> str | None:
    if focus is None:
        return None
    text = (
        f"🎯 *Weakest domain:* {focus.domain.domain}. {escape(focus.domain.name)} "
        f"({pct(focus.domain.accuracy)} of {_n(focus.domain.answers, 'answer')})."
    )
    if focus.objective:
        name = f" {escape(focus.objective_name)}" if focus.objective_name else ""
        text += (
            f"\nSuggested focus for {who}: *{escape(focus.objective)}{name}* "
            f"({pct(focus.objective_accuracy)} of {_n(focus.objective_answers, 'answer')})."
        )
    return text


def _fields(pairs: Sequence[tuple[str, str]]) -> SectionBlock:
    return SectionBlock(fields=[MarkdownTextObject(text=f"*{k}*\n{v}") for k, v in pairs])


# --------------------------------------------------------------------------- the lead's summary


def channel_stats_blocks(
    stats: ChannelStats, *, chart_note: str | None = None, command: str = "/study"
) -> list[Block]:
    """The summary a lead sees (ephemeral): key figures, domains, trend, daily, focus, top."""
    title = " · ".join(p for p in ("📊 Study stats", stats.exam, stats.period_label) if p)
    header = [
        header_block(title),
        SectionBlock(text=MarkdownTextObject(text=f"Channel <#{stats.channel_id}>")),
        _fields(
            [
                ("Active learners", str(stats.active_learners)),
                ("Questions asked", str(stats.questions_asked)),
                ("Quiz answers", str(stats.quiz_answers)),
                (
                    "Accuracy",
                    f"{pct(stats.accuracy)} (target {pct(stats.target)})"
                    if stats.quiz_answers
                    else "–",
                ),
            ]
        ),
    ]
    texts = [f"*Accuracy by domain*\n{domain_lines(stats.domains, stats.target)}"]
    if stats.weeks:
        rows = []
        for w in stats.weeks:
            rows.append(
                f"`{w.week}` {_n(w.answers, 'answer')} · {pct(w.accuracy)} · "
                f"{_n(w.learners, 'learner')} · {_n(w.asks, 'question')} asked"
            )
        texts.append("*Week by week*\n" + "\n".join(rows))
    d = stats.daily
    if d.posts:
        texts.append(
            f"*Question of the day:* {d.posts} posted, {_n(d.answers, 'answer')} from "
            f"{d.participants} {'person' if d.participants == 1 else 'people'} "
            f"({pct(d.share_of_active)} of active learners, "
            f"{d.answers_per_post:.1f} answers per question)."
        )
    else:
        texts.append("*Question of the day:* none posted in this period.")
    focus = focus_line(stats.weakest)
    if focus:
        texts.append(focus)
    feedback = feedback_line(stats.feedback)
    if feedback:
        texts.append(feedback)
    if stats.top_learners:
        top = [
            f"{i}. <@{t.user_id}> — {t.correct}/{t.answers} correct ({pct(t.accuracy)})"
            for i, t in enumerate(stats.top_learners, start=1)
        ]
        texts.append("*Top learners*\n" + "\n".join(top))
    notes = [
        f"Figures for this channel only. `{command} stats 7d|30d|all` · `{command} stats export`"
    ]
    if chart_note:
        notes.insert(0, chart_note)
    footer = [ContextBlock(elements=[MarkdownTextObject(text=n) for n in notes])]
    return fit_blocks(texts, header=header, footer=footer)


REASON_LABELS = {
    "wrong": "wrong",
    "not_helpful": "not helpful",
    "off_topic": "off-topic",
    "none": "no reason given",
}


def feedback_line(f: FeedbackFigure) -> str | None:
    """👍/👎 on the channel's answers and the reasons for the 👎 (None without feedback)."""
    if not f.helpful and not f.not_helpful:
        return None
    line = f"*Answer feedback:* 👍 {f.helpful} · 👎 {f.not_helpful}"
    why = [f"{REASON_LABELS.get(k, k)} {n}" for k, n in f.reasons.items() if n]
    return line + (f" — {', '.join(why)}" if why else "")


def channel_stats_text(stats: ChannelStats) -> str:
    """The notification text of the summary."""
    return (
        f"Study stats ({stats.period_label}): {stats.active_learners} active learners, "
        f"{stats.quiz_answers} quiz answers, accuracy {pct(stats.accuracy)}."
    )


def refusal_text(command: str = "/study") -> str:
    return REFUSAL.format(command=command)


# --------------------------------------------------------------------------- a learner


def readiness_text(r: Readiness) -> str:
    if not r.enough_data:
        return f"🧭 *Readiness:* not enough data yet ({_n(r.answers, 'answer')}): {r.missing}."
    verdict = "at or above" if r.passes else "below"
    return (
        f"🧭 *Readiness estimate:* *{r.score}* on the {r.scale_min}–{r.scale_max} scale, "
        f"{verdict} the passing score {r.passing_score} "
        f"(from {r.answers} answers, weighted by the exam's domain weights)."
    )


def learner_progress_blocks(progress: LearnerProgress, *, heading: bool = True) -> list[Block]:
    """`/study me` and the top of the App Home."""
    title = " · ".join(p for p in ("📈 Your study progress", progress.exam) if p)
    header: list[Block] = [header_block(title)] if heading else []
    header.append(
        _fields(
            [
                (
                    "Quiz answers",
                    f"{progress.answers} ({pct(progress.accuracy)} correct)"
                    if progress.answers
                    else "none yet",
                ),
                ("Last 7 days", f"{progress.answers_7d} ({pct(progress.accuracy_7d)})"),
                ("Reviews due", str(progress.due_reviews)),
                ("Streak", f"{progress.streak_days} day{'s' if progress.streak_days != 1 else ''}"),
            ]
        )
    )
    texts = [
        readiness_text(progress.readiness),
        f"*Accuracy by domain* (target {pct(progress.target)})\n"
        + domain_lines(progress.domains, progress.target),
    ]
    focus = focus_line(progress.focus, who="you")
    if focus:
        texts.append(focus)
    return fit_blocks(texts, header=header)


def learner_progress_text(progress: LearnerProgress) -> str:
    r = progress.readiness
    ready = f"readiness {r.score}" if r.enough_data else "readiness: not enough data yet"
    return (
        f"Your progress: {progress.answers} answers, {pct(progress.accuracy)} correct, "
        f"{progress.due_reviews} reviews due, {ready}."
    )


def quiz_domain_buttons(blueprint: Blueprint) -> ActionsBlock:
    """One "Quiz me" button per domain: action_id `quiz_domain_<n>`, value "<n>"."""
    return ActionsBlock(
        block_id="quiz_domains",
        elements=[
            ButtonElement(
                text=PlainTextObject(text=label(f"Quiz: {d.name}"), emoji=True),
                action_id=QUIZ_DOMAIN_ACTION.format(n=d.id),
                value=str(d.id),
            )
            for d in blueprint.domains[:25]
        ],
    )


def home_blocks(
    progress: LearnerProgress | None,
    blueprint: Blueprint,
    help_entries: Sequence[tuple[str, str]],
    *,
    bot_user_id: str | None = None,
    problem: str | None = None,
) -> list[Block]:
    """The App Home: the learner's progress, quiz-by-domain buttons, then the help."""
    top: list[Block] = []
    if progress is not None:
        top += learner_progress_blocks(progress)
    else:
        top += [header_block("📈 Your study progress")]
        top += fit_blocks([f"⚠️ {escape(problem or 'Your progress is not available right now.')}"])
    top += [
        SectionBlock(text=MarkdownTextObject(text="*Start a quiz by domain*")),
        quiz_domain_buttons(blueprint),
        DividerBlock(),
    ]
    rest = help_blocks(help_entries, bot_user_id=bot_user_id)
    return [*top, *rest][:HOME_MAX_BLOCKS]
