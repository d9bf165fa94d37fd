"""Text: counts, word frequencies, case conversion, slugs, palindromes, anagrams and readability.

Slugs are python-slugify's; readability scores count syllables with pyphen's hyphenation
dictionary and apply the Flesch formulas.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import cache
from typing import Any, Literal

from slugify import slugify

from ....tools import tool
from ._checks import not_empty, positive
from ._spec import function_spec, number, string

DOMAIN = "text"

_WORD_RE = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_SENTENCE_RE = re.compile(r"[^.!?。！？]+[.!?。！？]*")


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_RE.findall(text) if _words(s)]


def _letters(text: str, ignore_case: bool = True, ignore_non_letters: bool = True) -> str:
    text = unicodedata.normalize("NFKD", text)
    if ignore_non_letters:
        text = "".join(c for c in text if c.isalnum())
    return text.casefold() if ignore_case else text


@cache
def _hyphenator() -> Any:
    import pyphen

    return pyphen.Pyphen(lang="en_US")


def _syllables(word: str) -> int:
    return max(1, len(_hyphenator().positions(word.lower())) + 1)


@tool
def count_words(text: str) -> dict:
    """Count the words, characters, sentences and paragraphs of a text.

    Args:
        text: The text to measure.
    """
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return {
        "words": len(_words(text)),
        "characters": len(text),
        "characters_without_spaces": len("".join(text.split())),
        "sentences": len(_sentences(text)),
        "paragraphs": len(paragraphs),
    }


@tool
def word_frequencies(
    text: str, top_n: int = 10, case_sensitive: bool = False, ignore_words: list[str] | None = None
) -> dict:
    """The most frequent words of a text with their counts, most frequent first.

    Args:
        text: The text to analyse.
        top_n: How many words to return.
        case_sensitive: Count differently capitalised forms as different words.
        ignore_words: Words to leave out of the count.
    """
    positive(top_n=top_n)
    words = _words(text) if case_sensitive else [w.casefold() for w in _words(text)]
    skip = set(ignore_words or []) if case_sensitive else {w.casefold() for w in ignore_words or []}
    counts = Counter(w for w in words if w not in skip)
    return {"total_words": len(words), "top": [{"word": w, "count": n} for w, n in counts.most_common(top_n)]}


@tool
def convert_text_case(
    text: str, case: Literal["upper", "lower", "title", "sentence", "snake", "camel", "pascal", "kebab"]
) -> dict:
    """Rewrite a text in another letter case or identifier style.

    Args:
        text: The text to convert.
        case: Target style; snake, camel, pascal and kebab join the words into one identifier.
    """
    words = _words(text)
    styles = {
        "upper": lambda: text.upper(),
        "lower": lambda: text.lower(),
        "title": lambda: " ".join(w[:1].upper() + w[1:].lower() for w in text.split(" ")),
        "sentence": lambda: text[:1].upper() + text[1:].lower(),
        "snake": lambda: "_".join(w.lower() for w in words),
        "kebab": lambda: "-".join(w.lower() for w in words),
        "camel": lambda: "".join(w.lower() if i == 0 else w.capitalize() for i, w in enumerate(words)),
        "pascal": lambda: "".join(w.capitalize() for w in words),
    }
    return {"result": styles[case]()}


@tool
def slugify_text(text: str, separator: str = "-", max_length: int = 0, lowercase: bool = True) -> dict:
    """Turn a title into a URL slug: ASCII letters and digits joined by a separator.

    Args:
        text: The title or phrase.
        separator: Character placed between words.
        max_length: Longest slug allowed, cut at a word boundary; 0 means no limit.
        lowercase: Lowercase the slug.
    """
    slug = slugify(text, separator=separator, max_length=max_length, word_boundary=True, lowercase=lowercase)
    if not slug:
        raise ValueError("the text has no letters or digits to build a slug from")
    return {"slug": slug}


@tool
def is_palindrome(text: str, ignore_case: bool = True, ignore_non_letters: bool = True) -> dict:
    """Whether a word or phrase reads the same backwards as forwards.

    Args:
        text: The word or phrase.
        ignore_case: Treat upper and lower case as the same letter.
        ignore_non_letters: Skip spaces, punctuation and symbols.
    """
    letters = _letters(text, ignore_case, ignore_non_letters)
    not_empty(text=letters)
    return {"is_palindrome": letters == letters[::-1], "compared": letters}


@tool
def are_anagrams(first: str, second: str, ignore_case: bool = True) -> dict:
    """Whether two words or phrases use exactly the same letters (spaces and punctuation ignored).

    Args:
        first: The first word or phrase.
        second: The second word or phrase.
        ignore_case: Treat upper and lower case as the same letter.
    """
    a, b = _letters(first, ignore_case), _letters(second, ignore_case)
    not_empty(first=a, second=b)
    return {"are_anagrams": sorted(a) == sorted(b)}


@tool
def find_anagrams_in_list(word: str, candidates: list[str]) -> dict:
    """The words of a list that are anagrams of a given word (the word itself excluded).

    Args:
        word: The word to match.
        candidates: Words to check.
    """
    key = sorted(_letters(word))
    not_empty(word=key, candidates=candidates)
    return {
        "anagrams": [c for c in candidates if sorted(_letters(c)) == key and _letters(c) != _letters(word)]
    }


@tool
def readability_scores(text: str) -> dict:
    """Flesch reading ease and Flesch-Kincaid grade level of an English text.

    Args:
        text: The English text to score.
    """
    words, sentences = _words(text), _sentences(text)
    if not words:
        raise ValueError("the text has no words")
    syllables = sum(_syllables(w) for w in words)
    wps, spw = len(words) / max(len(sentences), 1), syllables / len(words)
    ease = 206.835 - 1.015 * wps - 84.6 * spw
    return {
        "flesch_reading_ease": round(ease, 1),
        "flesch_kincaid_grade": round(0.39 * wps + 11.8 * spw - 15.59, 1),
        "words": len(words),
        "sentences": len(sentences),
        "syllables": syllables,
    }


@tool
def reverse_text(text: str, unit: Literal["characters", "words"] = "characters") -> dict:
    """Reverse a text character by character, or reverse the order of its words.

    Args:
        text: The text to reverse.
        unit: What to reverse the order of.
    """
    return {"result": text[::-1] if unit == "characters" else " ".join(reversed(text.split()))}


@tool
def truncate_text(text: str, max_length: int, ellipsis: str = "…", whole_words: bool = True) -> dict:
    """Shorten a text to at most a number of characters, ending it with an ellipsis when cut.

    Args:
        text: The text to shorten.
        max_length: Longest result allowed, ellipsis included.
        ellipsis: Characters appended when the text is cut.
        whole_words: Cut at the last space so no word is split.
    """
    if max_length <= len(ellipsis):
        raise ValueError(f"max_length must be longer than the ellipsis ({len(ellipsis)} characters)")
    if len(text) <= max_length:
        return {"result": text, "truncated": False}
    cut = text[: max_length - len(ellipsis)]
    if whole_words and " " in cut:
        cut = cut[: cut.rindex(" ")]
    return {"result": cut.rstrip() + ellipsis, "truncated": True}


TOOLS = [
    count_words,
    word_frequencies,
    convert_text_case,
    slugify_text,
    is_palindrome,
    are_anagrams,
    find_anagrams_in_list,
    readability_scores,
    reverse_text,
    truncate_text,
]

SPECS = [
    function_spec(
        "translate_passage",
        "Translate a passage of text into another language.",
        {
            "text": string("The passage to translate."),
            "target_language": string("Language to translate into."),
            "source_language": string("Language of the passage; detected when left out."),
            "formality": string(
                "Register of the translation.", enum=["default", "formal", "informal"], default="default"
            ),
        },
        ["text", "target_language"],
    ),
    function_spec(
        "summarize_document",
        "A short summary of a long text, as a paragraph or as bullet points.",
        {
            "text": string("The document to summarise."),
            "max_sentences": number("Longest summary allowed, in sentences.", default=3, integer=True),
            "style": string("Layout of the summary.", enum=["paragraph", "bullets"], default="paragraph"),
        },
        ["text"],
    ),
]
