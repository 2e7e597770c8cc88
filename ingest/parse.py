"""Turn bytes or text into a `Document`: Markdown, HTML, PDF and plain text.

Markdown is the main format: the Wiki.js study guide (YAML front matter, objective headings
like ``### 2.2 Perform feature engineering``) and the AWS developer guides (escaped punctuation,
``<a name="…"></a>`` anchors, relative ``page.md`` links). HTML pages go through trafilatura to
Markdown first; PDFs are cut into one section per page.

Every failure is a `ParseError` whose message is a one-line reason the caller can log or show.
"""

from __future__ import annotations

import codecs
import html as htmllib
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import PurePath, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urldefrag, urljoin, urlparse

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from ingest.document import Document, Section

if TYPE_CHECKING:
    from pypdf import PdfReader

__all__ = [
    "ParseError",
    "clean_aws_markdown",
    "parse_bytes",
    "parse_html",
    "parse_markdown",
    "parse_pdf",
    "parse_text",
]


class ParseError(Exception):
    """A document could not be parsed; the message is a one-line reason.

    Examples: ``empty file``, ``binary file``, ``malformed front matter: …``,
    ``broken PDF: …``, ``PDF has no extractable text``, ``no main text in HTML page``.
    """


# --------------------------------------------------------------------------------------------
# Shared regexes and helpers

_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
# The same block structure without inline parsing: enough to find code blocks, at a fraction
# of the cost (inline parsing was most of a page's parse time).
_MD_BLOCKS = MarkdownIt("commonmark").enable(["table", "strikethrough"]).disable("inline")

# Objective number at the start of a heading: "2.2 Perform feature engineering" -> "2.2".
_OBJECTIVE = re.compile(r"^\d\.\d{1,2}\b")

# An inline code span (content without backticks, not crossing a blank line).
_CODE_SPAN = r"(?<!`)(?P<ticks>`+)(?!`)(?:[^`\n]|\n(?![ \t]*\n))+?(?P=ticks)(?!`)"

# Punctuation that AWS docs escape and that clean_aws_markdown unescapes (outside code).
_AWS_ESCAPES = r"\\.()\-_*#!\[\]{}+`\"'~"

_CLEAN_RE = re.compile(
    rf"(?P<code>{_CODE_SPAN})"
    r"|(?P<comment><!--[\s\S]*?-->)"
    # <a name="x"></a>, <a id='x' class=y></a>, <a name=x /> - any attribute order, no href.
    r"|(?P<anchor><a\s(?![^>]*\bhref\s*=)[^>]*\b(?:name|id)\s*=[^>]*?(?:/>|>[ \t]*</a\s*>))"
    rf"|\\(?P<esc>[{_AWS_ESCAPES}])",
    re.IGNORECASE,
)

# A line holding nothing but presentational break tags, e.g. "<p></br>" in the study guide.
_BREAK_LINE = re.compile(r"^[ \t]*(?:</?(?:p|br|div)\s*/?>[ \t]*)+$", re.IGNORECASE | re.MULTILINE)

# Link syntax pieces: two levels of nested brackets in link text (unescaped AWS alt texts like
# "[Formula: Sum[i,t]]"), balanced parens in URLs.
_BRACKETS_1 = r"\[(?:[^\[\]\\]|\\.)*\]"
_BRACKETS_2 = rf"\[(?:[^\[\]\\]|\\.|{_BRACKETS_1})*\]"
_LINK_TEXT = rf"(?:[^\[\]\\]|\\.|{_BRACKETS_2})*"
_LINK_DEST = r"(?:<[^<>\n]*>|(?:[^\s()\\]|\\.|\((?:[^\s()\\]|\\.)*\))*)"
_LINK_TITLE = r"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\))"
_LINK_TAIL = rf"(?:\(\s*{_LINK_DEST}(?:\s+{_LINK_TITLE})?\s*\)|\[[^\[\]\n]*\])"

