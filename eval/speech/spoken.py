"""The spoken test set of ``shopassist eval speech``: shopping questions naming the loaded shop's
product types, brands and colors, order ids and emails read out the ways customers read them,
synthesised with espeak-ng in several voices and rates, some with noise at a set SNR.

Everything is made from ``spoken.yaml`` and the catalog at run time (seeded, so a run is
repeatable), so the same set exists for the demo shop and any imported one.
"""

from __future__ import annotations

import random
import re
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import sqlalchemy as sa
import yaml

from core.config import SpeechSettings
from speech.audio import decode
from speech.lexicon import plural, plural_only, singular
from speech.normalize import DIGIT_NAMES
from speech.tts import fix_wav_sizes
from store.db import Database
from store.models import Product, Variant

Kind = Literal["shopping", "order_id", "email"]


@dataclass(frozen=True)
class Utterance:
    kind: Kind
    said: str
    """What the voice says (ids and emails in their spoken form)."""
    written: str
    """The sentence as a customer would type it (the reference transcript)."""
    term: str
    """The catalog term (product type), order id or email the utterance names."""
    forms: tuple[str, ...]
    """Forms of ``term`` that count as heard (singular, the shop's category, the plural: tau's
    categories are singular, and "skateboards" heard for "skateboard" names the type)."""
    style: str = ""
    extra_terms: tuple[str, ...] = ()
    """Brand or color also named, reported apart."""


@dataclass(frozen=True)
class Voice:
    name: str
    rate: int
    snr_db: float | None

    @property
    def label(self) -> str:
        noise = f" +noise {self.snr_db:g} dB" if self.snr_db is not None else ""
        return f"{self.name} {self.rate}{noise}"


@lru_cache(maxsize=1)
def config() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("spoken.yaml").read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def voices() -> list[Voice]:
    return [Voice(name, int(rate), snr) for name, rate, snr in config()["voices"]]


# -- the catalog's words --------------------------------------------------------------------------
@dataclass
class _Category:
    written: str
    products: int = 0
    brands: Counter[str] = field(default_factory=Counter)
    colors: Counter[str] = field(default_factory=Counter)


def _categories(database: Database) -> list[_Category]:
    color_names = {name.lower() for name in config()["color_options"]}
    found: dict[str, _Category] = {}
    with database.session() as session:
        rows = session.execute(sa.select(Product.id, Product.category, Product.brand))
        of_product: dict[str, str] = {}
        for product_id, category, brand in rows:
            if not category:
                continue
            entry = found.setdefault(category, _Category(category))
            entry.products += 1
            if brand:
                entry.brands[brand] += 1
            of_product[product_id] = category
        for product_id, options in session.execute(sa.select(Variant.product_id, Variant.options)):
            owner = found.get(of_product.get(product_id, ""))
            if owner is None:
                continue
            for name, value in (options or {}).items():
                if str(name).lower() in color_names and value and not any(c.isdigit() for c in str(value)):
                    owner.colors[str(value).lower()] += 1
    return sorted(found.values(), key=lambda c: (-c.products, c.written))


