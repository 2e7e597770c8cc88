"""Stems that stand alone and read right: needs from descriptions, articles, grammar checks.

The offline generator phrases scenarios from the material's own words. A description or a
defining sentence's predicate becomes a *need*: a verb phrase ("Turns text into lifelike
speech" -> "turn text into lifelike speech"; "helps you label data" -> "label data") or a noun
phrase ("Rugged physical appliance shipped to your site …" -> "a rugged physical appliance
shipped to their site …"). Verbs are put in their base form with `lemminflect`; "you" and
"your" become "they" and "their" (the actor of a scenario is a team). `need_of` returns None for
anything it cannot phrase safely (a clause with its own subject, "this"/"these" without an
antecedent, a first person), so a candidate is dropped rather than garbled.

`stem_problems` is the grammar check every template's output passes: a/an agreement (by sound:
"an S3 bucket", "a URL"), doubled words, unbalanced quotes and brackets, "Which TWO … matches",
a missing question mark. `CaseBook` learns from the corpus which words are names, so a label
keeps "Kinesis" and "XGBoost" as the material writes them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from lemminflect import getAllLemmas

MAX_NEED_WORDS = 45
MIN_NEED_WORDS = 4
_ENABLING = {"helps", "lets", "enables", "allows", "help", "let", "enable", "allow"}
_PROVIDING = {"provides", "offers", "delivers", "supports"}
_PURPOSE = {"designed", "built", "used", "intended"}  # "designed to provide …"
_MODALS = {"can", "could", "will", "would", "must", "should", "may", "might", "is", "are"}
_CLAUSE_STARTS = {
    "which", "that", "who", "whose", "while", "because", "but", "unlike", "whereas", "although",
}  # fmt: skip
_VAGUE_VERBS = {"gives", "has", "includes", "contains", "supports", "is", "are", "means"}
_WEAK_VERBS = {"be", "have", "do", "get", "go", "take", "make", "see", "use", "also", "then"}
_KEEP_CASE = {"Amazon", "AWS", "SageMaker", "Apache", "Python", "Jupyter", "Spark"}
_CONTRAST = re.compile(r",\s+(?:but|unlike|whereas|although|though)\b.*$")
_BENEFICIARIES = {
    "you", "users", "customers", "developers", "teams", "organizations", "businesses",
    "companies", "data", "scientists", "practitioners", "engineers", "applications",
}  # fmt: skip
_DETERMINERS = {
    "a", "an", "the", "your", "its", "their", "each", "every", "any", "all", "one", "two",
    "multiple", "several", "many", "large", "new", "existing", "custom", "data", "text",
    "images", "models", "machine", "real-time", "streaming", "up", "only", "more", "less",
}  # fmt: skip
_NOUN_FOLLOWERS = {"of", "for", "that", "which", "with", "in", "to", "on", "from", "and", "or"}
_NP_BOUNDARIES = {
    "for", "of", "in", "into", "on", "with", "that", "which", "whose", "to", "from", "by",
    "at", "where", "when", "so", "such", "as", "without", "across", "using", "split",
    "shipped", "suited", "designed", "based", "used", "built", "run", "running", "hosted",
    "behind", "between", "over", "under", "via", "inside", "within", "per", "like", "than",
    "including", "kept", "drawn", "attached", "expressed", "called",
}  # fmt: skip
_NOT_NP_STARTS = {
    "the", "it", "they", "this", "you", "there", "its", "their", "each", "every", "first",
    "second", "only", "same", "other", "another", "gives", "some",
}  # fmt: skip
_MASS_NOUNS = {"data", "information", "software", "equipment", "analysis", "insight", "text"}
_NO_STANDALONE = re.compile(
    r"\b(?:this|these|those|we|our|us|above|below|following|previous|preceding|here)\b", re.I
)
_PRONOUNS = [
    (
        re.compile(
            r"\b(?P<verb>(?:help|let|enable|allow|give|tell|show|require|make)(?:s|ing)?|letting"
            r"|for|to|with|by|from)"
            r" you\b",
            re.I,
        ),
        "\\g<verb> them",
    ),
    (re.compile(r"\byou're\b", re.I), "they're"),
    (re.compile(r"\byou've\b", re.I), "they've"),
    (re.compile(r"\byourself\b", re.I), "themselves"),
    (re.compile(r"\byours\b", re.I), "theirs"),
    (re.compile(r"\byour\b", re.I), "their"),
    (re.compile(r"\byou\b", re.I), "they"),
]
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")


@lru_cache(maxsize=50_000)
def _lemmas(word: str) -> dict[str, tuple[str, ...]]:
    return getAllLemmas(word.lower())


def verb_base(word: str) -> str | None:
    """The base form of a third-person verb ("turns" -> "turn", "copies" -> "copy"), or None
    when ``word`` is not one."""
    low = word.lower()
    if not low.endswith("s") or low.endswith("ss"):
        return None
    verbs = _lemmas(low).get("VERB")
    if not verbs or verbs[0] == low:
        return None
    return verbs[0]


def is_base_verb(word: str) -> bool:
    """A verb in its base form ("add", "identify"); words that are mostly nouns ("data",
    "image") do not count."""
    lemmas = _lemmas(word)
    return "VERB" in lemmas and lemmas["VERB"][0] == word.lower() and "NOUN" not in lemmas


def can_be_verb(word: str) -> bool:
    """A word that may be a verb in its base form, nouns too ("label", "turn"): for places
    where the grammar says a verb comes ("helps you ___", "used to ___")."""
    verbs = _lemmas(word).get("VERB")
    return bool(verbs) and verbs[0] == word.lower()


def gerund_base(word: str) -> str | None:
    """ "debugging" -> "debug"; None when ``word`` is not a verb's -ing form."""
    low = word.lower()
    if not low.endswith("ing"):
        return None
    verbs = _lemmas(low).get("VERB")
    return verbs[0] if verbs and verbs[0] != low else None


