"""Block Kit builders: pure functions from answers and strings to `slack_sdk.models.blocks`.

Every text Slack limits goes through `split_text` (3,000 characters a section; `label` for
buttons, options and headers) and every message through `fit_blocks` (50 blocks), so no caller
cuts text on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.slack.mrkdwn import escape, link, to_mrkdwn
from knowledge.types import Answer, Citation

SECTION_LIMIT = 3000  # characters in a section's text
MAX_BLOCKS = 50  # blocks in a message
CONTEXT_ELEMENTS = 10  # elements in a context block
FALLBACK_LIMIT = 300  # the `text` Slack shows in notifications
LABEL_LIMIT = 75  # button texts and option labels
HEADER_LIMIT = 150  # header block text
FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"
FEEDBACK_BLOCK = "feedback:"  # + ask id: the block holding the 👍/👎 (and Share) buttons
REASON_PREFIX = "feedback_reason_"  # + wrong | not_helpful | off_topic: why a 👎
REASONS = {"wrong": "Wrong", "not_helpful": "Not helpful", "off_topic": "Off-topic"}
SHARE_ANSWER = "share_answer"  # shows a private answer in the channel (value: the ask id)
HEADING_QUESTION_CHARS = 500  # the question quoted above an answer
TRUNCATED = "_…the rest did not fit in one Slack message._"

_FENCE_LINE = re.compile(r"^\s*```", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?:;](?=\s)")
_CLOSE, _REOPEN = "\n```", "```\n"


# --------------------------------------------------------------------------- the one cutter


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Cut mrkdwn into pieces of at most `limit` characters.

    Cuts at a paragraph break, else a line break, else a sentence end, else a space (never inside
    a `<url|text>` link); a cut inside a code fence closes the fence and reopens it in the next
    piece.
    """
    if limit < 20:
        raise ValueError("limit must be at least 20 characters")
    rest = text.strip("\n")
    pieces: list[str] = []
    while len(rest) > limit:
        cut = _cut_point(rest, limit - len(_CLOSE))
        head, rest = rest[:cut].rstrip(), rest[cut:]
        if _open_fence(head):
            tail = rest.lstrip("\n")
            first, _, after = tail.partition("\n")
            if first.strip() == "```":  # the fence closes right here: no need to reopen it
                head, rest = head + _CLOSE, after
            else:
                head, rest = head + _CLOSE, _REOPEN + tail
        else:
            rest = rest.lstrip("\n ")
        if head.strip():
            pieces.append(head)
    if rest.strip():
        pieces.append(rest)
    return pieces


def _open_fence(text: str) -> bool:
    return len(_FENCE_LINE.findall(text)) % 2 == 1


def _cut_point(text: str, limit: int) -> int:
    window = text[:limit]
    floor = limit // 3  # prefer a cut in the last two thirds: no tiny pieces
    cut = window.rfind("\n\n")
    if cut <= floor:
        cut = window.rfind("\n")
    if cut <= floor:
        ends = [m.end() for m in _SENTENCE_END.finditer(window)]
        cut = ends[-1] if ends else -1
    if cut <= floor:
        cut = window.rfind(" ")
    if cut <= 0:
        cut = limit
        amp = window.rfind("&", max(0, limit - 6))
        if amp > 0 and ";" not in window[amp:]:
            cut = amp  # do not split an escaped entity
    opening = window.rfind("<", 0, cut)
    if opening > 0 and window.rfind(">", 0, cut) < opening:
        cut = opening  # do not split a link or a mention
    return cut


def label(text: str, limit: int = LABEL_LIMIT) -> str:
    """Plain text on one line, cut to `limit` characters (Slack caps labels and headers)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return split_text(text, limit - 1)[0].rstrip() + "…"


def header_block(text: str) -> HeaderBlock:
    """A header block (plain text, emoji allowed), cut by `label` to Slack's 150 characters."""
    return HeaderBlock(text=PlainTextObject(text=label(text, HEADER_LIMIT), emoji=True))


def fit_blocks(
    texts: Iterable[str],
    *,
    header: Sequence[Block] = (),
    footer: Sequence[Block] = (),
    max_blocks: int = MAX_BLOCKS,
) -> list[Block]:
    """Header + the texts as sections (split to fit) + footer, capped at `max_blocks` blocks."""
    room = max_blocks - len(header) - len(footer)
    if room < 1:
        raise ValueError("header and footer leave no room for the text")
    sections = [_section(piece) for text in texts for piece in split_text(text)]
    if len(sections) > room:
        sections = [*sections[: room - 1], _section(TRUNCATED)]
    return [*header, *sections, *footer]


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _context(texts: Sequence[str]) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=t) for t in texts[:CONTEXT_ELEMENTS]])


def _context_from(text: str) -> ContextBlock:
    """One context block holding `text`, split into elements that each fit."""
    pieces = split_text(text)
    if len(pieces) > CONTEXT_ELEMENTS:
        pieces = [*pieces[: CONTEXT_ELEMENTS - 1], TRUNCATED]
    return _context(pieces)


# --------------------------------------------------------------------------- builders


def citation_line(citation: Citation) -> str:
    """`<url|[1] title>`, or `[1] title — path` when the source has no URL."""
    label = f"[{citation.number}] {citation.title or citation.source}"
    if citation.url and citation.url.lower().startswith(("http://", "https://")):
        return link(citation.url, label)
    if citation.source and citation.source != citation.title:
        return f"{escape(label)} — `{escape(citation.source)}`"
    return escape(label)


