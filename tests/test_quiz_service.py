"""QuizService on SQLite and PostgreSQL: posts, grading exactly once, FSRS, exams, daily.

The bank here is synthetic (the generators have their own tests); the clock is frozen and moved
by hand; the rng is seeded; FSRS fuzzing is off, so intervals are exact.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from fsrs import Scheduler

from bot import quiz_bank
from bot.quiz_service import QuizError, QuizService, scaled_score
from bot.records import QuizAttempt, QuizPost, Records, Review
from bot.selection import tilted_weights
from knowledge.blueprint import load_blueprint
from knowledge.question import Question
from tests.stats_check import chi_square, p_value_df3

BLUEPRINT = load_blueprint("mls-c01")
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
]


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'quiz.db'}"


class FrozenClock:
    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


class EmptyStore:
    """A store with nothing ingested: gap fills find no material."""

    def exists(self) -> bool:
        return False

    def count(self) -> int:
        return 0

    def generation(self) -> int:
        return 0

    def iter_all(self):
        return iter(())


def synthetic_question(domain: int, i: int, multi: bool = False) -> Question:
    objective = BLUEPRINT.domain(domain).objectives[0].id
    tag = f"{WORDS[i % len(WORDS)]}{domain}x{i}"
    if multi:
        options = [f"opt{tag}{k}" for k in range(5)]
        correct = [1, 3]
    else:
        options = [f"opt{tag}{k}" for k in range(4)]
        correct = [0]
    return Question(
        stem=f"Which option describes {tag} in domain {domain}?",
        options=options,
        correct=correct,
        explanation=f"Because {options[correct[0]]} is {tag}.",
        chunk_ids=[f"chunk-{tag}"],
        source=f"notes/{objective}.md",
        title=f"Title {tag}",
        domain=domain,
        objective=objective,
        format="multi" if multi else "single",
        choose=2 if multi else 1,
        generator="offline:synthetic",
    )


def fill_synthetic(records: Records, per_domain: int, multi_every: int = 0) -> None:
    qs = [
        synthetic_question(d.id, i, multi=bool(multi_every) and i % multi_every == 0)
        for d in BLUEPRINT.domains
        for i in range(per_domain)
    ]
    assert quiz_bank.insert_questions(records, qs, BLUEPRINT.id, START) == len(qs)
    assert quiz_bank.insert_questions(records, qs, BLUEPRINT.id, START) == 0  # fingerprints


def make_service(settings, records, clock, seed: int = 42, store=None) -> QuizService:
    return QuizService(
        settings,
        records,
        BLUEPRINT,
        store=store or EmptyStore(),
        clock=clock,
        rng=random.Random(seed),
        scheduler=Scheduler(enable_fuzzing=False),
    )


def _records(url: str) -> Records:
    r = Records.from_url(url)
    r.upgrade()
    return r


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def records(db_url) -> Iterator[Records]:
    r = _records(db_url)
    yield r
    r.close()


@pytest.fixture
def quiz(settings, records, clock) -> QuizService:
    fill_synthetic(records, per_domain=6, multi_every=3)
    return make_service(settings, records, clock)


def right_choices(quiz: QuizService, token: str) -> list[int]:
    row = quiz_bank.get_question(quiz.records, quiz.shown(token).question.question_id)
    return list(row.correct)


def wrong_choices(quiz: QuizService, token: str) -> list[int]:
    shown = quiz.shown(token).question
    right = set(right_choices(quiz, token))
    return [i for i in range(len(shown.options)) if i not in right][: shown.choose]


def count_rows(records: Records, model, **where) -> int:
    stmt = sa.select(sa.func.count()).select_from(model)
    for column, value in where.items():
        stmt = stmt.where(getattr(model, column) == value)
    with records.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


# --------------------------------------------------------------------------- on demand


def test_next_question_then_answers_grade_and_count_the_streak(quiz, clock):
    shown = quiz.next_question("U1", "C1")
    assert shown.kind == "ondemand" and shown.user_id == "U1" and shown.channel_id == "C1"
    assert len(shown.token) == 16 and shown.exam is None and not shown.review
    q = shown.question
    assert q.choose in (1, 2) and len(q.options) == (4 if q.choose == 1 else 5)
    assert q.domain.objective.startswith(f"{q.domain.id}.1 ")
    streak = 0
    for n in range(4):
        shown = quiz.next_question("U1", "C1") if n else shown
        good = n != 2
        choices = right_choices(quiz, shown.token) if good else wrong_choices(quiz, shown.token)
        grade = quiz.answer(shown.token, "U1", choices)
        streak = streak + 1 if good else 0
        assert grade.correct is good and grade.streak == streak
        assert grade.chosen == sorted(choices) and grade.answer == right_choices(quiz, shown.token)
        assert grade.explanation.startswith("Because") and grade.source.startswith("notes/")
        assert grade.domain == shown.question.domain and not grade.already_answered
        clock.advance(minutes=5)


def test_a_repeat_returns_the_first_verdict(quiz):
    shown = quiz.next_question("U1", "C1")
    first = quiz.answer(shown.token, "U1", wrong_choices(quiz, shown.token))
    again = quiz.answer(shown.token, "U1", right_choices(quiz, shown.token))
    assert not first.correct and not first.already_answered
    assert again.already_answered and not again.correct and again.chosen == first.chosen
    assert count_rows(quiz.records, QuizAttempt) == 1


def test_refusals_unknown_tampered_expired_not_yours_invalid(quiz, clock):
    shown = quiz.next_question("U1", "C1")
    token = shown.token
    tampered = ("A" if token[0] != "A" else "B") + token[1:]
    for bad in ["nope", tampered, token + "x" * 20, "", "'; DROP TABLE quiz_posts; --", None, 7]:
        with pytest.raises(QuizError) as err:
            quiz.answer(bad, "U1", [0])
        assert err.value.code == "unknown" and "can't find" in str(err.value)
    with pytest.raises(QuizError) as err:
        quiz.answer(token, "U2", [0])
    assert err.value.code == "not_yours"
    assert str(err.value) == "This question belongs to <@U1>; try /study quiz for your own."
    n = len(shown.question.options)
    bad_choices = [[], [n], [-1], [0, 0] if shown.question.choose == 2 else [0, 1], ["0"], [True]]
    bad_choices.append([0, 1, 2])
    for bad in bad_choices:
        with pytest.raises(QuizError) as err:
            quiz.answer(token, "U1", bad)
        assert err.value.code == "invalid_choice", bad
    assert count_rows(quiz.records, QuizAttempt) == 0
    clock.advance(hours=24)
    with pytest.raises(QuizError) as err:
        quiz.answer(token, "U1", right_choices(quiz, token))
    assert err.value.code == "expired" and "expired" in str(err.value)


def test_an_answered_question_still_shows_its_grade_after_expiry(quiz, clock):
    shown = quiz.next_question("U1", "C1")
    quiz.answer(shown.token, "U1", right_choices(quiz, shown.token))
    clock.advance(days=3)
    grade = quiz.answer(shown.token, "U1", right_choices(quiz, shown.token))
    assert grade.already_answered and grade.correct


def test_domain_filter_and_invalid_domain(quiz):
    assert {quiz.next_question("U1", "C1", domain=3).question.domain.id for _ in range(4)} == {3}
    assert quiz.next_question("U1", "C1", domain="modeling").question.domain.id == 3
    assert quiz.next_question("U1", "C1", domain="2").question.domain.id == 2
    for bad in (9, "astrology"):
        with pytest.raises(QuizError) as err:
            quiz.next_question("U1", "C1", domain=bad)
        assert err.value.code == "invalid_domain" and "1 Data Engineering" in str(err.value)


def test_no_repeat_within_7_days_then_no_questions(quiz, clock):
    seen = []
    for _ in range(6):  # domain 1 has 6 questions
        shown = quiz.next_question("U1", "C1", domain=1)
        seen.append(shown.question.question_id)
        clock.advance(hours=20)
    assert len(set(seen)) == 6
    with pytest.raises(QuizError) as err:
        quiz.next_question("U1", "C1", domain=1)
    assert err.value.code == "no_questions" and "last 7 days" in str(err.value)
    # another learner is not affected
    assert quiz.next_question("U2", "C1", domain=1).question.domain.id == 1
    clock.advance(days=3)  # the first ones are now more than 7 days old
    again = quiz.next_question("U1", "C1", domain=1).question.question_id
    assert again in seen[:2]


def test_an_empty_bank_with_no_material_is_a_clear_error(settings, sqlite_url, clock):
    records = _records(sqlite_url)
    quiz = make_service(settings, records, clock)
    for call in (
        lambda: quiz.next_question("U1", "C1"),
        lambda: quiz.start_exam("U1", "D1"),
        lambda: quiz.daily_question("C1"),
        quiz.fill_bank,
    ):
        with pytest.raises(QuizError) as err:
            call()
        assert err.value.code == "no_questions" and "studybot ingest" in str(err.value)
    records.close()


# --------------------------------------------------------------------------- exactly once


def test_exactly_one_attempt_under_50_concurrent_submissions(db_url, quiz):
    shown = quiz.next_question("U1", "C1")
    other_replica = make_service(quiz.settings, _records(db_url), quiz.clock)
    right = right_choices(quiz, shown.token)
    barrier = threading.Barrier(50)
    grades, errors = [], []
    lock = threading.Lock()

    def submit(i: int) -> None:
        service = quiz if i % 2 else other_replica
        barrier.wait()
        try:
            grade = service.answer(shown.token, "U1", right)
        except Exception as exc:  # noqa: BLE001 - reported below
            with lock:
                errors.append(exc)
            return
        with lock:
            grades.append(grade)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other_replica.records.close()
    assert not errors, errors[:3]
    assert len(grades) == 50 and all(g.correct for g in grades)
    assert sum(not g.already_answered for g in grades) == 1
    assert count_rows(quiz.records, QuizAttempt) == 1
    with quiz.records.engine.connect() as conn:
        reps = conn.execute(sa.select(Review.reps)).scalars().all()
    assert reps == [1]  # the card moved once


def test_daily_post_records_each_person_once_under_concurrency(db_url, quiz):
    shown = quiz.daily_question("C9")
    assert shown.kind == "daily" and shown.user_id is None
    right = right_choices(quiz, shown.token)
    wrong = wrong_choices(quiz, shown.token)
    barrier = threading.Barrier(50)
    errors = []

    def submit(i: int) -> None:
        barrier.wait()
        try:  # 10 people, each clicking 5 times; people 0-3 get it wrong
            quiz.answer(shown.token, f"U{i % 10}", wrong if i % 10 < 4 else right)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert count_rows(quiz.records, QuizAttempt) == 10
    recap = quiz.daily_recap(shown.token)
    assert recap.answered == 10 and recap.share_correct == pytest.approx(0.6)
    assert recap.stem == shown.question.stem
    assert recap.answer_text == "; ".join(shown.question.options[i] for i in right)
    with quiz.records.engine.connect() as conn:
        post_id = conn.execute(sa.select(QuizPost.id)).scalar_one()
    assert quiz.daily_recap(post_id) == recap


# --------------------------------------------------------------------------- daily


def test_daily_question_is_not_repeated_within_30_days(quiz, clock):
    ids = []
    for _ in range(24):  # the bank holds 24 questions
        shown = quiz.daily_question("C1")
        ids.append(shown.question.question_id)
        quiz.set_message_ts(shown.token, f"17000000{len(ids):02d}.000100")
        clock.advance(days=1)
    assert len(set(ids)) == 24
    # all 24 within 30 days: the one posted longest ago comes back
    assert quiz.daily_question("C1").question.question_id == ids[0]
    assert quiz.daily_question("C2").question.question_id  # another channel: fresh
    with quiz.records.engine.connect() as conn:
        assert conn.execute(sa.select(QuizPost.message_ts).where(QuizPost.id == 1)).scalar_one()
    with pytest.raises(QuizError):
        quiz.set_message_ts("unknown-token-x", "1.2")
    with pytest.raises(QuizError):
        quiz.daily_recap("unknown-token-x")


def test_daily_recap_with_no_answers(quiz):
    shown = quiz.daily_question("C1")
    recap = quiz.daily_recap(shown.token)
    assert recap.answered == 0 and recap.share_correct == 0.0


# --------------------------------------------------------------------------- exams


def test_scaled_score():
    assert scaled_score(0, 15, 100, 1000) == 100
    assert scaled_score(15, 15, 100, 1000) == 1000
    assert scaled_score(11, 15, 100, 1000) == 760  # 100 + 900 * 11/15 = 760
    assert scaled_score(3, 5, 100, 1000) == 640
    assert scaled_score(0, 0, 100, 1000) == 100


def test_mock_exam_runs_to_a_scaled_score(quiz, clock):
    shown = quiz.start_exam("U1", "D1", n=15)
    assert shown.kind == "exam" and shown.exam.position == 1 and shown.exam.total == 15
    exam_id = shown.exam.exam_id
    domains, seen = Counter(), set()
    right_answers = 0
    n = 0
    while shown is not None:
        n += 1
        assert (shown.exam.exam_id, shown.exam.position, shown.exam.total) == (exam_id, n, 15)
        q = shown.question
        assert q.question_id not in seen
        seen.add(q.question_id)
        domains[q.domain.id] += 1
        good = n % 4 != 0  # every 4th is wrong: 12 of 15 right
        right_answers += good
        choices = right_choices(quiz, shown.token) if good else wrong_choices(quiz, shown.token)
        grade = quiz.answer(shown.token, "U1", choices)
        assert grade.exam.position == n and grade.correct is good
        if n < 15:
            assert grade.next is not None and grade.exam_result is None
            # a double click on an exam question gives the same next question, not a new one
            repeat = quiz.answer(shown.token, "U1", choices)
            assert repeat.already_answered and repeat.next.token == grade.next.token
        else:
            assert grade.next is None and grade.exam_result is not None
            result = grade.exam_result
        shown = grade.next
        clock.advance(minutes=2)
    assert domains == {1: 3, 2: 4, 3: 5, 4: 3}  # 20/24/36/20 % of 15, largest remainder
    assert (result.answered, result.correct) == (15, 12)
    assert result.scaled_score == 100 + round(900 * 12 / 15) == 820
    assert result.passing_score == 750 and result.passed
    assert sum(t for _, t in result.per_domain.values()) == 15
    assert sum(r for r, _ in result.per_domain.values()) == 12
    with quiz.records.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT scaled_score, finished_at FROM exams")).one()
    assert row[0] == 820 and row[1] is not None
    # the last answer, repeated, still carries the result
    token = quiz_last_token(quiz, exam_id)
    last = quiz.answer(token, "U1", right_choices(quiz, token))
    assert last.already_answered and last.exam_result == result


def quiz_last_token(quiz: QuizService, exam_id: int) -> str:
    with quiz.records.engine.connect() as conn:
        return conn.execute(
            sa.select(QuizPost.token)
            .where(QuizPost.exam_id == exam_id)
            .order_by(QuizPost.id.desc())
            .limit(1)
        ).scalar_one()


def test_exam_is_only_for_its_candidate_and_clamps_its_length(quiz):
    shown = quiz.start_exam("U1", "D1", n=3)
    assert shown.exam.total == 3
    with pytest.raises(QuizError) as err:
        quiz.answer(shown.token, "U2", [0])
    assert err.value.code == "not_yours"
    assert quiz.start_exam("U1", "D1", n=0).exam.total == 1
    assert quiz.start_exam("U1", "D1", n=500).exam.total == 24  # whole bank (24 < 65)


def test_failing_exam(quiz):
    shown = quiz.start_exam("U1", "D1", n=4)
    while True:
        grade = quiz.answer(shown.token, "U1", wrong_choices(quiz, shown.token))
        if grade.next is None:
            break
        shown = grade.next
    result = grade.exam_result
    assert result.correct == 0 and result.scaled_score == 100 and not result.passed


# --------------------------------------------------------------------------- a simulated month


def test_simulated_month_missed_questions_return_on_schedule_and_tilt_follows_accuracy(
    settings, sqlite_url
):
    """A learner answers 12 questions a day for 30 days (frozen clock, moved by hand).

    They miss every domain-3 question the first time they see it and get it right afterwards;
    everything else they know. Missed questions must come back as due reviews (never before
    their due time), again on later days as the FSRS interval grows, and new questions must lean
    to domain 3 beyond its 36 % blueprint weight.
    """
    records = _records(sqlite_url)
    fill_synthetic(records, per_domain=90)
    clock = FrozenClock()
    quiz = make_service(settings, records, clock, seed=3)
    seen_before: set[int] = set()
    missed_at: dict[int, datetime] = {}
    shown_at: dict[int, list[tuple[datetime, bool]]] = {}
    new_domains: Counter = Counter()
    for _day in range(30):
        day_start = clock.at
        for _ in range(12):
            shown = quiz.next_question("L1", "C1")
            qid = shown.question.question_id
            with records.engine.connect() as conn:
                due = conn.execute(
                    sa.select(Review.due_at).where(
                        Review.user_id == "L1", Review.question_id == qid
                    )
                ).scalar_one_or_none()
            if shown.review:
                assert due is not None and due <= clock.at  # never before it is due
            else:
                assert qid not in seen_before or all(
                    clock.at - at >= timedelta(days=7) for at, _ in shown_at[qid]
                )
                if qid not in seen_before:
                    new_domains[shown.question.domain.id] += 1
            shown_at.setdefault(qid, []).append((clock.at, shown.review))
            miss = shown.question.domain.id == 3 and qid not in seen_before
            choices = wrong_choices(quiz, shown.token) if miss else right_choices(quiz, shown.token)
            grade = quiz.answer(shown.token, "L1", choices)
            assert grade.correct is not miss
            if miss:
                missed_at[qid] = clock.at
            seen_before.add(qid)
            clock.advance(minutes=15)
        clock.at = day_start + timedelta(days=1)

    assert len(missed_at) >= 30
    # every question missed before the last week came back as a review, more than once
    for qid, at in missed_at.items():
        if at > START + timedelta(days=22):
            continue
        reviews = [t for t, review in shown_at[qid] if review and t > at]
        assert len(reviews) >= 2, (qid, at, shown_at[qid])
        assert reviews[0] - at <= timedelta(days=1)  # relearning step: the next session
        assert any(t.date() > at.date() for t in reviews)  # and again on a later day
    # new questions lean to the weak domain (36 % by the blueprint alone)
    share3 = new_domains[3] / sum(new_domains.values())
    assert share3 > 0.45, new_domains
    # ... as the formula says for this learner's accuracy
    history = {d: (40, 40) for d in (1, 2, 4)} | {3: (20, 40)}
    assert tilted_weights(BLUEPRINT.weights, history)[3] > 0.8
    records.close()


@pytest.mark.parametrize("answers", ["none", "all right"])
def test_200_draws_for_a_new_learner_follow_the_exam_weights(settings, sqlite_url, answers):
    """A new learner asks 200 times, one question a minute, and answers as ``answers`` says.

    Due reviews come first (a right answer returns within 10 minutes, a wrong one within 1),
    yet the domains of everything shown follow the blueprint's 20/24/36/20 %: Pearson's
    chi-square does not reject at alpha = 0.01 (seeded, so deterministic).
    """
    records = _records(sqlite_url)
    fill_synthetic(records, per_domain=100)
    clock = FrozenClock()
    quiz = make_service(settings, records, clock, seed=11)
    shown: Counter = Counter()
    for _ in range(200):
        q = quiz.next_question("newbie", "C1")
        shown[q.question.domain.id] += 1
        if answers == "all right":
            quiz.answer(q.token, "newbie", right_choices(quiz, q.token))
        clock.advance(minutes=1)
    assert p_value_df3(chi_square(shown, BLUEPRINT.weights)) > 0.01, shown
    records.close()


def test_25_draws_from_a_small_bank_come_out_near_5_6_9_5(settings, sqlite_url):
    """The issue's case: a bank of 12/12/20/16, one new learner, 25 questions answered."""
    records = _records(sqlite_url)
    qs = [
        synthetic_question(d, i) for d, k in ((1, 12), (2, 12), (3, 20), (4, 16)) for i in range(k)
    ]
    quiz_bank.insert_questions(records, qs, BLUEPRINT.id, START)
    clock = FrozenClock()
    quiz = make_service(settings, records, clock, seed=5)
    shown: Counter = Counter()
    for _ in range(25):
        q = quiz.next_question("newbie", "C1")
        shown[q.question.domain.id] += 1
        quiz.answer(q.token, "newbie", right_choices(quiz, q.token))
        clock.advance(minutes=1)
    expected = {1: 5, 2: 6, 3: 9, 4: 5}
    assert all(abs(shown[d] - k) <= 1 for d, k in expected.items()), shown
    records.close()


