"""Choose the local embedding model's precision (fp32 or bf16) for the CPU it runs on.

bf16 halves the work only where the CPU multiplies bf16 natively (AMX or AVX512-BF16). Elsewhere
(an AVX2-only AMD EPYC, say) oneDNN emulates it and the model runs several times slower than in
fp32. So `auto` (the default) decides in two steps:

1. Capability: no native bf16 (CPU flags, or an instruction-set limit set with
   ``ONEDNN_MAX_CPU_ISA`` / ``ATEN_CPU_CAPABILITY``) -> fp32, without measuring anything.
2. Probe: with native bf16, a short timed run of both precisions on a few representative texts
   (interleaved rounds, best of each); bf16 only when it is at least `MIN_SPEEDUP` faster and
   its vectors stay within `MIN_COSINE` of the fp32 ones.

The embedding layer supplies the encoder; this module holds the rules and never loads a model.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DTYPES = ("auto", "fp32", "bf16")
MIN_SPEEDUP = 1.05  # bf16 must beat fp32 by this factor ...
MIN_COSINE = 0.999  # ... with every probe vector this close to its fp32 twin
PROBE_ROUNDS = 4
# bf16 this much slower than fp32 after a round is emulated: stop measuring.
EARLY_STOP_SLOWDOWN = 1.5

#: CPU flags (/proc/cpuinfo) of native bf16 matrix instructions.
NATIVE_FLAGS = ("amx_bf16", "avx512_bf16")
# oneDNN ISA names, lowest first; bf16 is native from AVX512_CORE_BF16 on.
_ONEDNN_ISAS = (
    "SSE41",
    "AVX",
    "AVX2",
    "AVX2_VNNI",
    "AVX2_VNNI_2",
    "AVX512_CORE",
    "AVX512_CORE_VNNI",
    "AVX512_CORE_BF16",
    "AVX10_1_512",
    "AVX512_CORE_FP16",
    "AVX10_1_512_AMX",
    "AVX512_CORE_AMX",
    "AVX10_1_512_AMX_FP16",
    "AVX512_CORE_AMX_FP16",
)
_ONEDNN_BF16_FROM = _ONEDNN_ISAS.index("AVX512_CORE_BF16")

# Four texts of about 1,000 characters, like the chunks an ingest embeds (the probe's speed
# depends on their length in word pieces, ~200, not on what they say).
PROBE_TEXTS = (
    "Feature engineering turns raw records into inputs a model can learn from. Numeric columns "
    "are scaled or binned, categorical columns are one-hot or target encoded, and timestamps "
    "become hour, weekday and holiday indicators. Missing values are imputed with a median, a "
    "constant or a model, and an indicator column records that the value was missing. Text is "
    "tokenized and turned into TF-IDF vectors or dense embeddings. Outliers are clipped or "
    "removed after checking that they are errors rather than rare but real events. Every "
    "transformation is fitted on the training split only and then applied unchanged to the "
    "validation and test splits, so that no information from the evaluation data leaks into "
    "training. A feature store keeps the same definitions for training and for online "
    "inference, which avoids skew between the two paths and lets teams share features. "
    "Feature importance from the trained model then shows which inputs are worth keeping.",
    "A managed training job copies its input from object storage to the instances, runs the "
    "training container with the chosen hyperparameters, and writes the model artifact back "
    "when it finishes. Distributed training splits either the data or the model across several "
    "instances; data parallelism suits models that fit in one accelerator's memory, model "
    "parallelism those that do not. Spot capacity lowers the cost of long jobs if the script "
    "saves checkpoints, because an interrupted job resumes from the last checkpoint instead of "
    "the beginning. Automatic model tuning runs many jobs with different hyperparameters and "
    "uses Bayesian search to pick the next candidates from the objective metric of earlier "
    "ones. Early stopping ends trials that are clearly worse than the best so far. Metrics "
    "and logs of every job are kept so that the team can compare runs and reproduce results. "
    "Experiment tracking ties each artifact to its code version, data version and settings.",
    "Choosing an evaluation metric starts with the cost of each kind of mistake. For a fraud "
    "detector, a missed fraud costs far more than a false alarm, so recall matters more than "
    "precision, and the decision threshold is lowered accordingly. The area under the ROC "
    "curve summarizes ranking quality across thresholds, while the precision-recall curve is "
    "more informative when positives are rare. For regression, root mean squared error "
    "punishes large errors more than mean absolute error does. A confusion matrix shows which "
    "classes are confused with which. Cross-validation gives a more stable estimate than a "
    "single split when data is scarce. Once deployed, the model's inputs and predictions are "
    "monitored for drift against a baseline captured at training time, and an alarm triggers "
    "retraining when the distribution moves too far from what the model was trained on. "
    "Bias metrics are checked per group before and after training, and again in production.",
    "Real-time endpoints serve predictions with low latency behind an HTTPS interface and "
    "scale the number of instances with the request rate. Serverless inference suits traffic "
    "with long idle periods, since capacity is provisioned on demand, at the price of a cold "
    "start. Asynchronous inference queues large payloads and writes results to storage, and "
    "batch transform scores a whole dataset offline without a persistent endpoint. Several "
    "models can share one endpoint to save cost when each receives little traffic. A new "
    "model version is rolled out gradually with traffic shifting, or tested in shadow mode "
    "against the current one before it takes real traffic. Inference pipelines chain "
    "preprocessing, prediction and postprocessing containers, so the same feature code runs "
    "in training and serving. Endpoint metrics such as latency and errors feed dashboards. "
    "Auto scaling policies track invocations per instance and add capacity before queues grow.",
)

Encode = Callable[[str, Sequence[str]], np.ndarray]  # (dtype, texts) -> normalised vectors


@dataclass(frozen=True)
class Capability:
    """Whether this process can multiply bf16 natively, and why (for the log)."""

    native_bf16: bool
    reason: str


@dataclass(frozen=True)
class ProbeResult:
    """Best-of-rounds throughput of each precision and the worst bf16/fp32 cosine."""

    fp32_rate: float  # texts per second
    bf16_rate: float
    min_cosine: float
    seconds: float
    rounds: int
    stopped_early: bool = False

    @property
    def speedup(self) -> float:
        return self.bf16_rate / self.fp32_rate if self.fp32_rate else 0.0


@dataclass(frozen=True)
class Choice:
    """The precision the local model runs in, with the reason and the probe behind it."""

    dtype: str
    reason: str
    capability: Capability | None = None
    probe: ProbeResult | None = None
    seconds: float = 0.0
    details: dict = field(default_factory=dict)

    def describe(self) -> str:
        """One log line: what was chosen and why, with the measured speeds."""
        text = f"embedding precision {self.dtype}: {self.reason}"
        if self.probe is not None:
            p = self.probe
            text += (
                f" (probe {p.seconds:.2f} s, {p.rounds} rounds: fp32 {p.fp32_rate:.1f}/s, "
                f"bf16 {p.bf16_rate:.1f}/s, {p.speedup:.2f}x, min cosine {p.min_cosine:.5f})"
            )
        return text


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags (empty where /proc/cpuinfo is missing, e.g. macOS)."""
    try:
        with cpuinfo.open() as fh:
            for line in fh:
                if line.startswith(("flags", "Features")):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def torch_capability() -> str:
    """ATen's vector instruction set for this process ('AVX2', 'AVX512', ...)."""
    try:
        import torch

        return str(torch.backends.cpu.get_cpu_capability())
    except Exception:  # pragma: no cover - very old torch or no torch: assume the least
        return "DEFAULT"


