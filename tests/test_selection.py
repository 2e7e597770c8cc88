"""bot.selection: pure choices with a seeded rng and a fixed clock."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bot.selection import (
    Candidate,
    Card,
    LearnerState,
    accuracy,
    apportion,
    balanced,
    draw,
    pick_daily,
    pick_next,
    plan_exam,
    tilted_weights,
)
from tests.stats_check import chi_square, p_value_df3

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
WEIGHTS = {1: 0.20, 2: 0.24, 3: 0.36, 4: 0.20}  # MLS-C01


def bank(per_domain: int = 20) -> list[Candidate]:
    return [Candidate(d * 1000 + i, d) for d in WEIGHTS for i in range(per_domain)]


def test_accuracy_prior_keeps_one_answer_from_swinging_it():
    assert accuracy(0, 0) == 0.5
    assert accuracy(0, 1) == pytest.approx(0.4)
    assert accuracy(1, 1) == pytest.approx(0.6)
    assert accuracy(0, 10) == pytest.approx(2 / 14)


def test_without_history_the_tilt_is_the_blueprint():
    assert tilted_weights(WEIGHTS, {}) == pytest.approx(WEIGHTS)


def test_weak_domain_is_drawn_more_than_its_blueprint_weight():
    history = {1: (9, 10), 2: (9, 10), 3: (2, 10), 4: (9, 10)}
    rng = random.Random(7)
    state = LearnerState(bank=bank(), history=history)
    draws = Counter(pick_next(state, WEIGHTS, NOW, rng).domain for _ in range(4000))
    share3 = draws[3] / 4000
    expected = tilted_weights(WEIGHTS, history)[3]
    assert expected > 0.6 > WEIGHTS[3]
    assert share3 == pytest.approx(expected, abs=0.03)
    # equally strong domains keep their blueprint ratio (1 : 1.2 : 1)
    assert draws[2] / draws[1] == pytest.approx(1.2, rel=0.25)


def test_one_wrong_answer_only_nudges_the_draw():
    tilted = tilted_weights(WEIGHTS, {3: (0, 1)})
    assert WEIGHTS[3] < tilted[3] < WEIGHTS[3] + 0.06


def test_due_reviews_come_first_most_overdue_first():
    cards = [
        Card(1001, 1, NOW - timedelta(hours=1)),
        Card(3001, 3, NOW - timedelta(days=2)),
        Card(2001, 2, NOW + timedelta(minutes=1)),  # not yet due
    ]
    state = LearnerState(bank=bank(), cards=cards, recent={3001, 1001})
    pick = pick_next(state, WEIGHTS, NOW, random.Random(1))
    assert (pick.kind, pick.question_id) == ("review", 3001)  # recent or not: it is due
    state.cards = cards[:1] + cards[2:]
    assert pick_next(state, WEIGHTS, NOW, random.Random(1)).question_id == 1001
    # the domain filter applies to reviews too
    assert pick_next(state, WEIGHTS, NOW, random.Random(1), domain=2).kind == "new"


def test_new_questions_skip_recent_and_carded_ones_and_honour_the_domain():
    b = bank(3)
    recent = {2000, 2001}
    cards = [Card(2002, 2, NOW + timedelta(days=3))]
    state = LearnerState(bank=b, cards=cards, recent=recent)
    rng = random.Random(3)
    picks = {pick_next(state, WEIGHTS, NOW, rng, domain=4).question_id for _ in range(200)}
    assert picks == {4000, 4001, 4002}
    # domain 2: nothing new; the service fills the gap and asks again
    gap = pick_next(state, WEIGHTS, NOW, rng, domain=2)
    assert (gap.kind, gap.domain) == ("gap", 2)
    # still nothing new after the fill: the card that is not due comes back as practice
    practice = pick_next(state, WEIGHTS, NOW, rng, domain=2, filled={2})
    assert (practice.kind, practice.question_id) == ("practice", 2002)
    # ... unless it was shown within the week too
    state.recent = {2000, 2001, 2002}
    assert pick_next(state, WEIGHTS, NOW, rng, domain=2, filled={2}).kind == "none"


def test_a_filled_empty_domain_is_left_out_of_the_draw():
    b = [c for c in bank(2) if c.domain != 3]
    state = LearnerState(bank=b)
    rng = random.Random(5)
    kinds = Counter(pick_next(state, WEIGHTS, NOW, rng, filled={3}).domain for _ in range(300))
    assert 3 not in kinds and set(kinds) == {1, 2, 4}


def test_draw_is_reproducible_and_skips_zero_weights():
    a = [draw({1: 0.5, 2: 0.0, 3: 0.5}, random.Random(11)) for _ in range(5)]
    b = [draw({1: 0.5, 2: 0.0, 3: 0.5}, random.Random(11)) for _ in range(5)]
    assert a == b and 2 not in a
    assert draw({}, random.Random(1)) is None


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (15, {1: 3, 2: 4, 3: 5, 4: 3}),  # 3, 3.6, 5.4, 3 -> the .6 remainder wins
        (65, {1: 13, 2: 16, 3: 23, 4: 13}),  # 13, 15.6, 23.4, 13
        (1, {1: 0, 2: 0, 3: 1, 4: 0}),
        (10, {1: 2, 2: 2, 3: 4, 4: 2}),
    ],
)
def test_apportion_largest_remainder(n, expected):
    seats = apportion(WEIGHTS, n)
    assert seats == expected and sum(seats.values()) == n


def test_plan_exam_is_distinct_weighted_and_redistributes_shortfalls():
    available = {d: [d * 100 + i for i in range(10)] for d in WEIGHTS}
    ids = plan_exam(available, WEIGHTS, 15, random.Random(2))
    assert len(ids) == len(set(ids)) == 15
    per = Counter(i // 100 for i in ids)
    assert per == {1: 3, 2: 4, 3: 5, 4: 3}
    # domain 3 has only 2 questions: its shortfall goes to the others, still 15 distinct
    available[3] = [300, 301]
    ids = plan_exam(available, WEIGHTS, 15, random.Random(2))
    assert len(set(ids)) == 15 and Counter(i // 100 for i in ids)[3] == 2
    # fewer questions than asked: a shorter exam
    assert len(plan_exam({1: [1, 2], 4: [3]}, WEIGHTS, 15, random.Random(2))) == 3
    # best-first order within a domain is honoured (unseen ones first)
    ids = plan_exam({1: [10, 11, 12, 13, 14]}, {1: 1.0}, 2, random.Random(2))
    assert sorted(ids) == [10, 11]


def test_daily_avoids_the_last_30_days_then_falls_back_to_the_oldest():
    b = bank(2)
    posted = {q.question_id: NOW - timedelta(days=1 + i) for i, q in enumerate(b)}
    # all within 30 days: "gap" with the one posted longest ago as the fallback
    pick = pick_daily(b, posted, WEIGHTS, NOW, random.Random(1))
    assert pick.kind == "gap" and pick.question_id == b[-1].question_id
    posted[b[2].question_id] = NOW - timedelta(days=31)
    pick = pick_daily(b, posted, WEIGHTS, NOW, random.Random(1))
    assert (pick.kind, pick.question_id) == ("new", b[2].question_id)
    assert pick_daily([], {}, WEIGHTS, NOW, random.Random(1)).question_id is None


def test_daily_follows_the_blueprint_weights():
    rng = random.Random(9)
    draws = Counter(pick_daily(bank(), {}, WEIGHTS, NOW, rng).domain for _ in range(4000))
    for d, w in WEIGHTS.items():
        assert draws[d] / 4000 == pytest.approx(w, abs=0.03)


def test_a_due_review_already_shown_and_unanswered_is_not_shown_twice():
    cards = [Card(1001, 1, NOW - timedelta(hours=2)), Card(1002, 1, NOW - timedelta(hours=1))]
    state = LearnerState(bank=bank(3), cards=cards)
    assert pick_next(state, WEIGHTS, NOW, random.Random(1)).question_id == 1001
    state.last_shown = {1001: NOW - timedelta(minutes=1)}  # posted, not answered yet
    assert pick_next(state, WEIGHTS, NOW, random.Random(1)).question_id == 1002
    # a day later the open post has expired: the review is offered again
    later = NOW + timedelta(hours=24)
    assert pick_next(state, WEIGHTS, later, random.Random(1)).question_id == 1001
    # shown before it fell due (and answered since: the card moved): due again now
    state.last_shown = {1001: NOW - timedelta(hours=3)}
    assert pick_next(state, WEIGHTS, NOW, random.Random(1)).question_id == 1001


# --------------------------------------------------------------------------- balance

ALPHA = 0.01  # significance level of the goodness-of-fit tests below


def test_chi_square_helper_matches_known_critical_values():
    assert p_value_df3(11.345) == pytest.approx(0.01, abs=2e-4)  # chi2(3) critical values
    assert p_value_df3(7.815) == pytest.approx(0.05, abs=2e-4)
    assert chi_square({1: 20, 2: 24, 3: 36, 4: 20}, WEIGHTS) == pytest.approx(0.0)


def test_balanced_draw_fills_the_shortfall():
    assert balanced(WEIGHTS, {}) == WEIGHTS
    # 10 shown, all in domain 3: the next draws go to the domains short of their share
    weights = balanced(WEIGHTS, {3: 10})
    assert weights[3] == 0 and weights[1] > 0 and weights[2] > weights[1]
    # exactly on target: every domain may come next, by its weight
    on_target = balanced(WEIGHTS, {1: 5, 2: 6, 3: 9, 4: 5})
    assert all(w > 0 for w in on_target.values())


def test_equal_accuracy_everywhere_leaves_the_blueprint_weights():
    # a strong learner with many answers in one domain is not pushed toward equal shares
    history = {1: (18, 20), 2: (27, 30), 3: (45, 50), 4: (9, 10)}
    assert tilted_weights(WEIGHTS, history) == pytest.approx(WEIGHTS, abs=1e-9)


def test_200_draws_for_a_new_learner_follow_the_exam_weights():
    """A new learner asks 200 times (no answers yet): the domains follow 20/24/36/20 %.

    Pearson's chi-square against the blueprint shares must not reject at alpha = 0.01, and
    every domain stays within one question of its share (the draw fills the shortfall).
    """
    rng = random.Random(2026)
    state = LearnerState(bank=bank(per_domain=80))
    shown: Counter = Counter()
    for _ in range(200):
        pick = pick_next(state, WEIGHTS, NOW, rng)
        assert pick.kind == "new"
        shown[pick.domain] += 1
        state.recent = {*state.recent, pick.question_id}
        state.shown_by_domain = dict(shown)
    assert p_value_df3(chi_square(shown, WEIGHTS)) > ALPHA, shown
    for d, w in WEIGHTS.items():
        assert abs(shown[d] - 200 * w) <= 1, shown