_HTML_TAGS = (
    "a|abbr|article|audio|b|big|blockquote|br|center|cite|code|dd|del|details|div|dl|dt|em|"
    "figcaption|figure|font|footer|h[1-6]|header|hr|i|iframe|img|ins|kbd|li|main|mark|nav|ol|p|"
    "picture|pre|q|s|section|small|source|span|strike|strong|sub|summary|sup|table|tbody|td|"
    "tfoot|th|thead|tr|tt|u|ul|video|wbr"
)

_PROSE_RE = re.compile(
    rf"(?P<code>{_CODE_SPAN})"
    r"|(?P<esc>\\[!-/:-@\[-`{-~])"
    rf"|(?P<image>!\[{_LINK_TEXT}\]{_LINK_TAIL})"
    rf"|\[(?P<ltext>{_LINK_TEXT})\]{_LINK_TAIL}"
    r"|<(?P<auto>(?:https?|ftp|mailto):[^\s<>]*)>"
    r"|(?P<script><(?P<stag>script|style)\b[^>]*>[\s\S]*?</(?P=stag)\s*>)"
    rf"|(?P<tag></?(?P<tname>{_HTML_TAGS})\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>)"
    r"|(?P<entity>&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)",
    re.IGNORECASE,
)

# Reference-style link definitions: "[id]: https://example.com".
_REF_DEF = re.compile(r"^[ ]{0,3}\[[^\]\n]+\]:[ \t]*\S+.*$\n?", re.MULTILINE)