def detect_capability(
    flags: frozenset[str] | None = None,
    env: Mapping[str, str] | None = None,
    aten: str | None = None,
) -> Capability:
    """Native bf16 = the CPU has AMX-BF16 or AVX512-BF16 and no limit set for this process
    (ONEDNN_MAX_CPU_ISA below AVX512_CORE_BF16, or ATen below AVX512) hides it."""
    flags = cpu_flags() if flags is None else flags
    env = os.environ if env is None else env
    native = [f for f in NATIVE_FLAGS if f in flags]
    if not native:
        return Capability(False, "no native bf16 on this CPU (no amx_bf16 or avx512_bf16 flag)")
    isa = env.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()
    if isa and isa not in {"ALL", "DEFAULT"}:
        rank = _ONEDNN_ISAS.index(isa) if isa in _ONEDNN_ISAS else -1
        if rank < _ONEDNN_BF16_FROM:
            return Capability(False, f"ONEDNN_MAX_CPU_ISA={isa} limits oneDNN below native bf16")
    aten = (aten or torch_capability()).upper()
    if "AVX512" not in aten:
        return Capability(False, f"ATen CPU capability is {aten} (ATEN_CPU_CAPABILITY limit)")
    return Capability(True, f"native bf16 ({', '.join(native)}; ATen {aten})")


