"""Transcripts normalised before they reach the assistant: spelled-out order ids, emails and
digit strings become what a customer would have typed.

    "order W two six one one zero zero five" -> "order #W2611005"
    "W as in William, one, double nine, ..."  -> "#W199..."
    "down the US in William 9093786"          -> "down the #W9093786"  ("as in" misheard)
    "order number 2122330"                    -> "order number #W2122330"
    "john dot smith at example dot com"      -> "john.smith@example.com"
    "b o b dot jones and example dot com"    -> "bob.jones@example.com"
    "my zip code is 1-0-0-0-1" / "10,001"    -> "my zip code is 10001"

Inside an order id, a second "W" before a digit is "double" as the recognizer heard it ("W1, W9"
for "one, double nine"), and a run longer than an order id's digits keeps the id's length (the
voice channel reads the id back before acting on it, so a wrong guess is caught there).
"""

from __future__ import annotations

import itertools
import re

import jellyfish

from tools.arguments import ORDER_ID_DIGITS

_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_REPEAT = {"double": 2, "triple": 3}
_DIGIT = r"(?:\d|zero|oh|o|one|two|three|four|five|six|seven|eight|nine)"
# Inside an order id, "double four" heard as "double for", "triple two" as "triple to".
_HOMOPHONE_DIGITS = {"for": "4", "to": "2", "too": "2"}
_SEP = r"[\s,\-\u2013.]*"
# One digit of an order id, maybe repeated: "double three", or a "W" heard for "double" ("W9").
_ORDER_DIGIT = (
    rf"(?:(?:double|triple)[\s,]+(?:for|to|too)\b|(?:(?:double|triple)\s+|(?:w[\s,\-.]*)+)?{_DIGIT})"
)
_DIGIT_RUN = rf"{_ORDER_DIGIT}(?:{_SEP}{_ORDER_DIGIT})*"
# "W", "double u" ("double, you"), "w-", "#W", "hash W" followed by a run of digits (spoken or
# written).
_ORDER = re.compile(
    rf"(?:\b(?:hash|pound)\s+|#)?\b(?:w|double[\s,-]*(?:u|you))(?:\b|(?=\d)){_SEP}"
    rf"(?P<digits>{_DIGIT_RUN})\b",
    re.IGNORECASE,
)
_ORDER_WRITTEN = re.compile(r"#?\bW[\s\-]?(\d{5,9})\b", re.IGNORECASE)
# Three or more single digits in a row ("1-0-0-0-1", "one zero zero zero one", "9, 4, 1, 0, 7").
_SPELLED_DIGITS = re.compile(
    rf"\b(?:(?:double|triple)\s+)?{_DIGIT}(?:{_SEP}(?:(?:double|triple)\s+)?{_DIGIT}\b){{2,}}",
    re.IGNORECASE,
)
_THOUSANDS = re.compile(r"\b\d{1,3}(?:,\d{3})+\b")
_WORD = r"(?:[a-z](?:,?\s[a-z]\b)+|[a-z0-9]+)"  # a word, or letters said one by one
_LOCAL_SEP = r"(?:[\s,]*(?:\.|dot|_|underscore|-|dash|hyphen)[\s,]*)"
_TLDS = r"(?:com|org|net|io|co|uk|de|fr|es|it|nl|edu|gov|info|biz|us|ca|au|me|app|dev|shop|store)"
_EMAIL = re.compile(
    rf"(?<![\w'\u2019])(?P<local>{_WORD}(?:{_LOCAL_SEP}{_WORD})*),?\s*(?:\bat\b|\band\b|@)\s*"
    rf"(?P<domain>{_WORD}(?:[\s,]*(?:\.|\bdot\b)[\s,]*{_WORD})*?[\s,]*(?:\.|\bdot\b)[\s,]*{_TLDS})\b",
    re.IGNORECASE,
)
_SPELLED_LETTERS = re.compile(r"\b(?:[a-z]-){2,}[a-z]\b", re.IGNORECASE)
# "W as in William", "b as in bravo" (also heard as "W.S. in William"): the letter, when the
# word after "in" starts with it.
_AS_IN = re.compile(r"\b(?P<letter>[a-z])\.?,?\s*(?:as|s\.)\s+in\s+(?P<word>[a-z]+)\b", re.IGNORECASE)
# Words of the spelling alphabets (NATO's and the police one) customers say after "as in".
_SPELLING_WORDS = (
    "alfa|alpha|bravo|charlie|delta|echo|foxtrot|golf|hotel|india|juliet|kilo|lima|mike|november|"
    "oscar|papa|quebec|romeo|sierra|tango|uniform|victor|whiskey|xray|yankee|zulu|"
    "adam|boy|david|edward|frank|george|henry|ida|john|king|lincoln|mary|nora|ocean|peter|queen|"
    "robert|sam|tom|union|william|young|zebra|walter|washington"
)
# "as in <spelling word>" before digits, with the letter and "as" misheard ("down the US in
# William 9093786", "W-pass in William 491 1862", "W has been William, 2, 6"): the spelling
# word's first letter.
_AS_IN_BEFORE_DIGITS = re.compile(
    rf"(?:\bdouble[\s,-]*(?:u|you)\b[\s,]*|\b[a-z][.-]?\s*)?\b(?:as|us|s|is|has|pass)\b\.?,?\s+(?:in|been)\s+"
    rf"(?P<word>{_SPELLING_WORDS})\b[\s,]*(?={_DIGIT}\b|\d)",
    re.IGNORECASE,
)
# "William 9093786", "Whiskey, 9, 0, 9, ...": a spelling word of W right before an id's digits is
# the id's W, whatever "as in" was heard as before it ("that all you have been William 9093786").
_W_WORD_BEFORE_DIGITS = re.compile(
    rf"\b(?:william|whiskey|walter|washington)\b(?=(?:{_SEP}(?:{_DIGIT}\b|\d)){{5}})", re.IGNORECASE
)
# "order number 2122330", "order, double, for 02685": the shop's order ids all start with W, so
# digits after "order" that make exactly an id's are an id whose "W" was heard as "number" or
# not at all.
_ORDER_READ_OUT = re.compile(
    rf"\b(?P<lead>order(?:\s+(?:number|no\.?|id))?)[\s,:#]*(?P<digits>{_DIGIT_RUN})\b", re.IGNORECASE
)
# Where an id read out starts ("W", "double u", "double", a digit or digit word), and its digits.
_ID_START = re.compile(
    rf"\b(?:w\b|w(?=\d)|double[\s,-]*(?:u|you)\b|(?:double|triple)\b|{_DIGIT}\b)|\d", re.IGNORECASE
)
_ID_DIGIT = re.compile(rf"\b{_DIGIT}\b|\d", re.IGNORECASE)
# A run of digits read out in a raw transcript ("7104974", "double, one, 9, 3"): the id is the
# longest ("Oh, the blue one, order W 5560181" has three).
_REPEAT_WORD = r"(?:\b(?:double|triple)\b[\s,.\-]*)"
_READ_OUT_RUN = re.compile(
    rf"{_REPEAT_WORD}?(?:\b{_DIGIT}\b|\d)(?:[\s,.\-]*{_REPEAT_WORD}?(?:\b{_DIGIT}\b|\d))*", re.IGNORECASE
)
# "..., 4 me" / "..., four me": the "for" of "for me" heard as a digit at the end of a run.
_ME_AFTER = re.compile(r"[\s,-]*me\b", re.IGNORECASE)
_FOUR_AT_END = re.compile(r"(?:4|\bfour)$", re.IGNORECASE)
# A digit glued to the next word ("52899984Me": "four me" for "for me"; "5289998me" after an
# id's digits).
_GLUED = re.compile(r"(?<=\d)(?=[A-Z][a-z]+\b)|(?<=\d{5})(?=[a-z]+\b)")
# "for me" after an id heard as an eighth digit 4 ("52899984Me", "39099604 me"): the 4 is the
# word. After seven digits it may be the id's own ("W 7104974, me" is "..., four, for me").
_FOR_ME = re.compile(rf"(?<=\d{{{ORDER_ID_DIGITS}}})4(?=[\s,-]*me\b)", re.IGNORECASE)
# ... and a 4 glued to "me" after an id's digits ("5289984Me" for "..., nine, eight, for me"): the
# recognizer wrote "for me" as one word, so the 4 is the word whatever the digits before it.
_FOR_ME_GLUED = re.compile(rf"(?<=\d{{{ORDER_ID_DIGITS - 1}}})4(?=me\b)", re.IGNORECASE)


