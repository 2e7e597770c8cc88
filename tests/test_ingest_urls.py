"""Ingesting URLs through the fetcher, from a local HTTP server: pages, PDFs and failures."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ingest.job import build_pipeline
from ingest.pipeline import IngestOptions

PAGE = b"""<html><head><title>Spot training guide</title></head><body>
<nav>Home | Docs</nav>
<article><h1>Managed spot training</h1>
<p>Managed spot training runs training jobs on spare capacity and can cut the cost of
training considerably. Jobs can be interrupted, so they should save checkpoints to S3
and resume from the latest checkpoint when capacity returns.</p>
<p>Set a maximum wait time that is longer than the maximum run time of the job.</p>
<a href="/docs/checkpoints.html">Checkpoints</a> <a href="/docs/missing.html">Gone</a>
<a href="http://elsewhere.example/page.html">Elsewhere</a>
</article></body></html>"""

CHECKPOINTS = b"""<html><head><title>Checkpoints</title></head><body><article>
<h1>Checkpoints</h1><p>A checkpoint is a snapshot of the model state written during training
so that an interrupted training job can continue instead of starting again from scratch.</p>
</article></body></html>"""


def _pdf() -> bytes:
    text = (
        b"BT /F1 12 Tf 72 720 Td (Batch transform runs inference on whole datasets offline.) Tj ET"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


# A study list links to an old address that now redirects into the guide's new folder; the
# page there links relatively ("endpoints.html"), i.e. to /guide/v2/endpoints.html. At the old
# address's folder sits an unrelated page that a wrong base would crawl instead.
STUDY_LIST = b"""<html><head><title>Study list</title></head><body><article><h1>Study list</h1>
<p>Read the inference overview first, then follow its links to the deployment options.</p>
<a href="/old/inference.html">Inference overview</a></article></body></html>"""

INFERENCE = b"""<html><head><title>Inference overview</title></head><body><article>
<h1>Inference options</h1><p>Models are deployed to real-time endpoints for low latency, or
scored offline with batch transform when no persistent endpoint is needed.</p>
<a href="endpoints.html">Real-time endpoints</a></article></body></html>"""

ENDPOINTS = b"""<html><head><title>Real-time endpoints</title></head><body><article>
<h1>Real-time endpoints</h1><p>A real-time endpoint serves predictions over HTTPS and scales
the number of instances with the request rate using auto scaling policies.</p>
</article></body></html>"""

UNRELATED = b"""<html><head><title>Old endpoints page</title></head><body><article>
<h1>Archived</h1><p>This archived page is unrelated to the current guide and must not be
crawled from the new inference overview; only a wrong link base would reach it.</p>
</article></body></html>"""

ROUTES = {
    "/list.html": (200, "text/html", STUDY_LIST),
    "/old/inference.html": (301, "text/html", b"/guide/v2/inference.html"),
    "/guide/v2/inference.html": (200, "text/html", INFERENCE),
    "/guide/v2/endpoints.html": (200, "text/html", ENDPOINTS),
    "/old/endpoints.html": (200, "text/html", UNRELATED),
    "/docs/spot.html": (200, "text/html", PAGE),
    "/docs/checkpoints.html": (200, "text/html", CHECKPOINTS),
    "/docs/guide.pdf": (200, "application/pdf", _pdf()),
    "/docs/image.png": (200, "image/png", b"\x89PNG...."),
    "/docs/empty.html": (200, "text/html", b"<html><body></body></html>"),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server API
        status, ctype, body = ROUTES.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", body.decode())
            body = b""
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _local(settings):
    return settings.model_copy(
        update={
            "allowed_hosts": ["127.0.0.1"],
            "allow_private_hosts": ["127.0.0.1"],
            "fetch_rate_per_host": 0,
        }
    )


def test_urls_are_fetched_parsed_and_crawled_and_failures_are_lines(settings, server):
    local = _local(settings)
    pipeline = build_pipeline(local)
    pipeline.resolver.fetcher.policy.retries = 0
    summary = pipeline.run(
        [
            f"{server}/docs/spot.html",
            f"{server}/docs/guide.pdf",
            f"{server}/docs/image.png",
            f"{server}/docs/empty.html",
        ],
        IngestOptions(follow_links=True),
    )
    sources = set(build_pipeline(local).store.sources())
    assert {
        f"{server}/docs/spot.html",
        f"{server}/docs/checkpoints.html",
        f"{server}/docs/guide.pdf",
    } <= sources
    reasons = dict(summary.failures)
    assert reasons[f"{server}/docs/missing.html"] == "HTTP 404"
    assert "image/png" in reasons[f"{server}/docs/image.png"]
    assert "no main text" in reasons[f"{server}/docs/empty.html"]
    assert "not allowed" in reasons["http://elsewhere.example/page.html"]
    assert summary.pages == 3 and summary.exit_code() == 0


def test_private_hosts_are_refused_unless_allowed(settings, server):
    local = settings.model_copy(update={"allowed_hosts": ["127.0.0.1"]})
    summary = build_pipeline(local).run([f"{server}/docs/spot.html"])
    assert summary.pages == 0 and "private address" in summary.failures[0][1]
    assert summary.exit_code() == 1


def test_a_redirected_pages_links_resolve_against_where_it_was_found(settings, server):
    local = _local(settings)
    pipeline = build_pipeline(local)
    pipeline.resolver.fetcher.policy.retries = 0
    summary = pipeline.run([f"{server}/list.html"], IngestOptions(follow_links=True))
    assert summary.failures == []
    sources = set(build_pipeline(local).store.sources())
    # the redirected page is stored under the address it was linked by; its relative link
    # is followed to the guide's new folder (and the crawl stays there), not to /old/
    assert f"{server}/old/inference.html" in sources
    assert f"{server}/guide/v2/endpoints.html" in sources
    assert f"{server}/old/endpoints.html" not in sources
    links = pipeline.manifest.sources[f"{server}/old/inference.html"].links
    assert links == [f"{server}/guide/v2/endpoints.html"]