def probe(
    encode: Encode,
    texts: Sequence[str] = PROBE_TEXTS,
    rounds: int = PROBE_ROUNDS,
    clock: Callable[[], float] = time.perf_counter,
) -> ProbeResult:
    """Time both precisions on `texts`: one warm-up each, then `rounds` interleaved rounds
    (order alternating), best round of each; stops after a round where bf16 is clearly slow."""
    started = clock()
    texts = list(texts)
    ref = np.asarray(encode("fp32", texts), "float32")
    low = np.asarray(encode("bf16", texts), "float32")
    best = {"fp32": float("inf"), "bf16": float("inf")}
    done = 0
    early = False
    for r in range(rounds):
        for dtype in ("fp32", "bf16") if r % 2 == 0 else ("bf16", "fp32"):
            t0 = clock()
            encode(dtype, texts)
            best[dtype] = min(best[dtype], clock() - t0)
        done = r + 1
        if best["bf16"] > EARLY_STOP_SLOWDOWN * best["fp32"]:
            early = done < rounds
            break
    return ProbeResult(
        fp32_rate=len(texts) / max(best["fp32"], 1e-9),
        bf16_rate=len(texts) / max(best["bf16"], 1e-9),
        min_cosine=_min_cosine(ref, low),
        seconds=clock() - started,
        rounds=done,
        stopped_early=early,
    )


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float((a * b).sum(axis=1).min())


def decide(result: ProbeResult) -> tuple[str, str]:
    """(dtype, reason) for a probe: bf16 only if fast enough AND close enough to fp32."""
    if result.speedup < MIN_SPEEDUP:
        return "fp32", f"bf16 not faster than fp32 by {MIN_SPEEDUP:.2f}x"
    if result.min_cosine < MIN_COSINE:
        return "fp32", f"bf16 vectors drift from fp32 (min cosine < {MIN_COSINE})"
    return "bf16", f"bf16 measured faster than fp32 at min cosine >= {MIN_COSINE}"


def choose(
    setting: str,
    encode: Encode,
    capability: Capability | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Choice:
    """The precision for `setting` (auto|fp32|bf16): an explicit one is obeyed; `auto` is
    fp32 without native bf16 and otherwise whatever the probe shows to be faster."""
    setting = setting.strip().lower()
    if setting not in DTYPES:
        raise ValueError(f"embedding dtype must be one of {', '.join(DTYPES)}, not {setting!r}")
    if setting != "auto":
        return Choice(setting, f"STUDYBOT_EMBEDDING_DTYPE={setting}")
    started = clock()
    capability = capability or detect_capability()
    if not capability.native_bf16:
        return Choice("fp32", capability.reason, capability, seconds=clock() - started)
    result = probe(encode, clock=clock)
    dtype, reason = decide(result)
    return Choice(dtype, reason, capability, result, seconds=clock() - started)