# A word right before a single digit (or before the "U" of "double U" and a digit): "tunnel 0",
# "Tumble Six", "T-Ripple 5", "Tumble, U2".
_BEFORE_DIGIT = re.compile(
    rf"\b(?P<word>[a-z][a-z'\-]*[a-z])(?=[\s,]+(?:(?:u|you)[\s,]*)?(?:{_DIGIT}\b|\d\b))", re.IGNORECASE
)
# What makes a word before a digit part of an id: "order", an id's "W" or a digit before it,
# in a sentence that reads out at least ``_MIN_ID_DIGITS`` digits.
_ID_CONTEXT = re.compile(r"\border\b|\bw\b|\bw(?=\d)|\d", re.IGNORECASE)
_MIN_ID_DIGITS = 3
_REPEAT_SOUNDS = {jellyfish.metaphone(word): word for word in _REPEAT}


# Ids and emails as this module writes them, for the voice channel's later steps to find.
WRITTEN_ORDER_ID = re.compile(r"#W\d+")
WHOLE_ORDER_ID = re.compile(rf"#W\d{{{ORDER_ID_DIGITS}}}(?!\d)")
WRITTEN_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

# The words ids and emails are spoken with: the normaliser reads them, so the catalog
# correction never changes them ("triple" is no misheard "Tri-ply").
SPOKEN_FORM_WORDS = frozenset(
    [*_DIGIT_WORDS, *_REPEAT, *_SPELLING_WORDS.split("|"), "dot", "at", "underscore", "dash", "hyphen"]
)