def article(phrase: str) -> str:
    """ "a" or "an" for a phrase, by how it sounds: "an S3 bucket", "an F1 score", "a URL",
    "an hour", "a unique ID", "an 8-GPU instance"."""
    word = phrase.strip().split(" ", 1)[0].strip("“\"'(") if phrase.strip() else ""
    if not word:
        return "a"
    if word[0].isdigit():
        return "an" if re.match(r"^(?:8|11|18|80\d?)(?!\d)", word) else "a"
    letters = re.match(r"^[A-Z][A-Z0-9]+\b", word)
    if letters and not re.match(r"^[A-Z][a-z]", word):  # an acronym, read letter by letter
        return "an" if word[0] in "AEFHILMNORSX" else "a"
    low = word.lower()
    if re.match(r"^(?:uni|use|usu|uti|eu|one|once|ubi|ura)", low):
        return "a"
    if re.match(r"^(?:hour|honest|honou?r|heir)", low):
        return "an"
    return "an" if low[0] in "aeiou" else "a"


def with_article(phrase: str) -> str:
    return f"{article(phrase)} {phrase}"


def lower_first(text: str, names: CaseBook | None = None) -> str:
    """The text with its first word lower-cased, unless that word is a name or an acronym."""
    if not text:
        return text
    first = text.split(" ", 1)[0]
    if first[1:2].isupper() or any(c.isdigit() for c in first) or first in _KEEP_CASE:
        return text  # "ASR", "S3"
    if names is not None and names.is_name(first):
        return text
    return text[:1].lower() + text[1:]


def theyify(text: str) -> str:
    """ "you" and "your" as "they" and "their" ("helps you" as "helps them"): the actor of a
    scenario is a team."""
    object_pattern, object_repl = _PRONOUNS[0]
    text = object_pattern.sub(object_repl, text)
    for pattern, repl in _PRONOUNS[1:]:
        text = pattern.sub(lambda m, r=repl: r.capitalize() if m.group(0)[0].isupper() else r, text)
    return text


@dataclass(frozen=True)
class Need:
    """What a scenario's actor needs: ``form`` "verb" (needs to …) or "noun" (needs …)."""

    form: str
    text: str

    def sentence(self, actor: str) -> str:
        """ "A team needs to turn text into lifelike speech." / "A team needs a rugged …"."""
        if self.form == "verb":
            return f"{actor} needs to {self.text}."
        return f"{actor} needs {self.text}."


def need_of(
    description: str,
    names: CaseBook | None = None,
    *,
    noun_ok: bool = True,
    verb_first: bool = False,
) -> Need | None:
    """The need a description (or a defining sentence's predicate) expresses, or None.

    ``noun_ok``: a noun phrase may be the need ("needs a rugged physical appliance …"); right
    for things one uses (services, algorithms, tools), wrong for definitions of concepts.
    ``verb_first``: the text is known to start with a verb in its base form (it followed
    "can" or "is used to"), even one that is also a noun ("go", "label").
    """
    text = " ".join(description.split()).strip().rstrip(".;:").strip()
    text = re.split(r"(?<=[a-z0-9)])[.;]\s+(?=[A-Z])", text, maxsplit=1)[0]
    text = _CONTRAST.sub("", text).rstrip(",;: ")
    words = text.split()
    if len(words) < MIN_NEED_WORDS or len(words) > MAX_NEED_WORDS:
        return None
    if _NO_STANDALONE.search(text) or "?" in text or '"' in text:
        return None
    if any(w.lower() in _MODALS for w in words[1:6]):
        return None  # a clause with its own subject ("connected devices can run …")
    if words[0].lower() == "can":
        words, verb_first = words[1:], True
    if verb_first and words and words[0].lower() in _ENABLING:
        verb_first = False  # "help you manage …": the need is "manage …"
    if verb_first:
        first = words[0].lower()
        verbs = _lemmas(first).get("VERB")
        if not verbs or verbs[0] != first or first in _WEAK_VERBS:
            return None
        text = theyify(" ".join(_coordinated(words)))
        return Need("verb", lower_first(text, names))
    verb = _verb_phrase(words)
    if verb is not None:
        text = theyify(lower_first(verb, names))
        return Need("verb", text) if len(text.split()) >= MIN_NEED_WORDS - 1 else None
    if not noun_ok:
        return None
    noun = _noun_phrase([lower_first(words[0], names), *words[1:]])
    if noun is None or len(noun.split()) < MIN_NEED_WORDS:
        return None
    return Need("noun", theyify(noun))


