"""Tests for ingest.parse: Markdown, HTML, PDF and plain text into Documents."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from ingest.document import Document
from ingest.parse import (
    ParseError,
    clean_aws_markdown,
    parse_bytes,
    parse_html,
    parse_markdown,
    parse_pdf,
    parse_text,
)

DATA = Path(__file__).parent / "data" / "parse"
SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"
SAGEMAKER = CORPUS / "awsdocs" / "sagemaker-developer-guide" / "doc_source"

OBJECTIVES = [
    "1.1", "1.2", "1.3",
    "2.1", "2.2", "2.3",
    "3.1", "3.2", "3.3", "3.4", "3.5",
    "4.1", "4.2", "4.3", "4.4",
]  # fmt: skip


def _corpus_file(*parts: str) -> Path:
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared not present: {path} is missing")
    return path


def _section(doc: Document, *title_path: str):
    matches = [s for s in doc.sections if s.title_path == list(title_path)]
    assert matches, f"no section {list(title_path)} in {[s.title_path for s in doc.sections]}"
    return matches[0]


# --------------------------------------------------------------------------------------------
# Hand-built PDFs (no PDF library needed to write them)


def _pdf(*pages: str, title: str | None = None) -> bytes:
    """A minimal valid PDF with one Helvetica text line per input line on each page."""
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids = []
    for index, text in enumerate(pages):
        page_id, content_id = 4 + 2 * index, 5 + 2 * index
        kids.append(f"{page_id} 0 R")
        objects[page_id] = (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
        ).encode()
        ops = []
        for row, line in enumerate(text.split("\n")):
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"BT /F1 12 Tf 72 {720 - 16 * row} Td ({escaped}) Tj ET")
        stream = "\n".join(ops).encode("latin-1")
        objects[content_id] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>".encode()
    info = ""
    if title:
        info_id = max(objects) + 1
        objects[info_id] = f"<< /Title ({title}) >>".encode()
        info = f" /Info {info_id} 0 R"

    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for oid in sorted(objects):
        offsets[oid] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (oid, objects[oid])
    xref, size = len(out), max(objects) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for oid in range(1, size):
        out += f"{offsets[oid]:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {size} /Root 1 0 R{info} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _rewrite_pdf(data: bytes, edit) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    edit(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# clean_aws_markdown


def test_clean_removes_anchors_in_any_form():
    text = (
        '# Title<a name="t"></a>\n'
        "## Two<a name='two'></a>\n"
        '## Three<a class="x" id="three"></a>\n'
        "## Four<a name=four />\n"
        'Keep <a href="https://example.org">real links</a>.\n'
    )
    cleaned = clean_aws_markdown(text)
    assert "<a name" not in cleaned and "<a class" not in cleaned
    assert "# Title\n## Two\n## Three\n## Four\n" in cleaned
    assert '<a href="https://example.org">real links</a>' in cleaned


def test_clean_unescapes_punctuation_outside_code():
    text = (
        "Use a production\\-ready endpoint \\(see \\[docs\\]\\)\\. Names like my\\_bucket\\! "
        "\\*not bold\\* \\#tag \\{x\\} a\\+b \\`tick\\`\n"
        "<!-- internal note -->\n"
        "Inline `s3://bucket/\\.hidden` stays.\n"
        "\n"
        "```\n"
        "grep -E '\\d+\\.\\d+' file  <!-- not a comment in code -->\n"
        "```\n"
        "\n"
        "1. Step one\\.\n"
        "   ```\n"
        "   echo \\(kept\\)\n"
        "   ```\n"
    )
    cleaned = clean_aws_markdown(text)
    assert "production-ready endpoint (see [docs])." in cleaned
    assert "my_bucket! *not bold* #tag {x} a+b `tick`" in cleaned
    assert "internal note" not in cleaned
    assert "`s3://bucket/\\.hidden`" in cleaned
    assert "grep -E '\\d+\\.\\d+' file  <!-- not a comment in code -->" in cleaned
    assert "1. Step one." in cleaned
    assert "   echo \\(kept\\)" in cleaned


def test_clean_is_harmless_on_plain_markdown():
    text = "# Plain\n\nNothing to clean here: a - b (c) [d](e.md) `code`.\n"
    assert clean_aws_markdown(text) == text


# --------------------------------------------------------------------------------------------
# parse_markdown


@pytest.fixture(scope="module")
def notes() -> Document:
    path = DATA / "notes.md"
    return parse_markdown(path.read_text(), str(path), base="https://notes.example.com/ml/")


def test_markdown_front_matter_sets_title_metadata_and_kind(notes):
    assert notes.title == "Study Notes"
    assert notes.kind == "guide"
    assert notes.metadata == {
        "title": "Study Notes",
        "author": "study group",
        "published": "true",
        "tags": "ml, aws",
    }


def test_markdown_sections_follow_heading_chain(notes):
    paths = [s.title_path for s in notes.sections]
    assert paths == [
        ["Study Notes"],  # text before the first heading
        ["Study Notes", "Data prep"],
        ["Study Notes", "Data prep", "2.2 Feature engineering"],
        ["Study Notes", "Data prep", "2.2 Feature engineering", "Binning"],
        ["Study Notes", "Data prep", "2.3 Visualize data"],
        ["Study Notes", "Models"],
    ]  # "## Empty section" has no body and names no objective: skipped


def test_markdown_objective_hints_and_empty_objective_sections(notes):
    hints = {tuple(s.title_path[1:]): s.objective_hint for s in notes.sections}
    assert hints[("Data prep", "2.2 Feature engineering")] == "2.2"
    assert hints[("Data prep", "2.2 Feature engineering", "Binning")] == "2.2"  # inherited
    assert hints[("Data prep",)] is None
    assert hints[("Models",)] is None
    empty = _section(notes, "Study Notes", "Data prep", "2.3 Visualize data")
    assert empty.text == "" and empty.objective_hint == "2.3"


def test_markdown_section_text_is_clean(notes):
    prep = _section(notes, "Study Notes", "Data prep").text
    assert "Clean the data first. Missing values (NaN) need a plan - drop or impute." in prep
    assert "Read the imputation page and the same page again." in prep
    assert "Jump to the next part or visit https://example.org/autolink." in prep
    for leftover in ("](", "![", "<p>", "</br>", "<a name", "\\.", "\n\n\n"):
        assert leftover not in prep
    binning = _section(notes, "Study Notes", "Data prep", "2.2 Feature engineering", "Binning")
    assert binning.text == "Group a numeric column into ranges with quantile bins."
    models = _section(notes, "Study Notes", "Models").text
    assert models == "Use `\\.` literally inside inline code, and bold HTML is unwrapped."


def test_markdown_code_blocks_stay_verbatim(notes):
    text = _section(notes, "Study Notes", "Data prep", "2.2 Feature engineering").text
    assert 'pattern = r"\\d+\\.\\d+"' in text
    assert 'print("[not a link](nowhere.md)")' in text
    assert text.startswith("One-hot encoding") and text.endswith("```")


def test_markdown_links_resolved_deduplicated_in_order(notes):
    assert notes.links == [
        "https://notes.example.com/ml/overview.md",
        "https://notes.example.com/ml/guide/impute.md",  # fragment dropped, duplicate merged
        "https://example.org/autolink",
        "https://example.org/bins",  # reference-style link
    ]  # "#features" (fragment only), the image and the link inside code are not links


def test_markdown_links_against_directory_and_without_base():
    text = "# T\n\nSee [a](a.md), [b](../other/b.md#x), [c](https://x.example.com/c).\n"
    doc = parse_markdown(text, "/docs/guide/t.md", base="/docs/guide")
    assert doc.links == ["/docs/guide/a.md", "/docs/other/b.md", "https://x.example.com/c"]
    assert parse_markdown(text, "t.md").links == [
        "a.md",
        "../other/b.md",
        "https://x.example.com/c",
    ]


def test_markdown_title_falls_back_to_h1_then_stem():
    doc = parse_markdown("Intro line.\n\n# Real Title\n\nBody.\n", "notes/x.md")
    assert doc.title == "Real Title" and doc.kind == "markdown" and doc.metadata == {}
    assert doc.sections[0].title_path == ["Real Title"]
    doc = parse_markdown("## Only a subheading\n\nBody.\n", "notes/feature-store.md")
    assert doc.title == "feature-store"


def test_markdown_setext_headings_and_heading_markup():
    doc = parse_markdown("Top\n===\n\n## [**3.4** Tune](https://x.example.com)\n\nHPO.\n", "t.md")
    assert doc.title == "Top"
    assert doc.sections[0].title_path == ["Top", "3.4 Tune"]
    assert doc.sections[0].objective_hint == "3.4"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("---\ntitle: [unclosed\n---\n# Body\n", "malformed front matter: "),
        ("---\ntitle: a\n  bad: indent\n---\nBody\n", "malformed front matter: "),
        ("---\n- just\n- a list\n---\nBody\n", "malformed front matter: expected key"),
        ("---\ntitle: never closed\n\n# Body\n", "malformed front matter: no closing"),
    ],
)
def test_markdown_malformed_front_matter(text, reason):
    with pytest.raises(ParseError, match=f"^{re.escape(reason)}") as info:
        parse_markdown(text, "bad.md")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text", ["", "   \n\n\t\n"])
def test_markdown_empty(text):
    with pytest.raises(ParseError, match="^empty file$"):
        parse_markdown(text, "empty.md")


def test_markdown_without_any_text():
    with pytest.raises(ParseError, match="no text"):
        parse_markdown("# Heading only\n\n## Another\n", "headings.md")


# --------------------------------------------------------------------------------------------
# parse_html


def test_html_page_title_sections_and_absolute_links():
    html = (DATA / "page.html").read_bytes()
    doc = parse_html(html, "https://study.example.com/notes/scaling.html")
    assert doc.kind == "html"
    assert doc.title == "Scaling Features for Training"
    standard = _section(doc, "Scaling Features for Training", "Standardization").text
    assert "subtracts the column mean" in standard
    assert "The standardization guide\nwalks through the formula" in standard
    assert "](" not in standard and "http" not in standard
    assert doc.links == [
        "https://study.example.com/",
        "https://study.example.com/about",
        "https://study.example.com/notes/guide/standardize.html",
        "https://example.org/pca?x=1",
        "https://study.example.com/legal.html",
    ]  # fragments dropped, duplicates merged, javascript:/mailto: and "#main" skipped


def test_html_title_from_title_tag_and_base_href():
    body = "<p>" + "Gradient boosting adds shallow trees one at a time. " * 8 + "</p>"
    html = (
        "<html><head><title>Boosting notes</title><base href='https://cdn.example.net/docs/'>"
        f"</head><body><main>{body}<a href='trees.html'>Trees</a></main></body></html>"
    )
    doc = parse_html(html, "https://site.example.com/page")
    assert doc.title == "Boosting notes"
    assert doc.links == ["https://cdn.example.net/docs/trees.html"]
    assert "shallow trees" in doc.sections[0].text


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><title>App</title><script src='/app.js'></script></head>"
        "<body><div id='root'></div></body></html>",
        "<html><head><title>Nothing here</title></head><body>\n</body></html>",
    ],
)
def test_html_without_main_text(html):
    with pytest.raises(ParseError, match="^no main text in HTML page$"):
        parse_html(html, "https://app.example.com/")


# --------------------------------------------------------------------------------------------
# parse_pdf


def test_pdf_with_text_one_section_per_page():
    data = _pdf("Hello PDF world\nSecond line", "Page two talks about XGBoost", title="My Notes")
    doc = parse_pdf(data, "notes.pdf")
    assert doc.kind == "pdf" and doc.title == "My Notes"
    assert [s.title_path for s in doc.sections] == [["My Notes", "Page 1"], ["My Notes", "Page 2"]]
    assert "Hello PDF world" in doc.sections[0].text
    assert "Second line" in doc.sections[0].text
    assert "XGBoost" in doc.sections[1].text
    assert doc.metadata["pages"] == "2"


def test_pdf_title_from_first_line_and_outline_headings():
    data = _pdf("Exam Guide Overview\nintro", "scaling text", "more scaling")
    data = _rewrite_pdf(
        data, lambda w: w.add_outline_item(title="2.2 Perform feature engineering", page_number=1)
    )
    doc = parse_pdf(data, "guide.pdf")
    assert doc.title == "Exam Guide Overview"
    paths = [s.title_path for s in doc.sections]
    assert paths[0] == ["Exam Guide Overview", "Page 1"]
    assert paths[2] == ["Exam Guide Overview", "2.2 Perform feature engineering", "Page 3"]
    assert [s.objective_hint for s in doc.sections] == [None, "2.2", "2.2"]


def test_pdf_without_text():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(ParseError, match="^PDF has no extractable text$"):
        parse_pdf(buffer.getvalue(), "blank.pdf")


@pytest.mark.parametrize(
    "data",
    [b"this is not a PDF at all", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", _pdf("x")[:60]],
)
def test_pdf_broken(data):
    with pytest.raises(ParseError, match="^broken PDF: ") as info:
        parse_pdf(data, "broken.pdf")
    assert "\n" not in str(info.value)


def test_pdf_encrypted():
    data = _rewrite_pdf(_pdf("secret"), lambda w: w.encrypt("pw", algorithm="RC4-128"))
    with pytest.raises(ParseError, match="^broken PDF: encrypted"):
        parse_pdf(data, "locked.pdf")


# --------------------------------------------------------------------------------------------
# parse_text and parse_bytes


def test_text_paragraphs_and_title():
    doc = parse_text(
        "\n  Bias and variance  \r\nline two\r\n\r\n\r\n\r\nSecond paragraph.\n", "t.txt"
    )
    assert doc.kind == "text" and doc.title == "Bias and variance"
    assert doc.sections[0].title_path == ["Bias and variance"]
    assert doc.sections[0].text == "  Bias and variance\nline two\n\nSecond paragraph."


def test_bytes_dispatch_by_extension_content_type_and_magic():
    md = b"# Heading\n\nSee [x](x.md).\n"
    assert parse_bytes(md, "/kb/a.md").kind == "markdown"
    assert parse_bytes(md, "/kb/a.md").links == ["/kb/x.md"]  # resolved against the directory
    assert parse_bytes(md, "https://h.example.com/kb/a.md").links == [
        "https://h.example.com/kb/x.md"
    ]
    assert parse_bytes(md, "/kb/a.txt").kind == "text"
    assert parse_bytes(md, "upload", "text/markdown; charset=utf-8").kind == "markdown"
    assert parse_bytes(_pdf("from bytes"), "download").kind == "pdf"
    html = (DATA / "page.html").read_bytes()
    assert parse_bytes(html, "https://study.example.com/notes/scaling").kind == "html"
    assert parse_bytes(html, "x", "text/html").title == "Scaling Features for Training"
    assert parse_bytes("Caf\u00e9 notes".encode("cp1252"), "c.txt").title == "Caf\u00e9 notes"
    assert parse_bytes("\ufeff# Bom\n\nx\n".encode(), "b.md").title == "Bom"


@pytest.mark.parametrize("data", [b"", b"  \n\t\n"])
def test_bytes_empty(data):
    with pytest.raises(ParseError, match="^empty file$"):
        parse_bytes(data, "empty.md")


@pytest.mark.parametrize(
    "data, source",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "diagram.png"),
        (b"# Looks like markdown\x00\x01\x02", "tricky.md"),
        (bytes(range(1, 32)) * 20 + bytes(range(128, 256)), "blob.txt"),
    ],
)
def test_bytes_binary(data, source):
    with pytest.raises(ParseError, match="^binary file$"):
        parse_bytes(data, source)


def test_bytes_malformed_front_matter():
    with pytest.raises(ParseError, match="^malformed front matter: "):
        parse_bytes(b"---\ntitle: [oops\n---\nBody\n", "guide.md")


# --------------------------------------------------------------------------------------------
# Real data (../shared/corpus)


@pytest.fixture(scope="module")
def study_guide() -> Document:
    path = _corpus_file("study-guide.md")
    return parse_bytes(path.read_bytes(), str(path))


@pytest.mark.slow
def test_study_guide_front_matter_and_kind(study_guide):
    assert study_guide.title == "AWS ML Specialty"
    assert study_guide.kind == "guide"
    assert study_guide.metadata["title"] == "AWS ML Specialty"
    assert study_guide.metadata["published"] == "true"


@pytest.mark.slow
def test_study_guide_objective_sections(study_guide):
    by_hint = {}
    for section in study_guide.sections:
        if section.objective_hint and section.title_path[-1].startswith(section.objective_hint):
            by_hint[section.objective_hint] = section
    assert sorted(by_hint) == OBJECTIVES
    for hint, section in by_hint.items():
        assert section.title_path[0] == "Exam Material"
        assert re.match(rf"{re.escape(hint)} \w", section.title_path[-1])
    assert "XGBoost" in by_hint["3.2"].text
    assert by_hint["2.2"].title_path == [
        "Exam Material",
        "Exploratory Data Analysis",
        "2.2 Perform feature engineering",
    ]
    assert by_hint["2.2"].text == ""  # empty in the guide, kept because it names an objective


@pytest.mark.slow
def test_study_guide_title_paths_and_clean_text(study_guide):
    ai = _section(study_guide, "Exam Material", "AWS ML Stack", "AI Services")
    assert "Amazon Comprehend" in ai.text and "natural language processing" in ai.text
    _section(study_guide, "Exam Information", "Background", "Exam Outline")
    _section(study_guide, "Exam Material", "AWS ML Stack", "ML Services")
    for section in study_guide.sections:
        for leftover in ("](", "![", "<p>", "</br>", "\n\n\n"):
            assert leftover not in section.text, (section.title_path, leftover)
        assert section.objective_hint is None or section.title_path[0] == "Exam Material"


@pytest.mark.slow
def test_study_guide_links(study_guide):
    links = study_guide.links
    assert "https://docs.aws.amazon.com/sagemaker/latest/dg/whatis.html" in links
    assert "https://aws.amazon.com/comprehend/" in links
    assert len(links) == len(set(links))
    assert not any(link.startswith("/images/") for link in links)  # image links dropped
    assert links.index("https://aws.amazon.com/augmented-ai/") < links.index(
        "https://aws.amazon.com/translate/"
    )


@pytest.mark.slow
def test_sagemaker_page_cleaned_and_links_resolve():
    path = _corpus_file("awsdocs", "sagemaker-developer-guide", "doc_source", "whatis.md")
    raw = path.read_text()
    assert "\\." in raw and "<a name" in raw  # the page really needs cleaning

    doc = parse_bytes(path.read_bytes(), str(path))
    assert doc.title == "What Is Amazon SageMaker?"
    assert doc.kind == "markdown"
    assert len(doc.sections) > 2
    for section in doc.sections:
        for part in [*section.title_path, section.text]:
            assert "\\." not in part and "\\-" not in part and "<a name" not in part
    first = doc.sections[0]
    assert first.title_path == ["What Is Amazon SageMaker?"]
    assert "production-ready" in first.text

    local = [link for link in doc.links if not link.startswith("http")]
    assert local and all(Path(link).is_file() for link in local), local
    assert str(SAGEMAKER / "gs.md") in doc.links
    assert not any("#" in link for link in doc.links)

    base = "https://docs.aws.amazon.com/sagemaker/latest/dg/"
    web = parse_markdown(raw, base + "whatis.html", base=base)
    assert base + "gs.md" in web.links
    assert all(link.startswith("http") for link in web.links)


@pytest.mark.slow
def test_small_aws_guide_parses_cleanly():
    folder = _corpus_file("awsdocs", "kinesis-data-firehose-developer-guide", "doc_source")
    pages = sorted(folder.glob("*.md"))
    assert pages
    for page in pages:
        doc = parse_bytes(page.read_bytes(), str(page))
        assert doc.sections and doc.title, page.name
        for section in doc.sections:
            prose = re.sub(r"```[\s\S]*?```|`[^`\n]*`", "", section.text)
            assert "<a name" not in prose and "\\." not in prose, (page.name, section.title_path)