def digits_said(run: str) -> str:
    """The digits a run of spoken digits names: "double 9, 1" -> "991", "W1, W9" -> "1199"
    (a "W" inside an id is a misheard "double"), "one oh" -> "10"."""
    out: list[str] = []
    repeat = 1
    for token in re.findall(r"[a-z]+|\d", run.lower()):
        if token in _REPEAT or token == "w":
            repeat = _REPEAT.get(token, 2)
            continue
        digit = token if token.isdigit() else _DIGIT_WORDS.get(token)
        if digit is None and repeat > 1:
            digit = _HOMOPHONE_DIGITS.get(token)
        if digit is not None:
            out.append(digit * repeat)
        repeat = 1
    return "".join(out)


def digits_read_out(digits: str, *, grouped: bool = False) -> str:
    """Digits as they are said one by one: "5209" -> "five, two, zero, nine"; ``grouped``: runs
    of one digit with "double" and "triple", "5559" -> "triple five, nine"."""
    words: list[str] = []
    for digit, run in itertools.groupby(d for d in digits if d.isdigit()):
        name, times = DIGIT_NAMES[int(digit)], len(list(run))
        while times:
            # grouped, four of one digit are two doubles ("double five, double five"), not 3 + 1
            said = (2 if times == 4 else min(times, 3)) if grouped else 1
            words.append({1: name, 2: f"double {name}", 3: f"triple {name}"}[said])
            times -= said
    return ", ".join(words)


def _email(match: re.Match[str]) -> str:
    local = re.sub(rf"{_LOCAL_SEP}", _local_sep, match["local"].lower()).replace(",", "")
    domain = re.sub(r"[\s,]*(?:\.|\bdot\b)[\s,]*", ".", match["domain"].lower())
    return f"{local.replace(' ', '').replace(',', '')}@{domain.replace(' ', '')}"


def _local_sep(match: re.Match[str]) -> str:
    word = match[0].strip(" ,").lower()
    return {"dot": ".", "underscore": "_", "dash": "-", "hyphen": "-"}.get(word, word)


def _order(match: re.Match[str]) -> str:
    digits = digits_said(match["digits"])
    return f"#W{digits[:ORDER_ID_DIGITS]}" if len(digits) >= 4 else match[0]


def _as_in(match: re.Match[str]) -> str:
    letter = match["letter"]
    return letter if match["word"][:1].lower() == letter.lower() else match[0]


def _repeat_heard(match: re.Match[str]) -> str:
    """ "double" or "triple" for a word that sounds like it (metaphone one edit away, same first
    sound) where it stands before a digit of an id, else the word."""
    word = match["word"]
    if word.lower() in _DIGIT_WORDS or word.lower() in _REPEAT:
        return word
    if not _ID_CONTEXT.search(match.string, 0, match.start()):
        return word
    sound = jellyfish.metaphone(word.replace("-", "").replace("'", ""))
    for key, said in _REPEAT_SOUNDS.items():
        if sound[:1] == key[:1] and len(sound) >= 3 and jellyfish.levenshtein_distance(sound, key) <= 1:
            return said
    return word


