"""The exam blueprint as data: domains, objectives, weights, scoring (one YAML file per exam)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator


class BlueprintError(ValueError):
    """A blueprint file is missing or does not describe a valid exam."""


class Objective(BaseModel):
    """One exam objective, e.g. 2.2 Perform feature engineering."""

    id: str
    name: str
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    domain_id: int = 0

    @property
    def label(self) -> str:
        return f"{self.id} {self.name}"


class Domain(BaseModel):
    """One exam domain with its weight in percent and its objectives."""

    id: int
    name: str
    weight: float
    objectives: list[Objective]

    @property
    def label(self) -> str:
        return f"Domain {self.id} · {self.name}"


class Scale(BaseModel):
    min: int
    max: int


#: The exam guide's names for its question types -> the quiz formats that play them.
FORMAT_OF_TYPE = {
    "multiple choice": "single",
    "multiple response": "multi",
    "ordering": "ordering",
    "matching": "matching",
}
QUIZ_FORMATS = ("single", "multi", "ordering", "matching")


class ExamFacts(BaseModel):
    questions: int
    minutes: int
    scale: Scale
    passing_score: int
    question_types: list[str] = Field(default_factory=list)


class Blueprint(BaseModel):
    """A whole exam: its facts, domains and objectives."""

    id: str
    name: str
    exam: ExamFacts
    domains: list[Domain]
    retired: str = ""  # the date AWS retired the exam (ISO), "" while it is offered

    @model_validator(mode="after")
    def _check(self) -> Blueprint:
        total = sum(d.weight for d in self.domains)
        if abs(total - 100) > 1e-6:
            raise ValueError(f"domain weights sum to {total:g}, not 100")
        domain_ids = [d.id for d in self.domains]
        if len(set(domain_ids)) != len(domain_ids):
            raise ValueError(f"duplicate domain ids: {domain_ids}")
        objective_ids = [o.id for d in self.domains for o in d.objectives]
        if len(set(objective_ids)) != len(objective_ids):
            raise ValueError(f"duplicate objective ids: {objective_ids}")
        for d in self.domains:
            if not d.objectives:
                raise ValueError(f"domain {d.id} has no objectives")
            for o in d.objectives:
                if not o.id.startswith(f"{d.id}."):
                    raise ValueError(f"objective {o.id} is not numbered under domain {d.id}")
                o.domain_id = d.id
        if not self.exam.scale.min <= self.exam.passing_score <= self.exam.scale.max:
            raise ValueError("passing score lies outside the scoring scale")
        return self

    @property
    def formats(self) -> tuple[str, ...]:
        """The quiz formats this exam uses, from ``exam.question_types`` (the guide's names,
        "multiple choice", "ordering", …, or the formats themselves); types no quiz format
        plays ("case study") are left out. Single and multi when the file lists none."""
        found = set()
        for name in self.exam.question_types:
            key = " ".join(name.lower().split())
            fmt = FORMAT_OF_TYPE.get(key, key)
            if fmt in QUIZ_FORMATS:
                found.add(fmt)
        return tuple(f for f in QUIZ_FORMATS if f in found) or ("single", "multi")

    @property
    def objectives(self) -> list[Objective]:
        return [o for d in self.domains for o in d.objectives]

    def domain(self, domain_id: int) -> Domain:
        for d in self.domains:
            if d.id == domain_id:
                return d
        raise KeyError(f"no domain {domain_id} in {self.id}")

    def objective(self, objective_id: str) -> Objective:
        for o in self.objectives:
            if o.id == objective_id:
                return o
        raise KeyError(f"no objective {objective_id} in {self.id}")

    def find_domain(self, text: str) -> Domain | None:
        """Resolve '3', 'modeling' or 'Data Engineering' to a domain (None if nothing matches)."""
        t = text.strip().lower()
        if t.isdigit():
            return next((d for d in self.domains if d.id == int(t)), None)
        for d in self.domains:
            if t and (t == d.name.lower() or t in d.name.lower()):
                return d
        return None

    @property
    def weights(self) -> dict[int, float]:
        return {d.id: d.weight / 100 for d in self.domains}


def load_blueprint_file(path: Path) -> Blueprint:
    """Load and validate one blueprint YAML file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BlueprintError(f"blueprint file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise BlueprintError(f"blueprint {path} is not valid YAML: {exc}") from exc
    try:
        return Blueprint.model_validate(data)
    except ValidationError as exc:
        raise BlueprintError(f"blueprint {path} is invalid: {exc}") from exc


@lru_cache(maxsize=8)
def load_blueprint(name_or_path: str = "mls-c01") -> Blueprint:
    """Load a bundled blueprint by id (``mls-c01``) or any blueprint file by path."""
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} and path.exists():
        return load_blueprint_file(path)
    bundled = resources.files("knowledge") / "blueprints" / f"{name_or_path}.yaml"
    if not bundled.is_file():
        raise BlueprintError(f"unknown blueprint {name_or_path!r}: no bundled file {bundled.name}")
    return load_blueprint_file(Path(str(bundled)))


def bundled_blueprint_ids() -> list[str]:
    """Ids of the blueprints shipped in `knowledge/blueprints/` (sorted)."""
    folder = resources.files("knowledge") / "blueprints"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def installed_blueprints(primary: Blueprint | str = "mls-c01") -> list[Blueprint]:
    """Every blueprint chunks are tagged for: `primary` (the settings' blueprint: a blueprint,
    an id or a YAML path) first, then the other bundled ones. One store serves every exam."""
    first = load_blueprint(primary) if isinstance(primary, str) else primary
    rest = [load_blueprint(i) for i in bundled_blueprint_ids() if i != first.id]
    return [first, *rest]
