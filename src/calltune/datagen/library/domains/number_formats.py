"""Number formats: Roman numerals, number bases, numbers in words, scientific notation, fractions and separators.

Roman numerals are the ``roman`` package's, numbers in words ``num2words``'s.
"""

from __future__ import annotations

import math
import string as stdstring
from decimal import Decimal
from fractions import Fraction
from typing import Literal

import roman
from num2words import num2words

from ....tools import tool
from ._checks import positive
from ._spec import function_spec, number, string

DOMAIN = "number_formats"

_DIGITS = stdstring.digits + stdstring.ascii_lowercase


def _base(name: str, base: int) -> None:
    if not 2 <= base <= 36:
        raise ValueError(f"{name} must be between 2 and 36, got {base}")


@tool
def integer_to_roman_numeral(number: int) -> dict:
    """Write an integer from 1 to 4999 as a Roman numeral.

    Args:
        number: The integer to write.
    """
    if not 1 <= number <= 4999:
        raise ValueError(f"Roman numerals cover 1 to 4999, got {number}")
    return {"roman": roman.toRoman(number)}


@tool
def roman_numeral_to_integer(numeral: str) -> dict:
    """The integer value of a Roman numeral.

    Args:
        numeral: The Roman numeral, in upper or lower case.
    """
    try:
        return {"value": roman.fromRoman(numeral.strip().upper())}
    except roman.RomanError as e:
        raise ValueError(f"{numeral!r} is not a valid Roman numeral") from e


@tool
def convert_number_base(digits: str, from_base: int, to_base: int) -> dict:
    """Rewrite an integer given in one base (2 to 36) in another base.

    Args:
        digits: The integer's digits in the source base; letters stand for digits above 9.
        from_base: Base the digits are written in.
        to_base: Base to write the result in.
    """
    _base("from_base", from_base)
    _base("to_base", to_base)
    try:
        value = int(digits.strip(), from_base)
    except ValueError as e:
        raise ValueError(f"{digits!r} is not a number in base {from_base}") from e
    rest, out = abs(value), ""
    while True:
        rest, d = divmod(rest, to_base)
        out = _DIGITS[d] + out
        if not rest:
            break
    return {"result": ("-" if value < 0 else "") + out, "decimal_value": value}


@tool
def number_to_words(
    number: float,
    language: Literal["en", "fr", "de", "es", "it", "pt", "nl"] = "en",
    style: Literal["cardinal", "ordinal", "year", "currency"] = "cardinal",
    currency: Literal["USD", "EUR", "GBP"] = "USD",
) -> dict:
    """Spell a number out in words, as a count, an ordinal, a year or an amount of money.

    Args:
        number: The number to spell out; ordinals need a whole number.
        language: Language of the words.
        style: How the number is read.
        currency: Currency of the amount, for the currency style.
    """
    if style in ("ordinal", "year") and not float(number).is_integer():
        raise ValueError(f"the {style} style needs a whole number, got {number}")
    value = int(number) if float(number).is_integer() and style != "currency" else number
    kwargs = {"currency": currency} if style == "currency" else {}
    return {"words": num2words(value, lang=language, to=style, **kwargs)}


@tool
def ordinal_with_suffix(number: int, language: Literal["en", "fr", "de", "es"] = "en") -> dict:
    """Write a whole number as a short ordinal with its suffix, as on a calendar or a podium.

    Args:
        number: The number.
        language: Language whose suffix to use.
    """
    return {"ordinal": num2words(number, lang=language, to="ordinal_num")}


@tool
def format_scientific_notation(
    number: float, significant_digits: int = 3, style: Literal["scientific", "engineering"] = "scientific"
) -> dict:
    """Write a number in scientific notation, or in engineering notation (exponent a multiple of 3).

    Args:
        number: The number.
        significant_digits: Digits kept in the mantissa.
        style: scientific puts one digit before the point; engineering uses exponents divisible by 3.
    """
    positive(significant_digits=significant_digits)
    if not math.isfinite(number):
        raise ValueError("the number must be finite")
    if number == 0:
        return {"mantissa": 0.0, "exponent": 0, "text": "0"}
    exponent = math.floor(math.log10(abs(number)))
    if style == "engineering":
        exponent -= exponent % 3
    mantissa = float(f"{number / 10**exponent:.{significant_digits}g}")
    return {"mantissa": mantissa, "exponent": exponent, "text": f"{mantissa:g} × 10^{exponent}"}


@tool
def parse_scientific_notation(text: str) -> dict:
    """The plain decimal value of a number written in E notation.

    Args:
        text: The number in E notation, with e or E before the exponent.
    """
    try:
        value = Decimal(text.strip().replace("E", "e"))
    except ArithmeticError as e:
        raise ValueError(f"{text!r} is not a number in E notation") from e
    if not value.is_finite():
        raise ValueError(f"{text!r} is not finite")
    return {"decimal": format(value, "f"), "value": float(value)}


@tool
def format_number_with_separators(
    number: float,
    decimals: int = 2,
    thousands_separator: Literal[",", ".", " ", "'", "none"] = ",",
    decimal_separator: Literal[".", ","] = ".",
) -> dict:
    """Format a number with grouping of thousands and a fixed number of decimals, in a regional style.

    Args:
        number: The number to format.
        decimals: Digits after the decimal separator.
        thousands_separator: Character between groups of three digits, or none.
        decimal_separator: Character before the decimals.
    """
    if decimals < 0:
        raise ValueError(f"decimals must not be negative, got {decimals}")
    if thousands_separator == decimal_separator:
        raise ValueError("the thousands and decimal separators must differ")
    text = f"{number:,.{decimals}f}"
    group = "" if thousands_separator == "none" else thousands_separator
    return {"text": text.replace(",", "\0").replace(".", decimal_separator).replace("\0", group)}


@tool
def decimal_to_fraction(value: float, max_denominator: int = 1000) -> dict:
    """The simplest fraction close to a decimal number, also as a mixed number.

    Args:
        value: The decimal number.
        max_denominator: Largest denominator allowed.
    """
    positive(max_denominator=max_denominator)
    f = Fraction(value).limit_denominator(max_denominator)
    whole, rest = divmod(abs(f.numerator), f.denominator)
    sign = "-" if f < 0 else ""
    if not rest:
        mixed = f"{sign}{whole}"
    else:
        mixed = f"{sign}{whole} {rest}/{f.denominator}" if whole else f"{sign}{rest}/{f.denominator}"
    return {
        "numerator": f.numerator,
        "denominator": f.denominator,
        "mixed_number": mixed,
        "error": abs(float(f) - value),
    }


TOOLS = [
    integer_to_roman_numeral,
    roman_numeral_to_integer,
    convert_number_base,
    number_to_words,
    ordinal_with_suffix,
    format_scientific_notation,
    parse_scientific_notation,
    format_number_with_separators,
    decimal_to_fraction,
]

SPECS = [
    function_spec(
        "lookup_number_trivia",
        "An interesting fact about a number: a mathematical property, a historical year or general trivia.",
        {
            "number": number("The number to find a fact about.", integer=True),
            "kind": string("What sort of fact.", enum=["math", "year", "trivia"], default="trivia"),
        },
        ["number"],
    ),
]
