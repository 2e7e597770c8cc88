"""Prometheus metrics: defined once here, counted where the work happens. Imports no Slack.

Counted at four places, not in each listener: the HTTP edge (`bot.slack.asgi`: acks and
rejected requests), the Bolt app (`bot.slack.app`: every verified request by type), the Web API
client (`bot.slack.app.InstrumentedWebClient`: errors and 429s) and the core service
(`bot.service`: answers, duplicates, quiz answers). `GET /metrics` serves `exposition()`.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

# Slack gives an app 3 s to acknowledge; buckets resolve the milliseconds that matter.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
ANSWER_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0)

SLACK_REQUESTS = Counter(
    "studybot_slack_requests",
    "Verified requests from Slack handed to the app, by type (app_mention, slash_command, ...).",
    ["type"],
)
REJECTED_REQUESTS = Counter(
    "studybot_http_rejected_requests",
    "HTTP requests refused before the app saw them, by reason.",
    ["reason"],  # bad_signature | too_large | body_timeout | bad_body
)
ACK_SECONDS = Histogram(
    "studybot_ack_seconds",
    "HTTP mode: from a Slack request's body received to its acknowledgement ready.",
    buckets=ACK_BUCKETS,
)
DUPLICATES_DROPPED = Counter(
    "studybot_duplicates_dropped",
    "Slack deliveries not processed again (retries, twin events, replayed slash commands).",
    ["kind"],  # event | command
)
ANSWER_SECONDS = Histogram(
    "studybot_answer_seconds",
    "Time to answer a question (retrieval and generation), by answer mode.",
    ["mode"],
    buckets=ANSWER_BUCKETS,
)
ANSWERS = Counter("studybot_answers", "Questions answered, by mode.", ["mode"])
LLM_FALLBACKS = Counter(
    "studybot_llm_fallbacks",
    "Answers that fell back to extractive because the chat model failed or gave no citation.",
)
QUIZ_ANSWERS = Counter(
    "studybot_quiz_answers",
    "Quiz answers, by result (correct, wrong, repeat, refused).",
    ["result"],
)
SLACK_API_ERRORS = Counter(
    "studybot_slack_api_errors",
    "Slack Web API calls that failed, by method and error code (connection: no answer).",
    ["method", "error"],
)
SLACK_API_RATE_LIMITED = Counter(
    "studybot_slack_api_rate_limited",
    "HTTP 429 answers from the Slack Web API (each is waited out and retried), by method.",
    ["method"],
)
WORK_IN_FLIGHT = Gauge(
    "studybot_work_in_flight",
    "Work handed to the worker pool after an ack (answers, grading) and not finished yet.",
)
PRUNED_ROWS = Counter(
    "studybot_pruned_rows",
    "Rows (and fetch-cache files) removed by the retention job, by table.",
    ["table"],
)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, with its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