def test_streak_counts_across_kinds_and_resets_on_a_miss(quiz):
    daily = quiz.daily_question("C1")
    assert quiz.answer(daily.token, "U1", right_choices(quiz, daily.token)).streak == 1
    shown = quiz.next_question("U1", "C1")
    assert quiz.answer(shown.token, "U1", right_choices(quiz, shown.token)).streak == 2
    shown = quiz.next_question("U1", "C1")
    assert quiz.answer(shown.token, "U1", wrong_choices(quiz, shown.token)).streak == 0
    assert quiz.answer(daily.token, "U2", right_choices(quiz, daily.token)).streak == 1


def test_wrong_answer_makes_the_question_due_within_minutes(quiz, clock):
    shown = quiz.next_question("U1", "C1")
    quiz.answer(shown.token, "U1", wrong_choices(quiz, shown.token))
    clock.advance(minutes=2)
    again = quiz.next_question("U1", "C1")
    assert again.review and again.question.question_id == shown.question.question_id
    with quiz.records.engine.connect() as conn:
        card, reps, lapses = conn.execute(sa.select(Review.card, Review.reps, Review.lapses)).one()
    assert (reps, lapses) == (1, 1) and card["card_id"] == shown.question.question_id
    quiz.answer(again.token, "U1", right_choices(quiz, again.token))
    with quiz.records.engine.connect() as conn:
        assert conn.execute(sa.select(Review.reps)).scalar_one() == 2


