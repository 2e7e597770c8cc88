"""Markdown -> Slack mrkdwn."""

from __future__ import annotations

import pytest

from bot.slack.mrkdwn import escape, link, to_mrkdwn


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("**bold** and __strong__", "*bold* and *strong*"),
        ("*italic* and _italic_", "_italic_ and _italic_"),
        ("***both***", "*_both_*"),
        ("~~gone~~", "~gone~"),
        ("# Heading", "*Heading*"),
        ("### **Bold** heading ###", "*Bold heading*"),
        ("- item", "• item"),
        ("* item", "• item"),
        ("+ item", "• item"),
        ("  - nested", "  • nested"),
        ("- [ ] todo\n- [x] done", "• ☐ todo\n• ☑ done"),
        ("1. first\n2. second\n3) third", "1. first\n2. second\n3) third"),
        ("[AWS docs](https://docs.aws.amazon.com/x)", "<https://docs.aws.amazon.com/x|AWS docs>"),
        ("[[1] Guide](https://x.example/a?b=1&c=2)", "<https://x.example/a?b=1&c=2|[1] Guide>"),
        ("[**bold label**](https://x.example)", "<https://x.example|bold label>"),
        ("[relative](#anchor)", "relative"),
        ("[evil](javascript:alert(1))", "[evil](javascript:alert(1))"),
        ("<https://x.example/p>", "<https://x.example/p>"),
        ("![chart](https://x.example/c.png)", "<https://x.example/c.png|chart>"),
        ("a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"),
        ("<!channel> <@U123> <#C1>", "&lt;!channel&gt; &lt;@U123&gt; &lt;#C1&gt;"),
        ("`x < y` and `**not bold**`", "`x &lt; y` and `**not bold**`"),
        ("2*3*4 = 24 and snake_case_name", "2*3*4 = 24 and snake_case_name"),
        ("> quoted *text*", "> quoted _text_"),
        ("---", "──────────"),
        ("see [1] and [2, 3]", "see [1] and [2, 3]"),
        ("emoji 🤖 and 日本語 and Ελληνικά", "emoji 🤖 and 日本語 and Ελληνικά"),
    ],
)
def test_conversions(markdown, expected):
    assert to_mrkdwn(markdown) == expected


def test_fenced_code_is_kept_verbatim_escaped_and_loses_its_language():
    md = 'Before\n```python\nif a < b:\n    print("**x**")\n\n# not a heading\n```\nAfter **b**'
    assert to_mrkdwn(md) == (
        'Before\n```\nif a &lt; b:\n    print("**x**")\n\n# not a heading\n```\nAfter *b*'
    )


def test_tilde_fence_and_an_unclosed_fence_are_closed():
    assert to_mrkdwn("~~~\ncode\n~~~") == "```\ncode\n```"
    assert to_mrkdwn("```\nnever closed") == "```\nnever closed\n```"


def test_windows_line_endings():
    assert to_mrkdwn("# T\r\n- a\r\n") == "*T*\n• a\n"


def test_escape_and_link_helpers():
    assert escape("&<>") == "&amp;&lt;&gt;"
    assert link("https://x.example/a b|c>", "A & B") == "<https://x.example/a%20b%7Cc%3E|A &amp; B>"
    assert link("https://x.example") == "<https://x.example>"
