"""BM25 searches while the index is rebuilt (a re-ingest): answers come from one generation."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field

import numpy as np

from knowledge.lexical import LexicalIndex, top_k


@dataclass
class Item:
    id: str
    text: str
    metadata: dict = field(default_factory=dict)


class Generations:
    """A store whose content changes with each generation: a different number of chunks and
    the one chunk about 'warm pools' at a different position, with an id naming both."""

    def __init__(self) -> None:
        self.generation = 0

    def iter_all(self):
        g = self.generation
        size = 40 + 17 * (g % 5)
        needle = (7 * g + 3) % size
        items = []
        for i in range(size):
            if i == needle:
                items.append(Item(f"g{g}-warm", "warm pools keep training instances ready", {}))
            else:
                items.append(Item(f"g{g}-{i}", f"filler text number {i} about other topics", {}))
        yield items


def test_searches_during_rebuilds_never_mix_generations(tmp_path):
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so a torn read would show
    try:
        index = LexicalIndex(tmp_path / "bm25")
        store = Generations()
        index.rebuild(store, 0)
        stop = threading.Event()
        wrong: list[object] = []

        def search() -> None:
            while not stop.is_set():
                try:
                    hits = index.search("warm pools", 3)
                except Exception as exc:  # IndexError from a torn index
                    wrong.append(exc)
                    return
                if [cid for cid, _ in hits if not cid.endswith("-warm")] or len(hits) != 1:
                    wrong.append(hits)

        readers = [threading.Thread(target=search) for _ in range(3)]
        for t in readers:
            t.start()
        for g in range(1, 40):
            store.generation = g
            index.rebuild(store, g)
        stop.set()
        for t in readers:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []
    assert index.generation == 39 and index.search("warm pools", 3)[0][0] == "g39-warm"


def test_a_loaded_index_answers_like_the_one_that_was_built(tmp_path):
    built = LexicalIndex(tmp_path / "bm25")
    store = Generations()
    store.generation = 4
    built.rebuild(store, 4)
    loaded = LexicalIndex(tmp_path / "bm25")
    assert loaded.load() and loaded.generation == 4 and loaded.size == built.size
    assert loaded.search("warm pools", 2) == built.search("warm pools", 2)
    assert loaded.document_frequencies(["warm", "filler", "absent"]) == {
        "warm": 1,
        "filler": built.size - 1,
        "absent": 0,
    }


def test_top_k_takes_the_best_positive_scores_best_first():
    scores = np.array([0.0, 2.0, 0.5, 2.0, 0.0, 3.0, -1.0], "float32")
    assert top_k(scores, 3).tolist() == [5, 1, 3]  # a tie keeps store order
    assert top_k(scores, 10).tolist() == [5, 1, 3, 2]  # never a zero or negative score
    assert top_k(np.zeros(5, "float32"), 3).tolist() == []
