"""Knowledge: blueprint, embeddings, store, retrieval, answers and questions (imports no Slack)."""

import os

# OpenMP threads that spin while waiting make torch 10-70x slower when the CPU is shared (a
# busy Slack process, a second replica, CI): passive waiting keeps query embedding ~15 ms.
# Must be set before torch is first imported; every torch import here goes through `knowledge`.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
