"""Which question comes next: pure functions over plain data (no database, no clock, no I/O).

The quiz service loads a learner's state, calls these, and does the writing. Everything random
draws from the `random.Random` passed in, so a seeded rng and a frozen clock make every choice
reproducible in tests.

On demand, per learner (`pick_next`), in this order:

1. **Due review**: a question whose FSRS card is due (``due_at <= now``); most overdue first.
   A due review already shown to the learner since it fell due, and not answered, is skipped
   for `REVIEW_PENDING` (its post is still open), so asking twice gives two questions.
2. **New question**: one the learner has no card for and was not shown in the last
   `NO_REPEAT` (7 days), from a domain drawn with the blueprint weights tilted toward the
   learner's weak domains::

       p        = correct / total                          overall accuracy (from 10 answers;
                  (correct + A) / (total + A + B)            before that, with a Beta(A, B) prior)
       acc_d    = (correct_d + K·p) / (total_d + K)        a domain's, shrunk toward p
       target_d ∝ blueprint_weight_d × max(0.02, 1 − acc_d)

   With A = B = 2 and K = 4 a learner with no answers has acc_d = 0.5 everywhere, so the
   target is the blueprint exactly; so is it for a learner equally good everywhere, however
   many answers each domain has (acc_d = p): a strong learner is not pushed toward equal
   shares. A domain answered worse than the learner's own average is drawn more: with 9/10
   right elsewhere and 2/10 in domain 3, domain 3 gets 71 % instead of 36 %; one wrong answer
   in a domain moves it from 36 % to 39 %.

   The draw keeps the learner's recent questions on that target: every question shown in the
   last `BALANCE_WINDOW` (due reviews included) counts toward its domain, and a new question is
   drawn among the domains still short of their share, in proportion to the shortfall::

       short_d = max(0, target_d × (shown + 1) − shown_d)

   So 25 questions for a new learner come out 5 / 6 / 9 / 5 (± 1), and a run of reviews in
   one domain (wrong answers come back within minutes) is made up by new questions elsewhere.
   When the drawn domain has no new question left the service fills that gap (generates more)
   and asks again with the domain in ``filled``; a filled domain with nothing new is left out
   of the next draw.
3. **Practice**: a question with a card that is not yet due and was not shown in the last
   7 days, the one due soonest first (so a learner who has seen the whole bank still gets one).

A question shown to the learner within `NO_REPEAT` is never picked again, unless it is a due
review.

Mock exams (`apportion`, `plan_exam`) and the channel's daily question (`pick_daily`) live here
too.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

#: Beta prior on a learner's per-domain accuracy: (correct + A) / (total + A + B).
PRIOR_A = 2.0
PRIOR_B = 2.0
#: A question shown to a learner is not shown again within this window (unless due for review).
NO_REPEAT = timedelta(days=7)
#: Answers older than this do not count toward a learner's domain accuracy.
HISTORY_WINDOW = timedelta(days=90)
#: A channel's daily question is not repeated within this window.
DAILY_NO_REPEAT = timedelta(days=30)
#: A due review shown since it fell due (unanswered: its card did not move) waits this long.
REVIEW_PENDING = timedelta(hours=24)
#: Floor on a tilted weight, so a domain at (nearly) 100 % is still drawn now and then.
MIN_TILT = 0.02
#: Pseudo-answers by which a domain's accuracy is shrunk toward the learner's overall accuracy.
SHRINK = 4.0
#: From this many answers on, the learner's own average is the shrink target (before: smoothed).
OWN_MEAN_AFTER = 10
#: Questions shown within this window count toward keeping the draw on its domain target.
BALANCE_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Candidate:
    """A question in the bank, as selection sees it."""

    question_id: int
    domain: int


@dataclass(frozen=True)
class Card:
    """A learner's spaced-repetition card for one question."""

    question_id: int
    domain: int
    due_at: datetime


