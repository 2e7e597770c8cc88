"""Quiz Block Kit: pure functions from the quiz service's dataclasses to `slack_sdk.models`.

A question shows its stem and lettered options in sections, then one button per option (single
answer) or a checkbox group plus a Submit button ("choose N"). An ordering item lists its steps
(lettered) and gives one select menu per position ("1st step", "2nd step", …, each offering
every step); a matching item lists its terms (lettered) and descriptions (numbered) and gives
one select menu per term offering the descriptions; both end with a Submit button. Every button
value is the post's token and nothing else; the server looks it up. The chosen option comes
from the action id (`quiz_answer_<i>`), the checkbox state or the select menus' state
(`state.values`). The actions block's id carries the
post kind (`quiz_actions:<kind>`) so the listener knows how to show the result; grading never
depends on it.

Text is cut by `bot.slack.blocks` (`fit_blocks`/`split_text`), the one cutter; labels Slack caps
at 75 characters, and headers, go through its `label`, which uses the same cutter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.quiz_service import DailyRecap, ExamResult, Grade, ShownQuestion
from bot.slack.blocks import (
    CONTEXT_ELEMENTS,
    LABEL_LIMIT,
    MAX_BLOCKS,
    fallback_text,
    fit_blocks,
    header_block,
    label,
    split_text,
)
from bot.slack.mrkdwn import escape, link
from knowledge.arranged import ORDERING, ORDINALS
from knowledge.types import DomainTag

ANSWER_PREFIX = "quiz_answer_"  # + option index: one button per option (single answer)
SUBMIT = "quiz_submit"  # the Submit button under the checkboxes (choose N)
PICK = "quiz_pick"  # the checkbox group; Slack sends a block_actions on every toggle
SLOT_PREFIX = "quiz_slot_"  # + position/term index: the select menus of ordering and matching
ARRANGE_SUBMIT = "quiz_arrange_submit"  # Submit under the select menus
ACTIONS_BLOCK = "quiz_actions"  # block id prefix: "quiz_actions:<kind>"
SHARE_RESULT = "share_result"  # shows the learner's private result in the channel (value: token)
SHARE_BLOCK = "quiz_share"
LETTERS = "ABCDEFGHIJ"

KIND_TITLES = {
    "ondemand": "🧠 Quiz",
    "daily": "📅 Question of the day",
    "exam": "📝 Mock exam",
}


# --------------------------------------------------------------------------- small helpers


def letter(index: int) -> str:
    return LETTERS[index] if 0 <= index < len(LETTERS) else str(index + 1)


def letters(indices: Sequence[int]) -> str:
    """`[0, 2]` -> "A and C"."""
    names = [letter(i) for i in sorted(indices)]
    if not names:
        return "nothing"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _context(*texts: str) -> ContextBlock:
    pieces = [p for t in texts if t for p in split_text(t)]
    return ContextBlock(elements=[MarkdownTextObject(text=p) for p in pieces[:CONTEXT_ELEMENTS]])


def domain_line(domain: DomainTag) -> str:
    return f"📚 {escape(domain.label)}"


def source_line(source: str, title: str) -> str:
    """The citation: a link when the source is a URL, else the title and the file."""
    title = label(title or source, 200)
    if source.lower().startswith(("http://", "https://")):
        return f"📖 {link(source, title)}"
    if source and source != title:
        return f"📖 {escape(title)} — `{escape(source)}`"
    return f"📖 {escape(title)}"


def actions_block_id(kind: str) -> str:
    return f"{ACTIONS_BLOCK}:{kind}"


def kind_of(block_id: str | None) -> str | None:
    """The post kind from an actions block id (None when the block is not ours)."""
    prefix, sep, kind = (block_id or "").partition(":")
    return kind if prefix == ACTIONS_BLOCK and sep and kind in KIND_TITLES else None


# --------------------------------------------------------------------------- questions


def question_blocks(
    shown: ShownQuestion, *, recap: DailyRecap | None = None, title: str | None = None
) -> list[Block]:
    """A question ready to answer: title, (recap), stem, lettered options, answer controls."""
    q = shown.question
    title = title or KIND_TITLES.get(shown.kind, "🧠 Quiz")
    header: list[Block] = [header_block(title)]
    about = []
    if shown.exam is not None:
        about.append(f"*Question {shown.exam.position} of {shown.exam.total}*")
    if shown.review:
        about.append("🔁 Review")
    about.append(domain_line(q.domain))
    header.append(_context(" · ".join(about)))
    texts = []
    if recap is not None:
        texts.append(recap_text(recap))
    texts.append(f"*{escape(q.stem)}*")
    if q.arranged:
        return fit_blocks(
            [*texts, *arranged_texts(shown)], header=header, footer=_arranged_footer(shown)
        )
    if q.choose > 1:
        texts.append(f"_Choose {q.choose}, then press Submit._")
    labels = [f"{letter(i)}. {o}" for i, o in enumerate(q.options)]
    if q.choose <= 1 or any(len(x) > LABEL_LIMIT for x in labels):
        # buttons carry letters only, and checkbox labels are cut at 75 characters: list in full
        texts.append("\n".join(f"*{letter(i)}.* {escape(o)}" for i, o in enumerate(q.options)))
    footer: list[Block] = [answer_controls(shown)]
    if shown.kind == "daily":
        footer.append(_context("Everyone can answer: your result is shown only to you."))
    elif shown.kind == "ondemand" and shown.user_id:
        footer.append(
            _context(f"For <@{shown.user_id}>: only they can answer, and only they see the result.")
        )
    return fit_blocks(texts, header=header, footer=footer)


def arranged_texts(shown: ShownQuestion) -> list[str]:
    """What to do, then the steps (lettered), or the terms (lettered) and descriptions
    (numbered), in full: select menus cut their labels at 75 characters."""
    q = shown.question
    if q.format == ORDERING:
        steps = "\n".join(f"*{letter(i)}.* {escape(s)}" for i, s in enumerate(q.items))
        return ["_Pick the step for each position, then press Submit._", steps]
    terms = "\n".join(f"*{letter(i)}.* {escape(t)}" for i, t in enumerate(q.items))
    targets = "\n".join(f"*{i + 1}.* {escape(d)}" for i, d in enumerate(q.targets))
    return [
        f"_Pick the match for each of A–{letter(q.choose - 1)}, then press Submit._",
        terms,
        targets,
    ]


def _arranged_footer(shown: ShownQuestion) -> list[Block]:
    footer: list[Block] = [*slot_blocks(shown), arranged_submit(shown)]
    if shown.kind == "daily":
        footer.append(_context("Everyone can answer: your result is shown only to you."))
    elif shown.kind == "ondemand" and shown.user_id:
        footer.append(
            _context(f"For <@{shown.user_id}>: only they can answer, and only they see the result.")
        )
    return footer


def slot_id(index: int) -> str:
    return f"{SLOT_PREFIX}{index}"


def slot_blocks(shown: ShownQuestion) -> list[SectionBlock]:
    """One section per position (ordering) or term (matching), its select menu beside it."""
    q = shown.question
    if q.format == ORDERING:
        labels = [f"*{ORDINALS[k]} step*" for k in range(q.choose)]
        choices = [label(f"{letter(i)}. {s}") for i, s in enumerate(q.targets)]
        placeholder = "Choose a step"
    else:
        labels = [f"*{letter(k)}.* {escape(label(t, 200))}" for k, t in enumerate(q.items)]
        choices = [label(f"{i + 1}. {d}") for i, d in enumerate(q.targets)]
        placeholder = "Choose its match"
    return [
        SectionBlock(
            block_id=slot_id(k),
            text=MarkdownTextObject(text=text),
            accessory=StaticSelectElement(
                action_id=slot_id(k),
                placeholder=PlainTextObject(text=placeholder),
                options=[
                    Option(value=str(i), text=PlainTextObject(text=c))
                    for i, c in enumerate(choices)
                ],
            ),
        )
        for k, text in enumerate(labels)
    ]


def arranged_submit(shown: ShownQuestion) -> ActionsBlock:
    """The Submit button under the select menus (value: the token only)."""
    return ActionsBlock(
        block_id=actions_block_id(shown.kind),
        elements=[
            ButtonElement(
                text=PlainTextObject(text="Submit"),
                action_id=ARRANGE_SUBMIT,
                value=shown.token,
                style="primary",
            )
        ],
    )


def answer_controls(shown: ShownQuestion) -> ActionsBlock:
    """Buttons A–D (single answer) or checkboxes + Submit (choose N); values = the token only."""
    q = shown.question
    if q.choose <= 1:
        elements: list = [
            ButtonElement(
                text=PlainTextObject(text=letter(i), emoji=False),
                action_id=f"{ANSWER_PREFIX}{i}",
                value=shown.token,
            )
            for i in range(len(q.options))
        ]
    else:
        elements = [
            CheckboxesElement(
                action_id=PICK,
                options=[
                    Option(value=str(i), text=PlainTextObject(text=label(f"{letter(i)}. {o}")))
                    for i, o in enumerate(q.options)
                ],
            ),
            ButtonElement(
                text=PlainTextObject(text=f"Submit (choose {q.choose})"),
                action_id=SUBMIT,
                value=shown.token,
                style="primary",
            ),
        ]
    return ActionsBlock(block_id=actions_block_id(shown.kind), elements=elements)


def question_fallback(shown: ShownQuestion) -> str:
    """The message `text` (notifications): what kind of question, and its stem."""
    title = KIND_TITLES.get(shown.kind, "Quiz").split(" ", 1)[-1]
    return fallback_text(f"{title}: {escape(shown.question.stem)}")


def daily_blocks(shown: ShownQuestion, recap: DailyRecap | None) -> list[Block]:
    """The channel's question of the day, with the recap of the previous one on top."""
    return question_blocks(shown, recap=recap)


