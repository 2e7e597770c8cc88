"""Markdown (what answers are written in) to Slack mrkdwn. Pure functions, no Slack calls.

Follows CommonMark's meaning: `**x**` and `__x__` are strong (Slack `*x*`), `*x*` and `_x_` are
emphasis (Slack `_x_`), `~~x~~` is strikethrough (Slack `~x~`). Headings become bold lines, bullets
become "•", numbered lists stay, `[text](url)` becomes `<url|text>`, code (inline and fenced) is
kept verbatim. `&`, `<` and `>` are escaped everywhere except inside the links this module writes,
so text can never smuggle in `<!channel>` or a user mention.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})(.*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_TASK = re.compile(r"^\[([ xX])\]\s+(.*)$")
_NUMBERED = re.compile(r"^(\s*)(\d{1,9})([.)])\s+(.*)$")

_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
_LINK_TEXT = r"((?:[^\[\]]|\[[^\[\]]*\])+)"
_LINK = re.compile(r"(!?)\[" + _LINK_TEXT + r"\]\(\s*<?([^()\s<>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^\s<>]+)>")
_BOLD_ITALIC = re.compile(r"\*\*\*(?=\S)(.+?)(?<=\S)\*\*\*")
_BOLD_STARS = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_BOLD_UNDERSCORES = re.compile(r"(?<![\w_])__(?=\S)(.+?)(?<=\S)__(?![\w_])")
_ITALIC_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")
_BOLD_MARK = "\x01"
_SAFE_SCHEMES = ("http://", "https://", "mailto:")


def escape(text: str) -> str:
    """Slack's three control characters, escaped as Slack requires."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """What Slack sends back for `&amp;`, `&lt;` and `&gt;`, as the characters the user typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def link(url: str, text: str | None = None) -> str:
    """`<url|text>` with the URL made safe for Slack's link syntax and the text escaped."""
    safe = url.strip().replace(" ", "%20").replace("|", "%7C").replace("<", "%3C")
    safe = safe.replace(">", "%3E")
    return f"<{safe}|{escape(text)}>" if text else f"<{safe}>"


def to_mrkdwn(markdown: str) -> str:
    """Convert Markdown to Slack mrkdwn (see the module docstring for the rules)."""
    out: list[str] = []
    fence: str | None = None
    for line in markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        m = _FENCE.match(line)
        if fence is not None:
            closing = (
                m is not None
                and m.group(1)[0] == fence[0]
                and len(m.group(1)) >= len(fence)
                and not m.group(2).strip()
            )
            if closing:
                out.append("```")
                fence = None
            else:
                out.append(escape(line))
            continue
        if m is not None and not (m.group(1)[0] == "`" and "`" in m.group(2)):
            fence = m.group(1)
            out.append("```")  # Slack shows no language label: drop the info string
            continue
        out.append(_convert_line(line))
    if fence is not None:
        out.append("```")  # close a fence the author left open
    return "\n".join(out)


def _convert_line(line: str) -> str:
    if not line.strip():
        return ""
    if m := _HEADING.match(line):
        title = _inline(m.group(1)).replace("*", "").strip()
        return f"*{title}*" if title else ""
    if _RULE.match(line):
        return "──────────"
    if m := _QUOTE.match(line):
        return ">" + (" " + _convert_line(m.group(1)) if m.group(1).strip() else "")
    if m := _BULLET.match(line):
        indent, rest = m.groups()
        if t := _TASK.match(rest):
            rest = ("☑ " if t.group(1) in "xX" else "☐ ") + t.group(2)
        return f"{indent}• {_inline(rest)}"
    if m := _NUMBERED.match(line):
        indent, number, mark, rest = m.groups()
        return f"{indent}{number}{mark} {_inline(rest)}"
    return _inline(line)


def _inline(text: str) -> str:
    kept: list[str] = []

    def keep(value: str) -> str:
        kept.append(value)
        return f"\x00{len(kept) - 1}\x00"

    text = text.replace("\x00", "").replace(_BOLD_MARK, "")
    text = _CODE_SPAN.sub(lambda m: keep(f"`{escape(m.group(2).strip() or m.group(2))}`"), text)
    text = _LINK.sub(_link_sub(keep), text)
    text = _AUTOLINK.sub(lambda m: keep(link(m.group(1))), text)
    text = escape(text)
    text = _BOLD_ITALIC.sub(lambda m: f"{_BOLD_MARK}_{m.group(1)}_{_BOLD_MARK}", text)
    text = _BOLD_STARS.sub(lambda m: f"{_BOLD_MARK}{m.group(1)}{_BOLD_MARK}", text)
    text = _BOLD_UNDERSCORES.sub(lambda m: f"{_BOLD_MARK}{m.group(1)}{_BOLD_MARK}", text)
    text = _ITALIC_STAR.sub(lambda m: f"_{m.group(1)}_", text)
    text = _STRIKE.sub(lambda m: f"~{m.group(1)}~", text)
    text = text.replace(_BOLD_MARK, "*")
    for _ in range(3):  # links may hold code spans: restore nested placeholders too
        if "\x00" not in text:
            break
        text = _PLACEHOLDER.sub(lambda m: kept[int(m.group(1))], text)
    return text


def _link_sub(keep):
    def sub(m: re.Match[str]) -> str:
        label = _plain(m.group(2))
        url = m.group(3)
        if not url.lower().startswith(_SAFE_SCHEMES):
            return keep(escape(label))  # relative or unknown link: keep the words only
        return keep(link(url, label or url))

    return sub


def _plain(text: str) -> str:
    """Link labels: Markdown emphasis markers dropped (code spans are placeholders by now)."""
    return re.sub(r"(\*\*|__|~~|\*)", "", text)
