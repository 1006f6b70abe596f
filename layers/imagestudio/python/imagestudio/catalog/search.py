"""Ranked template search and use-case recommendations.

Both tokenise case-insensitively, drop stop words, stem simple plurals ('recipes' -> 'recipe',
'stories' -> 'story') and accept prefixes of three letters or more ('insta' finds 'instagram').
Each query word scores the best field it matches, weighted by field:

- search:    id/name 4 > use cases 3 > description 1.5 > platform/category 1
- recommend: use cases 4 > name 2.5 > description 1.5 > platform/category 1

An earlier-listed use case weighs a little more (it is the template's primary use), a prefix match
counts 0.6 of an exact one, every other field the word also matches adds 0.1, and the whole query
appearing as a phrase in a use case (or, for search, in the name) adds a bonus. Results carry the
score, the matched words and human-readable reasons; ties keep catalog order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, Field

from imagestudio.catalog.loader import Catalog, get_catalog
from imagestudio.catalog.models import Template
from imagestudio.errors import InvalidInput

MAX_LIMIT = 50
PREFIX_FACTOR = 0.6
MIN_PREFIX = 3
BREADTH_BONUS = 0.1
USE_CASE_DECAY = 0.05

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "i",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "the",
        "their",
        "this",
        "to",
        "us",
        "we",
        "with",
        "your",
    ]
)

_WORD = re.compile(r"[a-z0-9]+")


def stem(word: str) -> str:
    """Strip a simple English plural: stories -> story, boxes -> box, recipes -> recipe, ads -> ad."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) >= 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed words without stop words; underscores and hyphens split words."""
    return [stem(w) for w in _WORD.findall(text.lower().replace("_", " ")) if w not in STOP_WORDS]


@dataclass(frozen=True)
class _Field:
    kind: str  # name | use_case | description | platform | category
    label: str  # what the reason quotes
    tokens: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class _Profile:
    name: float
    use_case: float
    description: float
    platform: float
    category: float
    phrase_bonus: float
    phrase_in_name: bool


SEARCH = _Profile(
    name=4.0, use_case=3.0, description=1.5, platform=1.0, category=1.0, phrase_bonus=2.0, phrase_in_name=True
)
RECOMMEND = _Profile(
    name=2.5,
    use_case=4.0,
    description=1.5,
    platform=1.0,
    category=1.0,
    phrase_bonus=3.0,
    phrase_in_name=False,
)


class TemplateMatch(BaseModel):
    template: Template
    score: float = Field(description="Relevance; higher is better. Comparable within one answer only.")
    matched_terms: list[str] = Field(description="Query words that matched, as typed (lower-cased).")
    reasons: list[str] = Field(description="Why this template matched.")


def _fields(template: Template, catalog: Catalog, profile: _Profile) -> list[_Field]:
    platform = catalog.platform(template.platform)
    fields = [
        _Field("name", template.name, tuple(tokenize(f"{template.id} {template.name}")), profile.name),
        _Field(
            "description", template.description, tuple(tokenize(template.description)), profile.description
        ),
        _Field(
            "platform",
            platform.display_name,
            tuple(tokenize(" ".join([platform.name, platform.display_name, *platform.aliases]))),
            profile.platform,
        ),
        _Field("category", template.category, tuple(tokenize(template.category)), profile.category),
    ]
    for index, use_case in enumerate(template.use_cases):
        weight = profile.use_case * max(0.5, 1 - USE_CASE_DECAY * index)
        fields.append(_Field("use_case", use_case, tuple(tokenize(use_case)), weight))
    return fields


def _match(word: str, tokens: tuple[str, ...]) -> tuple[float, str] | None:
    """(factor, matched token): 1.0 for an exact word, PREFIX_FACTOR for a prefix of one."""
    if word in tokens:
        return 1.0, word
    if len(word) >= MIN_PREFIX:
        for token in tokens:
            if token.startswith(word):
                return PREFIX_FACTOR, token
    return None


