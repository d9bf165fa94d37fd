"""Security: password strength, policies and entropy, seeded password generation, classical ciphers.

The ciphers are the classical teaching ciphers; they are not secure encryption.
"""

from __future__ import annotations

import math
import random
import string
from typing import Literal

from ....tools import tool
from ._checks import non_negative, not_empty, positive

DOMAIN = "security"

_AMBIGUOUS = set("Il1O0o")
_SYMBOLS = "!@#$%^&*()-_=+[]{};:,.?"


def _charset_size(password: str) -> int:
    size = 0
    for present, n in (
        (any(c.islower() for c in password), 26),
        (any(c.isupper() for c in password), 26),
        (any(c.isdigit() for c in password), 10),
        (any(not c.isalnum() for c in password), 33),
    ):
        size += n if present else 0
    return size


def _entropy(password: str) -> float:
    size = _charset_size(password)
    return len(password) * math.log2(size) if size else 0.0


@tool
def password_entropy_bits(password: str) -> dict:
    """Entropy of a password in bits, from its length and the character classes it uses.

    Args:
        password: The password to measure.
    """
    not_empty(password=password)
    return {"entropy_bits": round(_entropy(password), 1), "charset_size": _charset_size(password)}


@tool
def passphrase_entropy_bits(word_count: int, wordlist_size: int = 7776) -> dict:
    """Entropy of a passphrase of words drawn at random from a word list (diceware lists have 7776 words).

    Args:
        word_count: Number of words in the passphrase.
        wordlist_size: Number of words in the list they are drawn from.
    """
    positive(word_count=word_count)
    if wordlist_size < 2:
        raise ValueError("wordlist_size must be at least 2")
    return {"entropy_bits": round(word_count * math.log2(wordlist_size), 1)}


@tool
def password_strength_report(password: str, min_length: int = 12) -> dict:
    """Rate a password (very weak to very strong) and list what would make it stronger.

    Args:
        password: The password to rate.
        min_length: Length the password should have at least.
    """
    not_empty(password=password)
    bits = _entropy(password)
    tips = []
    if len(password) < min_length:
        tips.append(f"use at least {min_length} characters")
    for test, tip in (
        (str.islower, "add lowercase letters"),
        (str.isupper, "add uppercase letters"),
        (str.isdigit, "add digits"),
        (lambda c: not c.isalnum(), "add symbols"),
    ):
        if not any(test(c) for c in password):
            tips.append(tip)
    if len(set(password)) <= len(password) // 2:
        tips.append("avoid repeating characters")
    labels = [(40, "very weak"), (60, "weak"), (80, "reasonable"), (128, "strong")]
    rating = next((label for limit, label in labels if bits < limit), "very strong")
    return {"rating": rating, "entropy_bits": round(bits, 1), "suggestions": tips}


@tool
def password_policy_check(
    password: str,
    min_length: int = 8,
    require_uppercase: bool = True,
    require_digit: bool = True,
    require_symbol: bool = False,
    forbidden_words: list[str] | None = None,
) -> dict:
    """Check a password against an organisation's password policy and list every rule it breaks.

    Args:
        password: The password to check.
        min_length: Fewest characters allowed.
        require_uppercase: The password must contain an uppercase letter.
        require_digit: The password must contain a digit.
        require_symbol: The password must contain a symbol.
        forbidden_words: Words the password must not contain (compared without case).
    """
    not_empty(password=password)
    positive(min_length=min_length)
    broken = []
    if len(password) < min_length:
        broken.append(f"shorter than {min_length} characters")
    for needed, test, rule in (
        (require_uppercase, str.isupper, "no uppercase letter"),
        (require_digit, str.isdigit, "no digit"),
        (require_symbol, lambda c: not c.isalnum(), "no symbol"),
    ):
        if needed and not any(test(c) for c in password):
            broken.append(rule)
    broken += [f"contains {w!r}" for w in forbidden_words or [] if w and w.lower() in password.lower()]
    return {"compliant": not broken, "violations": broken}