def _verb_phrase(words: list[str]) -> str | None:
    """A verb phrase in the base form, or None when the words do not start with a verb."""
    first = words[0].lower().strip(",")
    rest = words[1:]
    if first.endswith("ly") and len(words) > 2 and verb_base(rest[0].strip(",")):
        inner = _verb_phrase(rest)  # "automatically optimizes …"
        return f"{first} {inner}" if inner else None
    if first in _PURPOSE and rest and rest[0].lower() == "to":
        after = rest[1:]
        return " ".join(after) if after and can_be_verb(after[0]) else None
    if first in _ENABLING:
        if not rest or rest[0].lower().strip(",") not in (*_BENEFICIARIES, "to"):
            base = first[:-1] if first.endswith("s") else first  # "enable model monitoring"
            return " ".join([base, *rest]) if rest else None
        while rest and rest[0].lower().strip(",") in _BENEFICIARIES:
            rest = rest[1:]
        if rest and rest[0].lower() == "to":
            rest = rest[1:]
        verb = rest[1] if len(rest) > 1 and rest[0].endswith("ly") else rest[0] if rest else ""
        return " ".join(_coordinated(rest)) if verb and can_be_verb(verb) else None
    if first in ("uses", "use"):
        if "to" not in [w.lower() for w in rest]:
            return None  # "uses the default value …": how it works, not what it is for
        after = rest[[w.lower() for w in rest].index("to") + 1 :]
        return " ".join(_coordinated(after)) if after and can_be_verb(after[0]) else None
    if first in ("makes", "make") and [w.lower() for w in rest[:2]] == ["it", "easy"]:
        after = rest[2:]
        while after and after[0].lower() in ("for", "you", "to"):
            after = after[1:]
        return " ".join(after) if after and can_be_verb(after[0]) else None
    if first in _PROVIDING or first in _VAGUE_VERBS:
        return None  # "provides X": a noun need, phrased by the caller if it wants
    base = verb_base(first)
    if base is not None and (_verb_reading(rest) or words[0].endswith(",")):
        return " ".join(_coordinated(words))
    if words[0][:1].islower() and is_base_verb(first) and _verb_reading(rest):
        return " ".join(words)
    return None


def _verb_reading(rest: list[str]) -> bool:
    """Whether a word followed by ``rest`` reads as a verb: "Plots two variables" (yes), "Bars
    counting values" or "Groups of records" (no: a noun)."""
    if not rest:
        return False
    nxt = rest[0].lower().strip(",")
    if nxt in _NOUN_FOLLOWERS or nxt.endswith("ing"):
        return False
    return nxt in _DETERMINERS or bool(_WORD.match(rest[0]))


def _coordinated(words: list[str]) -> list[str]:
    """The leading verb and the verbs joined to it in base form: a leading list ("Packages,
    deploys and monitors"), and later ones after "and"/"or" ("buffers … and loads them"), up
    to a relative clause ("…, which pushes …" keeps its verb)."""
    out = list(words)
    i = 0
    while i < len(out):  # the leading list: verb, verb, … and verb
        bare = out[i].lower().strip(",")
        base = verb_base(bare)
        if base is not None:
            out[i] = base + ("," if out[i].endswith(",") else "")
        elif bare not in ("and", "or") or i == 0:
            break
        listed = out[i].endswith(",") or (i + 1 < len(out) and out[i + 1] in ("and", "or"))
        if not listed and bare not in ("and", "or"):
            break
        i += 1
    for j in range(i + 1, len(out)):
        word = out[j].lower().strip(",")
        if word in _CLAUSE_STARTS or out[j - 1].endswith((".", ";")):
            break
        nxt = out[j + 1].lower().strip(",") if j + 1 < len(out) else ""
        base = verb_base(word)
        if base is None or nxt.endswith("ing"):
            continue
        after_and = out[j - 1].lower() in ("and", "or") and nxt != "of"
        after_comma = (
            out[j - 1].endswith(",") and "NOUN" not in _lemmas(word) and nxt not in _NOUN_FOLLOWERS
        )
        if after_and or after_comma:  # "scans …, infers the schema …, and writes …"
            out[j] = base + ("," if out[j].endswith(",") else "")
    return out


