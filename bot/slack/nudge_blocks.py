"""Block Kit for the nudges: the review reminder DM and the weekly leaderboard."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
)

from bot.leaderboard import Standings
from bot.slack.blocks import fit_blocks, header_block

REVIEW_NOW = "review_now"  # the reminder's button: the next due review in the DM


def reminder_text(due: int) -> str:
    reviews = "review is" if due == 1 else "reviews are"
    return f"🔁 {due} {reviews} due today."


def reminder_blocks(due: int) -> list[Block]:
    """The reminder DM: how many reviews are due, a button to start, how to turn it off."""
    texts = [f"*{reminder_text(due)}* A few minutes now keeps what you learned fresh."]
    footer: list[Block] = [
        ActionsBlock(
            block_id="reminder",
            elements=[
                ButtonElement(
                    text=PlainTextObject(text="Start reviewing", emoji=True),
                    action_id=REVIEW_NOW,
                    value="review",
                    style="primary",
                )
            ],
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="You asked for this reminder. Change the time with "
                    "`/study remind on HH:MM`, or stop it with `/study remind off`."
                )
            ]
        ),
    ]
    return fit_blocks(texts, footer=footer)


def leaderboard_text(board: Standings) -> str:
    if not board.ranked:
        return "Weekly leaderboard: nobody has enough answers yet."
    best = board.ranked[0]
    return f"Weekly leaderboard: <@{best.user_id}> leads with {best.accuracy:.0%}."


def leaderboard_blocks(board: Standings, *, weekly: bool = True) -> list[Block]:
    """The standings: rank, learner, right/answers and accuracy; who is not ranked and why."""
    title = f"🏆 Weekly leaderboard · {board.week}" if board.week else "🏆 Leaderboard · 7 days"
    if board.ranked:
        medals = {1: "🥇", 2: "🥈", 3: "🥉"}
        rows = [
            f"{medals.get(i, f'{i}.')} <@{s.user_id}> — {s.correct}/{s.answers} correct "
            f"({s.accuracy:.0%})"
            for i, s in enumerate(board.ranked, start=1)
        ]
        texts = ["\n".join(rows)]
    else:
        texts = [f"Nobody has {board.min_answers} quiz answers here in the last 7 days yet."]
    notes = [
        f"Ranked by accuracy over the last 7 days, from {board.min_answers} answers in this "
        "channel. `/study quiz` to practise."
    ]
    if board.unranked:
        people = "learner" if board.unranked == 1 else "learners"
        notes.append(f"{board.unranked} more {people} below {board.min_answers} answers.")
    if weekly:
        notes.append("Posted every Monday; stop it with `/study leaderboard off`.")
    footer: list[Block] = [ContextBlock(elements=[MarkdownTextObject(text=n) for n in notes])]
    return fit_blocks(texts, header=[header_block(title)], footer=footer)
