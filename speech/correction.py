"""Catalog-aware correction after recognition: words the recognizer got nearly right, put back
into the catalog's spelling when the correction is confident.

Three kinds, each from the shop's own lexicon (:mod:`speech.lexicon`), so nothing is tuned to one
catalog:

- **joined**: words split apart that make one catalog word ("back pack" -> "backpack",
  "water proof" -> "waterproof");
- **completed**: the last word of a product question cut short, when exactly one product type
  starts with it ("do you have a waterproof back?" -> "... backpack?");
- **split**: a hyphenated word the catalog does not know whose last part is a catalog word,
  unless it sounds like a catalog term as it is (Whisper joins a misheard word to the next:
  "God-skincare" -> "God skincare");
- **sounds like**: a word of five letters or more that is not a catalog word, spelled or sounding
  (metaphone) almost like exactly one catalog term ("hydropeak" -> "Hydrapeak", "D-shirt" ->
  "t-shirt"); two or three words spelled almost like exactly one product type of as many words,
  one of them exactly the type's ("yoga mass" -> "yoga mats", "office care" -> "office chair").

Anything less sure is left alone; the voice channel's "did you say ...?" check covers the rest.
String similarity is rapidfuzz's, the sound key jellyfish's metaphone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import jellyfish
from rapidfuzz import fuzz

from speech.lexicon import Lexicon, plural, singular
from speech.normalize import SPOKEN_FORM_WORDS, WRITTEN_EMAIL, WRITTEN_ORDER_ID

_TOKEN = re.compile(r"[A-Za-z][A-Za-z'\-]*|\d+|[^\sA-Za-z\d]+|\s+")
_PRODUCT_QUESTION = re.compile(
    r"\b(do you (have|sell|carry|stock)|looking for|i need|i want|i'd like|show me|find me|search for|"
    r"any|buy|get me)\b",
    re.IGNORECASE,
)
_MIN_JOINED = 6
_MIN_FUZZY = 5
_PROTECTED = re.compile(f"{WRITTEN_EMAIL.pattern}|{WRITTEN_ORDER_ID.pattern}", re.IGNORECASE)
_SURE = 0.86
_PHRASE_SURE = 0.84
_MARGIN = 0.05


@dataclass(frozen=True)
class Correction:
    heard: str
    corrected: str
    kind: str  # joined, split, completed, sounds_like


def _squash(text: str) -> str:
    return re.sub(r"[\s\-']", "", text.lower())


class CatalogCorrector:
    def __init__(self, lexicon: Lexicon) -> None:
        types = lexicon.type_forms()
        self.type_forms = types  # spoken form -> singular type (the vocabulary reads it too)
        # one-word spellings: title words, type forms, brands and option values of one word
        singles: dict[str, str] = {}
        for term in [*lexicon.brands, *lexicon.options]:  # brands keep their capitals
            if " " not in term.strip():
                singles.setdefault(term.lower(), term)
        for form in types:
            if " " not in form:
                singles.setdefault(form, form)
        for word in lexicon.words:
            singles.setdefault(word.lower(), word.lower())
        self.known = set(singles) | {w for form in types for w in form.split()}
        self.joins = {
            _squash(spelling): spelling
            for spelling in singles.values()
            if len(_squash(spelling)) >= _MIN_JOINED
        }
        self.type_words = sorted({one.split()[-1] for one in types.values()})  # singular forms
        self.phrases = {form: one for form, one in types.items() if " " in form}  # spoken form -> type
        self.fuzzy = {
            spelling.lower(): spelling for spelling in singles.values() if len(spelling) >= _MIN_FUZZY
        }
        self._sounds = {key: jellyfish.metaphone(key) for key in self.fuzzy}

    # ------------------------------------------------------------------------------------------
    def correct(self, text: str) -> tuple[str, list[Correction]]:
        """The transcript with confident corrections made, and what was changed. Emails and
        order ids the normaliser wrote are left as they are ("bob.jones@..." is no "jeans")."""
        changes: list[Correction] = []
        parts: list[str] = []
        start = 0
        for kept in _PROTECTED.finditer(text):
            parts += [self._correct(text[start : kept.start()], changes), kept[0]]
            start = kept.end()
        parts.append(self._correct(text[start:], changes))
        return "".join(parts), changes

    def _correct(self, text: str, changes: list[Correction]) -> str:
        tokens = _TOKEN.findall(text)
        tokens = self._join(tokens, changes)
        tokens = self._split(tokens, changes)
        tokens = self._phrase_alike(tokens, changes)
        self._complete(tokens, changes)
        self._sound_alike(tokens, changes)
        return "".join(tokens)

    def _join(self, tokens: list[str], changes: list[Correction]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(tokens):
            joined = False
            for words in (3, 2):
                span = tokens[i : i + 2 * words - 1]  # word, space, word, ...
                if len(span) < 2 * words - 1 or not all(
                    (k % 2 == 0 and t[:1].isalpha()) or (k % 2 == 1 and t.isspace())
                    for k, t in enumerate(span)
                ):
                    continue
                heard = "".join(span)
                target = self.joins.get(_squash(heard))
                if target is not None and _squash(heard) != heard.lower():
                    out.append(_like(span[0], target))
                    changes.append(Correction(heard, target, "joined"))
                    i += len(span)
                    joined = True
                    break
            if not joined:
                out.append(tokens[i])
                i += 1
        return out

    def _split(self, tokens: list[str], changes: list[Correction]) -> list[str]:
        out: list[str] = []
        for token in tokens:
            head, _, last = token.rpartition("-")
            if (
                head[-1:].isalpha()
                and last.lower() in self.known
                and token.lower() not in self.known
                and self._sounds_like(token) is None  # "D-shirt" is a misheard "t-shirt"
            ):
                split = f"{head} {last}"
                changes.append(Correction(token, split, "split"))
                out += [head, " ", last]
            else:
                out.append(token)
        return out

    def _phrase_alike(self, tokens: list[str], changes: list[Correction]) -> list[str]:
        """Two or three words spelled almost like a product type of as many words, one of them
        exactly the type's ("yoga mass" -> "yoga mats", "office care" -> "office chair")."""
        words = [k for k, t in enumerate(tokens) if t[:1].isalpha()]
        for size in (3, 2):
            k = 0
            while k + size <= len(words):
                span = words[k : k + size]
                between = tokens[span[0] + 1 : span[-1]]
                if all(t.isspace() or t.strip() == "," for t in between if not t[:1].isalpha()):
                    heard = [tokens[i].lower() for i in span]
                    target = self._phrase_for(heard)
                    if target is not None:
                        original = "".join(tokens[span[0] : span[-1] + 1])
                        changes.append(Correction(original, target, "sounds_like"))
                        tokens = [*tokens[: span[0]], _like(tokens[span[0]], target), *tokens[span[-1] + 1 :]]
                        words = [j for j, t in enumerate(tokens) if t[:1].isalpha()]
                k += 1
        return tokens

    def _phrase_for(self, heard: list[str]) -> str | None:
        phrase = " ".join(heard)
        if phrase in self.phrases or all(word in self.known for word in heard):
            return None  # already a type, or words the catalog itself uses ("running socks")
        scored = sorted(
            (
                (fuzz.ratio(phrase, form) / 100, form)
                for form in self.phrases
                if len(form.split()) == len(heard)
                and any(a == b for a, b in zip(heard, form.split(), strict=True))
            ),
            reverse=True,
        )
        if not scored:
            return None
        best, form = scored[0]
        # a singular and its plural are the same type: the runner-up must be another one
        others = [score for score, other in scored[1:] if self.phrases[other] != self.phrases[form]]
        runner_up = others[0] if others else 0.0
        return form if best >= _PHRASE_SURE and best - runner_up >= _MARGIN else None

    def _complete(self, tokens: list[str], changes: list[Correction]) -> None:
        text = "".join(tokens)
        if not _PRODUCT_QUESTION.search(text):
            return
        last = next((k for k in range(len(tokens) - 1, -1, -1) if tokens[k][:1].isalpha()), None)
        if last is None:
            return
        word = tokens[last].lower()
        if len(word) < 3 or word in self.known:
            return
        starting = [t for t in self.type_words if t.startswith(word) and t != word]
        if len(starting) == 1:
            changes.append(Correction(tokens[last], starting[0], "completed"))
            tokens[last] = _like(tokens[last], starting[0])

    def _sound_alike(self, tokens: list[str], changes: list[Correction]) -> None:
        for k, token in enumerate(tokens):
            target = self._sounds_like(token)
            if target is not None:
                changes.append(Correction(token, target, "sounds_like"))
                tokens[k] = _like(token, target)

    def _sounds_like(self, token: str) -> str | None:
        """The one catalog term the word is spelled or sounds almost like, if it is sure."""
        word = token.lower()
        if len(word) < _MIN_FUZZY or not word.replace("-", "").isalpha() or word in self.known:
            return None
        if word in SPOKEN_FORM_WORDS:  # "triple" is the normaliser's, not a misheard "Tri-ply"
            return None
        if singular(word) in self.known or plural(word) in self.known:
            return None  # "light" where the catalog says "lights": the customer's own number
        sound = jellyfish.metaphone(word)
        scored = sorted(((self._score(word, sound, key), key) for key in self.fuzzy), reverse=True)
        if not scored:
            return None
        best, key = scored[0]
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        return self.fuzzy[key] if best >= _SURE and best - runner_up >= _MARGIN else None

    def _score(self, word: str, sound: str, key: str) -> float:
        spelled = fuzz.ratio(word, key) / 100
        if sound and sound == self._sounds[key] and spelled >= 0.6:
            return max(spelled, 0.9)
        return spelled


def _like(heard: str, target: str) -> str:
    """The catalog's spelling, capitalised when the heard word was (sentence starts)."""
    if heard[:1].isupper() and target[:1].islower():
        return target[:1].upper() + target[1:]
    return target
