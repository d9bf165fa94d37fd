"""Colors: hex, RGB and HSL conversion, WCAG contrast and luminance, mixing, shading and harmonies.

HSL conversion is :mod:`colorsys`; luminance and contrast follow WCAG 2.x.
"""

from __future__ import annotations

import colorsys
import re
from typing import Annotated, Literal

from pydantic import Field

from ....tools import tool
from ._checks import percent
from ._spec import boolean, function_spec, number, string

DOMAIN = "colors"

Channel = Annotated[int, Field(ge=0, le=255)]
_HEX_RE = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def _rgb(hex_color: str) -> tuple[int, int, int]:
    m = _HEX_RE.match(hex_color.strip())
    if not m:
        raise ValueError(f"{hex_color!r} is not a hex color of 3 or 6 hex digits")
    digits = m.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _hex(r: float, g: float, b: float) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in (r, g, b))


def _hsl(r: float, g: float, b: float) -> tuple[float, float, float]:
    h, lightness, s = colorsys.rgb_to_hls(r / 255, g / 255, b / 255)
    return h * 360, s * 100, lightness * 100


def _from_hsl(h: float, s: float, lightness: float) -> str:
    r, g, b = colorsys.hls_to_rgb((h % 360) / 360, lightness / 100, s / 100)
    return _hex(r * 255, g * 255, b * 255)


def _luminance(rgb: tuple[int, int, int]) -> float:
    def lin(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@tool
def hex_to_rgb(hex_color: str) -> dict:
    """The red, green and blue channels (0 to 255) of a hex color code.

    Args:
        hex_color: Color code of 3 or 6 hex digits, with or without a leading #.
    """
    r, g, b = _rgb(hex_color)
    return {"red": r, "green": g, "blue": b}


@tool
def rgb_channels_to_hex(red: Channel, green: Channel, blue: Channel) -> dict:
    """The hex color code of red, green and blue channel values.

    Args:
        red: Red channel, 0 to 255.
        green: Green channel, 0 to 255.
        blue: Blue channel, 0 to 255.
    """
    return {"hex": _hex(red, green, blue)}


@tool
def rgb_to_hsl(red: Channel, green: Channel, blue: Channel) -> dict:
    """Hue (degrees), saturation and lightness (percent) of an RGB color.

    Args:
        red: Red channel, 0 to 255.
        green: Green channel, 0 to 255.
        blue: Blue channel, 0 to 255.
    """
    h, s, lightness = _hsl(red, green, blue)
    return {"hue": round(h, 1), "saturation": round(s, 1), "lightness": round(lightness, 1)}


@tool
def hsl_to_rgb(hue: float, saturation: float, lightness: float) -> dict:
    """RGB channels and hex code of a color given as hue, saturation and lightness.

    Args:
        hue: Hue in degrees, 0 to 360.
        saturation: Saturation in percent.
        lightness: Lightness in percent.
    """
    percent(saturation=saturation, lightness=lightness)
    code = _from_hsl(hue, saturation, lightness)
    r, g, b = _rgb(code)
    return {"red": r, "green": g, "blue": b, "hex": code}


@tool
def relative_luminance(hex_color: str) -> dict:
    """The WCAG relative luminance of a color, from 0 for black to 1 for white.

    Args:
        hex_color: Color code of 3 or 6 hex digits.
    """
    return {"luminance": round(_luminance(_rgb(hex_color)), 4)}


@tool
def contrast_ratio(foreground: str, background: str) -> dict:
    """The WCAG contrast ratio between a text color and its background, and which conformance levels it meets.

    Args:
        foreground: Hex code of the text color.
        background: Hex code of the background color.
    """
    lum = sorted((_luminance(_rgb(foreground)), _luminance(_rgb(background))), reverse=True)
    ratio = (lum[0] + 0.05) / (lum[1] + 0.05)
    return {
        "ratio": round(ratio, 2),
        "aa_normal_text": ratio >= 4.5,
        "aa_large_text": ratio >= 3,
        "aaa_normal_text": ratio >= 7,
        "aaa_large_text": ratio >= 4.5,
    }


@tool
def mix_colors(colors: list[str], weights: list[float] | None = None) -> dict:
    """Blend several colors by averaging their RGB channels, optionally weighted.

    Args:
        colors: Hex codes of the colors to blend.
        weights: Share of each color; equal shares when left out.
    """
    if len(colors) < 2:
        raise ValueError("give at least two colors to mix")
    w = weights or [1.0] * len(colors)
    if len(w) != len(colors) or min(w) < 0 or sum(w) == 0:
        raise ValueError("weights must be one non-negative number per color, not all zero")
    rgbs = [_rgb(c) for c in colors]
    mixed = [sum(c[i] * x for c, x in zip(rgbs, w, strict=True)) / sum(w) for i in range(3)]
    return {"hex": _hex(*mixed)}


@tool
def adjust_color_lightness(
    hex_color: str, amount_percent: float, direction: Literal["lighten", "darken"] = "lighten"
) -> dict:
    """Make a color lighter or darker by shifting its HSL lightness.

    Args:
        hex_color: Hex code of the color.
        amount_percent: Percentage points of lightness to add or remove.
        direction: Whether to lighten or darken.
    """
    percent(amount_percent=amount_percent)
    h, s, lightness = _hsl(*_rgb(hex_color))
    new = (
        min(100.0, lightness + amount_percent)
        if direction == "lighten"
        else max(0.0, lightness - amount_percent)
    )
    return {"hex": _from_hsl(h, s, new), "lightness": round(new, 1)}


@tool
def color_harmony(
    hex_color: str,
    scheme: Literal[
        "complementary", "triadic", "analogous", "split_complementary", "tetradic"
    ] = "complementary",
) -> dict:
    """Colors that go with a base color under a color-wheel scheme.

    Args:
        hex_color: Hex code of the base color.
        scheme: Which harmony of the color wheel.
    """
    h, s, lightness = _hsl(*_rgb(hex_color))
    offsets = {
        "complementary": [180],
        "triadic": [120, 240],
        "analogous": [-30, 30],
        "split_complementary": [150, 210],
        "tetradic": [90, 180, 270],
    }[scheme]
    return {
        "base": _hex(*_rgb(hex_color)),
        "scheme": scheme,
        "colors": [_from_hsl(h + o, s, lightness) for o in offsets],
    }


@tool
def grayscale_color(
    hex_color: str, method: Literal["luminosity", "average", "lightness"] = "luminosity"
) -> dict:
    """The gray that a color turns into when desaturated.

    Args:
        hex_color: Hex code of the color.
        method: luminosity weights the channels as the eye does; average and lightness are simpler.
    """
    r, g, b = _rgb(hex_color)
    gray = {
        "luminosity": 0.2126 * r + 0.7152 * g + 0.0722 * b,
        "average": (r + g + b) / 3,
        "lightness": (max(r, g, b) + min(r, g, b)) / 2,
    }[method]
    return {"hex": _hex(gray, gray, gray), "level": round(gray)}


TOOLS = [
    hex_to_rgb,
    rgb_channels_to_hex,
    rgb_to_hsl,
    hsl_to_rgb,
    relative_luminance,
    contrast_ratio,
    mix_colors,
    adjust_color_lightness,
    color_harmony,
    grayscale_color,
]

SPECS = [
    function_spec(
        "extract_image_palette",
        "The dominant colors of an image, as hex codes with their share of the picture.",
        {
            "image_url": string("Address of the image."),
            "color_count": number("How many colors to return.", default=5, integer=True),
            "ignore_background": boolean("Leave out the color of the image's border area.", default=False),
        },
        ["image_url"],
    ),
]
