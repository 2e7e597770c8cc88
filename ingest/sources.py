"""Where documents come from: files, folders, URLs, local mirrors of URLs, and link crawling."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urldefrag, urlparse

from ingest.fetch import Fetcher, FetchError

SUPPORTED_SUFFIXES = {".md", ".markdown", ".html", ".htm", ".pdf", ".txt"}
_SKIP_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".zip", ".gz", ".mp4", ".ico", ".css"}


class SourceError(Exception):
    """A source could not be read; `str(exc)` is the one-line reason for the summary."""


def is_url(location: str) -> bool:
    return urlparse(location).scheme in {"http", "https"}


@dataclass(frozen=True)
class Mirror:
    """`URL_PREFIX=DIR`: pages under the prefix are read from DIR (`X.html` -> `X.md`)."""

    prefix: str
    directory: Path

    @classmethod
    def parse(cls, spec: str) -> Mirror:
        """Parse the `--mirror URL_PREFIX=DIR` option."""
        prefix, sep, directory = spec.partition("=")
        if not sep or not is_url(prefix) or not directory:
            raise ValueError(f"--mirror expects URL_PREFIX=DIR, got {spec!r}")
        path = Path(directory).expanduser()
        if not path.is_dir():
            raise ValueError(f"--mirror directory does not exist: {directory}")
        return cls(prefix if prefix.endswith("/") else prefix + "/", path.resolve())

    def covers(self, url: str) -> bool:
        return url.startswith(self.prefix)

    def canonical(self, url: str) -> str:
        """The web address of a page: `X.md` links inside the mirror become `X.html`."""
        url = urldefrag(url)[0].split("?")[0]
        if url.endswith(".md"):
            url = url[: -len(".md")] + ".html"
        if url == self.prefix.rstrip("/") or url.endswith("/"):
            url = url.rstrip("/") + "/index.html"
        return url

    def local_path(self, url: str) -> Path | None:
        """The mirror's copy of `url`, or None when the URL's path leads outside the mirror
        folder (`dg/../../../../tmp/x.html`, or a symlink out of it)."""
        rel = self.canonical(url)[len(self.prefix) :]
        stem = rel[: -len(".html")] if rel.endswith(".html") else rel
        path = (self.directory / f"{stem}.md").resolve()
        return path if path.is_relative_to(self.directory) else None


@dataclass
class Loaded:
    """Raw bytes of a source, with the identity chunks will carry."""

    source: str  # canonical path or URL
    data: bytes
    content_type: str | None
    local_path: Path | None = None
    final_url: str | None = None  # where a fetched page was found after redirects

    @property
    def base(self) -> str:
        """What the page's relative links are relative to: its final URL, else its source."""
        return self.final_url or self.source


class SourceResolver:
    """Turns locations into bytes: local files, mirrored URLs, or fetched URLs."""

    def __init__(
        self,
        fetcher: Fetcher | None,
        mirrors: Iterable[Mirror] = (),
        *,
        max_bytes: int | None = None,
    ) -> None:
        self.fetcher = fetcher
        self.mirrors = list(mirrors)
        self.max_bytes = max_bytes  # local and mirrored files, like fetched pages

    def canonical(self, location: str) -> str:
        """One name per document, so a page reached twice is read once."""
        if is_url(location):
            for mirror in self.mirrors:
                if mirror.covers(location):
                    return mirror.canonical(location)
            return urldefrag(location)[0]
        return str(Path(location).expanduser().resolve())

    def load(self, location: str) -> Loaded:
        """Read one source; raises SourceError with a one-line reason."""
        source = self.canonical(location)
        if is_url(source):
            for mirror in self.mirrors:
                if mirror.covers(source):
                    path = mirror.local_path(source)
                    if path is None:
                        raise SourceError(f"outside the mirror folder {mirror.directory}")
                    if not path.is_file():
                        raise SourceError(
                            f"not in the mirror ({path.name} missing in {mirror.directory})"
                        )
                    return Loaded(source, _read(path, self.max_bytes), "text/markdown", path)
            if self.fetcher is None:
                raise SourceError("URL fetching is disabled")
            try:
                result = self.fetcher.fetch(source)
            except FetchError as exc:
                raise SourceError(str(exc)) from exc
            return Loaded(source, result.body, result.content_type, final_url=result.url)
        path = Path(source)
        return Loaded(source, _read(path, self.max_bytes), mimetypes.guess_type(path.name)[0], path)


def _read(path: Path, max_bytes: int | None = None) -> bytes:
    """A local file's bytes; SourceError when it is missing, a folder, unreadable or larger
    than `max_bytes` (the same cap as for fetched pages, STUDYBOT_FETCH_MAX_BYTES)."""
    if not path.exists():
        raise SourceError("no such file")
    if path.is_dir():
        raise SourceError("is a folder")
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise SourceError(
                f"too large: {size / 1e6:.1f} MB (the cap is {max_bytes / 1e6:.1f} MB, "
                "STUDYBOT_FETCH_MAX_BYTES)"
            )
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1) if max_bytes is not None else fh.read()
    except OSError as exc:
        raise SourceError(f"unreadable: {exc.strerror or exc}") from exc
    if max_bytes is not None and len(data) > max_bytes:  # grew since stat, or not a regular file
        raise SourceError(f"too large: over {max_bytes / 1e6:.1f} MB (STUDYBOT_FETCH_MAX_BYTES)")
    return data


def expand_locations(locations: Iterable[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Files and URLs as given, folders expanded to their supported files (sorted).

    Returns (locations, failures) where failures are (location, reason) pairs.
    """
    out: list[str] = []
    failures: list[tuple[str, str]] = []
    for loc in locations:
        if is_url(loc):
            out.append(loc)
            continue
        path = Path(loc).expanduser()
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
            if not files:
                failures.append((loc, "folder has no .md, .html, .pdf or .txt files"))
            out.extend(str(p) for p in files)
        elif path.exists():
            out.append(str(path))
        else:
            failures.append((loc, "no such file or folder"))
    return out, failures


def crawl_prefix(url: str) -> str:
    """The URL prefix a documentation page's crawl stays under (its folder)."""
    return url.rsplit("/", 1)[0] + "/"


def followable(link: str, page: str | None = None) -> bool:
    """Links worth following from `page`: web pages and documents, not images or archives.

    A link to a local file is followed only from a local page, only inside that page's folder
    (resolved, so `..` and symlinks cannot leave it) and only to a supported document type: a
    guide cannot pull `/etc/...` or `../secrets.md` into the store.
    """
    if link.startswith(("mailto:", "javascript:", "tel:")):
        return False
    if is_url(link):
        return Path(urlparse(link).path).suffix.lower() not in _SKIP_SUFFIXES
    if len(urlparse(link).scheme) > 1:  # file:, ftp:, ...: never (a drive letter is no scheme)
        return False
    if page is None or is_url(page):
        return page is None and Path(link).suffix.lower() not in _SKIP_SUFFIXES
    folder = Path(page).expanduser().resolve().parent
    target = Path(link).expanduser().resolve()
    return target.is_relative_to(folder) and target.suffix.lower() in SUPPORTED_SUFFIXES