def recap_text(recap: DailyRecap) -> str:
    """The previous question of the day: its answer, how many answered, the share correct."""
    stem = label(recap.stem, 280)
    if recap.answered:
        people = "person" if recap.answered == 1 else "people"
        how = f"{recap.answered} {people} answered, {recap.share_correct:.0%} correct."
    else:
        how = "Nobody answered it."
    return (
        f"*Last time:* _{escape(stem)}_\n"
        f"✅ Answer: *{escape(label(recap.answer_text, 500))}* — {how}"
    )


# --------------------------------------------------------------------------- results


def result_blocks(grade: Grade, *, share_token: str | None = None) -> list[Block]:
    """Right or wrong, the chosen and correct options, the explanation, citation, domain, streak;
    with `share_token`, a "Share in channel" button (the result is private)."""
    texts = [verdict_text(grade)]
    if grade.explanation.strip():
        texts.append(escape(grade.explanation.strip()))
    streak = (
        f"🔥 Streak: {grade.streak} correct in a row"
        if grade.streak > 0
        else "Streak: 0 — the next one starts a new run"
    )
    footer: list[Block] = [
        _context(source_line(grade.source, grade.title)),
        _context(domain_line(grade.domain), streak),
    ]
    if share_token:
        footer.append(share_actions(share_token))
    return fit_blocks(texts, footer=footer)