@tool
def generate_seeded_password(
    seed: int,
    length: int = 16,
    use_digits: bool = True,
    use_symbols: bool = True,
    exclude_ambiguous: bool = False,
) -> dict:
    """Generate a password from a seed: the same seed and options always give the same password.

    For reproducible test data only; real passwords need a secure random source.

    Args:
        seed: The random seed.
        length: Number of characters.
        use_digits: Include digits.
        use_symbols: Include symbols.
        exclude_ambiguous: Leave out look-alike characters (I, l, 1, O, 0, o).
    """
    if not 4 <= length <= 128:
        raise ValueError(f"length must be between 4 and 128, got {length}")
    pools = [string.ascii_lowercase, string.ascii_uppercase]
    pools += [string.digits] if use_digits else []
    pools += [_SYMBOLS] if use_symbols else []
    pools = ["".join(c for c in p if not (exclude_ambiguous and c in _AMBIGUOUS)) for p in pools]
    rng = random.Random(seed)
    chars = [rng.choice(p) for p in pools]  # one from each class
    alphabet = "".join(pools)
    chars += [rng.choice(alphabet) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    password = "".join(chars)
    return {"password": password, "entropy_bits": round(length * math.log2(len(alphabet)), 1)}


@tool
def crack_time_estimate(entropy_bits: float, guesses_per_second: float = 1e10) -> dict:
    """Average time a brute-force attack needs to find a secret of a given entropy.

    Args:
        entropy_bits: Entropy of the secret in bits.
        guesses_per_second: The attacker's guessing rate.
    """
    non_negative(entropy_bits=entropy_bits)
    positive(guesses_per_second=guesses_per_second)
    seconds = 2 ** (entropy_bits - 1) / guesses_per_second
    years = seconds / (365.25 * 86400)
    return {"seconds": seconds, "years": years, "readable": _readable(seconds)}


_SPANS = ((60, 1, "seconds"), (3600, 60, "minutes"), (86400, 3600, "hours"), (31_557_600, 86400, "days"))


def _readable(seconds: float) -> str:
    for limit, size, unit in _SPANS:
        if seconds < limit:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds / 31_557_600:.3g} years"


def _shift(text: str, shifts: list[int]) -> str:
    out, i = [], 0
    for ch in text:
        if ch.isascii() and ch.isalpha():
            base = ord("A") if ch.isupper() else ord("a")
            out.append(chr(base + (ord(ch) - base + shifts[i % len(shifts)]) % 26))
            i += 1
        else:
            out.append(ch)
    return "".join(out)


@tool
def caesar_cipher(text: str, shift: int, mode: Literal["encrypt", "decrypt"] = "encrypt") -> str:
    """Encrypt or decrypt text with a Caesar cipher (each letter moved by a fixed shift).

    Args:
        text: The text; non-letters are kept as they are.
        shift: How many places each letter moves.
        mode: Encrypt or decrypt.
    """
    return _shift(text, [shift if mode == "encrypt" else -shift])


@tool
def rot13_transform(text: str) -> str:
    """Apply ROT13 (Caesar shift of 13; applying it twice gives back the text).

    Args:
        text: The text.
    """
    return _shift(text, [13])


@tool
def vigenere_cipher(text: str, key: str, mode: Literal["encrypt", "decrypt"] = "encrypt") -> str:
    """Encrypt or decrypt text with a Vigenère cipher (letters shifted by the letters of a key).

    Args:
        text: The text; non-letters are kept and do not use up key letters.
        key: The key, letters only.
        mode: Encrypt or decrypt.
    """
    if not key or not key.isascii() or not key.isalpha():
        raise ValueError("key must be a non-empty word of ASCII letters")
    sign = 1 if mode == "encrypt" else -1
    return _shift(text, [sign * (ord(c) - ord("a")) for c in key.lower()])


TOOLS = [
    password_entropy_bits,
    passphrase_entropy_bits,
    password_strength_report,
    password_policy_check,
    generate_seeded_password,
    crack_time_estimate,
    caesar_cipher,
    rot13_transform,
    vigenere_cipher,
]