def _letters_read(text: str) -> str:
    """The letters of ids as said: "W as in William" -> "W", "w-a-l" -> "wal", digits unglued,
    and "double"/"triple" heard as a word that sounds like them before an id's digit ("order,
    tunnel 0, tunnel 6" -> "order, double 0, double 6")."""
    text = " ".join(text.split())
    if len(_ID_DIGIT.findall(text)) >= _MIN_ID_DIGITS:  # not "order total 5 items"
        text = _BEFORE_DIGIT.sub(_repeat_heard, text)
    text = _AS_IN.sub(_as_in, text)
    text = _AS_IN_BEFORE_DIGITS.sub(lambda m: m["word"][0].upper(), text)
    text = _W_WORD_BEFORE_DIGITS.sub("W", text)
    text = _FOR_ME_GLUED.sub(" for ", text)
    text = _GLUED.sub(" ", text)
    text = _FOR_ME.sub(" for", text)
    return _SPELLED_LETTERS.sub(lambda m: m[0].replace("-", ""), text)


def order_id_digits(text: str) -> list[str]:
    """The digits of each order id in a raw transcript, as many as were heard (the normalised
    transcript keeps only an id's length): "order W, 5, 0, 0, 0, 2, 0, 0, 2, 9, 1" -> ["5000200291"]."""
    text = _letters_read(text)
    spoken = [digits_said(m["digits"]) for m in _ORDER.finditer(text)]
    text = _ORDER.sub("", text)
    written = [m[1] for m in _ORDER_WRITTEN.finditer(text)]
    text = _ORDER_WRITTEN.sub("", text)
    return [*spoken, *written, *(d for d in map(_read_out_id, _ORDER_READ_OUT.finditer(text)) if d)]


def with_order_id(text: str, digits: str) -> str:
    """The transcript with the id it reads out (from its first "W", digit or digit word to its
    last digit) replaced by ``digits`` heard another way, or those added at its end:
    ("Where is my order W, 5, 5, 6, 0 1 8 1?", "5560181") -> "Where is my order W 5560181?";
    ("Cancel order W.", "4402685") -> "Cancel order W 4402685."."""
    text = _letters_read(text)
    start = _ID_START.search(text)
    if start is None:
        return f"{text.rstrip()} W {digits}"
    ends = [m.end() for m in _ID_DIGIT.finditer(text, start.start())]
    # An id's "W" heard with no digit after it ("cancel order W."): the digits go after it.
    end = ends[-1] if ends else start.end()
    return f"{text[: start.start()].rstrip()} W {digits}{text[end:]}".lstrip()


def read_out_as(text: str, digits: str, *, grouped: bool = False) -> str:
    """The raw transcript with the digits it reads out (its longest run of digits, digit words
    and "double"/"triple") said as ``digits`` one by one (``grouped``: with "double" and
    "triple"), every other word as heard: "Can you check W. As in William 7104974 for me?",
    "1049744" -> "Can you check W. As in William one, zero, four, nine, seven, four, four for
    me?". What readings of an id are scored with against the audio; the words around them stay
    the recognizer's own, so only the digits differ. A 4 that ends the run right before "me"
    is the word "for" ("26846564 me"), so it is not replaced with the id's last digit."""
    said = digits_read_out(digits, grouped=grouped)
    runs = list(_READ_OUT_RUN.finditer(text))
    if not runs:
        return with_order_id(text, said)
    run = max(runs, key=lambda m: len(digits_said(m[0])))  # the first of the longest
    before, after = text[: run.start()], text[run.end() :]
    if _ME_AFTER.match(after) and _FOUR_AT_END.search(run[0]):
        after = f" for{after}"
    glued = " " if before[-1:].isalpha() else ""  # "W5560181" -> "W five, ..."
    return f"{before}{glued}{said}{after}"


def normalize_transcript(text: str) -> str:
    """The transcript with ids, emails and digit strings written the way they are typed."""
    text = _letters_read(text)
    text = _ORDER.sub(_order, text)
    text = _ORDER_WRITTEN.sub(lambda m: f"#W{m[1]}", text)
    text = _EMAIL.sub(_email, text)
    text = _THOUSANDS.sub(lambda m: m[0].replace(",", ""), text)
    text = _SPELLED_DIGITS.sub(lambda m: digits_said(m[0]), text)
    text = _ORDER_READ_OUT.sub(lambda m: f"{m['lead']} #W{d}" if (d := _read_out_id(m)) else m[0], text)
    return text


def _read_out_id(match: re.Match[str]) -> str | None:
    """The digits read out after "order" when they are exactly an id's."""
    digits = digits_said(match["digits"])
    return digits if len(digits) == ORDER_ID_DIGITS else None