# <a href="…"> inside raw HTML that Markdown passes through.
_HTML_HREF = re.compile(r"""<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)

# Leading whitespace of a line that is not a (nested) list item.
_HTML_INDENT = re.compile(r"^[ \t]+(?![-*+][ \t]|\d{1,9}[.)][ \t])", re.MULTILINE)

_SKIP_SCHEMES = ("javascript:", "vbscript:", "data:", "mailto:", "tel:")

_TITLE_MAX = 120


def _one_line(value: object, limit: int = 200) -> str:
    """Squash whitespace so an exception message fits on one line."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _collapse_blank_lines(text: str) -> str:
    """Right-strip lines, collapse runs of blank lines to one and trim blank lines at the ends."""
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _short_title(line: str) -> str:
    line = " ".join(line.split())
    return line if len(line) <= _TITLE_MAX else line[: _TITLE_MAX - 1].rstrip() + "…"


def _is_url(value: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.\-]+://", value) is not None


def _stem(source: str) -> str:
    """File stem of a path or URL, used as a last-resort title."""
    path = urlparse(source).path if _is_url(source) else source
    stem = PurePosixPath(path.replace("\\", "/")).stem
    return stem or source or "untitled"


def _default_base(source: str) -> str | None:
    """What relative links in `source` are relative to: the URL itself or its directory."""
    if not source:
        return None
    if _is_url(source):
        return source
    return str(PurePath(source).parent)


def _resolve_link(href: str, base: str | None) -> str | None:
    """Resolve one link target; None for fragment-only, empty or non-document links."""
    href = href.strip()
    if not href or href.startswith("#") or href.lower().startswith(_SKIP_SCHEMES):
        return None
    url = urldefrag(href)[0]
    if not url:
        return None
    scheme = urlparse(url).scheme
    if len(scheme) > 1:  # absolute URL (a one-letter "scheme" is a Windows drive)
        return url
    if base is None:
        return url
    if _is_url(base):
        return urldefrag(urljoin(base, url))[0]
    path = unquote(urlparse(url).path)
    if not path:
        return None
    return os.path.normpath(os.path.join(base, path))


def _dedupe(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --------------------------------------------------------------------------------------------
# Code-aware text rewriting


def _code_line_ranges(tokens: list[Token]) -> list[tuple[int, int]]:
    """Line ranges [start, end) of fenced and indented code blocks, at any nesting depth."""
    ranges = sorted(
        (tok.map[0], tok.map[1])
        for tok in tokens
        if tok.type in ("fence", "code_block") and tok.map
    )
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _segments(
    lines: list[str], code: list[tuple[int, int]], start: int, end: int
) -> Iterator[tuple[bool, str]]:
    """Split lines[start:end] into (is_code, text) runs."""
    pos = start
    for c_start, c_end in code:
        if c_end <= pos or c_start >= end:
            continue
        c_start, c_end = max(c_start, pos), min(c_end, end)
        if c_start > pos:
            yield False, "\n".join(lines[pos:c_start])
        yield True, "\n".join(lines[c_start:c_end])
        pos = c_end
    if pos < end:
        yield False, "\n".join(lines[pos:end])


def _map_prose(text: str, fn: Callable[[str], str]) -> str:
    """Apply `fn` to everything outside fenced/indented code blocks."""
    lines = text.split("\n")
    code = _code_line_ranges(_MD_BLOCKS.parse(text))
    if not code:
        return fn(text)
    return "\n".join(
        chunk if is_code else fn(chunk) for is_code, chunk in _segments(lines, code, 0, len(lines))
    )


def _clean_repl(match: re.Match[str]) -> str:
    if match.group("code") is not None:
        return match.group(0)
    if match.group("esc") is not None:
        return match.group("esc")
    return ""  # comment or anchor


def _clean_prose(text: str) -> str:
    return _CLEAN_RE.sub(_clean_repl, text)


def clean_aws_markdown(text: str) -> str:
    """Undo AWS-docs Markdown noise, leaving code blocks and inline code untouched.

    Removes ``<a name="…"></a>`` / ``<a id=…></a>`` anchors (any attribute order or quoting),
    unescapes backslash-escaped punctuation (``\\.``, ``\\(``, ``\\)``, ``\\-``, ``\\_``,
    ``\\*``, ``\\#``, ``\\!``, ``\\[``, ``\\]``, ``\\{``, ``\\}``, ``\\+``, ``\\```, plus
    ``\\\\``, quotes and ``\\~``) and drops HTML comments. Harmless on ordinary Markdown.
    """
    return _map_prose(_normalize_newlines(text), _clean_prose)


def _prose_repl(match: re.Match[str]) -> str:
    kind = match.lastgroup
    if match.group("code") is not None or match.group("esc") is not None:
        return match.group(0)
    if match.group("image") is not None or match.group("script") is not None:
        return ""
    if match.group("ltext") is not None:
        return _PROSE_RE.sub(_prose_repl, match.group("ltext")).strip()
    if match.group("auto") is not None:
        return match.group("auto")
    if match.group("tag") is not None:
        if match.group("tname").lower() != "br":
            return ""
        line_start = match.string.rfind("\n", 0, match.start()) + 1
        in_table = match.string[line_start:].lstrip().startswith("|")
        return " " if in_table else "\n"
    if match.group("entity") is not None:
        return htmllib.unescape(match.group("entity"))
    raise AssertionError(f"unhandled prose match {kind}")  # pragma: no cover


def _prose_to_text(text: str) -> str:
    """Markdown prose -> section text: link text without URLs, no images or HTML leftovers."""
    text = _REF_DEF.sub("", text)
    text = _PROSE_RE.sub(_prose_repl, text)
    return _collapse_blank_lines(text)


def _trim_code(chunk: str) -> str:
    """A code block verbatim, minus blank lines around it."""
    return re.sub(r"\A(?:[ \t]*\n)+", "", chunk).rstrip()


def _section_text(lines: list[str], code: list[tuple[int, int]], start: int, end: int) -> str:
    parts: list[str] = []
    for is_code, chunk in _segments(lines, code, start, end):
        chunk = _trim_code(chunk) if is_code else _prose_to_text(chunk)
        if chunk.strip():
            parts.append(chunk)
    return "\n\n".join(parts)


# --------------------------------------------------------------------------------------------
# Markdown


def _split_front_matter(text: str) -> tuple[dict[str, str] | None, str]:
    """Return (metadata or None when there is no front matter, body)."""
    opening = re.match(r"\A---[ \t]*\n", text)
    if not opening:
        return None, text
    closing = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE).search(text, opening.end())
    if not closing:
        raise ParseError("malformed front matter: no closing '---' line")
    raw = text[opening.end() : closing.start()]
    try:
        data = yaml.load(raw, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds no objects
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or exc
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise ParseError(f"malformed front matter: {_one_line(problem)}{where}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ParseError(f"malformed front matter: expected key: value pairs, got {raw!r:.60}")
    body = text[closing.end() :]
    return {str(key): _meta_value(value) for key, value in data.items()}, body.lstrip("\n")


def _meta_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_meta_value(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


def _inline_plain(token: Token) -> str:
    """Plain text of an inline token (heading text): no markup, links reduced to their text."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def _objective(heading: str) -> str | None:
    match = _OBJECTIVE.match(heading)
    return match.group(0) if match else None


def _headings_and_hrefs(
    tokens: list[Token],
) -> tuple[list[tuple[int, int, int, str]], list[str]]:
    """Top-level headings as (first line, end line, level, text), and every link target."""
    headings: list[tuple[int, int, int, str]] = []
    hrefs: list[str] = []
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.level == 0 and tok.map:
            headings.append((tok.map[0], tok.map[1], int(tok.tag[1]), _inline_plain(tokens[i + 1])))
        elif tok.type == "inline":
            for child in tok.children or []:
                if child.type == "link_open":
                    hrefs.append(str(child.attrs.get("href", "")))
                elif child.type == "html_inline":
                    hrefs.extend(
                        next(g for g in m.groups() if g is not None)
                        for m in _HTML_HREF.finditer(child.content)
                    )
        elif tok.type == "html_block":
            hrefs.extend(
                next(g for g in m.groups() if g is not None)
                for m in _HTML_HREF.finditer(tok.content)
            )
    return headings, hrefs


def _markdown_document(
    text: str,
    source: str,
    *,
    kind: str,
    base: str | None,
    title: str | None = None,
) -> Document:
    text = _normalize_newlines(text).lstrip("\ufeff")
    if not text.strip():
        raise ParseError("empty file")
    metadata, body = _split_front_matter(text)
    if metadata is not None and kind == "markdown":
        kind = "guide"

    # clean_aws_markdown plus removal of "<p></br>"-only lines, in one code-aware pass.
    body = _map_prose(body, lambda chunk: _BREAK_LINE.sub("", _clean_prose(chunk)))
    tokens = _MD.parse(body)
    lines = body.split("\n")
    code = _code_line_ranges(tokens)

    headings, hrefs = _headings_and_hrefs(tokens)
    if not title:
        title = (metadata or {}).get("title", "").strip()
    if not title:
        title = next((h for _, _, level, h in headings if level == 1 and h), "")
    if not title:
        title = _stem(source)

    sections: list[Section] = []
    first = headings[0][0] if headings else len(lines)
    preamble = _section_text(lines, code, 0, first)
    if preamble:
        sections.append(Section(title_path=[title], text=preamble))

    stack: list[tuple[int, str, str | None]] = []  # (level, heading, own objective)
    for idx, (_, end, level, heading) in enumerate(headings):
        while stack and stack[-1][0] >= level:
            stack.pop()
        inherited = next((obj for _, _, obj in reversed(stack) if obj), None)
        own = _objective(heading)
        stack.append((level, heading, own))
        stop = headings[idx + 1][0] if idx + 1 < len(headings) else len(lines)
        section_text = _section_text(lines, code, end, stop)
        if section_text or own:
            path = [h for _, h, _ in stack if h] or [title]
            sections.append(
                Section(title_path=path, text=section_text, objective_hint=own or inherited)
            )

    if not sections:
        raise ParseError("no text in document")

    links = _dedupe([url for href in hrefs if (url := _resolve_link(href, base))])
    return Document(
        source=source,
        title=title,
        kind=kind,
        sections=sections,
        links=links,
        metadata=metadata or {},
    )


def parse_markdown(
    text: str, source: str, *, kind: str = "markdown", base: str | None = None
) -> Document:
    """Parse Markdown into heading sections.

    YAML front matter (between leading ``---`` lines) becomes ``metadata`` (string values) and
    makes the kind ``"guide"``; its ``title`` is the document title, else the first H1, else
    the file stem. Each heading starts a section whose ``title_path`` is the chain of enclosing
    headings; text before the first heading goes under ``[title]``. A heading starting with an
    objective number (``2.2 …``) sets ``objective_hint`` on its section and its sub-sections;
    such sections are kept even when empty, other empty sections are skipped.

    Section text keeps Markdown (lists, tables, emphasis, code blocks verbatim) but links are
    reduced to their text and images, anchors and HTML leftovers are removed. ``links`` holds
    link targets in document order, deduplicated, fragments dropped, relative ones resolved
    against ``base`` (a URL, joined like a browser would, or a directory path).

    Raises `ParseError` for empty input, malformed front matter or a document without text.
    """
    return _markdown_document(text, source, kind=kind, base=base)


# --------------------------------------------------------------------------------------------
# HTML


class _HtmlScan(HTMLParser):
    """Collects <title>, <base href> and <a href> from raw HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title_parts: list[str] = []
        self.base: str | None = None
        self.hrefs: list[str] = []
        self._in_title = False
        self._seen_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value for name, value in attrs if value is not None}
        if tag == "a" and "href" in values:
            self.hrefs.append(values["href"])
        elif tag == "base" and "href" in values and self.base is None:
            self.base = values["href"]
        elif tag == "title" and not self._seen_title:
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self._seen_title = True

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)


def parse_html(html: str | bytes, source: str, *, page_url: str | None = None) -> Document:
    """Parse an HTML page: main text via trafilatura (as Markdown), then heading sections.

    The title comes from trafilatura's metadata, else ``<title>``, else the first H1. ``links``
    holds every ``<a href>`` of the raw page resolved against ``page_url`` (where the page was
    found after redirects; default ``source``) and ``<base href>``, fragments dropped,
    deduplicated. Raises ``ParseError("no main text in HTML page")`` when
    trafilatura finds no main text.
    """
    text = _decode(html, _html_charset(html)) if isinstance(html, bytes) else html
    if not text.strip():
        raise ParseError("empty file")

    import trafilatura  # slow import; only needed for HTML

    page_url = page_url or source
    url = page_url if _is_url(page_url) else None
    try:
        main = trafilatura.extract(
            text,
            url=url,
            output_format="markdown",
            include_links=True,
            include_tables=True,
            include_comments=False,
        )
    except Exception as exc:  # trafilatura/lxml raise many types on hostile markup
        raise ParseError(f"no main text in HTML page ({_one_line(exc)})") from exc
    if not main or not main.strip():
        raise ParseError("no main text in HTML page")
    # trafilatura keeps the source indentation of wrapped <p> lines; it means nothing here.
    main = _map_prose(_normalize_newlines(main), lambda chunk: _HTML_INDENT.sub("", chunk))

    scan = _HtmlScan()
    try:
        scan.feed(text)
        scan.close()
    except Exception:  # pragma: no cover - HTMLParser is lenient; keep what was collected
        pass

    metadata: dict[str, str] = {}
    title = ""
    try:
        meta = trafilatura.extract_metadata(text, default_url=url, extensive=False)
    except Exception:  # metadata is best effort
        meta = None
    if meta is not None:
        title = (meta.title or "").strip()
        for key in ("author", "date", "sitename", "description"):
            value = getattr(meta, key, None)
            if value:
                metadata[key] = _one_line(value, 500)
    if not title:
        title = _short_title("".join(scan.title_parts))

    base = _default_base(page_url)
    if scan.base:
        base = urljoin(page_url, scan.base) if _is_url(page_url) or not base else scan.base
    links = _dedupe([link for href in scan.hrefs if (link := _resolve_link(href, base))])

    try:
        doc = _markdown_document(main, source, kind="html", base=base, title=title or None)
    except ParseError as exc:
        if str(exc) in ("empty file", "no text in document"):
            raise ParseError("no main text in HTML page") from exc
        raise
    doc.links = links
    doc.metadata = {**doc.metadata, **metadata}
    return doc


# --------------------------------------------------------------------------------------------
# PDF


def _pdf_outline(reader: PdfReader) -> list[tuple[int, list[str]]]:
    """(page index, heading chain) per outline entry, in document order; [] when unusable."""
    entries: list[tuple[int, list[str]]] = []

    def walk(items: list[object], parents: list[str]) -> None:
        previous: str | None = None
        for item in items:
            if isinstance(item, list):
                walk(item, [*parents, previous] if previous else parents)
                continue
            heading = " ".join(str(getattr(item, "title", "") or "").split())
            try:
                page = reader.get_destination_page_number(item)  # type: ignore[arg-type]
            except Exception:
                page = None
            if heading and page is not None and page >= 0:
                entries.append((page, [*parents, heading]))
            previous = heading or previous

    try:
        walk(list(reader.outline), [])
    except Exception:
        return []
    return sorted(entries, key=lambda entry: entry[0])


def parse_pdf(data: bytes, source: str) -> Document:
    """Parse a PDF with pypdf: one section per page with text.

    ``title_path`` is ``[title, f"Page {n}"]``, with the enclosing outline (bookmark) headings
    inserted before the page when the PDF has an outline. The title comes from the PDF
    metadata, else the first text line. Raises ``ParseError("broken PDF: …")`` for unreadable
    or password-protected files and ``ParseError("PDF has no extractable text")``.
    """
    if not data or not data.strip():
        raise ParseError("empty file")
    from pypdf import PdfReader  # slow import (~0.25 s); only needed for PDFs

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                decrypted = reader.decrypt("")
            except Exception as exc:
                raise ParseError(f"broken PDF: encrypted ({_one_line(exc)})") from exc
            if not decrypted:
                raise ParseError("broken PDF: encrypted")
        texts = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        outline = _pdf_outline(reader)
    except ParseError:
        raise
    except Exception as exc:  # pypdf raises PdfReadError, but also ValueError, KeyError, ...
        raise ParseError(f"broken PDF: {_one_line(exc) or type(exc).__name__}") from exc

    texts = [_collapse_blank_lines(_normalize_newlines(text)) for text in texts]
    if not any(text.strip() for text in texts):
        raise ParseError("PDF has no extractable text")

    metadata = {"pages": str(len(texts))}
    title = ""
    if info is not None:
        for key, attr in (("title", "title"), ("author", "author"), ("subject", "subject")):
            value = getattr(info, attr, None)
            if value and str(value).strip():
                metadata[key] = _one_line(value, 500)
        title = metadata.get("title", "")
    if not title:
        first_text = next(text for text in texts if text.strip())
        title = _short_title(next(line for line in first_text.split("\n") if line.strip()))

    sections: list[Section] = []
    for index, text in enumerate(texts):
        if not text.strip():
            continue
        chain = next((c for page, c in reversed(outline) if page <= index), [])
        hint = next((o for o in map(_objective, reversed(chain)) if o), None)
        sections.append(
            Section(title_path=[title, *chain, f"Page {index + 1}"], text=text, objective_hint=hint)
        )
    return Document(source=source, title=title, kind="pdf", sections=sections, metadata=metadata)


# --------------------------------------------------------------------------------------------
# Plain text


def parse_text(text: str, source: str) -> Document:
    """Parse plain text: one section of paragraphs (blank-line separated); title = first line."""
    text = _normalize_newlines(text).lstrip("\ufeff").replace("\f", "\n\n")
    body = _collapse_blank_lines(text)
    if not body.strip():
        raise ParseError("empty file")
    title = _short_title(next(line for line in body.split("\n") if line.strip()))
    return Document(
        source=source, title=title, kind="text", sections=[Section(title_path=[title], text=body)]
    )


# --------------------------------------------------------------------------------------------
# Bytes: decoding and dispatch

_MARKDOWN_TYPES = {"text/markdown", "text/x-markdown"}
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_EXTENSIONS = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".txt": "text",
    ".text": "text",
}
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\v\x1b")


def _html_charset(data: bytes) -> str | None:
    match = re.search(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", data[:4096], re.I)
    return match.group(1).decode("ascii") if match else None


def _decode(data: bytes, charset: str | None = None) -> str:
    """Bytes -> str; ParseError("binary file") for NUL bytes or undecodable data."""
    if data.startswith(codecs.BOM_UTF8):
        data, charset = data[len(codecs.BOM_UTF8) :], "utf-8"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError("binary file") from exc
    if b"\x00" in data:
        raise ParseError("binary file")
    for encoding in (charset, "utf-8"):
        if not encoding:
            continue
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            if (
                encoding.lower().replace("_", "-") in ("utf-8", "utf8")
                and exc.start >= len(data) - 3
            ):
                return data.decode("utf-8", errors="replace")  # truncated last character
        except LookupError:  # unknown charset name
            continue
    sample = data[:8192]
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in _TEXT_CONTROLS)
    if controls > len(sample) // 100:
        raise ParseError("binary file")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ParseError("binary file") from exc


def _content_type(content_type: str | None) -> tuple[str, str | None]:
    if not content_type:
        return "", None
    mime, _, params = content_type.partition(";")
    charset = re.search(r"charset\s*=\s*[\"']?([^\"';\s]+)", params, re.I)
    return mime.strip().lower(), charset.group(1) if charset else None


def _detect_kind(data: bytes, source: str, mime: str) -> str:
    if data.lstrip()[:5] == b"%PDF-" or mime == "application/pdf":
        return "pdf"
    if mime in _HTML_TYPES:
        return "html"
    if mime in _MARKDOWN_TYPES:
        return "markdown"
    path = urlparse(source).path if _is_url(source) else source
    kind = _EXTENSIONS.get(PurePosixPath(path.replace("\\", "/")).suffix.lower())
    if kind:
        return kind
    head = data[:2048].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    if re.search(rb"^#{1,6}[ \t]+\S", head, re.M) or head.startswith(b"---\n"):
        return "markdown"
    return "text"


def parse_bytes(
    data: bytes,
    source: str,
    content_type: str | None = None,
    *,
    base: str | None = None,
) -> Document:
    """Parse raw bytes, choosing the parser from the content, content type and extension.

    A ``%PDF-`` header wins; then the MIME type (``text/markdown``, ``text/html``,
    ``application/pdf``; a ``charset=`` parameter is honoured), then the extension of
    ``source`` (.md/.markdown, .html/.htm, .pdf, .txt), then sniffing; the fallback is plain
    text. Links are resolved against ``base`` (a fetched page's final URL after redirects), by
    default ``source`` itself (URL) or its directory (path). Raises
    ``ParseError("empty file")`` / ``ParseError("binary file")`` (NUL bytes or undecodable
    data) or whatever the chosen parser raises.
    """
    if not data or not data.strip():
        raise ParseError("empty file")
    mime, charset = _content_type(content_type)
    kind = _detect_kind(data, source, mime)
    if kind == "pdf":
        return parse_pdf(data, source)
    if kind == "html":
        html = _decode(data, charset or _html_charset(data))
        return parse_html(html, source, page_url=base if base and _is_url(base) else None)
    text = _decode(data, charset)
    if kind == "markdown":
        if base is None:
            base = _default_base(source)
        return parse_markdown(text, source, base=base)
    return parse_text(text, source)
