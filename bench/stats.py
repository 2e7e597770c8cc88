"""Study stats latency over a synthetic history, on SQLite and PostgreSQL; chart rendering time.

The history (numpy, seeded): 1,000,000 quiz attempts by 10,000 learners in 200 channels over
365 days before a frozen `now`, with their posts (one per on-demand/exam answer, one daily
question per channel and day), 200,000 asks and 100,000 review cards. Channel sizes are skewed
(the largest channel holds about 3 % of the answers: 30,520), learners' activity is log-normal,
15 % of answers happen in DMs, 30 % of channel answers are the question of the day.

Loading: the schema comes from the real migrations (`Records.upgrade()`, indexes included);
SQLite is filled with executemany in one transaction in a temp file; PostgreSQL with COPY in a
temp schema, then VACUUM ANALYZE (what autovacuum does after a bulk load). Both are dropped
afterwards.

Measured, per backend and period (7d, 30d, all): `StudyStats.channel_stats` end to end (all of
its queries) for random channels, p50/p95; the largest channel alone; `learner_progress` for
random learners; the CSV export's `learner_rows`. Targets: channel stats p95 <= 100 ms on
PostgreSQL and <= 300 ms on SQLite. Then `render_stats_chart` (cold first call, then warm).

Run:
    .venv/bin/python bench/stats.py [--attempts 1000000] [--samples 100] [--skip-pg] [--skip-sqlite]

Writes bench/results/stats.json.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import latency_summary, print_table, write_results  # noqa: E402

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DAYS = 365
SEED = 20261125
TARGET_P95_MS = {"postgresql": 100.0, "sqlite": 300.0}
QUESTIONS_PER_OBJECTIVE = 40
BATCH = 50_000


# ------------------------------------------------------------------------------------------
# The synthetic history


class History:
    """Column arrays for every table (numpy), generated once and loaded into both backends."""

    def __init__(self, attempts: int, learners: int, channels: int, asks: int, seed: int) -> None:
        from knowledge.blueprint import load_blueprint

        rng = np.random.default_rng(seed)
        bp = load_blueprint("mls-c01")
        self.learners, self.channels = learners, channels
        self.objectives = [o.id for o in bp.objectives]
        obj_domain = np.array([int(o.split(".")[0]) for o in self.objectives])
        domain_ids = np.array([d.id for d in bp.domains])
        weights = np.array([d.weight for d in bp.domains]) / 100

        # learners: a home channel (skewed sizes), 30 % with a second one, a skill, an activity
        size = 1.0 / np.arange(5, channels + 5) ** 0.8
        home = rng.choice(channels, size=learners, p=size / size.sum())
        second = np.where(rng.random(learners) < 0.3, rng.integers(0, channels, learners), home)
        skill = rng.uniform(0.45, 0.9, learners)
        activity = rng.lognormal(0, 1, learners)
        activity /= activity.sum()

        n = attempts
        user = rng.choice(learners, size=n, p=activity)
        where = rng.random(n)
        in_dm = where >= 0.85
        channel = np.where(where < 0.75, home[user], second[user])
        offset = rng.integers(0, DAYS * 86_400, n)  # seconds before NOW
        offset.sort()
        offset = offset[::-1].copy()  # oldest first: ids grow with time
        day = offset // 86_400
        r = rng.random(n)
        daily = ~in_dm & (r < 0.3)
        exam = in_dm & (r < 0.2)
        daily_post = np.where(daily, 1 + channel * DAYS + day, 0)
        # one answer per (daily post, learner): repeats become on-demand answers
        key = daily_post * learners + user
        _, first = np.unique(np.where(daily, key, -1 - np.arange(n)), return_index=True)
        keep = np.zeros(n, bool)
        keep[first] = True
        daily &= keep
        daily_post = np.where(daily, daily_post, 0)
        domain = rng.choice(domain_ids, size=n, p=weights)
        obj_index = np.empty(n, np.int64)
        for d in domain_ids:
            choices = np.flatnonzero(obj_domain == d)
            mask = domain == d
            obj_index[mask] = rng.choice(choices, size=int(mask.sum()))
        question = 1 + obj_index * QUESTIONS_PER_OBJECTIVE + rng.integers(0, 40, n)
        domain_shift = {1: 0.0, 2: -0.05, 3: -0.1, 4: 0.03}
        shift = np.vectorize(domain_shift.get)(domain)
        correct = rng.random(n) < np.clip(skill[user] + shift, 0.05, 0.98)
        own_posts = n - int(daily.sum())
        post = np.where(daily, daily_post, 0)
        post[~daily] = channels * DAYS + 1 + np.arange(own_posts)

        self.a_user, self.a_channel, self.a_in_dm = user, channel, in_dm
        self.a_offset, self.a_daily, self.a_exam = offset, daily, exam
        self.a_domain, self.a_obj, self.a_question = domain, obj_index, question
        self.a_correct, self.a_post = correct, post
        self.attempts = n

        self.k_user = rng.choice(learners, size=asks, p=activity)
        self.k_channel = np.where(rng.random(asks) < 0.9, home[self.k_user], -1)
        self.k_offset = rng.integers(0, DAYS * 86_400, asks)
        self.asks = asks

        self.rv_user = np.repeat(np.arange(learners), 10)
        bank = len(self.objectives) * QUESTIONS_PER_OBJECTIVE
        self.rv_question = np.concatenate(
            [rng.choice(bank, 10, replace=False) + 1 for _ in range(learners)]
        )
        self.rv_due = rng.integers(-30 * 86_400, 30 * 86_400, learners * 10)

        counts = np.bincount(channel[~in_dm], minlength=channels)
        self.largest_channel = int(counts.argmax())
        self.largest_share = float(counts.max() / n)

    # -- ids and rows

    @staticmethod
    def uid(i: int) -> str:
        return f"U{i:05d}"

    @staticmethod
    def cid(i: int) -> str:
        return f"C{i:04d}"

    def attempt_channel(self, i: int) -> str:
        if self.a_in_dm[i]:
            return "D" + self.uid(int(self.a_user[i]))
        return self.cid(int(self.a_channel[i]))

    def questions(self):
        t = NOW - timedelta(days=DAYS + 1)
        for oi, obj in enumerate(self.objectives):
            for k in range(QUESTIONS_PER_OBJECTIVE):
                qid = 1 + oi * QUESTIONS_PER_OBJECTIVE + k
                yield (
                    qid,
                    f"fp{qid}",
                    "mls-c01",
                    int(obj.split(".")[0]),
                    obj,
                    "single",
                    1,
                    f"Question {qid} on {obj}?",
                    '["a", "b", "c", "d"]',
                    "[0]",
                    "Because.",
                    '["c"]',
                    "notes.md",
                    obj,
                    "offline:bench",
                    t,
                )

    def posts(self):
        """Daily posts (every channel, every day), then one post per other answer."""
        for c in range(self.channels):
            for d in range(DAYS):
                created = (NOW - timedelta(days=int(d))).replace(hour=9, minute=0)
                pid = 1 + c * DAYS + d
                yield (pid, f"t{pid}", 1 + (pid % 600), "daily", self.cid(c), None, created)
        for i in np.flatnonzero(~self.a_daily):
            kind = "exam" if self.a_exam[i] else "ondemand"
            created = NOW - timedelta(seconds=int(self.a_offset[i]))
            pid = int(self.a_post[i])
            yield (
                pid,
                f"t{pid}",
                int(self.a_question[i]),
                kind,
                self.attempt_channel(i),
                self.uid(int(self.a_user[i])),
                created,
            )

    def attempt_rows(self):
        for i in range(self.attempts):
            kind = "daily" if self.a_daily[i] else ("exam" if self.a_exam[i] else "ondemand")
            yield (
                i + 1,
                int(self.a_post[i]),
                int(self.a_question[i]),
                self.uid(int(self.a_user[i])),
                self.attempt_channel(i),
                kind,
                int(self.a_domain[i]),
                self.objectives[int(self.a_obj[i])],
                "[0]",
                bool(self.a_correct[i]),
                NOW - timedelta(seconds=int(self.a_offset[i])),
            )

    def ask_rows(self):
        for i in range(self.asks):
            u = int(self.k_user[i])
            c = int(self.k_channel[i])
            yield (
                i + 1,
                NOW - timedelta(seconds=int(self.k_offset[i])),
                self.uid(u),
                "D" + self.uid(u) if c < 0 else self.cid(c),
                "What is SageMaker?",
                "extractive",
                0.5,
            )

    def review_rows(self):
        last = NOW - timedelta(days=40)
        for i in range(len(self.rv_user)):
            yield (
                self.uid(int(self.rv_user[i])),
                int(self.rv_question[i]),
                "{}",
                NOW + timedelta(seconds=int(self.rv_due[i])),
                last,
                1,
                0,
            )


TABLES = {
    "quiz_questions": (
        "id, fingerprint, blueprint, domain, objective, format, choose, stem, options, correct, "
        "explanation, chunk_ids, source, title, generator, created_at"
    ),
    "quiz_posts": "id, token, question_id, kind, channel_id, user_id, created_at, expires_at",
    "quiz_attempts": (
        "id, post_id, question_id, user_id, channel_id, kind, domain, objective, choices, "
        "correct, created_at"
    ),
    "asks": "id, created_at, user_id, channel_id, question, mode, confidence",
    "reviews": "user_id, question_id, card, due_at, last_review_at, reps, lapses",
}


def _rows(history: History, table: str):
    if table == "quiz_questions":
        return history.questions()
    if table == "quiz_posts":
        return ((*p, p[-1] + timedelta(hours=24)) for p in history.posts())
    if table == "quiz_attempts":
        return history.attempt_rows()
    if table == "asks":
        return history.ask_rows()
    return history.review_rows()


# ------------------------------------------------------------------------------------------
# Loading


def _sqlite_value(v):
    if isinstance(v, datetime):  # what UTCDateTime stores on SQLite: naive UTC text
        return v.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, bool):
        return int(v)
    return v


def load_sqlite(records, history: History) -> dict[str, float]:
    seconds = {}
    raw = records.engine.raw_connection()
    try:
        cur = raw.cursor()
        for table, cols in TABLES.items():
            t0 = time.perf_counter()
            marks = ", ".join("?" for _ in cols.split(","))
            sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
            batch = []
            for row in _rows(history, table):
                batch.append(tuple(_sqlite_value(v) for v in row))
                if len(batch) >= BATCH:
                    cur.executemany(sql, batch)
                    batch.clear()
            if batch:
                cur.executemany(sql, batch)
            seconds[table] = round(time.perf_counter() - t0, 1)
            print(f"  sqlite {table}: {seconds[table]} s", flush=True)
        raw.commit()  # one transaction for everything
    finally:
        raw.close()
    return seconds


def load_pg(records, history: History) -> dict[str, float]:
    seconds = {}
    raw = records.engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur:
            for table, cols in TABLES.items():
                t0 = time.perf_counter()
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in _rows(history, table):
                        copy.write_row(row)
                seconds[table] = round(time.perf_counter() - t0, 1)
                print(f"  postgresql {table}: {seconds[table]} s", flush=True)
            for table in ("quiz_questions", "quiz_posts", "quiz_attempts", "asks"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        conn.commit()
        conn.autocommit = True
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            for table in TABLES:  # this schema's tables only (search_path), not the database
                cur.execute(f"VACUUM ANALYZE {table}")
        seconds["vacuum_analyze"] = round(time.perf_counter() - t0, 1)
        conn.autocommit = False
    finally:
        raw.close()
    return seconds


# ------------------------------------------------------------------------------------------
# Measuring


def measure(stats, history: History, samples: int, rng: random.Random) -> tuple[dict, list]:
    """(latencies, the largest channel's figures per period: the chart's inputs)."""
    out: dict = {"channel_stats": {}, "largest_channel": {}}
    figures_seen = []
    channels = [history.cid(i) for i in range(history.channels)]
    for warm in channels[:3]:
        stats.channel_stats(warm, "30d", now=NOW)
    for period in ("7d", "30d", "all"):
        picks = [rng.choice(channels) for _ in range(samples)]
        times = []
        for c in picks:
            t0 = time.perf_counter()
            stats.channel_stats(c, period, now=NOW)
            times.append(time.perf_counter() - t0)
        out["channel_stats"][period] = latency_summary(times)
        big = history.cid(history.largest_channel)
        big_times = []
        for _ in range(10):
            t0 = time.perf_counter()
            figures = stats.channel_stats(big, period, now=NOW)
            big_times.append(time.perf_counter() - t0)
        out["largest_channel"][period] = {
            **latency_summary(big_times),
            "quiz_answers": figures.quiz_answers,
        }
        figures_seen.append(figures)
    learners = [history.uid(rng.randrange(history.learners)) for _ in range(samples)]
    times = []
    for u in learners:
        t0 = time.perf_counter()
        stats.learner_progress(u, now=NOW)
        times.append(time.perf_counter() - t0)
    out["learner_progress"] = latency_summary(times)
    times = []
    for c in [rng.choice(channels) for _ in range(max(10, samples // 5))]:
        t0 = time.perf_counter()
        stats.learner_rows(c, "30d", now=NOW)
        times.append(time.perf_counter() - t0)
    out["export_rows_30d"] = latency_summary(times)
    return out, figures_seen


def plan(records, history: History) -> str:
    """The database's plan for the main per-domain query on the largest channel (all time)."""
    import sqlalchemy as sa

    channel = history.cid(history.largest_channel)
    sql = (
        "SELECT domain, objective, count(*), sum(CASE WHEN correct THEN 1 ELSE 0 END) "
        f"FROM quiz_attempts WHERE channel_id = '{channel}' GROUP BY domain, objective"
    )
    with records.engine.connect() as conn:
        if records.engine.dialect.name == "sqlite":
            rows = conn.execute(sa.text("EXPLAIN QUERY PLAN " + sql)).all()
            return " | ".join(str(r[-1]) for r in rows)
        rows = conn.execute(sa.text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).all()
        return "\n".join(r[0] for r in rows)


