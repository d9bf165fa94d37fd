"""Encoding: Base64, URL encoding, hex, hashes and HMACs, and check digits (Luhn, ISBN, IBAN).

Hashes are hashlib's and hmac's; check digits are python-stdnum's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from typing import Literal
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlencode

from stdnum import iban, isbn, luhn
from stdnum.exceptions import ValidationError

from ....tools import tool
from ._spec import function_spec, string

DOMAIN = "encoding"

HashAlgorithm = Literal["md5", "sha1", "sha256", "sha512", "sha3_256", "blake2b"]


def _digest(raw: bytes, output: str) -> str:
    return raw.hex() if output == "hex" else base64.b64encode(raw).decode()


@tool
def base64_encode_text(text: str, url_safe: bool = False) -> dict:
    """Encode a text (as UTF-8 bytes) in Base64.

    Args:
        text: The text to encode.
        url_safe: Use the URL-safe alphabet, with - and _ instead of + and /.
    """
    raw = text.encode()
    return {"encoded": (base64.urlsafe_b64encode if url_safe else base64.b64encode)(raw).decode()}


@tool
def base64_decode_text(encoded: str, url_safe: bool = False) -> dict:
    """Decode Base64 back into UTF-8 text.

    Args:
        encoded: The Base64 data.
        url_safe: The data uses the URL-safe alphabet.
    """
    data = encoded.strip()
    data += "=" * (-len(data) % 4)
    try:
        raw = base64.urlsafe_b64decode(data) if url_safe else base64.b64decode(data, validate=True)
        return {"text": raw.decode()}
    except ValueError as e:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ValueError(f"not valid Base64 text: {e}") from e


@tool
def url_encode_text(text: str, spaces_as_plus: bool = False, keep_characters: str = "") -> dict:
    """Percent-encode a text so it can be placed in a URL path or query.

    Args:
        text: The text to encode.
        spaces_as_plus: Write spaces as + (form encoding) instead of %20.
        keep_characters: Characters to leave unencoded besides letters, digits and -._~.
    """
    fn = quote_plus if spaces_as_plus else quote
    return {"encoded": fn(text, safe=keep_characters)}


@tool
def url_decode_text(encoded: str, plus_as_space: bool = True) -> dict:
    """Decode a percent-encoded URL component back into text.

    Args:
        encoded: The percent-encoded text.
        plus_as_space: Read + as a space (form encoding).
    """
    return {"text": (unquote_plus if plus_as_space else unquote)(encoded)}


@tool
def build_query_string(parameters: dict[str, str], sort_keys: bool = False) -> dict:
    """Encode name-value pairs as a URL query string.

    Args:
        parameters: Names and values of the query parameters.
        sort_keys: Put the parameters in alphabetical order.
    """
    items = sorted(parameters.items()) if sort_keys else list(parameters.items())
    return {"query": urlencode(items)}


@tool
def compute_hash_digest(
    text: str, algorithm: HashAlgorithm = "sha256", output: Literal["hex", "base64"] = "hex"
) -> dict:
    """The cryptographic hash of a text's UTF-8 bytes.

    Args:
        text: The text to hash.
        algorithm: Hash function.
        output: How to write the digest.
    """
    return {"algorithm": algorithm, "digest": _digest(hashlib.new(algorithm, text.encode()).digest(), output)}


@tool
def compute_hmac_signature(
    message: str,
    secret_key: str,
    algorithm: Literal["sha1", "sha256", "sha512"] = "sha256",
    output: Literal["hex", "base64"] = "hex",
) -> dict:
    """A keyed-hash message authentication code (HMAC) of a message.

    Args:
        message: The message to sign.
        secret_key: The shared secret.
        algorithm: Hash function inside the HMAC.
        output: How to write the signature.
    """
    if not secret_key:
        raise ValueError("secret_key must not be empty")
    mac = hmac.new(secret_key.encode(), message.encode(), algorithm).digest()
    return {"algorithm": f"hmac-{algorithm}", "signature": _digest(mac, output)}


@tool
def crc32_checksum(text: str) -> dict:
    """The CRC-32 checksum of a text's UTF-8 bytes, as an integer and in hex.

    Args:
        text: The text to checksum.
    """
    value = zlib.crc32(text.encode())
    return {"crc32": value, "hex": f"{value:08x}"}


@tool
def text_to_hex(text: str, separator: str = "") -> dict:
    """The hexadecimal bytes of a text in UTF-8.

    Args:
        text: The text.
        separator: Placed between bytes.
    """
    return {"hex": text.encode().hex(separator) if separator else text.encode().hex()}


@tool
def luhn_check_digit(number: str) -> dict:
    """Whether a card or account number passes the Luhn check, and the digit that would complete it.

    Args:
        number: The digits; spaces and hyphens are ignored.
    """
    digits = number.replace(" ", "").replace("-", "")
    if not digits.isdigit():
        raise ValueError(f"{number!r} must contain only digits, spaces and hyphens")
    return {"valid": luhn.is_valid(digits), "check_digit_to_append": luhn.calc_check_digit(digits)}


@tool
def validate_isbn(code: str) -> dict:
    """Check an ISBN-10 or ISBN-13 and give both forms.

    Args:
        code: The ISBN, with or without hyphens.
    """
    try:
        compact = isbn.validate(code)
    except ValidationError as e:
        return {"valid": False, "reason": str(e)}
    out: dict = {
        "valid": True,
        "type": isbn.isbn_type(compact),
        "isbn13": isbn.format(isbn.to_isbn13(compact)),
    }
    try:
        out["isbn10"] = isbn.format(isbn.to_isbn10(compact))
    except ValidationError:
        out["isbn10"] = None
    return out


@tool
def validate_iban(account: str) -> dict:
    """Check an International Bank Account Number (IBAN) and give its country and formatted form.

    Args:
        account: The IBAN, with or without spaces.
    """
    try:
        compact = iban.validate(account)
    except ValidationError as e:
        return {"valid": False, "reason": str(e)}
    return {"valid": True, "country_code": compact[:2], "formatted": iban.format(compact)}


TOOLS = [
    base64_encode_text,
    base64_decode_text,
    url_encode_text,
    url_decode_text,
    build_query_string,
    compute_hash_digest,
    compute_hmac_signature,
    crc32_checksum,
    text_to_hex,
    luhn_check_digit,
    validate_isbn,
    validate_iban,
]

SPECS = [
    function_spec(
        "decode_qr_code_image",
        "Read the text stored in a QR code or barcode from an image.",
        {
            "image_url": string("Address of the image."),
            "symbology": string(
                "Kind of code to look for.",
                enum=["auto", "qr", "ean13", "code128", "datamatrix"],
                default="auto",
            ),
        },
        ["image_url"],
    ),
]
