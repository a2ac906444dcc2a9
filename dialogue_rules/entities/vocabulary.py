"""Extractors driven by vocabularies: colors, person names and references to shown products."""

from __future__ import annotations

import re
from typing import ClassVar

from core.errors import ConfigError
from core.words import tokens
from dialogue_rules.entities.config import EntityConfig, alternation
from dialogue_rules.entities.extractors import pick_longest
from dialogue_rules.entities.measures import SizeExtractor
from dialogue_rules.entities.values import ColorValue, Entity, PersonName, ProductRef, RefKind, SizeValue

_LINK_WORDS = frozenset(
    {"in", "with", "from", "by", "and", "or", "a", "an", "the", "that", "is", "are", "'s"}
)


class ColorExtractor:
    """Colors from the catalog's vocabulary. A synonym maps to the catalog's value ("gray" ->
    grey, "dark blue" -> navy) and is kept in ``Entity.synonym``; a basic color word carries
    the catalog values it covers ("blue" -> blue, navy, sky blue...)."""

    name: ClassVar[str] = "color"

    def __init__(self, config: EntityConfig) -> None:
        colors = config.colors
        self._canonical: dict[str, str] = {}
        for value, synonyms in colors.values.items():
            for surface in (value, *synonyms):
                self._claim(config, _norm(surface), _norm(value), f"colors.values.{value}")
        for family in colors.families:
            self._canonical.setdefault(_norm(family), _norm(family))
        self._families = {
            _norm(name): tuple(_norm(v) for v in values) for name, values in colors.families.items()
        }
        for name, values in colors.families.items():
            unknown = [v for v in values if _norm(v) not in colors.values]
            if unknown:
                listed = ", ".join(unknown)
                raise ConfigError(
                    f"{config.origin}: colors.families.{name}: not catalog color values: {listed}",
                    key="colors.families",
                )
        self._weak = {_norm(w) for w in colors.weak}
        surfaces = alternation(self._canonical).replace(r"\-", r"[\s-]?")
        self._pattern = config.compile(rf"(?<![\w-])(?P<c>{surfaces})(?![\w-])", "colors.values")
        self._not = config.compile("|".join(colors.not_colors) or r"(?!x)x", "colors.not_colors")

    def _claim(self, config: EntityConfig, surface: str, value: str, where: str) -> None:
        existing = self._canonical.get(surface)
        if existing is not None and existing != value:
            raise ConfigError(
                f"{config.origin}: {where}: {surface!r} already names the color {existing!r}", key=where
            )
        self._canonical[surface] = value

    def color(self, surface: str) -> ColorValue | None:
        """The color a word or phrase names, or None."""
        canonical = self._canonical.get(_norm(surface).replace("-", " "))
        canonical = canonical or self._canonical.get(_norm(surface))
        if canonical is None:
            return None
        return ColorValue(canonical, self._families.get(canonical, (canonical,)))

    def extract(self, text: str) -> list[Entity]:
        excluded = [m.span() for m in self._not.finditer(text)]
        found: list[Entity] = []
        for match in self._pattern.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in excluded):
                continue
            surface = _norm(match.group("c"))
            value = self.color(surface)
            if value is None:
                continue
            synonym = surface if surface != value.name else None
            if surface in self._weak or value.name in self._weak:
                confidence = 0.6
            else:
                confidence = 0.85 if synonym else 0.9
            found.append(Entity(self.name, value, match.span(), match.group(0), confidence, synonym))
        return found


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


class PersonNameExtractor:
    """Names people give to identify themselves: "I'm Alice Smith", "my name is bob lee",
    "Alice Smith, 10001". After "I'm"/"this is" a name must be capitalized or the message must
    carry a zip code, and common words ("I'm looking...", "this is ridiculous") never count."""

    name: ClassVar[str] = "person_name"

    def __init__(self, config: EntityConfig) -> None:
        p = config.person_name
        token = p.name_token
        tail = r"(?![@\w])(?!\.\w)"
        body = rf"(?P<first>{token}){tail}(?:\s+(?P<last>{token}){tail})?"
        self._strong = config.compile(rf"(?:{p.strong_intros})\s*{body}", "person_name.strong_intros")
        self._weak = config.compile(rf"(?:{p.weak_intros})\s+{body}", "person_name.weak_intros")
        self._bare = config.compile(p.bare_with_zip, "person_name.bare_with_zip", flags=0)
        self._zip_hint = re.compile(r"\b\d{5}\b|\bzip\b", re.IGNORECASE)
        self._stop = {w.lower() for w in p.not_names}

    def extract(self, text: str) -> list[Entity]:
        found: list[Entity] = []
        for match in self._strong.finditer(text):
            entity = self._entity(match, text, strong=True)
            if entity:
                found.append(entity)
        has_zip = bool(self._zip_hint.search(text))
        for match in self._weak.finditer(text):
            if match.group("first")[0].isupper() or has_zip:
                entity = self._entity(match, text, strong=False)
                if entity:
                    found.append(entity)
        for match in self._bare.finditer(text):
            entity = self._entity(match, text, strong=True, confidence=0.8)
            if entity:
                found.append(entity)
        return pick_longest(found)

    def _entity(
        self, match: re.Match[str], text: str, *, strong: bool, confidence: float = 0.0
    ) -> Entity | None:
        first, last = match.group("first"), match.group("last")
        if first.lower() in self._stop:
            return None
        if last is not None and last.lower() in self._stop:
            last = None
        end = match.end("last") if last is not None else match.end("first")
        if not confidence:
            capitalized = first[0].isupper() and (last is None or last[0].isupper())
            confidence = 0.9 if strong else (0.85 if capitalized else 0.6)
        if last is None:
            confidence -= 0.1
        value = PersonName(_name_case(first), _name_case(last) if last else None)
        start = match.start("first")
        return Entity(self.name, value, (start, end), text[start:end], round(confidence, 2))


