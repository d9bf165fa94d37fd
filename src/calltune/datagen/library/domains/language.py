"""Language: English plurals (inflection), letter counts, pig latin, transliteration, diacritics, list
phrases, reading time, spelling alphabets and Morse code."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

import inflection

from ....tools import tool
from ._checks import not_empty, positive

DOMAIN = "language"

_WORD_RE = re.compile(r"[A-Za-z']+")


@tool
def count_vowels(text: str, include_y: bool = False) -> dict:
    """Count the vowels in a text, in total and per vowel (accented letters count as their base vowel).

    Args:
        text: The text to examine.
        include_y: Count the letter y as a vowel too.
    """
    vowels = "aeiouy" if include_y else "aeiou"
    base = strip_diacritics(text).lower()
    per = {v: base.count(v) for v in vowels}
    letters = sum(c.isalpha() for c in base)
    return {"vowels": sum(per.values()), "consonants": letters - sum(per.values()), "per_vowel": per}


def _pig(word: str) -> str:
    lower = word.lower()
    m = re.match(r"^(qu|[^aeiou]+)(.*)$", lower) if lower[0] not in "aeiou" else None
    out = lower + "way" if m is None or not m.group(2) else m.group(2) + m.group(1) + "ay"
    return out.capitalize() if word[0].isupper() else out


@tool
def to_pig_latin(text: str) -> str:
    """Translate English text into pig latin (consonant cluster moved to the end plus "ay"; vowel-initial words get "way").

    Args:
        text: The English text.
    """
    not_empty(text=text)
    return _WORD_RE.sub(lambda m: _pig(m.group(0)), text)


# Russian Cyrillic to Latin, after the BGN/PCGN romanization (simplified: no diacritics), fixed table
_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        ["a", "b", "v", "g", "d", "e", "yo", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t",
         "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
        strict=True,
    )
)  # fmt: skip


@tool
def transliterate_cyrillic(text: str) -> str:
    """Write Russian Cyrillic text in Latin letters (simplified BGN/PCGN romanization; other characters kept).

    Args:
        text: Text in Cyrillic script.
    """
    out = []
    for ch in text:
        latin = _CYRILLIC.get(ch.lower())
        if latin is None:
            out.append(ch)
        else:
            out.append(latin.capitalize() if ch.isupper() else latin)
    return "".join(out)


@tool
def strip_diacritics(text: str) -> str:
    """Remove accents and other diacritical marks from letters (é becomes e, ñ becomes n).

    Args:
        text: The text to clean.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@tool
def pluralize_noun(noun: str, count: int = 2) -> dict:
    """The form of an English noun for a count (singular for one, plural otherwise), with the count before it.

    Args:
        noun: The noun in its singular form.
        count: How many there are.
    """
    not_empty(noun=noun)
    form = noun.strip() if abs(count) == 1 else inflection.pluralize(noun.strip())
    return {"form": form, "phrase": f"{count} {form}"}


@tool
def singularize_noun(noun: str) -> str:
    """The singular form of a plural English noun (unchanged when it is already singular).

    Args:
        noun: The noun in its plural form.
    """
    not_empty(noun=noun)
    return inflection.singularize(noun.strip())


@tool
def join_words_as_list(
    words: list[str], conjunction: Literal["and", "or"] = "and", serial_comma: bool = True
) -> str:
    """Join words into an English list phrase (a, b, and c).

    Args:
        words: The items in order.
        conjunction: Word before the last item.
        serial_comma: Put a comma before the conjunction when there are three or more items.
    """
    not_empty(words=words)
    items = [w.strip() for w in words]
    if len(items) <= 2:
        return f" {conjunction} ".join(items)
    return ", ".join(items[:-1]) + ("," if serial_comma else "") + f" {conjunction} {items[-1]}"


@tool
def reading_time_minutes(text: str, words_per_minute: int = 230) -> dict:
    """Estimated reading time of a text from its word count and a reading speed.

    Args:
        text: The text.
        words_per_minute: Reading speed.
    """
    positive(words_per_minute=words_per_minute)
    words = len(text.split())
    return {"words": words, "minutes": round(words / words_per_minute, 1)}


_NATO = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz0123456789",
        "Alfa Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliett Kilo Lima Mike November Oscar Papa "
        "Quebec Romeo Sierra Tango Uniform Victor Whiskey X-ray Yankee Zulu Zero One Two Three Four Five Six Seven "
        "Eight Niner".split(),
        strict=True,
    )
)


@tool
def nato_phonetic_spelling(text: str) -> dict:
    """Spell out letters and digits with the NATO phonetic alphabet (other characters skipped).

    Args:
        text: The letters and digits to spell.
    """
    words = [_NATO[c] for c in text.lower() if c in _NATO]
    if not words:
        raise ValueError("the text holds no letters or digits to spell")
    return {"spelling": words}


# International Morse code, fixed table
_MORSE = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyz0123456789",
        ".- -... -.-. -.. . ..-. --. .... .. .--- -.- .-.. -- -. --- .--. --.- .-. ... - ..- ...- .-- -..- -.-- "
        "--.. ----- .---- ..--- ...-- ....- ..... -.... --... ---.. ----.".split(),
        strict=True,
    )
)
_FROM_MORSE = {v: k for k, v in _MORSE.items()}


@tool
def morse_code(text: str, direction: Literal["encode", "decode"] = "encode") -> str:
    """Encode text as International Morse code (letters split by spaces, words by " / "), or decode it.

    Args:
        text: Plain text to encode, or Morse code to decode.
        direction: Whether to encode or decode.
    """
    not_empty(text=text)
    if direction == "encode":
        bad = sorted({c for c in text.lower() if c not in _MORSE and not c.isspace()})
        if bad:
            raise ValueError(f"no Morse code for {''.join(bad)!r}")
        return " / ".join(" ".join(_MORSE[c] for c in word) for word in text.lower().split())
    words = []
    for word in text.strip().split("/"):
        try:
            words.append("".join(_FROM_MORSE[s] for s in word.split()))
        except KeyError as e:
            raise ValueError(f"not a Morse letter: {e.args[0]!r}") from e
    return " ".join(words)


TOOLS = [
    count_vowels,
    to_pig_latin,
    transliterate_cyrillic,
    strip_diacritics,
    pluralize_noun,
    singularize_noun,
    join_words_as_list,
    reading_time_minutes,
    nato_phonetic_spelling,
    morse_code,
]