def run_backend(name: str, url: str, history: History, samples: int) -> tuple[dict, list]:
    from bot.records import Records
    from bot.stats import StudyStats
    from knowledge.blueprint import load_blueprint

    print(f"\n== {name}: loading", flush=True)
    records = Records.from_url(url, clock=lambda: NOW)
    try:
        t0 = time.perf_counter()
        records.upgrade()
        loader = load_pg if name == "postgresql" else load_sqlite
        load = loader(records, history)
        load["total"] = round(time.perf_counter() - t0, 1)
        print(f"  loaded in {load['total']} s; measuring", flush=True)
        stats = StudyStats(records, load_blueprint("mls-c01"))
        result, figures = measure(stats, history, samples, random.Random(SEED))
        result["load_seconds"] = load
        result["plan_largest_channel_all"] = plan(records, history)
        p95 = max(v["p95_ms"] for v in result["channel_stats"].values())
        result["target_p95_ms"] = TARGET_P95_MS[name]
        result["worst_period_p95_ms"] = p95
        result["meets_target"] = p95 <= TARGET_P95_MS[name]
        return result, figures
    finally:
        records.close()


def chart_timing(history_stats: list) -> dict:
    """Cold first call (imports matplotlib, builds its font cache if absent), then warm calls."""
    from bot.stats_chart import render_stats_chart

    t0 = time.perf_counter()
    render_stats_chart(history_stats[0])
    cold = time.perf_counter() - t0
    times = []
    for s in history_stats * 3:
        t0 = time.perf_counter()
        png = render_stats_chart(s)
        times.append(time.perf_counter() - t0)
    return {
        "cold_first_call_ms": round(cold * 1000, 1),
        **latency_summary(times),
        "bytes": len(png),
    }


