"""The one core API every front end (Slack, terminal, scheduler) calls. Imports no Slack.

Front ends translate; everything they do with the study material and the records goes through
`StudyService`:

- asking: `claim_delivery` (a message is answered once across replicas), `claim_command` (a
  replayed slash command runs once), `is_bot_thread`,
  `is_follow_up`, `ask_and_record` (answer, then record the ask; `on_draft` sees an LLM reply
  as it is written), `answer_posted` (link the ask to the message and remember the thread for
  follow-ups), `recorded_answer` (to share it), `record_feedback`, `feedback_reason`; `ask`
  answers without recording;
- quiz: `next_question`, `answer_question`, `quiz_result`, `start_exam`, `set_message_ts`,
  `shown_question`, `daily_question`, `daily_recap`, `fill_bank`;
- stats: `channel_stats`, `learner_rows`, `export_csv` (team leads), `learner_progress`,
  `leaderboard`;
- schedules: the question of the day (`daily_schedule`, `save_daily_schedule`,
  `disable_daily`), review reminders (`reminder`, `save_reminder`, `disable_reminder`) and
  weekly leaderboards (`leaderboard_setting`, `save_leaderboard`, `disable_leaderboard`);
- operations: `readiness` (what `GET /readyz` reports), `warm_up` (before serving).

Questions, answers by mode, LLM fallbacks, duplicates and quiz answers are counted here for
`GET /metrics` (`bot.metrics`), whichever front end they came from.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from bot import metrics
from bot.channel_exams import ChannelExams
from bot.daily import DailyStore, Schedule
from bot.leaderboard import LeaderboardSetting, LeaderboardStore, Standings, standings
from bot.quiz_bank import FillStats
from bot.quiz_posts import post_blueprint
from bot.quiz_service import (
    EXAM_QUESTIONS,
    DailyRecap,
    Grade,
    QuizError,
    QuizService,
    ShownQuestion,
)
from bot.records import RecordedAsk, Records, RecordsUnavailable
from bot.reminders import ReminderSetting, ReminderStore
from bot.stats import DEFAULT_PERIOD, ChannelStats, LearnerProgress, StudyStats
from knowledge.answer import AnswerGenerator
from knowledge.blueprint import Blueprint, installed_blueprints, load_blueprint
from knowledge.drafts import DraftFn, DraftingChatModel
from knowledge.retrieve import Retriever
from knowledge.settings import Settings
from knowledge.store import StoreError
from knowledge.text import strip_controls
from knowledge.types import Answer

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000
TOP_K = 5
# A reply in a thread without a mention is a follow-up only from the person the bot last
# answered there, and only this soon after that answer.
FOLLOW_UP_WINDOW = timedelta(minutes=10)
WARM_UP_QUESTION = "What does the study material cover?"
LONG_QUESTION_NOTE = "Your question was long, so I answered its first {n:,} characters."


class EmptyQuestion(ValueError):
    """The question had no text."""


@dataclass(frozen=True)
class Readiness:
    """What `GET /readyz` reports: each dependency's state, in words safe to show anyone."""

    checks: dict[str, str]  # database | store -> ok | unavailable | empty

    @property
    def ready(self) -> bool:
        return all(state == "ok" for state in self.checks.values())


@dataclass(frozen=True)
class Asked:
    """An answered question and what the records kept of it."""

    answer: Answer
    ask_id: int | None  # None: not recorded (the answer stands, without feedback buttons)
    not_recorded: str | None = None  # why it was not recorded (the records were unavailable)


