"""Ingest holes closed (issue 12): mirror path traversal, local links out of the guide's folder,
local files over the size cap, one enormous token, and a BM25 rebuilt in the middle of a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunk import MAX_CHARS_PER_TOKEN, cap_length, chunk_document
from ingest.document import Document, Section
from ingest.job import build_pipeline
from ingest.pipeline import IngestOptions
from ingest.sources import Mirror, SourceError, SourceResolver, followable
from knowledge.embeddings import count_tokens

PREFIX = "https://docs.aws.amazon.com/sagemaker/latest/dg/"
PAGE = "# Spot training\n\nManaged spot training uses EC2 Spot Instances to cut training cost.\n"
SECRET = "# Secret\n\nThe database password is hunter2 and nobody may ingest it.\n"


@pytest.fixture
def mirror(tmp_path) -> Mirror:
    folder = tmp_path / "mirror" / "dg"
    folder.mkdir(parents=True)
    (folder / "spot.md").write_text(PAGE)
    (tmp_path / "x.md").write_text(SECRET)  # next to the mirror, not in it
    (folder / "escape.md").symlink_to(tmp_path / "x.md")
    return Mirror.parse(f"{PREFIX}={folder}")


# --------------------------------------------------------------------------- --mirror


@pytest.mark.parametrize(
    "url",
    [
        f"{PREFIX}../../x.html",
        f"{PREFIX}../../../../../../../../{'/'.join(['..'] * 8)}/tmp/x.html",
        f"{PREFIX}sub/../../../x.html",
        f"{PREFIX}escape.html",  # a symlink inside the mirror to a file outside it
    ],
)
def test_a_mirrored_url_cannot_read_outside_the_mirror_folder(mirror, url):
    assert mirror.local_path(url) is None
    with pytest.raises(SourceError, match="outside the mirror folder"):
        SourceResolver(None, [mirror]).load(url)


def test_a_mirrored_page_inside_the_folder_is_read(mirror):
    loaded = SourceResolver(None, [mirror]).load(f"{PREFIX}spot.html")
    assert loaded.data.decode() == PAGE and loaded.source == f"{PREFIX}spot.html"


def test_ingest_with_a_mirror_refuses_a_traversal_link_in_the_guide(settings, mirror, tmp_path):
    guide = tmp_path / "guide" / "guide.md"
    guide.parent.mkdir()
    guide.write_text(
        f"# Guide\n\nRead [spot]({PREFIX}spot.html) and [this]({PREFIX}../../x.html) too.\n"
    )
    pipeline = build_pipeline(settings, [mirror])
    summary = pipeline.run([str(guide)], IngestOptions(follow_links=True))
    assert summary.pages == 2
    assert [(loc, reason) for loc, reason in summary.failures] == [
        (f"{PREFIX}../../x.html", f"outside the mirror folder {mirror.directory}")
    ]
    assert "hunter2" not in all_text(pipeline)


def all_text(pipeline) -> str:
    return "\n".join(c.text for batch in pipeline.store.iter_all() for c in batch)


# --------------------------------------------------------------------------- local links


@pytest.fixture
def guide(tmp_path) -> Path:
    folder = tmp_path / "guide"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "page.md").write_text("# Page\n\nBatch transform runs inference offline.\n")
    (folder / "notes.txt").write_text("Pipe mode streams training data from S3 to the job.\n")
    (folder / "run.sh").write_text("echo the password is hunter2\n")
    (folder / "picture.png").write_bytes(b"\x89PNG hunter2")
    (tmp_path / "outside.md").write_text(SECRET)
    (folder / "link-out.md").symlink_to(tmp_path / "outside.md")
    links = [
        "sub/page.md",
        "notes.txt",
        "../outside.md",
        str(tmp_path / "outside.md"),
        "/etc/hostname",
        "run.sh",
        "picture.png",
        "link-out.md",
        "file:///etc/hostname",
    ]
    body = "\n".join(f"- [link {n}]({link})" for n, link in enumerate(links))
    (folder / "guide.md").write_text(f"# Guide\n\nWhat to read:\n\n{body}\n")
    return folder / "guide.md"


def test_local_links_are_followed_only_inside_the_guides_folder_and_for_documents(guide):
    folder = guide.parent
    assert followable(str(folder / "sub" / "page.md"), str(guide))
    assert followable(str(folder / "notes.txt"), str(guide))
    for link in (
        str(folder.parent / "outside.md"),
        str(folder / ".." / "outside.md"),
        "/etc/hostname",
        str(folder / "run.sh"),
        str(folder / "picture.png"),
        str(folder / "link-out.md"),  # resolves outside
        "file:///etc/hostname",
    ):
        assert not followable(link, str(guide)), link
    assert not followable(str(folder / "notes.txt"), "https://example.com/page.html")
    assert followable("https://docs.aws.amazon.com/x.html", str(guide))


def test_ingest_follows_only_the_allowed_local_links(settings, guide):
    pipeline = build_pipeline(settings)
    summary = pipeline.run([str(guide)], IngestOptions(follow_links=True))
    folder = guide.parent.resolve()
    assert set(pipeline.store.sources()) == {
        str(folder / "guide.md"),
        str(folder / "sub" / "page.md"),
        str(folder / "notes.txt"),
    }
    assert summary.failures == [] and "hunter2" not in all_text(pipeline)


# --------------------------------------------------------------------------- sizes


def test_a_local_file_over_the_size_cap_is_one_failure_not_read(tmp_path):
    big = tmp_path / "big.md"
    big.write_bytes(b"# Big\n\n" + b"word " * 300_000)  # 1.5 MB
    resolver = SourceResolver(None, max_bytes=1_000_000)
    with pytest.raises(SourceError, match=r"too large: 1\.5 MB \(the cap is 1\.0 MB"):
        resolver.load(str(big))
    small = tmp_path / "small.md"
    small.write_text(PAGE)
    assert resolver.load(str(small)).data == PAGE.encode()


def test_ingest_applies_the_fetch_size_cap_to_local_files(settings, tmp_path):
    big = tmp_path / "big.md"
    big.write_bytes(b"# Big\n\n" + b"word " * 300_000)
    capped = settings.model_copy(update={"fetch_max_bytes": 1_000_000})
    summary = build_pipeline(capped).run([str(big)])
    assert summary.pages == 0
    assert summary.failures[0][1].startswith("too large: 1.5 MB")


def test_a_5_mb_token_is_cut_into_chunks_of_bounded_length():
    token = "".join(chr(ord("a") + i % 26) for i in range(5_000_000))
    doc = Document(
        "blob.md",
        "Blob",
        "markdown",
        [Section(["Blob"], f"Before it. {token} After it.")],
    )
    chunks = chunk_document(doc, max_tokens=200, overlap_tokens=40, count_tokens=count_tokens)
    cap = 200 * MAX_CHARS_PER_TOKEN
    assert len(chunks) > 1000
    assert max(len(c.text) for c in chunks) <= cap
    assert "".join(c.text for c in chunks).replace(" ", "") == f"Beforeit.{token}Afterit."


def test_cap_length_keeps_short_text_and_words_whole():
    assert cap_length("short text", 50) == ["short text"]
    assert cap_length("aaaa bbbb cccc", 9) == ["aaaa bbbb", "cccc"]
    assert cap_length("x" * 10 + " yy", 4) == ["xxxx", "xxxx", "xx", "yy"]


def test_ingesting_a_file_with_a_huge_token_stores_no_huge_chunk(settings, tmp_path):
    blob = tmp_path / "blob.md"
    blob.write_text("# Blob\n\nA page with one enormous word.\n\n" + "z" * 200_000 + "\n")
    pipeline = build_pipeline(settings)
    summary = pipeline.run([str(blob)])
    assert summary.pages == 1 and not summary.failures
    longest = max(len(c.text) for batch in pipeline.store.iter_all() for c in batch)
    assert longest <= settings.chunk_tokens * MAX_CHARS_PER_TOKEN


# --------------------------------------------------------------------------- generations


def test_a_run_ends_with_a_new_generation_after_its_writes(settings, tmp_path):
    """A reader that rebuilt BM25 mid-run (after the first bump) must see another change."""
    notes = tmp_path / "notes"
    notes.mkdir()
    for n in range(3):
        (notes / f"{n}.md").write_text(f"# Note {n}\n\nTopic {n}: {PAGE}")
    seen: list[int] = []

    def reader(event: str, _detail: str) -> None:  # another process reading as the run goes
        if event == "done":
            seen.append(pipeline.store.generation())

    pipeline = build_pipeline(settings, progress=reader)
    pipeline.batch_size = 1  # write as it goes, so the reader catches the store mid-run
    pipeline.run([str(notes)])
    assert max(seen) >= 1  # the reader saw the run's first generation ...
    assert pipeline.store.generation() > max(seen)  # ... and the run ended on a newer one
