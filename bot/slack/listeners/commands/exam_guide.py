"""`/study exam-guide [mla-c01|mls-c01]`: the exam this channel studies for.

Without an argument it shows the channel's exam and the choices; with one it switches the
channel (answers, quizzes, the question of the day, mock exams and stats then use that exam's
blueprint) and says so in the channel. The service keeps the choice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.channel_exams import UnknownExam, exam_code
from bot.records import RecordsUnavailable
from bot.slack.asking import RECORDS_DOWN
from bot.slack.commands import AckReply, CommandRequest, Subcommand

if TYPE_CHECKING:
    from bot.slack.deps import SlackDeps
    from knowledge.blueprint import Blueprint

log = logging.getLogger(__name__)

SWITCHED = "📘 <@{user}> switched this channel to {exam}. {facts}"
CURRENT = "📘 This channel studies for {exam}. {facts}\n{choices}"


def describe(blueprint: Blueprint) -> str:
    """'*AWS Certified … (MLA-C01)*' with its retirement when AWS retired it."""
    retired = f" (retired {blueprint.retired})" if blueprint.retired else ""
    return f"*{blueprint.name} ({exam_code(blueprint)})*{retired}"


def facts(blueprint: Blueprint) -> str:
    """The exam's format in one line, and its domains."""
    e = blueprint.exam
    domains = "; ".join(f"{d.id} {d.name} ({d.weight:g} %)" for d in blueprint.domains)
    return (
        f"{e.questions} questions in {e.minutes} minutes, pass at {e.passing_score} "
        f"({e.scale.min}–{e.scale.max}). Domains: {domains}."
    )


def choices(installed: list[Blueprint], current: Blueprint) -> str:
    lines = [
        f"• `/study exam-guide {b.id}`: {describe(b)}" for b in installed if b.id != current.id
    ]
    return "Switch with:\n" + "\n".join(lines) if lines else ""


def _exam_guide_ack(req: CommandRequest, deps: SlackDeps) -> AckReply:
    service = deps.service
    try:
        if not req.args.strip():
            current = service.channel_exams.of(req.channel_id)
            text = CURRENT.format(
                exam=describe(current),
                facts=facts(current),
                choices=choices(service.installed, current),
            )
            return {"response_type": "ephemeral", "text": text.strip()}
        chosen = service.choose_exam(req.channel_id, req.args.split()[0], req.user_id)
    except UnknownExam as e:
        return {"response_type": "ephemeral", "text": str(e)}
    except RecordsUnavailable as e:
        log.error("Request %s: records unavailable: %s", req.request_id, e)
        return {"response_type": "ephemeral", "text": RECORDS_DOWN}
    log.info("Request %s: channel %s now studies %s", req.request_id, req.channel_id, chosen.id)
    text = SWITCHED.format(user=req.user_id, exam=describe(chosen), facts=facts(chosen))
    return {"response_type": "in_channel", "text": text}


EXAM_GUIDE = Subcommand(
    "exam-guide",
    "exam-guide [mla-c01|mls-c01]",
    "The exam this channel studies for; name one to switch (answers, quizzes, stats follow).",
    _exam_guide_ack,
)