def shopping_utterances(database: Database, *, count: int = 60, seed: int = 7) -> list[Utterance]:
    """At least ``count`` questions (if the catalog has the words), cycling through the
    categories from the largest, each with the templates it can fill."""
    rng = random.Random(seed)
    templates: list[str] = config()["shopping"]
    categories = _categories(database)
    made: list[Utterance] = []
    turn = 0
    while len(made) < count and categories and turn < count * 4:
        category = categories[turn % len(categories)]
        template = templates[(turn + turn // len(categories)) % len(templates)]
        turn += 1
        written = category.written.lower()
        one = singular(written)
        # "a pair of jeans": a product word with no singular is not "a jeans"
        values = {"type": f"pair of {one}" if plural_only(one) else one, "types": written}
        extra: list[str] = []
        if "{brand}" in template:
            if not category.brands:
                continue
            values["brand"] = rng.choice(sorted(category.brands))
            extra.append(values["brand"])
        if "{color}" in template:
            if not category.colors:
                continue
            values["color"] = rng.choice(sorted(category.colors))
            extra.append(values["color"])
        text = template.format(**values)
        if any(u.written == text for u in made):
            continue
        made.append(
            Utterance(
                "shopping",
                text,
                text,
                one,
                tuple(dict.fromkeys([one, written, plural(one)])),
                "",
                tuple(extra),
            )
        )
    return made


# -- order ids and emails -------------------------------------------------------------------------
def _order_id(rng: random.Random) -> str:
    digits = [rng.randrange(10) for _ in range(7)]
    if rng.random() < 0.6:  # runs of one digit, the hard case
        start, run = rng.randrange(5), rng.choice([2, 3])
        digits[start : start + run] = [digits[start]] * run
    return "#W" + "".join(str(d) for d in digits[:7])


def speak_digits(digits: str, *, grouped: bool) -> str:
    words: list[str] = []
    i = 0
    while i < len(digits):
        run = 1
        while grouped and i + run < len(digits) and digits[i + run] == digits[i] and run < 3:
            run += 1
        name = DIGIT_NAMES[int(digits[i])]
        words.append({1: name, 2: f"double {name}", 3: f"triple {name}"}[run])
        i += run
    return ", ".join(words)


def spoken_order_id(order_id: str, style: str) -> str:
    digits = order_id.removeprefix("#W")
    if style == "as_in":
        return f"{config()['as_in_letter']}, {speak_digits(digits, grouped=False)}"
    return f"W, {speak_digits(digits, grouped=style == 'grouped')}"


def order_utterances(*, count: int = 18, seed: int = 7) -> list[Utterance]:
    rng = random.Random(seed)
    sentences: list[str] = config()["order_sentences"]
    styles: list[str] = config()["order_styles"]
    made = []
    for k in range(count):
        order_id = _order_id(rng)
        style = styles[k % len(styles)]
        sentence = sentences[k % len(sentences)]
        said = sentence.format(id=spoken_order_id(order_id, style))
        made.append(Utterance("order_id", said, sentence.format(id=order_id), order_id, (order_id,), style))
    return made


def spoken_email(email: str, *, spelled: bool) -> str:
    local, _, domain = email.partition("@")

    def part(text: str) -> str:
        return ", ".join(text) if spelled else text

    local_said = " dot ".join(part(p) for p in local.split("."))
    return f"{local_said}, at {domain.replace('.', ' dot ')}"


def email_utterances(*, seed: int = 7) -> list[Utterance]:
    rng = random.Random(seed)
    names: list[str] = config()["email_names"]
    domains: list[str] = config()["email_domains"]
    sentences: list[str] = config()["email_sentences"]
    made = []
    for k, name in enumerate(names):
        email = f"{name}@{rng.choice(domains)}"
        for spelled in (False, True):
            sentence = sentences[(k + spelled) % len(sentences)]
            style = "spelled" if spelled else "plain"
            said = sentence.format(email=spoken_email(email, spelled=spelled))
            made.append(Utterance("email", said, sentence.format(email=email), email, (email,), style))
    return made


# -- audio ------------------------------------------------------------------------------------------
def synthesise(text: str, voice: Voice, *, seed: int = 7) -> np.ndarray:
    """16 kHz mono samples of ``text`` in ``voice``, with white noise at its SNR if it has one."""
    done = subprocess.run(
        ["espeak-ng", "-v", voice.name, "-s", str(voice.rate), "-g", "6", "--stdout"],
        input=text.encode(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    samples = decode(fix_wav_sizes(done.stdout), SpeechSettings()).samples.astype(np.float32)
    if voice.snr_db is None:
        return samples
    signal = float(np.sqrt(np.mean(samples**2))) or 1e-4
    noise_rms = signal / (10 ** (voice.snr_db / 20))
    noise = np.random.default_rng(seed).normal(0.0, noise_rms, size=samples.shape).astype(np.float32)
    return np.clip(samples + noise, -1.0, 1.0)


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9@#.]+", " ", text.lower().replace("-", "")).split()


def term_heard(transcript: str, forms: tuple[str, ...]) -> bool:
    """Whether one of the forms appears in the transcript as whole words, case, hyphens and
    spacing aside ("T-shirt", "t shirt" and "tshirt" all count for "t-shirt")."""
    heard = [w.strip(".") for w in _words(transcript)]
    for form in forms:
        words = [w.strip(".") for w in _words(form)]
        wanted = "".join(words)
        # a form heard in as many words or a few more or fewer ("remote & app controlled
        # vehicles & parts" is five words once "&" is aside)
        span = max(4, len(words) + 2)
        for start in range(len(heard)):
            for end in range(start + 1, min(len(heard), start + span) + 1):
                if "".join(heard[start:end]) == wanted:
                    return True
    return False