def sequence_text(grade_format: str, indices: Sequence[int]) -> str:
    """An ordering answer as letters in order ("C → A → B"); a matching answer as pairs
    ("A→2, B→1, C→3")."""
    if grade_format == ORDERING:
        return " → ".join(letter(i) for i in indices) or "nothing"
    return ", ".join(f"{letter(k)}→{i + 1}" for k, i in enumerate(indices)) or "nothing"


def verdict_text(grade: Grade, *, who: str = "You") -> str:
    """✅/❌, what `who` chose and the right answer (mrkdwn)."""
    if grade.format in ("ordering", "matching"):
        did = "ordered" if grade.format == ORDERING else "matched"
        right = "order" if grade.format == ORDERING else "pairs"
        mine = sequence_text(grade.format, grade.chosen)
        if grade.correct:
            verdict = f"✅ *Correct!* {who} {did} {mine}."
        else:
            key = sequence_text(grade.format, grade.answer)
            verdict = f"❌ *Not quite.* {who} {did} {mine}; the right {right}: *{key}*."
    elif grade.correct:
        verdict = f"✅ *Correct!* {who} chose {letters(grade.chosen)}."
    else:
        verdict = (
            f"❌ *Not quite.* {who} chose {letters(grade.chosen)}; "
            f"the answer is *{letters(grade.answer)}*."
        )
    if grade.already_answered and who == "You":
        verdict = f"_You already answered this one._ {verdict}"
    return verdict


def share_actions(token: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=SHARE_BLOCK,
        elements=[
            ButtonElement(
                text=PlainTextObject(text="📣 Share in channel", emoji=True),
                action_id=SHARE_RESULT,
                value=token,
            )
        ],
    )