@dataclass
class LearnerState:
    """Everything `pick_next` needs to know about one learner (loaded by the service)."""

    bank: Sequence[Candidate]  # every question of the blueprint
    cards: Sequence[Card] = ()  # the learner's review cards
    recent: Collection[int] = frozenset()  # question ids shown to the learner within NO_REPEAT
    history: Mapping[int, tuple[int, int]] = field(default_factory=dict)  # domain -> (right, all)
    last_shown: Mapping[int, datetime] = field(default_factory=dict)  # question id -> latest post
    shown_by_domain: Mapping[int, int] = field(default_factory=dict)  # posts in BALANCE_WINDOW


@dataclass(frozen=True)
class Pick:
    """The decision. ``kind``: review | new | practice | gap (fill ``domain``, ask again) | none."""

    kind: str
    question_id: int | None = None
    domain: int | None = None


def accuracy(correct: int, total: int, a: float = PRIOR_A, b: float = PRIOR_B) -> float:
    """Posterior mean accuracy under a Beta(a, b) prior."""
    return (correct + a) / (total + a + b)


def tilted_weights(
    weights: Mapping[int, float],
    history: Mapping[int, tuple[int, int]],
    a: float = PRIOR_A,
    b: float = PRIOR_B,
) -> dict[int, float]:
    """Blueprint weights × (1 − accuracy), each domain's accuracy shrunk toward the learner's
    overall accuracy; normalised to sum to 1 (see the module docstring)."""
    right_all = sum(r for r, _ in history.values())
    total_all = sum(t for _, t in history.values())
    if total_all >= OWN_MEAN_AFTER:
        overall = right_all / total_all
    else:
        overall = accuracy(right_all, total_all, a, b)
    raw = {}
    for d, w in weights.items():
        right, total = history.get(d, (0, 0))
        acc = (right + SHRINK * overall) / (total + SHRINK)
        raw[d] = w * max(MIN_TILT, 1.0 - acc)
    return _normalise(raw)


def balanced(target: Mapping[int, float], shown: Mapping[int, int]) -> dict[int, float]:
    """Draw weights that keep recent questions on ``target``: each domain's shortfall,
    max(0, target × (shown + 1) − shown_d) (``target`` itself when nothing was shown)."""
    n = sum(shown.get(d, 0) for d in target)
    if n == 0:
        return dict(target)
    short = {d: max(0.0, w * (n + 1) - shown.get(d, 0)) for d, w in target.items()}
    return short if sum(short.values()) > 0 else dict(target)


def draw(weights: Mapping[int, float], rng: random.Random) -> int | None:
    """One key drawn with probability proportional to its weight (None when all are zero)."""
    keys = sorted(k for k, w in weights.items() if w > 0)
    total = sum(weights[k] for k in keys)
    if not keys or total <= 0:
        return None
    x = rng.random() * total
    for k in keys:
        x -= weights[k]
        if x < 0:
            return k
    return keys[-1]


def pick_next(
    state: LearnerState,
    weights: Mapping[int, float],
    now: datetime,
    rng: random.Random,
    *,
    domain: int | None = None,
    filled: Collection[int] = (),
) -> Pick:
    """The learner's next question (see the module docstring for the order and the formula).

    ``weights``: the blueprint's domain weights; ``domain``: only this domain; ``filled``:
    domains whose gap was already filled in this request (not drawn again when still empty).
    """

    def wanted(d: int) -> bool:
        return domain is None or d == domain

    def pending(c: Card) -> bool:  # shown since it fell due, still open, not answered
        shown = state.last_shown.get(c.question_id)
        return shown is not None and shown >= c.due_at and now - shown < REVIEW_PENDING

    due = sorted(
        (c for c in state.cards if wanted(c.domain) and c.due_at <= now and not pending(c)),
        key=lambda c: (c.due_at, c.question_id),
    )
    if due:
        return Pick("review", due[0].question_id, due[0].domain)

    carded = {c.question_id for c in state.cards}
    recent = set(state.recent)
    fresh: dict[int, list[int]] = {}
    for q in state.bank:
        if wanted(q.domain) and q.question_id not in carded and q.question_id not in recent:
            fresh.setdefault(q.domain, []).append(q.question_id)

    domains = [d for d in weights if wanted(d) and (d in fresh or d not in filled)]
    target = tilted_weights(dict(weights), state.history)
    tilt = balanced({d: target[d] for d in domains}, state.shown_by_domain)
    chosen = draw(tilt, rng)
    if chosen is not None:
        if chosen not in fresh:
            return Pick("gap", None, chosen)
        return Pick("new", rng.choice(sorted(fresh[chosen])), chosen)

    practice = sorted(
        (c for c in state.cards if wanted(c.domain) and c.question_id not in recent),
        key=lambda c: (c.due_at, c.question_id),
    )
    if practice:
        return Pick("practice", practice[0].question_id, practice[0].domain)
    return Pick("none", None, domain)


