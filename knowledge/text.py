"""Plain-text helpers shared by answers and questions: Markdown cleaning, terms, term lines.

`strip_controls` takes terminal escapes and control characters out of typed text;
`clean_inline` turns one line of Markdown/HTML into the text a reader sees; `content_terms`
gives the content words of a text (lower-cased, lightly stemmed, stop words removed), the unit
every overlap test in `knowledge.answer` and the quiz generators counts in; `is_term_line` spots
the line that names what the lines below it describe.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit


def wordset(words: str) -> frozenset[str]:
    """A set of words written as one whitespace-separated string."""
    return frozenset(words.split())


STOPWORDS = wordset(
    """a about above after again all also am an and any are as at be been being both but by can
    could did do does doing during each few for from had has have having he her here hers him his
    how i if in into is it its itself just me more most my no nor not now of off on once only or
    other our out over own same she should so some such than that the their them then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours tell explain describe mean means give list name please
    used use using way ways"""
)
_WORD = re.compile(r"[a-z0-9]+")
BULLET = re.compile(r"^\s*(?:[-*+•▪◦]|\d{1,3}[.)])\s+")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_LINK_LINE = re.compile(r"^\s*\[[^\]]+\]\([^)]*\)\s*:?\s*$")
_BOLD_LINE = re.compile(r"^\s*(\*\*|__)[^*_]{1,80}\1\s*:?\s*$")
TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}")
SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[*`])")
_URL = re.compile(r"https?://[^\s)\]>\"']+")


def _url_name(match: re.Match[str]) -> str:
    """'https://host/a/API_Thing.html' -> 'API_Thing' (trailing punctuation kept)."""
    url = match.group(0)
    tail = url[len(url.rstrip(".,;:!?")) :]
    parts = urlsplit(url[: len(url) - len(tail)])
    name = parts.path.rstrip("/").rsplit("/", 1)[-1]
    name = re.sub(r"\.(html?|md|php|aspx?)$", "", name) or parts.netloc
    return name + tail


def clean_inline(text: str) -> str:
    """Markdown/HTML noise out of one line: links -> their text, tags, escapes, emphasis."""
    s = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)  # images
    s = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", s)  # [text](url)
    s = re.sub(r"\[([^\]]+)\]\[[^\]]*\]", r"\1", s)  # [text][ref]
    s = re.sub(r"</?[A-Za-z][^<>]*>", " ", s)  # HTML tags, <a name=...></a>, autolinks
    s = html.unescape(s)
    s = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>~])", r"\1", s)  # backslash escapes
    s = _URL.sub(_url_name, s)  # a bare URL reads as the name of what it points to
    s = re.sub(r"(\*\*|__)(.+?)\1", r"\2", s)  # bold
    s = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", s)  # *italic*
    s = _HEADING.sub("", s)
    s = BULLET.sub("", s)
    s = re.sub(r"^\s*>\s?", "", s)  # block quote
    return " ".join(s.split())


@lru_cache(maxsize=65536)  # the same few thousand words, stemmed for every answer
def stem_word(word: str) -> str:
    """A very light stemmer: 'turns'/'turn', 'personalized'/'personalization', 'stopping'/'stop'."""
    for suffix in ("ations", "ation", "ings", "ing", "edly", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            if word[-1] == word[-2] and word[-1] not in "lsfz":  # stopp -> stop
                word = word[:-1]
            break
    else:
        if word.endswith("ies") and len(word) > 4:
            return word[:-3] + "y"
        if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
            word = word[:-1]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def content_terms(text: str) -> list[str]:
    """Content terms of a text, lower-cased and stemmed, stop words removed."""
    stems = (stem_word(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1)
    return [s for s in stems if s not in STOPWORDS]


def is_term_line(line: str, next_line: str = "") -> bool:
    """A line that names what the lines below it describe.

    A heading, a lone link or a bold label; or a short plain line without end punctuation
    directly followed by a bullet (how the parser leaves "[Amazon Polly](url)" + bullets).
    """
    if _HEADING.match(line) or _LINK_LINE.match(line) or _BOLD_LINE.match(line):
        return True
    return (
        bool(BULLET.match(next_line))
        and not BULLET.match(line)
        and len(line) <= 80
        and len(line.split()) <= 8
        and not line.rstrip().endswith((".", "!", "?", ",", ";", ":"))
    )


# ANSI/VT escape sequences: CSI (ESC [ ... final, or the 8-bit CSI), OSC (ESC ] ... BEL or ST),
# other string controls (DCS, SOS, PM, APC up to ST) and two-character ESC sequences.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
_KEPT_FORMAT = frozenset("\u200c\u200d")  # zero-width (non-)joiners: part of emoji and scripts


def strip_controls(text: str) -> str:
    """`text` without terminal escape sequences and control characters.

    ANSI escapes (colours, cursor moves, OSC titles and links) are removed whole; other control
    characters (C0, C1, DEL) become spaces, so words they separated stay apart; invisible format
    characters (bidi overrides, zero-width spaces, BOM) are dropped, except the zero-width
    joiners that emoji and some scripts need.
    """
    text = _ESCAPES.sub(" ", text)
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc":
            out.append(" ")
        elif category != "Cf" or ch in _KEPT_FORMAT:
            out.append(ch)
    return "".join(out)