class StaleStore(EmptyStore):
    """Material that yields no new questions; `generation` says when an ingest changed it."""

    def __init__(self) -> None:
        self.generation_value = 1

    def exists(self) -> bool:
        return True

    def count(self) -> int:
        return 1

    def generation(self) -> int:
        return self.generation_value


def test_a_gap_fill_that_adds_nothing_is_not_retried_until_the_store_changes(
    settings, records, clock, monkeypatch
):
    fill_synthetic(records, per_domain=6, multi_every=3)
    store = StaleStore()
    quiz = make_service(settings, records, clock, store=store)
    fills = []
    monkeypatch.setattr(
        quiz_bank,
        "fill",
        lambda *a, **kw: fills.append(kw["domain"]) or quiz_bank.FillStats(bank_size=24),
    )
    for _ in range(6):
        quiz.next_question("U1", "C1", domain=2)
    with pytest.raises(QuizError) as err:
        quiz.next_question("U1", "C1", domain=2)
    assert err.value.code == "no_questions" and "Domain 2" in str(err.value)
    assert fills == [2]  # domain 2 ran dry once: one fill, which added nothing
    with pytest.raises(QuizError):
        quiz.next_question("U1", "C1", domain=2)
    assert fills == [2]  # not again for the same store
    store.generation_value = 2  # a new ingest
    with pytest.raises(QuizError):
        quiz.next_question("U1", "C1", domain=2)
    assert fills == [2, 2]