# --------------------------------------------------------------------------- mock exams


def apportion(weights: Mapping[int, float], n: int) -> dict[int, int]:
    """``n`` seats split by weight with the largest-remainder (Hamilton) method.

    Ties on the remainder go to the heavier domain, then the lower id, so the split is stable.
    """
    weights = {k: w for k, w in weights.items() if w > 0}
    if n <= 0 or not weights:
        return {k: 0 for k in weights}
    total = sum(weights.values())
    exact = {k: n * w / total for k, w in weights.items()}
    seats = {k: math.floor(v) for k, v in exact.items()}
    left = n - sum(seats.values())
    order = sorted(weights, key=lambda k: (-(exact[k] - seats[k]), -weights[k], k))
    for k in order[:left]:
        seats[k] += 1
    return seats


def plan_exam(
    available: Mapping[int, Sequence[int]],
    weights: Mapping[int, float],
    n: int,
    rng: random.Random,
) -> list[int]:
    """``n`` distinct question ids spread over domains by weight, in a shuffled order.

    ``available``: domain -> question ids, best first (the service puts unseen ones first).
    A domain with fewer questions than its share gives the shortfall to the others, again by
    weight; fewer than ``n`` questions in all gives a shorter exam.
    """
    pools = {d: list(dict.fromkeys(qs)) for d, qs in available.items() if qs}
    n = min(n, sum(len(qs) for qs in pools.values()))
    quota = {d: 0 for d in pools}
    remaining = n
    while remaining > 0:
        open_domains = {d: weights.get(d, 0.0) for d in pools if quota[d] < len(pools[d])}
        if not any(w > 0 for w in open_domains.values()):  # only unweighted domains are left
            open_domains = {d: 1.0 for d in open_domains}
        share = apportion(open_domains, remaining)
        for d, k in share.items():
            quota[d] += min(k, len(pools[d]) - quota[d])
        remaining = n - sum(quota.values())
    picked = [q for d in sorted(pools) for q in pools[d][: quota[d]]]
    rng.shuffle(picked)
    return picked


# --------------------------------------------------------------------------- daily question


def pick_daily(
    bank: Sequence[Candidate],
    last_posted: Mapping[int, datetime],
    weights: Mapping[int, float],
    now: datetime,
    rng: random.Random,
) -> Pick:
    """A channel's question of the day: not posted there in the last 30 days, domain by weight.

    ``last_posted``: question id -> when the channel last had it. When every question was
    posted within the window, the one posted longest ago comes back (``kind`` "practice");
    ``kind`` "gap" when nothing fresh is left (the service fills the bank and asks again).
    """
    since = now - DAILY_NO_REPEAT
    fresh: dict[int, list[int]] = {}
    for q in bank:
        at = last_posted.get(q.question_id)
        if at is None or at < since:
            fresh.setdefault(q.domain, []).append(q.question_id)
    chosen = draw({d: w for d, w in weights.items() if d in fresh}, rng)
    if chosen is None and fresh:  # fresh questions only in domains the blueprint gives no weight
        chosen = rng.choice(sorted(fresh))
    if chosen is not None:
        return Pick("new", rng.choice(sorted(fresh[chosen])), chosen)
    if bank:
        oldest = min(bank, key=lambda q: (last_posted.get(q.question_id, now), q.question_id))
        return Pick("gap", oldest.question_id, oldest.domain)
    return Pick("gap")


def _normalise(weights: Mapping[int, float]) -> dict[int, float]:
    total = sum(weights.values())
    if total <= 0:
        return {k: 0.0 for k in weights}
    return {k: w / total for k, w in weights.items()}
