"""hit@1, hit@5, MRR and domain accuracy for dense only, BM25 only and hybrid retrieval.

Runs tests/data/retrieval_eval.jsonl against the store in STUDYBOT_DATA_DIR (built from the
study guide and the AWS guides), with the same per-source cap and domain tagging as answers:

    STUDYBOT_DATA_DIR=/tmp/sb-cov .venv/bin/python bench/retrieval_modes.py

Writes bench/results/retrieval_quality_sb_cov.json.
"""

import json
import sys

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))

from knowledge.answer import domain_tags
from knowledge.blueprint import load_blueprint
from knowledge.evaluate import evaluate, load_eval
from knowledge.retrieve import Retriever
from knowledge.settings import Settings
from knowledge.types import Hit

s = Settings()
r = Retriever.from_settings(s)
bp = load_blueprint()
r.refresh_lexical()
items = load_eval("tests/data/retrieval_eval.jsonl")


def to_hits(ids_scores):
    got = r.store.get([i for i, _ in ids_scores])
    out = []
    for cid, sc in ids_scores:
        if cid not in got:
            continue
        m = got[cid].metadata
        out.append(
            Hit(
                cid,
                got[cid].text,
                m["source"],
                m.get("title", ""),
                m.get("title_path", ""),
                int(m["domain"]),
                m["objective"],
                sc,
            )
        )
    return out


def dense(q):
    v = r.embeddings.embed_query(q)
    res = r.store.query(v, 20)
    from knowledge.retrieve import cap_per_source

    ids = cap_per_source([x.id for x in res], {x.id: x.metadata["source"] for x in res}, 2)[:5]
    return to_hits([(i, 1.0) for i in ids])


def lexical(q):
    res = r.lexical.search(q, 40)
    got = r.store.get([i for i, _ in res])
    from knowledge.retrieve import cap_per_source

    ids = cap_per_source(
        [i for i, _ in res if i in got],
        {i: got[i].metadata["source"] for i, _ in res if i in got},
        2,
    )[:5]
    return to_hits([(i, 1.0) for i in ids])


prim = lambda q, hits: domain_tags(hits, bp)[0].id if domain_tags(hits, bp) else None
out = {}
for name, fn in [("dense", dense), ("bm25", lexical), ("hybrid", lambda q: r.search(q, k=5))]:
    out[name] = evaluate(items, fn, prim).to_dict()
    print(name, out[name], flush=True)
json.dump(out, open("bench/results/retrieval_quality_sb_cov.json", "w"), indent=2)