def schema_mb(url: str) -> float:
    """The size of the tables in the URL's schema (its search_path), in MiB."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            size = conn.execute(
                sa.text(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return round(float(size) / 2**20, 1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--asks", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=100, help="random channels per period")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    return parser.parse_args()


def dataset(history: History, args: argparse.Namespace) -> dict:
    """What the synthetic history holds (the results' "dataset")."""
    return {
        "attempts": history.attempts,
        "learners": args.learners,
        "channels": args.channels,
        "asks": args.asks,
        "reviews": len(history.rv_user),
        "daily_answers": int(history.a_daily.sum()),
        "dm_answers": int(history.a_in_dm.sum()),
        "days": DAYS,
        "now": NOW.isoformat(),
        "largest_channel_share": round(history.largest_share, 4),
    }


def run_sqlite(history: History, samples: int) -> dict:
    """The SQLite figures, on a file in a temporary folder (removed afterwards)."""
    tmp = Path(tempfile.mkdtemp(prefix="studybot-bench-stats-"))
    try:
        result, _figures = run_backend("sqlite", f"sqlite:///{tmp / 'stats.db'}", history, samples)
        result["file_mb"] = round(sum(p.stat().st_size for p in tmp.iterdir()) / 2**20, 1)
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_postgresql(history: History, samples: int) -> tuple[dict, list]:
    """The PostgreSQL figures in a throwaway schema, and the largest channel's stats."""
    from tests.pg import PG_URL, temporary_schema

    if PG_URL is None:
        return {"skipped": "PostgreSQL not reachable"}, []
    with temporary_schema("bench_stats") as url:
        result, figures = run_backend("postgresql", url, history, samples)
        result["schema_mb"] = schema_mb(url)
    return result, figures


def print_summary(results: dict) -> None:
    rows = []
    for name, r in results["backends"].items():
        if "channel_stats" not in r:
            continue
        for period, s in r["channel_stats"].items():
            big = r["largest_channel"][period]
            rows.append((name, period, s["p50_ms"], s["p95_ms"], big["p95_ms"], r["target_p95_ms"]))
        lp = r["learner_progress"]
        rows.append((name, "me", lp["p50_ms"], lp["p95_ms"], float("nan"), float("nan")))
    print_table(
        "stats latency (ms)",
        ["backend", "period", "p50", "p95", "largest p95", "target p95"],
        rows,
    )
    c = results.get("chart")
    if c:
        print(f"\nchart: cold {c['cold_first_call_ms']} ms, warm p50 {c['p50_ms']} ms")


def main() -> None:
    args = parse_args()
    t0 = time.perf_counter()
    history = History(args.attempts, args.learners, args.channels, args.asks, SEED)
    gen_s = round(time.perf_counter() - t0, 1)
    print(
        f"history: {history.attempts:,} attempts, {args.learners:,} learners, "
        f"{args.channels} channels, {args.asks:,} asks (generated in {gen_s} s); largest channel "
        f"{history.cid(history.largest_channel)} holds {history.largest_share:.1%} of the answers",
        flush=True,
    )
    results: dict = {"dataset": dataset(history, args), "backends": {}}
    if not args.skip_sqlite:
        results["backends"]["sqlite"] = run_sqlite(history, args.samples)
    chart_inputs: list = []  # the chart is timed on PostgreSQL's figures
    if not args.skip_pg:
        results["backends"]["postgresql"], chart_inputs = run_postgresql(history, args.samples)
    if chart_inputs:  # the largest channel's figures, 7d / 30d / all
        results["chart"] = chart_timing(chart_inputs)
    print_summary(results)
    write_results("stats", results)


if __name__ == "__main__":
    main()