class StudyService:
    """Facade over knowledge (retrieval, answers), the quiz, the stats and the study records."""

    def __init__(
        self,
        settings: Settings,
        *,
        retriever: Retriever | None = None,
        generator: AnswerGenerator | None = None,
        records: Records | None = None,
        blueprint: Blueprint | None = None,
        quiz: QuizService | None = None,
    ) -> None:
        self.settings = settings
        # The default exam (settings); a channel may choose another one (`choose_exam`).
        self.blueprint = blueprint or load_blueprint(settings.blueprint)
        self._retriever = retriever
        self._generator = generator
        self._records = records
        self._quiz = quiz
        self._per_exam: dict[tuple[str, str], Any] = {}  # (part, blueprint id) -> instance

    @cached_property
    def retriever(self) -> Retriever:
        return self._retriever or Retriever.from_settings(self.settings)

    @cached_property
    def generator(self) -> AnswerGenerator:
        return self._generator or AnswerGenerator.from_settings(self.settings, self.blueprint)

    @cached_property
    def records(self) -> Records:
        if self._records is not None:
            return self._records
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        records = Records.from_url(self.settings.database_url)
        records.upgrade()
        return records

    @cached_property
    def quiz(self) -> QuizService:
        """The quiz core over the same records, store and chat model (offline without a key)."""
        if self._quiz is not None:
            return self._quiz
        return QuizService(
            self.settings,
            self.records,
            self.blueprint,
            store=self.retriever.store,
            chat_model=getattr(self.generator, "chat_model", None),
            embeddings=self.retriever.embeddings,
        )

    @cached_property
    def stats(self) -> StudyStats:
        """Channel stats and learner progress over the same records (and their clock)."""
        return StudyStats(self.records, self.blueprint)

    # -- exams: which blueprint a channel studies for -------------------------------------------

    @cached_property
    def installed(self) -> list[Blueprint]:
        """Every exam this installation serves, the default first."""
        return installed_blueprints(self.blueprint)

    @cached_property
    def channel_exams(self) -> ChannelExams:
        return ChannelExams(self.records, self.installed, self.blueprint)

    def exam_of(self, where: str | None) -> Blueprint:
        """The exam a channel studies for (its choice, else the default). With the records
        down, the default: answers still work."""
        if not where:
            return self.blueprint
        try:
            return self.channel_exams.of(where)
        except RecordsUnavailable as e:
            log.warning("Channel exam of %s unknown, using the default: %s", where, e)
            return self.blueprint

    def choose_exam(self, where: str, exam: str, by: str) -> Blueprint:
        """Switch a channel to another installed exam. UnknownExam lists the choices."""
        return self.channel_exams.choose(where, exam, by)

    def exam_by_id(self, blueprint_id: str | None) -> Blueprint:
        """An installed exam by id (the default for an unknown one)."""
        return self.channel_exams.by_id(blueprint_id)

    def _part(self, part: str, blueprint: Blueprint, make: Any) -> Any:
        key = (part, blueprint.id)
        if key not in self._per_exam:
            self._per_exam[key] = make()
        return self._per_exam[key]

    def generator_for(self, blueprint: Blueprint) -> AnswerGenerator:
        """The answer generator for one exam (the same chat model)."""
        if blueprint.id == self.blueprint.id:
            return self.generator
        return self._part("generator", blueprint, lambda: self.generator.for_blueprint(blueprint))

    def quiz_for(self, blueprint: Blueprint) -> QuizService:
        """The quiz of one exam: its bank, weights and mock exams over the same records."""
        if blueprint.id == self.blueprint.id:
            return self.quiz
        return self._part("quiz", blueprint, lambda: self.quiz.for_blueprint(blueprint))

    def stats_for(self, blueprint: Blueprint) -> StudyStats:
        """Stats and progress counted for one exam."""
        if blueprint.id == self.blueprint.id:
            return self.stats
        return self._part("stats", blueprint, lambda: StudyStats(self.records, blueprint))

    def _quiz_of_post(self, token: str | int) -> QuizService:
        """The quiz of the exam a post's question belongs to."""
        return self.quiz_for(self.exam_by_id(post_blueprint(self.records, token)))

    @cached_property
    def schedules(self) -> DailyStore:
        """The channels' question-of-the-day schedules."""
        return DailyStore(self.records)

    # -- asking --------------------------------------------------------------------------------

    @property
    def drafts_answers(self) -> bool:
        """Whether answers are written by a model (and so can be shown as they are written)."""
        return getattr(self.generator, "chat_model", None) is not None

    def ask(
        self,
        question: str,
        who: str,
        where: str,
        thread: str | None = None,
        *,
        on_draft: DraftFn | None = None,
    ) -> Answer:
        """Answer a question grounded in the material; follow-ups in `thread` keep context.

        `on_draft` receives the model's reply piece by piece as it is written (LLM mode only);
        the returned Answer, after the citation check, is what counts. Records nothing (see
        `ask_and_record`). Raises EmptyQuestion for blank input, StoreError when the store is
        unavailable and RecordsUnavailable when a follow-up's thread cannot be read. Terminal
        escapes and control characters are taken out first.
        """
        question = " ".join(strip_controls(question).split())
        if not question:
            raise EmptyQuestion("Ask a question about the study material.")
        note = None
        if len(question) > MAX_QUESTION_CHARS:
            question = question[:MAX_QUESTION_CHARS]
            note = LONG_QUESTION_NOTE.format(n=MAX_QUESTION_CHARS)
        history = self.records.thread_history(where, thread) if thread else []
        exam = self.exam_of(where)
        query = self.generator.condense(question, history) if history else question
        hits = self.retriever.search(query, k=TOP_K, blueprint=exam.id)
        writer = self._writer(on_draft, self.generator_for(exam))
        answer = writer.answer(question, hits, history, stats=self.retriever.lexical)
        if note:
            answer.note = f"{note} {answer.note}" if answer.note else note
        return answer

    def _writer(self, on_draft: DraftFn | None, generator: AnswerGenerator) -> AnswerGenerator:
        """The answer generator, with its model's reply streamed to `on_draft` when given."""
        if on_draft is None or not self.drafts_answers:
            return generator  # offline answers are not drafted
        writer = copy.copy(generator)
        writer.chat_model = DraftingChatModel(generator.chat_model, on_draft)
        return writer

    def ask_and_record(
        self,
        question: str,
        who: str,
        where: str,
        thread: str | None = None,
        *,
        answer_thread: str | None = None,
        on_draft: DraftFn | None = None,
    ) -> Asked:
        """`ask`, then record the ask (for follow-ups, feedback and stats): what every front end
        does with a question.

        `thread` is the conversation the question continues (its history is read); the ask is
        recorded in `answer_thread` when the answer starts a thread of its own (a channel
        mention is answered under the mention), else in `thread`. Raises what `ask` raises;
        when only the recording fails, the answer comes back with `not_recorded` set.
        """
        started = time.monotonic()
        answer = self.ask(question, who, where, thread, on_draft=on_draft)
        seconds = time.monotonic() - started
        self._count_answer(answer, seconds)
        latency_ms = int(seconds * 1000)
        try:
            ask_id = self.record_ask(
                question,
                answer,
                who,
                where,
                answer_thread if answer_thread is not None else thread,
                latency_ms,
            )
        except RecordsUnavailable as e:
            return Asked(answer, None, str(e))
        return Asked(answer, ask_id)

    def _count_answer(self, answer: Answer, seconds: float) -> None:
        metrics.ANSWERS.labels(answer.mode).inc()
        metrics.ANSWER_SECONDS.labels(answer.mode).observe(seconds)
        if answer.mode == "extractive" and getattr(self.generator, "chat_model", None) is not None:
            metrics.LLM_FALLBACKS.inc()  # a model is configured, yet the answer is extracted

    def record_ask(
        self,
        question: str,
        answer: Answer,
        who: str,
        where: str,
        thread: str | None = None,
        latency_ms: int | None = None,
    ) -> int:
        """Store an answered question (for follow-ups, feedback and stats); returns its id."""
        return self.records.record_ask(
            question,
            answer,
            user_id=who,
            channel_id=where,
            thread_ts=thread,
            latency_ms=latency_ms,
        )

    def answer_posted(self, ask_id: int | None, where: str, message: str, thread: str) -> None:
        """The answer went out as `message` in `thread`: link the ask to it (when it was
        recorded) and remember the thread, so replies there are follow-ups."""
        if ask_id is not None:
            self.records.attach_answer(ask_id, answer_ts=message, thread_ts=thread)
        self.records.remember_thread(where, thread)

    def claim_delivery(self, delivery_id: str | None, where: str, message: str | None) -> bool:
        """True exactly once per delivery id and per message, across processes (retries and
        a second event for the same message get False)."""
        first = self.records.claim_event(delivery_id, where, message)
        if not first:
            metrics.DUPLICATES_DROPPED.labels("event").inc()
        return first

    def claim_command(self, payload: Mapping[str, Any], where: str) -> bool:
        """True the first time a slash command's payload is seen, across processes; a replay of
        the same payload (a resent request) gets False. Kept as long as delivery claims."""
        digest = hashlib.sha256(
            json.dumps(payload, sort_keys=True, default=str).encode("utf-8")
        ).hexdigest()
        first = self.records.claim_event(f"cmd:{digest[:60]}", where, None)
        if not first:
            metrics.DUPLICATES_DROPPED.labels("command").inc()
        return first

    def is_bot_thread(self, where: str, thread: str) -> bool:
        """Whether the bot answered in this thread."""
        return self.records.is_bot_thread(where, thread)

    def is_follow_up(
        self, where: str, thread: str, who: str, *, now: datetime | None = None
    ) -> bool:
        """Whether a reply in `thread` that does not mention the bot is addressed to it: from
        the person the bot last answered there, within FOLLOW_UP_WINDOW of that answer."""
        last = self.records.last_answer_in_thread(where, thread)
        if last is None:
            return False
        asker, answered_at = last
        return asker == who and (now or self.records.now()) - answered_at <= FOLLOW_UP_WINDOW

    def recorded_answer(self, ask_id: int) -> RecordedAsk | None:
        """An answered question as it was shown (to share it), or None."""
        return self.records.recorded_ask(ask_id)

    def record_feedback(self, ask_id: int, who: str, value: int) -> tuple[int, int]:
        """+1 or -1 on an answer; a later click replaces the earlier one. Returns the answer's
        (👍, 👎) counts. ValueError when `value` is neither or there is no such ask."""
        self.records.record_feedback(ask_id, who, value)
        return self.records.feedback_counts(ask_id)

    def feedback_reason(self, ask_id: int, who: str, reason: str) -> bool:
        """Why `who` gave an answer 👎 (wrong | not_helpful | off_topic); False without a 👎."""
        return self.records.feedback_reason(ask_id, who, reason)

    # -- quiz (bot.quiz_service.QuizService) ---------------------------------------------------

    def next_question(
        self,
        who: str,
        where: str,
        domain: int | str | None = None,
        *,
        exam: str | None = None,
    ) -> ShownQuestion:
        """The learner's next question (due review first, else new, leaning to weak domains),
        for the exam of the channel `where`, or the installed exam `exam` (a blueprint id)."""
        blueprint = self.exam_by_id(exam) if exam else self.exam_of(where)
        return self.quiz_for(blueprint).next_question(who, where, domain)

    def answer_question(self, token: str, who: str, choices: Sequence[int]) -> Grade:
        """Grade an answer (0-based option indices); recorded once per person and post."""
        try:
            grade = self._quiz_of_post(token).answer(token, who, choices)
        except QuizError:
            metrics.QUIZ_ANSWERS.labels("refused").inc()
            raise
        result = "repeat" if grade.already_answered else ("correct" if grade.correct else "wrong")
        metrics.QUIZ_ANSWERS.labels(result).inc()
        return grade

    def quiz_result(self, token: str, who: str) -> tuple[ShownQuestion, Grade] | None:
        """A question and `who`'s recorded answer to it (to share it), or None when they have
        not answered it. QuizError("unknown")."""
        quiz = self._quiz_of_post(token)
        grade = quiz.recorded_grade(token, who)
        return (quiz.shown(token), grade) if grade is not None else None

    def start_exam(
        self, who: str, where: str, n: int = EXAM_QUESTIONS, *, exam_of: str | None = None
    ) -> ShownQuestion:
        """A mock exam of ``n`` questions by domain weight, posted in ``where``, for the exam
        of the channel ``exam_of`` (default ``where``); returns the first question."""
        return self.quiz_for(self.exam_of(exam_of or where)).start_exam(who, where, n)

    def set_message_ts(self, token: str, ts: str) -> None:
        """Remember the message a question went out as. QuizError("unknown")."""
        self._quiz_of_post(token).set_message_ts(token, ts)

    def shown_question(self, token: str) -> ShownQuestion:
        """A question as it was shown. QuizError("unknown")."""
        return self._quiz_of_post(token).shown(token)

    def daily_question(self, channel: str) -> ShownQuestion:
        """A question of the day for ``channel`` (anyone there may answer)."""
        return self.quiz_for(self.exam_of(channel)).daily_question(channel)

    def daily_recap(self, token: str) -> DailyRecap:
        """How the channel did on a question of the day."""
        return self._quiz_of_post(token).daily_recap(token)

    def fill_bank(
        self,
        domain: int | str | None = None,
        count: int | None = None,
        exam: Blueprint | None = None,
    ) -> FillStats:
        """Generate questions from the ingested material into the bank of `exam` (default:
        the default exam)."""
        return self.quiz_for(exam or self.blueprint).fill_bank(domain, count)

    # -- stats (bot.stats.StudyStats) ----------------------------------------------------------

    def now(self) -> datetime:
        """The records' time (aware UTC): what periods and dates in stats are relative to."""
        return self.stats.now()

    def channel_stats(
        self, channel: str, period: str = DEFAULT_PERIOD, *, now: datetime | None = None
    ) -> ChannelStats:
        """A channel's figures over a period (for team leads: it names learners)."""
        return self.stats_for(self.exam_of(channel)).channel_stats(channel, period, now=now)

    def learner_rows(
        self, channel: str, period: str = DEFAULT_PERIOD, *, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        """One row per learner active in the channel (the lead's export)."""
        return self.stats_for(self.exam_of(channel)).learner_rows(channel, period, now=now)

    def export_csv(
        self, channel: str, period: str = DEFAULT_PERIOD, *, now: datetime | None = None
    ) -> str:
        """`learner_rows` as CSV text."""
        return self.stats_for(self.exam_of(channel)).export_csv(channel, period, now=now)

    def learner_exam(self, who: str, where: str | None = None) -> Blueprint:
        """The exam a learner's progress is shown for: the channel's, else (no channel, e.g.
        the App Home) the exam of their latest answer, else the default."""
        return self.exam_of(where) if where else self.channel_exams.last_studied(who)

    def learner_progress(
        self, who: str, where: str | None = None, *, now: datetime | None = None
    ) -> LearnerProgress:
        """One learner's progress in one exam (see `learner_exam`), with the readiness
        estimate; another exam's answers do not count."""
        return self.stats_for(self.learner_exam(who, where)).learner_progress(who, now=now)

    # -- question-of-the-day schedules (bot.daily.DailyStore) ----------------------------------

    def daily_schedule(self, channel: str) -> Schedule | None:
        """The channel's schedule (on or off), or None when it never had one."""
        return self.schedules.get(channel)

    def save_daily_schedule(self, schedule: Schedule, by: str) -> None:
        """Turn the question of the day on (or change it) for the schedule's channel."""
        self.schedules.save(schedule, by)

    def disable_daily(self, channel: str) -> bool:
        """Turn a channel's question of the day off; False when it was not on."""
        return self.schedules.disable(channel)

    # -- review reminders (bot.reminders) and weekly leaderboards (bot.leaderboard) -----------

    @cached_property
    def reminders(self) -> ReminderStore:
        return ReminderStore(self.records)

    @cached_property
    def leaderboards(self) -> LeaderboardStore:
        return LeaderboardStore(self.records)

    def reminder(self, who: str) -> ReminderSetting | None:
        """The learner's review reminder (on or off), or None when they never set one."""
        return self.reminders.get(who)

    def save_reminder(self, setting: ReminderSetting) -> None:
        """Turn a learner's review reminder on (or change its time)."""
        self.reminders.save(setting)

    def disable_reminder(self, who: str) -> bool:
        """Turn a learner's review reminder off; False when it was not on."""
        return self.reminders.disable(who)

    def leaderboard_setting(self, channel: str) -> LeaderboardSetting | None:
        return self.leaderboards.get(channel)

    def save_leaderboard(self, setting: LeaderboardSetting) -> None:
        """Turn a channel's weekly leaderboard on (or change its time)."""
        self.leaderboards.save(setting)

    def disable_leaderboard(self, channel: str) -> bool:
        return self.leaderboards.disable(channel)

    def leaderboard(self, channel: str, *, now: datetime | None = None) -> Standings:
        """The channel's standings over the last 7 days (accuracy, minimum answers)."""
        return standings(self.records, channel, now or self.records.now())

    # -- operations ----------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Answer one question nobody sees, so the first real ones do not pay for loading the
        model, building the BM25 index and first-use imports (`studybot serve` calls it)."""
        started = time.monotonic()
        try:
            self.ask(WARM_UP_QUESTION, "warm-up", "warm-up")
        except (EmptyQuestion, StoreError, RecordsUnavailable) as e:
            log.warning("Warm-up skipped: %s", e)
            return
        log.info("Warmed up in %.1f s", time.monotonic() - started)

    def readiness(self) -> Readiness:
        """Whether the records answer and the store holds chunks (details go to the log)."""
        checks = {}
        try:
            self.records.ping()
            checks["database"] = "ok"
        except RecordsUnavailable as e:
            log.warning("Not ready: %s", e)
            checks["database"] = "unavailable"
        try:
            checks["store"] = "ok" if self.retriever.store.count() > 0 else "empty"
        except StoreError as e:
            log.warning("Not ready: %s", e)
            checks["store"] = "unavailable"
        return Readiness(checks)