def shared_result_blocks(shown: ShownQuestion, grade: Grade, user_id: str) -> list[Block]:
    """A learner's result, shared in the channel: the question, their verdict, the explanation."""
    q = shown.question
    if q.arranged:
        listing = arranged_texts(shown)[1:]
    else:
        listing = ["\n".join(f"*{letter(i)}.* {escape(o)}" for i, o in enumerate(q.options))]
    texts = [f"*{escape(q.stem)}*", *listing, verdict_text(grade, who=f"<@{user_id}>")]
    if grade.explanation.strip():
        texts.append(escape(grade.explanation.strip()))
    footer: list[Block] = [
        _context(source_line(grade.source, grade.title), domain_line(grade.domain)),
        _context("Try one yourself: `/study quiz`."),
    ]
    header = [header_block("🧠 Quiz result, shared")]
    return fit_blocks(texts, header=header, footer=footer)


def result_fallback(grade: Grade) -> str:
    if grade.format in ("ordering", "matching"):
        mine = sequence_text(grade.format, grade.chosen)
        if grade.correct:
            return f"Correct! You answered {mine}."
        return f"Not quite: the right answer is {sequence_text(grade.format, grade.answer)}."
    if grade.correct:
        return f"Correct! You chose {letters(grade.chosen)}."
    return f"Not quite: the answer is {letters(grade.answer)}."


def answered_message(
    original: Sequence[Mapping],
    grade: Grade,
    *,
    share_token: str | None = None,
    max_blocks: int = MAX_BLOCKS,
) -> list[dict]:
    """The question message after it was answered: its blocks (as drawn, or Slack's copy from
    the action payload) without the answer controls, then the result (`result_blocks`)."""
    kept = [
        dict(b)
        for b in original
        if not (b.get("type") == "actions" and str(b.get("block_id", "")).startswith(ACTIONS_BLOCK))
        and not str(b.get("block_id", "")).startswith(SLOT_PREFIX)
    ]
    # The "only they can answer" / "everyone can answer" hint no longer applies.
    kept = [b for b in kept if not _is_answer_hint(b)]
    result = [b.to_dict() for b in result_blocks(grade, share_token=share_token)]
    room = max_blocks - len(result)
    return [*kept[:room], *result]


def _is_answer_hint(block: Mapping) -> bool:
    if block.get("type") != "context":
        return False
    texts = [str(e.get("text", "")) for e in block.get("elements") or [] if isinstance(e, Mapping)]
    return any("can answer" in t for t in texts)


# --------------------------------------------------------------------------- exams


def exam_result_blocks(
    result: ExamResult,
    *,
    domain_names: Mapping[int, str] | None = None,
    scale: tuple[int, int] = (100, 1000),
) -> list[Block]:
    """The final score: scaled score against the passing line, and accuracy per domain."""
    names = domain_names or {}
    verdict = "✅ *Pass*" if result.passed else "❌ *Below the passing line*"
    share = result.correct / result.answered if result.answered else 0.0
    summary = (
        f"*Scaled score: {result.scaled_score}* on a {scale[0]}–{scale[1]} scale · "
        f"passing line {result.passing_score} · {verdict}\n"
        f"{result.correct} of {result.answered} correct ({share:.0%})."
    )
    texts = [summary]
    if result.per_domain:
        rows = [("Domain", "Right", "Acc.")]
        for domain_id in sorted(result.per_domain):
            right, total = result.per_domain[domain_id]
            name = label(f"{domain_id} {names.get(domain_id, '')}".strip(), 50)
            rows.append((name, f"{right}/{total}", f"{right / total:.0%}" if total else "–"))
        width = max(len(r[0]) for r in rows)
        lines = [f"{r[0]:<{width}}  {r[1]:>5}  {r[2]:>4}" for r in rows]
        texts.append("*Per domain*\n```\n" + escape("\n".join(lines)) + "\n```")
    footer = [_context("Another run: `/study exam`. Practise a domain: `/study quiz <domain>`.")]
    return fit_blocks(texts, header=[header_block("📝 Mock exam finished")], footer=footer)


def exam_result_fallback(result: ExamResult) -> str:
    outcome = "pass" if result.passed else "below the passing line"
    return f"Mock exam finished: {result.scaled_score} ({outcome} {result.passing_score})."
