"""Which precision the local model runs in: capability, the timed probe, explicit settings.

The probe runs on injected encoders and clocks, so both branches are exercised on any CPU:
this suite's machine may or may not multiply bf16 natively.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from pydantic import ValidationError

from knowledge import embeddings, precision
from knowledge.settings import Settings

AMX = frozenset({"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"})
AVX2_ONLY = frozenset({"avx", "avx2", "fma"})
NATIVE = precision.Capability(True, "native bf16 (test)")
EMULATED = precision.Capability(False, "no native bf16 (test)")


class FakeModel:
    """Encodes with a fixed cost per text and precision on a fake clock; counts calls."""

    def __init__(self, seconds_per_text: dict[str, float], drift: float = 0.0) -> None:
        self.cost = seconds_per_text
        self.drift = drift
        self.now = 0.0
        self.calls: list[str] = []

    def clock(self) -> float:
        return self.now

    def encode(self, dtype: str, texts) -> np.ndarray:
        self.calls.append(dtype)
        self.now += self.cost[dtype] * len(texts)
        rng = np.random.default_rng(len(texts))
        vectors = rng.normal(size=(len(texts), 8))
        if dtype == "bf16":
            vectors = vectors + self.drift * rng.normal(size=vectors.shape)
        return vectors


def test_capability_needs_native_flags_and_no_instruction_set_limit():
    assert precision.detect_capability(AVX2_ONLY, {}, "AVX2").native_bf16 is False
    native = precision.detect_capability(AMX, {}, "AVX512")
    assert native.native_bf16 and "amx_bf16" in native.reason
    limited = precision.detect_capability(AMX, {"ONEDNN_MAX_CPU_ISA": "AVX2"}, "AVX512")
    assert not limited.native_bf16 and "ONEDNN_MAX_CPU_ISA=AVX2" in limited.reason
    # ATEN_CPU_CAPABILITY=avx2 shows up as ATen's capability
    assert not precision.detect_capability(AMX, {}, "AVX2").native_bf16
    # a limit at or above native bf16 leaves it available
    high = {"ONEDNN_MAX_CPU_ISA": "avx512_core_amx"}
    assert precision.detect_capability(AMX, high, "AVX512").native_bf16


def test_native_bf16_that_the_probe_finds_faster_is_chosen():
    model = FakeModel({"fp32": 0.05, "bf16": 0.02})
    choice = precision.choose("auto", model.encode, NATIVE, clock=model.clock)
    assert choice.dtype == "bf16"
    assert choice.probe.rounds == precision.PROBE_ROUNDS
    assert choice.probe.speedup == pytest.approx(2.5)
    assert model.calls.count("fp32") == model.calls.count("bf16") == precision.PROBE_ROUNDS + 1


def test_native_flags_but_slow_bf16_falls_back_to_fp32_after_one_round():
    model = FakeModel({"fp32": 0.05, "bf16": 0.3})  # emulated: 6x slower
    choice = precision.choose("auto", model.encode, NATIVE, clock=model.clock)
    assert choice.dtype == "fp32" and "not faster" in choice.reason
    assert choice.probe.rounds == 1 and choice.probe.stopped_early
    assert len(model.calls) == 4  # one warm-up and one timed call each


def test_bf16_barely_faster_is_not_worth_it():
    model = FakeModel({"fp32": 0.050, "bf16": 0.049})
    assert precision.choose("auto", model.encode, NATIVE, clock=model.clock).dtype == "fp32"


def test_bf16_vectors_that_drift_from_fp32_fall_back_to_fp32():
    model = FakeModel({"fp32": 0.05, "bf16": 0.02}, drift=0.3)
    choice = precision.choose("auto", model.encode, NATIVE, clock=model.clock)
    assert choice.dtype == "fp32" and "cosine" in choice.reason
    assert choice.probe.min_cosine < precision.MIN_COSINE


def test_without_native_bf16_fp32_is_chosen_without_probing():
    model = FakeModel({"fp32": 0.05, "bf16": 0.01})
    choice = precision.choose("auto", model.encode, EMULATED, clock=model.clock)
    assert choice.dtype == "fp32" and choice.probe is None and model.calls == []


@pytest.mark.parametrize("setting", ["fp32", "bf16"])
def test_an_explicit_precision_is_obeyed(setting):
    model = FakeModel({"fp32": 0.05, "bf16": 0.3})
    choice = precision.choose(setting, model.encode, NATIVE, clock=model.clock)
    assert choice.dtype == setting and model.calls == []


def test_settings_default_to_auto_and_reject_unknown_precisions(monkeypatch):
    assert Settings(_env_file=None).embedding_dtype == "auto"
    monkeypatch.setenv("STUDYBOT_EMBEDDING_DTYPE", "BF16")
    assert Settings(_env_file=None).embedding_dtype == "bf16"
    monkeypatch.setenv("STUDYBOT_EMBEDDING_DTYPE", "fp16")
    with pytest.raises(ValidationError, match="auto, fp32 or bf16"):
        Settings(_env_file=None)


def test_auto_is_decided_once_per_process_and_logged(monkeypatch, caplog):
    monkeypatch.setattr(embeddings, "_choices", {})
    calls = []

    def fake_choose(setting, encode):
        calls.append(setting)
        return precision.Choice("fp32", "no native bf16 (test)", EMULATED)

    monkeypatch.setattr(embeddings.precision, "choose", fake_choose)
    with caplog.at_level(logging.INFO, logger="knowledge.embeddings"):
        first = embeddings.make_embeddings(Settings(_env_file=None))
        second = embeddings.LocalEmbeddings()
        assert first.dtype == second.dtype == "fp32"
    assert calls == ["auto"]
    logged = [r.getMessage() for r in caplog.records if "embedding precision" in r.getMessage()]
    assert logged == ["embedding precision fp32: no native bf16 (test)"]


def test_ingest_summary_names_the_precision_auto_chose(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from bot.cli import app
    from knowledge.settings import get_settings
    from tests.conftest import DATA

    monkeypatch.setattr(embeddings, "_choices", {})
    monkeypatch.setattr(
        embeddings.precision,
        "detect_capability",
        lambda: precision.Capability(False, "no native bf16 (test)"),
    )
    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STUDYBOT_EMBEDDING_DTYPE", raising=False)
    monkeypatch.setenv("COLUMNS", "120")
    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(app, ["ingest", str(DATA / "docs")])
    finally:
        get_settings.cache_clear()
    assert out.exit_code == 0, out.output
    row = next(line for line in out.output.splitlines() if "embedding precision" in line)
    assert "fp32" in row
