"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused by reciprocal rank."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Collection, Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from knowledge.blueprint import load_blueprint
from knowledge.coverage import idf
from knowledge.embeddings import make_embeddings, model_id_of
from knowledge.extract import asks_guide, question_shape
from knowledge.lexical import LexicalIndex, tokenize
from knowledge.settings import Settings
from knowledge.store import KnowledgeStore, StoredChunk
from knowledge.subject import (
    MAX_SUBJECT_WORDS,
    Subject,
    about_score,
    asked_subject,
    key_subject,
    titles,
)
from knowledge.tags import domain_filter, for_blueprint, read_tag
from knowledge.text import stem_word
from knowledge.types import Hit

RRF_K = 60


def fuse(rankings: list[list[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal-rank fusion: sum of 1 / (k + rank) over the rankings an id appears in."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, cid in enumerate(ranking, start=1):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (k + rank)
    return fused


def cap_per_source(ids: list[str], source_of: dict[str, str], per_source: int) -> list[str]:
    """Keep ranking order but at most `per_source` chunks from any one source."""
    seen: dict[str, int] = {}
    kept: list[str] = []
    for cid in ids:
        src = source_of.get(cid, cid)
        if seen.get(src, 0) < per_source:
            kept.append(cid)
            seen[src] = seen.get(src, 0) + 1
    return kept


def distinct_texts(ranked: list[str], by_id: dict[str, StoredChunk]) -> list[str]:
    """Ranking order, each passage text once: the same boilerplate page in four doc sets
    ("For the latest AWS terminology, see the AWS glossary") takes one slot, not four."""
    seen: set[str] = set()
    kept = []
    for cid in ranked:
        key = str(by_id[cid].metadata.get("content_hash") or by_id[cid].text)
        if key not in seen:
            seen.add(key)
            kept.append(cid)
    return kept


def keep_first_choices(
    top: list[str], firsts: list[str], k: int, fused: dict[str, float]
) -> list[str]:
    """Each retriever's best hit stays in the top k, in fused order.

    Reciprocal-rank fusion favours chunks both retrievers rank moderately; a list chunk that
    BM25 ranks first by far (the only passage naming "warm pools") can otherwise drop out.
    """
    missing = [cid for cid in dict.fromkeys(firsts) if cid not in top]
    if not missing or k <= len(missing):
        return top
    kept = top[: k - len(missing)] if len(top) + len(missing) > k else top
    return sorted(kept + missing, key=lambda c: -fused.get(c, 0.0))


GUIDE = "guide"  # the source role of study-guide passages (see ingest.pipeline.source_role)


#: A guide passage joins the top k only when it holds this share of the query's word weight
#: (each word weighs its rarity in the store, BM25's idf; words the store never saw weigh most).
GUIDE_MIN_SHARE = 0.5
#: The share asked of a guide passage when the question asks what the guide says.
ASKED_GUIDE_MIN_SHARE = 0.25


#: A query word weighing less than this share of its rarest word ("sagemaker" beside
#: "autopilot" on SageMaker docs) only qualifies the query: it does not decide the passage.
KEY_WORD_SHARE = 0.5
#: Words that never decide: vendor prefixes, and "guide" ("what does the guide list ...").
_NOT_DECIDING = frozenset({"amazon", "aws", "guide", "guide's"})


def word_weights(query: str, stats: LexicalIndex) -> dict[str, float]:
    """The query's words (BM25's tokens) that decide -> their rarity in the store (idf).

    Vendor prefixes and "guide" never decide, nor words far commoner in the store than the
    rarest one.
    """
    tokens = [t for t in dict.fromkeys(tokenize(query)) if len(t) > 1 and t not in _NOT_DECIDING]
    size = max(stats.size, 1)
    df = stats.document_frequencies(tokens)
    rarity = {t: idf(df[t], size) for t in tokens}
    top = max(rarity.values(), default=0.0)
    return {t: w for t, w in rarity.items() if w >= KEY_WORD_SHARE * top}


def holds_share(weights: dict[str, float], words: Collection[str]) -> float:
    """The share of the query's word weight that a passage's words hold."""
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in words) / total if total else 0.0


def _weight_held(weights: dict[str, float], counts: Counter) -> float:
    """The query's word weight a passage holds, a word said more often counting more (a list
    chunk that describes Autopilot beats one that only links to it)."""
    return sum(w * (1 - 0.5 ** counts[t]) for t, w in weights.items())


_BOLD_LABEL = re.compile(r"(?:\*\*|__)([^*_\n]{1,80})(?:\*\*|__)")
#: How many times more a word of a bold label counts: the label names the list below it
#: ("**Natural Language Processing**" above BlazingText, Seq2Seq, Object2Vec).
LABEL_COUNT = 2


def guide_words(chunk: StoredChunk) -> Counter:
    """A guide passage's words (stems: "labeling" meets "label") with their counts; the
    words of its headings and bold labels count more."""
    text = f"{chunk.metadata.get('title_path', '')} {chunk.text}"
    labels = " ".join(_BOLD_LABEL.findall(chunk.text))
    return Counter(map(stem_word, tokenize(f"{text} {' '.join([labels] * LABEL_COUNT)}")))


def keep_a_guide_passage(
    top: list[str], candidate: str | None, k: int, keep: list[str], guides: Sequence[str] = ()
) -> list[str]:
    """``top`` with ``candidate``, the guide's passage that answers best: in place of a weaker
    guide passage (``guides``), else in the last slot (``keep``: ids that must stay, each
    retriever's first choice)."""
    if candidate is None or candidate in top:
        return top
    weaker = [c for c in guides if c in top and c not in keep]
    if weaker:
        return [candidate if c == weaker[-1] else c for c in top]
    room = _make_room(top, k, keep)
    return top if room is None else [*room, candidate]


def _make_room(top: list[str], k: int, keep: Sequence[str]) -> list[str] | None:
    """``top`` with a free slot: as it is when it holds fewer than k, else without its weakest
    passage that is not in ``keep``; None when every passage must stay."""
    if len(top) < k:
        return top
    drop = next((c for c in reversed(top) if c not in keep), None)
    return None if drop is None else [c for c in top if c != drop]


#: Heading levels that, with the source, make one "document" for the per-source cap.
DOCUMENT_LEVELS = 3


def document_of(metadata: dict) -> str:
    """What the per-source cap counts: one source and its top heading levels.

    A doc page is one document per section; the study guide, one long page of many lists,
    counts as one document per part ("Exam Material > AWS ML Stack"), so a question about one
    AI service is not limited to the guide's two best chunks.
    """
    path = [p.strip() for p in str(metadata.get("title_path", "")).split(">")]
    return f"{metadata.get('source', '')}#{' > '.join(path[:DOCUMENT_LEVELS])}"


#: BM25 hits on the asked subject alone that are read for a passage about it.
ABOUT_POOL = 30
#: The least `about_score` that makes a passage lead: a definition of X, or the opening of a
#: page titled for X (a section merely titled for it does not outrank retrieval's choice).
MIN_ABOUT = 1.0


def put_first(top: list[str], candidate: str, k: int, keep: Sequence[str]) -> list[str]:
    """``top`` with ``candidate`` first; when it was not there, in place of the weakest passage
    that is no retriever's first choice (``keep``)."""
    if candidate in top:
        return [candidate, *(c for c in top if c != candidate)]
    room = _make_room(top, k, keep)
    return top if room is None else [candidate, *room]


def as_hit(item: StoredChunk, exam: str) -> Hit:
    """A stored chunk as a search result, tagged for ``exam``, with no scores yet."""
    m = for_blueprint(item.metadata, exam)
    return Hit(
        id=item.id,
        text=item.text,
        source=str(m.get("source", "")),
        title=str(m.get("title", "")),
        title_path=str(m.get("title_path", "")),
        domain=int(m.get("domain", 0)),
        objective=str(m.get("objective", "")),
        score=0.0,
        metadata=dict(m),
    )


class Retriever:
    """Answers `search(query)` with scored hits from the store."""

    def __init__(
        self, settings: Settings, embeddings: Embeddings, store: KnowledgeStore | None = None
    ) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.store = store or KnowledgeStore(settings, model_id_of(embeddings))
        self.lexical = LexicalIndex(settings.lexical_dir)
        self._lock = threading.Lock()
        self._checked_generation: int | None = None
        # the study guide's passages, their vectors and word counts (see `_guide_passage`)
        self._guide: tuple[list[StoredChunk], np.ndarray, list[Counter]] = ([], np.zeros(0), [])

    @classmethod
    def from_settings(cls, settings: Settings) -> Retriever:
        return cls(settings, make_embeddings(settings))

    def refresh_lexical(self, force: bool = False) -> None:
        """Load the BM25 index, rebuilding it when the store has moved on since it was built."""
        with self._lock:
            generation = self.store.generation()
            if not force and self._checked_generation == generation:
                return
            if self.lexical.generation != generation:
                self.lexical.load()
            if force or self.lexical.generation != generation:
                self.lexical.rebuild(self.store, generation)
            guide = self.store.matching({"source_role": GUIDE})
            vectors = np.asarray([v for _, v in guide] or np.zeros((0, 0)), "float32")
            words = [guide_words(c) for c, _ in guide]
            self._guide = ([c for c, _ in guide], vectors, words)
            self._checked_generation = generation

    def _guide_passage(
        self,
        query: str,
        vector: np.ndarray,
        domain: int | None,
        exam: str,
        min_share: float = GUIDE_MIN_SHARE,
    ) -> StoredChunk | None:
        """The study guide's passage that answers the query best, if any does.

        The guide is the learner's primary source, but on a store of thousands of
        documentation pages its list chunks (nine services in one) lose to pages that repeat
        the question's words. Every guide passage is a candidate; one must hold most of the
        query's word weight (rare words weigh most: "autopilot", not "sagemaker"), so an
        off-topic question gets none. The one holding the most weight (repeated words count
        more) plus its cosine to the query is taken.
        """
        chunks, vectors, words = self._guide
        if not chunks:  # a store without guide passages: no query statistics to compute
            return None
        weights: dict[str, float] = {}
        for word, weight in word_weights(query, self.lexical).items():
            stem = stem_word(word)
            weights[stem] = max(weights.get(stem, 0.0), weight)
        total = sum(weights.values())
        if not total:
            return None
        sims = vectors @ vector
        best, best_score = None, 0.0
        for i, item in enumerate(chunks):
            if domain is not None and read_tag(item.metadata, exam).domain != domain:
                continue
            if holds_share(weights, words[i]) < min_share:
                continue
            score = _weight_held(weights, words[i]) / total + float(sims[i])
            if score > best_score:
                best = StoredChunk(item.id, item.text, item.metadata, 1.0 - float(sims[i]))
                best_score = score
        return best

    def subjects_of(self, query: str) -> list[Subject]:
        """What a query asks about: X in "what is X?", X and Y in "X vs Y?" (none otherwise),
        each with its key words weighed by their rarity in the store."""
        asked = asked_subject(query)
        sides = [asked] if asked else question_shape(query).sides
        size = max(self.lexical.size, 1)

        def rarity(word: str) -> float:
            token = (tokenize(word) or [word])[0]
            return idf(self.lexical.document_frequencies([token])[token], size)

        found = [
            key_subject(side, rarity) for side in sides if len(side.split()) <= MAX_SUBJECT_WORDS
        ]
        return [s for s in found if s is not None]

    def _about_passage(
        self,
        subject: Subject,
        candidates: list[str],
        vector: np.ndarray,
        by_id: dict[str, StoredChunk],
        vectors: dict[str, np.ndarray],
        exam: str,
    ) -> str | None:
        """The candidate most about the asked subject (`knowledge.subject.about_score`); ties
        go to the closer vector. Candidates are read best-first by the most they can score, so
        the sentences of those that cannot win are never read."""
        bounded = []
        for cid in dict.fromkeys(candidates):
            item = by_id.get(cid)
            if item is None:
                continue
            hit = as_hit(item, exam)
            parts = titles(hit, subject)
            if parts is None:
                continue
            if cid in vectors:
                cosine = float(vectors[cid] @ vector)
            else:
                cosine = 1.0 - float(item.distance) if item.distance is not None else 0.0
            bounded.append((parts.most + cosine, cid, hit, parts, cosine))
        bounded.sort(key=lambda b: -b[0])
        best, best_score = None, 0.0
        for most, cid, hit, parts, cosine in bounded:
            if most <= best_score:
                break
            if parts.most < MIN_ABOUT:
                continue
            about = about_score(hit, subject, parts)
            if about >= MIN_ABOUT and about + cosine > best_score:
                best, best_score = cid, about + cosine
        return best

    def search(
        self,
        query: str,
        k: int = 5,
        domain: int | None = None,
        per_source: int = 2,
        blueprint: str | None = None,
    ) -> list[Hit]:
        """Top-k hits, optionally within one exam domain, at most `per_source` per source.

        Hits carry their tag for `blueprint` (default: the settings' blueprint), and `domain`
        is a domain of that blueprint.
        """
        query = query.strip()
        if not query:
            return []
        exam = blueprint or load_blueprint(self.settings.blueprint).id
        self.refresh_lexical()
        pool = max(4 * k, 20)
        vector = np.asarray(self.embeddings.embed_query(query), "float32")
        where = domain_filter(exam, domain) if domain is not None else None
        dense = self.store.query(vector.tolist(), pool, where)
        lexical = self.lexical.search(query, pool, domain, exam)
        fused = fuse([[d.id for d in dense], [cid for cid, _ in lexical]])
        by_id: dict[str, StoredChunk] = {d.id: d for d in dense}
        dense_score = {d.id: 1.0 - float(d.distance) for d in dense if d.distance is not None}
        lexical_score = dict(lexical)
        # "what is X?" / "X vs Y?": the BM25 hits on X alone are candidates too (one read below)
        subjects = self.subjects_of(query)
        on_subject = {
            s: [cid for cid, _ in self.lexical.search(s.text, ABOUT_POOL, domain, exam)]
            for s in subjects
        }
        missing = [cid for cid in fused if cid not in by_id]
        missing += [c for ids in on_subject.values() for c in ids if c not in by_id]
        missing = list(dict.fromkeys(missing))
        vectors: dict[str, np.ndarray] = {}
        if missing:
            for cid, (item, vec) in self.store.get(missing, with_vectors=True).items():
                by_id[cid] = item
                vectors[cid] = np.asarray(vec, "float32")
        ranked = distinct_texts(
            sorted((cid for cid in fused if cid in by_id), key=lambda c: -fused[c]), by_id
        )
        source_of = {cid: document_of(by_id[cid].metadata) for cid in ranked}
        top = cap_per_source(ranked, source_of, per_source)[:k]
        firsts = [dense[0].id] if dense else []
        firsts += [cid for cid, _ in lexical[:1] if cid in by_id]
        top = keep_first_choices(top, firsts, k, fused)
        guides = [c for c in top if by_id[c].metadata.get("source_role") == GUIDE]
        asked = asks_guide(query)  # "which ... does the guide list?": the guide's passage leads
        guide = None
        if len(guides) < len(top) or asked:  # is the guide's best here?
            share = ASKED_GUIDE_MIN_SHARE if asked else GUIDE_MIN_SHARE
            guide = self._guide_passage(query, vector, domain, exam, share)
            if guide is not None and guide.id not in top:
                by_id[guide.id] = guide
                if guide.distance is not None:
                    dense_score.setdefault(guide.id, 1.0 - float(guide.distance))
                fused.setdefault(guide.id, 0.0)
                top = keep_a_guide_passage(top, guide.id, k, firsts, guides)
            if guide is not None and asked and len(guides) < len(top):
                top = put_first(top, guide.id, k, firsts)
        # "what is X?": the passage about X leads; "X vs Y?": the passages about X and Y. It
        # never displaces a retriever's first choice nor the guide's passage.
        keep = firsts + ([guide.id] if guide is not None and guide.id in top else [])
        for subject in reversed(subjects):
            candidates = [*top, *ranked, *on_subject[subject]]  # the guide's passage too
            about = self._about_passage(subject, candidates, vector, by_id, vectors, exam)
            if about is not None:
                fused.setdefault(about, 0.0)
                top = put_first(top, about, k, keep)
                keep.append(about)
        for cid in top:
            if cid not in dense_score and cid in vectors:
                dense_score[cid] = float(vectors[cid] @ vector)
        return [self._hit(cid, by_id, exam, fused, dense_score, lexical_score) for cid in top]

    @staticmethod
    def _hit(
        cid: str,
        by_id: dict[str, StoredChunk],
        exam: str,
        fused: dict[str, float],
        dense_score: dict[str, float],
        lexical_score: dict[str, float],
    ) -> Hit:
        """One result: the chunk with its tag for ``exam`` and its scores."""
        hit = as_hit(by_id[cid], exam)
        hit.score = round(fused[cid], 6)
        hit.dense_score = dense_score.get(cid)
        hit.lexical_score = lexical_score.get(cid)
        return hit