def _name_case(word: str) -> str:
    return word[:1].upper() + word[1:].lower() if word.islower() or word.isupper() else word


class ProductRefExtractor:
    """References to products shown earlier: "the second one", "the last one", "option 2",
    "the first two", "both", "that one", "the blue one", "the one in black", "the cheaper one".
    Resolve them with :func:`dialogue_rules.references.resolve_reference`."""

    name: ClassVar[str] = "product_ref"

    def __init__(self, config: EntityConfig, *, colors: ColorExtractor, sizes: SizeExtractor) -> None:
        r = config.product_ref
        self._config = config
        self._colors = colors
        self._sizes = sizes
        self._ordinals = {_norm(k).replace("-", " "): v for k, v in r.ordinals.items()}
        self._ordinal = config.compile(
            rf"(?<![\w-])(?P<the>the\s+(?:very\s+)?)?(?P<ord>{alternation(r.ordinals)})"
            rf"(?:\s+(?P<noun>{r.nouns}))?(?![\w-])",
            "product_ref.ordinals",
        )
        self._not_after = config.compile(rf"(?:{r.not_after})", "product_ref.not_after")
        self._numbered = config.compile(r.numbered, "product_ref.numbered")
        self._range = config.compile(r.range, "product_ref.range")
        self._all = config.compile(r.all, "product_ref.all")
        self._demonstrative = config.compile(r.demonstrative, "product_ref.demonstrative")
        self._cheapest = config.compile(r.cheapest, "product_ref.cheapest")
        self._priciest = config.compile(r.priciest, "product_ref.priciest")
        self._attribute = config.compile(r.attribute, "product_ref.attribute")
        self._not_attr = {w.lower() for w in r.not_attributes}
        self._order_before = re.compile(r"\border\s*$", re.IGNORECASE)

    def extract(self, text: str) -> list[Entity]:
        found: list[Entity] = []
        whole = _norm(text.strip(" .!?"))
        for match in self._ordinal.finditer(text):
            key = _norm(match.group("ord")).replace("-", " ")
            if self._not_after.match(text, match.end("ord")):
                continue
            has_the, has_noun = bool(match.group("the")), bool(match.group("noun"))
            alone = whole in (key, f"the {key}")
            if key == "top" and not has_noun:
                continue
            if not (has_the or has_noun or alone):
                continue
            confidence = 0.95 if has_the and has_noun else 0.85 if has_noun else 0.8 if has_the else 0.7
            found.append(
                self._ref(text, match.span(), ProductRef(RefKind.ORDINAL, self._ordinals[key]), confidence)
            )
        for match in self._numbered.finditer(text):
            if self._order_before.search(text[: match.start()]):
                continue
            number = int(match.group("n") or match.group("h"))
            if number >= 1:
                ref = ProductRef(RefKind.ORDINAL, number - 1)
                found.append(self._ref(text, match.span(), ref, 0.9 if match.group("n") else 0.8))
        for match in self._range.finditer(text):
            count = self._config.number_value(match.group("n"))
            if count and count > 1:
                index = -1 if match.group("side").lower() in ("last", "bottom") else 0
                found.append(self._ref(text, match.span(), ProductRef(RefKind.RANGE, index, count), 0.9))
        for match in self._all.finditer(text):
            count = 2 if match.group(0).lower().startswith("both") else None
            found.append(self._ref(text, match.span(), ProductRef(RefKind.ALL, count=count), 0.85))
        for match in self._demonstrative.finditer(text):
            found.append(self._ref(text, match.span(), ProductRef(RefKind.DEMONSTRATIVE), 0.85))
        for pattern, kind in ((self._cheapest, RefKind.CHEAPEST), (self._priciest, RefKind.PRICIEST)):
            for match in pattern.finditer(text):
                confidence = 0.9 if match.group("noun") else 0.7
                found.append(self._ref(text, match.span(), ProductRef(kind), confidence))
        for match in self._attribute.finditer(text):
            entity = self._attribute_ref(text, match)
            if entity:
                found.append(entity)
        return pick_longest(found)

    def _attribute_ref(self, text: str, match: re.Match[str]) -> Entity | None:
        phrase = match.group("attr") or match.group("attr2") or ""
        colors = self._colors.extract(phrase)
        sizes = self._sizes.extract(phrase)
        covered = [e.span for e in (*colors, *sizes)]
        words = tuple(
            w.text.lower().strip(".")
            for w in tokens(phrase, keep="'\u2019.-")
            if not any(s <= w.start < e for s, e in covered)
        )
        words = tuple(w for w in words if w not in _LINK_WORDS)
        if any(w in self._not_attr or w in self._ordinals for w in words):
            return None
        color = colors[0].value if colors and isinstance(colors[0].value, ColorValue) else None
        size = sizes[0].value if sizes and isinstance(sizes[0].value, SizeValue) else None
        extra = tuple(_norm(e.text) for e in colors[1:])
        if color is None and size is None and not words:
            return None
        ref = ProductRef(RefKind.ATTRIBUTE, color=color, size=size, words=words + extra)
        return self._ref(text, match.span(), ref, 0.85 if (color or size) else 0.7)

    def _ref(self, text: str, span: tuple[int, int], ref: ProductRef, confidence: float) -> Entity:
        return Entity(self.name, ref, span, text[span[0] : span[1]], confidence)