def _noun_phrase(words: list[str]) -> str | None:
    """ "a/an <noun phrase>" (or the bare plural), or None when the words are no noun phrase."""
    first = words[0].lower()
    if first in ("a", "an"):
        return " ".join(words[1:]) and with_article(" ".join(words[1:]))
    if first in _PROVIDING and len(words) > 3:
        return _noun_phrase(words[1:])
    if first in _NOT_NP_STARTS or any(c.isdigit() for c in first):
        return None
    if verb_base(first) is not None or is_base_verb(first):
        return None
    if first.endswith("ly") and not (len(words) > 2 and words[1].endswith("ed")):
        return None
    head = words[0]
    for n, word in enumerate(words):
        bare = word.strip(",").lower()
        if bare in _NP_BOUNDARIES or word.startswith("("):
            break
        if n > 1 and bare.endswith("ed"):
            break  # "Docker images pre-installed with …": a participle after the head
        head = word.strip(",")
        if word.endswith(","):
            continue
    if any(v == "is" or v == "are" for v in (w.lower() for w in words[:6])):
        return None  # a clause with its own subject ("Data is encrypted …")
    low = head.lower()
    if low.endswith("ed") and head is words[0]:
        return None  # "based on your data, …": a participle, no noun to need
    plural = low.endswith("s") and not low.endswith(("ss", "is", "us"))
    phrase = " ".join(words)
    gerund = low.endswith("ing") and _lemmas(low).get("NOUN", ("",))[0] != low
    if plural or low in _MASS_NOUNS or gerund:
        return phrase
    return with_article(phrase)


# --------------------------------------------------------------------------------------------
# Names keep their case
# --------------------------------------------------------------------------------------------


class CaseBook:
    """Which words the material writes capitalised mid-sentence: names ("Kinesis", "Glue")."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        upper: Counter = Counter()
        lower: Counter = Counter()
        for text in texts:
            for sentence in re.split(r"(?<=[.!?:])\s+|\n+", text):
                for word in _WORD.findall(sentence)[1:]:
                    (upper if word[0].isupper() else lower)[word.lower()] += 1
        self.names = frozenset(w for w, n in upper.items() if n >= 2 and n > 2 * lower[w])

    def is_name(self, word: str) -> bool:
        return word.lower() in self.names or bool(re.match(r"^[A-Z0-9]{2,}$|^.[A-Z]", word))

    def label_word(self, word: str) -> str:
        """A heading word as a label writes it: names and acronyms keep their case."""
        return word if self.is_name(word) or any(c.isdigit() for c in word) else word.lower()


# --------------------------------------------------------------------------------------------
# The grammar check every stem passes
# --------------------------------------------------------------------------------------------

_ARTICLE_WORD = re.compile(r"\b(a|an|A|An) ([“\"(]?[A-Za-z0-9][\w\-]*)")
_DOUBLED = re.compile(r"\b(\w+) \1\b", re.IGNORECASE)
_TWO_SINGULAR = re.compile(r"^Which TWO\b[^?]*\b(matches|is|fits|describes|meets)\b")


def stem_problems(stem: str) -> list[str]:
    """Grammar problems of a stem as ``"grammar: <detail>"`` lines; empty when it reads right."""
    problems = []
    for match in _ARTICLE_WORD.finditer(stem):
        said, word = match.group(1).lower(), match.group(2)
        if said != article(word):
            problems.append(f"grammar: “{match.group(0)}” should be “{article(word)} {word}”")
    doubled = [m.group(0) for m in _DOUBLED.finditer(stem) if not m.group(1).isdigit()]
    if doubled:
        problems.append(f"grammar: doubled word “{doubled[0]}”")
    for opening, closing in (("“", "”"), ("(", ")"), ("[", "]")):
        if stem.count(opening) != stem.count(closing):
            problems.append(f"grammar: unbalanced {opening}{closing}")
    if stem.count('"') % 2:
        problems.append('grammar: unbalanced "')
    if _TWO_SINGULAR.search(re.sub(r"“[^”]*”", "", stem)):
        problems.append("grammar: “Which TWO …” takes a plural verb")
    if not stem.rstrip().endswith("?"):
        problems.append("grammar: a question ends with a question mark")
    return problems


__all__ = [
    "CaseBook",
    "Need",
    "article",
    "is_base_verb",
    "lower_first",
    "need_of",
    "stem_problems",
    "theyify",
    "verb_base",
    "with_article",
]