def asked_heading(who: str, question: str) -> str:
    """mrkdwn above an answer: `who` (e.g. "You asked:") and the question quoted."""
    shown = (
        question
        if len(question) <= HEADING_QUESTION_CHARS
        else question[:HEADING_QUESTION_CHARS].rstrip() + " …"
    )
    quoted = "\n".join(f">{escape(line)}" for line in shown.splitlines() if line.strip())
    return f"{who}\n{quoted}"


def answer_blocks(
    answer: Answer,
    ask_id: int | None,
    *,
    heading: str | None = None,
    share: bool = False,
    counts: tuple[int, int] | None = None,
    chosen: int | None = None,
) -> list[Block]:
    """An answer as a message: text, domain tag, citations, note, 👍/👎 (when `ask_id` is known).

    `heading` is mrkdwn shown first (e.g. who asked what). `share`, `counts` and `chosen`: see
    `feedback_actions`.
    """
    texts = [to_mrkdwn(answer.text)]
    if answer.mode == "not_covered" and answer.closest_topics:
        topics = "\n".join(f"• {escape(t)}" for t in answer.closest_topics)
        texts.append(f"*Closest topics in the material:*\n{topics}")
    footer: list[Block] = []
    if answer.domains:
        footer.append(_context_from(f"📚 {escape(answer.domains[0].label)}"))
    if answer.citations:
        lines = [citation_line(c) for c in sorted(answer.citations, key=lambda c: c.number)]
        footer.append(_context_from("\n".join(lines)))
    if answer.note:
        footer.append(_context_from(f"ℹ️ {to_mrkdwn(answer.note)}"))
    if ask_id is not None:
        footer.append(feedback_actions(ask_id, share=share, counts=counts, chosen=chosen))
    header = [_section(p) for p in split_text(heading)[:1]] if heading else []
    return fit_blocks(texts, header=header, footer=footer)


def feedback_actions(
    ask_id: int,
    *,
    share: bool = False,
    counts: tuple[int, int] | None = None,
    chosen: int | None = None,
) -> ActionsBlock:
    """👍/👎 under an answer, and "Share in channel" under a private one (`share`).

    After a click the buttons show it: `counts` (👍, 👎) so far, and in a private answer the
    viewer's own choice (`chosen` +1/-1) highlighted.
    """
    up, down = counts or (0, 0)
    buttons = [
        ButtonElement(
            text=PlainTextObject(text=f"👍 Helpful{f' · {up}' if up else ''}", emoji=True),
            action_id=FEEDBACK_UP,
            value=str(ask_id),
            style="primary" if chosen == 1 else None,
        ),
        ButtonElement(
            text=PlainTextObject(text=f"👎 Not helpful{f' · {down}' if down else ''}", emoji=True),
            action_id=FEEDBACK_DOWN,
            value=str(ask_id),
            style="danger" if chosen == -1 else None,
        ),
    ]
    if share:
        buttons.append(
            ButtonElement(
                text=PlainTextObject(text="📣 Share in channel", emoji=True),
                action_id=SHARE_ANSWER,
                value=str(ask_id),
            )
        )
    return ActionsBlock(block_id=f"{FEEDBACK_BLOCK}{ask_id}", elements=buttons)


def reason_blocks(ask_id: int) -> list[Block]:
    """After a 👎: what was wrong with the answer (one click; leads read it in the stats)."""
    question = _section("Thanks for telling me. What was wrong with the answer?")
    buttons = ActionsBlock(
        block_id=f"feedback_reason:{ask_id}",
        elements=[
            ButtonElement(
                text=PlainTextObject(text=text),
                action_id=f"{REASON_PREFIX}{code}",
                value=str(ask_id),
            )
            for code, text in REASONS.items()
        ],
    )
    return [question, buttons]


def fallback_text(mrkdwn: str, limit: int = FALLBACK_LIMIT) -> str:
    """The message `text` (notifications, screen readers): the start of the answer."""
    pieces = split_text(mrkdwn, limit=limit)
    if not pieces:
        return " "
    return pieces[0] + (" …" if len(pieces) > 1 else "")


def answer_fallback(answer: Answer) -> str:
    return fallback_text(to_mrkdwn(answer.text))


def help_blocks(
    entries: Sequence[tuple[str, str]],
    *,
    command: str = "/study",
    bot_user_id: str | None = None,
    intro: str | None = None,
) -> list[Block]:
    """How to use the bot: the registered `/study` subcommands, mentions and DMs.

    `entries` are (usage, summary) pairs from the command routing table, so help lists exactly
    the subcommands that exist.
    """
    me = f"<@{bot_user_id}>" if bot_user_id else "@studybot"
    lines = [
        f"• `{escape(f'{command} {usage}')}` — {escape(summary)}" for usage, summary in entries
    ]
    lines += [
        f"• Mention me in a channel: {me} `your question` — I answer in a thread everyone can "
        "see; reply there within a few minutes for a follow-up, or mention me again.",
        "• Or send me a direct message, or open me in Slack's AI assistant panel.",
    ]
    texts = ([intro] if intro else []) + ["\n".join(lines)]
    header = [header_block("How to use studybot")]
    return fit_blocks(texts, header=header)


def help_text(command: str = "/study") -> str:
    return f"Type `{command} help` to see what I can do."


def error_blocks(text: str) -> list[Block]:
    """One short line for a problem the user should know about (plain text in, escaped here)."""
    return fit_blocks([f"⚠️ {escape(text)}"])


def blocks_to_dicts(blocks: Sequence[Block]) -> list[dict]:
    """`to_dict()` runs slack_sdk's validation (limits, required fields) and raises on a fault."""
    return [b.to_dict() for b in blocks]