def _contains_phrase(tokens: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return n > 1 and any(tokens[i : i + n] == phrase for i in range(len(tokens) - n + 1))


def _reason(field: _Field, word: str, token: str) -> str:
    how = f"'{word}'" if token == word else f"'{word}' (as in '{token}')"
    if field.kind == "name":
        return f"name '{field.label}' matches {how}"
    if field.kind == "use_case":
        return f"use case '{field.label}' matches {how}"
    if field.kind == "description":
        return f"description mentions {how}"
    return f"{field.kind} '{field.label}' matches {how}"


def _score(
    template: Template, query_words: list[tuple[str, str]], catalog: Catalog, profile: _Profile
) -> TemplateMatch | None:
    fields = _fields(template, catalog, profile)
    score = 0.0
    matched: list[str] = []
    reasons: list[str] = []
    for raw, word in query_words:
        hits: list[tuple[_Field, float, str]] = []
        for field in fields:
            found = _match(word, field.tokens)
            if found is not None:
                hits.append((field, *found))
        if not hits:
            continue
        best_field, best_factor, best_token = max(hits, key=lambda h: h[0].weight * h[1])
        other_kinds = {h[0].kind for h in hits} - {best_field.kind}
        score += best_field.weight * best_factor + BREADTH_BONUS * len(other_kinds)
        matched.append(raw)
        reasons.append(_reason(best_field, word, best_token))
    if not matched:
        return None
    phrase = tuple(word for _, word in query_words)
    phrase_kinds = {"use_case", "name"} if profile.phrase_in_name else {"use_case"}
    for field in fields:
        if field.kind in phrase_kinds and _contains_phrase(field.tokens, phrase):
            score += profile.phrase_bonus
            reasons.insert(
                0,
                f"{'name' if field.kind == 'name' else 'use case'} '{field.label}' matches the whole phrase",
            )
            break
    return TemplateMatch(template=template, score=round(score, 3), matched_terms=matched, reasons=reasons)


def _query_words(text: str, what: str) -> list[tuple[str, str]]:
    if not text or not text.strip():
        raise InvalidInput(
            f"'{what}' is empty: give a few words, e.g. 'product showcase'.", details={"field": what}
        )
    words = [(w, stem(w)) for w in _WORD.findall(text.lower().replace("_", " ")) if w not in STOP_WORDS]
    if not words:
        raise InvalidInput(
            f"'{what}' has no searchable words (only stop words or symbols): '{text}'.",
            details={"field": what},
        )
    return words


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"'limit' must be between 1 and {MAX_LIMIT}; got {limit}.", details={"field": "limit"}
        )


def _rank(
    templates: list[Template], words: list[tuple[str, str]], catalog: Catalog, profile: _Profile, limit: int
) -> list[TemplateMatch]:
    order = {t.id: i for i, t in enumerate(catalog.data.templates)}
    matches = [m for t in templates if (m := _score(t, words, catalog, profile)) is not None]
    matches.sort(key=lambda m: (-m.score, order[m.template.id]))
    return matches[:limit]


def search_templates(query: str, limit: int = 10, *, catalog: Catalog | None = None) -> list[TemplateMatch]:
    """Templates ranked by relevance to a free-text query; only templates that match at all."""
    _check_limit(limit)
    cat = catalog or get_catalog()
    return _rank(cat.templates(), _query_words(query, "query"), cat, SEARCH, limit)


def recommend_templates(
    use_case: str, platform: str | None = None, limit: int = 5, *, catalog: Catalog | None = None
) -> list[TemplateMatch]:
    """Templates ranked for a use case ('product showcase', 'recipes'), optionally on one platform."""
    _check_limit(limit)
    cat = catalog or get_catalog()
    words = _query_words(use_case, "use_case")
    return _rank(cat.templates(platform=platform), words, cat, RECOMMEND, limit)


__all__ = ["TemplateMatch", "recommend_templates", "search_templates", "stem", "tokenize"]
