"""Music: tempo and note lengths, note frequencies, intervals, transposition, chords and scales.

Notes are written as a letter, an optional sharp (#) or flat (b) and, where a pitch is meant, an
octave number (scientific pitch notation, A4 = the A above middle C).
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from typing import Literal

from ....tools import tool
from ._checks import not_empty, positive

DOMAIN = "music"

_SHARPS = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
_FLATS = ["C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"]
_NOTE_RE = re.compile(r"^([A-Ga-g])([#b]?)(-?\d)?$")
_INTERVALS = [
    "unison", "minor second", "major second", "minor third", "major third", "perfect fourth", "tritone",
    "perfect fifth", "minor sixth", "major sixth", "minor seventh", "major seventh", "octave",
]  # fmt: skip
_CHORDS = {
    "major": [0, 4, 7], "minor": [0, 3, 7], "diminished": [0, 3, 6], "augmented": [0, 4, 8],
    "dominant7": [0, 4, 7, 10], "major7": [0, 4, 7, 11], "minor7": [0, 3, 7, 10], "sus2": [0, 2, 7], "sus4": [0, 5, 7],
}  # fmt: skip
_SCALES = {
    "major": [0, 2, 4, 5, 7, 9, 11], "natural_minor": [0, 2, 3, 5, 7, 8, 10], "harmonic_minor": [0, 2, 3, 5, 7, 8, 11],
    "dorian": [0, 2, 3, 5, 7, 9, 10], "mixolydian": [0, 2, 4, 5, 7, 9, 10], "major_pentatonic": [0, 2, 4, 7, 9],
    "minor_pentatonic": [0, 3, 5, 7, 10], "blues": [0, 3, 5, 6, 7, 10],
}  # fmt: skip
_BEATS = {"whole": 4.0, "half": 2.0, "quarter": 1.0, "eighth": 0.5, "sixteenth": 0.25}


def _parse(note: str, need_octave: bool) -> tuple[int, int | None]:
    """(pitch class 0-11, octave or None) of a note name."""
    m = _NOTE_RE.match(note.strip())
    if not m:
        raise ValueError(f"not a note name: {note!r}")
    letter, accidental, octave = m.group(1).upper(), m.group(2), m.group(3)
    if need_octave and octave is None:
        raise ValueError(f"note {note!r} needs an octave number")
    pc = _SHARPS.index(letter) + {"#": 1, "b": -1, "": 0}[accidental]
    return pc % 12, (int(octave) if octave is not None else None)


def _midi(note: str) -> int:
    pc, octave = _parse(note, need_octave=True)
    return 12 * (octave + 1) + pc  # type: ignore[operator]


def _name(pc: int, flats: bool) -> str:
    return (_FLATS if flats else _SHARPS)[pc % 12]


@tool
def beat_duration_ms(
    bpm: float,
    note_value: Literal["whole", "half", "quarter", "eighth", "sixteenth"] = "quarter",
    dotted: bool = False,
) -> dict:
    """Length in milliseconds of a note value at a tempo (the beat is a quarter note).

    Args:
        bpm: Tempo in beats per minute.
        note_value: The note value to measure.
        dotted: Whether the note is dotted (one and a half times as long).
    """
    positive(bpm=bpm)
    beats = _BEATS[note_value] * (1.5 if dotted else 1)
    return {"milliseconds": round(60000 / bpm * beats, 2)}


@tool
def tempo_from_tap_times(tap_times_seconds: list[float]) -> dict:
    """Tempo in BPM from the times at which someone tapped along with the beat.

    Args:
        tap_times_seconds: Times of the taps in seconds, in order; at least two.
    """
    if len(tap_times_seconds) < 2:
        raise ValueError("give at least two tap times")
    gaps = [b - a for a, b in itertools.pairwise(tap_times_seconds)]
    if any(g <= 0 for g in gaps):
        raise ValueError("tap times must increase")
    return {"bpm": round(60 / statistics.fmean(gaps), 1), "taps": len(tap_times_seconds)}


@tool
def song_length_from_bars(bars: int, bpm: float, beats_per_bar: int = 4) -> dict:
    """Playing time of a number of bars at a tempo and time signature.

    Args:
        bars: Number of bars (measures).
        bpm: Tempo in beats per minute.
        beats_per_bar: Beats in each bar (the time signature's upper number).
    """
    positive(bars=bars, bpm=bpm, beats_per_bar=beats_per_bar)
    seconds = bars * beats_per_bar * 60 / bpm
    return {"seconds": round(seconds, 1), "formatted": f"{int(seconds // 60)}:{int(round(seconds % 60)):02d}"}


@tool
def note_frequency_hz(note: str, a4_hz: float = 440.0) -> dict:
    """Frequency of a pitch in equal temperament.

    Args:
        note: The pitch with its octave.
        a4_hz: Tuning reference: the frequency of A4.
    """
    positive(a4_hz=a4_hz)
    midi = _midi(note)
    return {"frequency_hz": round(a4_hz * 2 ** ((midi - 69) / 12), 2), "midi_number": midi}


@tool
def nearest_note_for_frequency(frequency_hz: float, a4_hz: float = 440.0) -> dict:
    """The equal-tempered note closest to a frequency and how many cents it is off.

    Args:
        frequency_hz: The measured frequency in hertz.
        a4_hz: Tuning reference: the frequency of A4.
    """
    positive(frequency_hz=frequency_hz, a4_hz=a4_hz)
    exact = 69 + 12 * math.log2(frequency_hz / a4_hz)
    midi = round(exact)
    return {
        "note": f"{_name(midi, False)}{midi // 12 - 1}",
        "cents_off": round(100 * (exact - midi), 1),
        "midi_number": midi,
    }


@tool
def interval_between_notes(lower_note: str, upper_note: str) -> dict:
    """Semitones and interval name between two pitches.

    Args:
        lower_note: The lower pitch, with octave.
        upper_note: The upper pitch, with octave.
    """
    semis = _midi(upper_note) - _midi(lower_note)
    if semis < 0:
        raise ValueError("upper_note is lower than lower_note")
    octaves, rest = divmod(semis, 12)
    if semis <= 12:
        name = _INTERVALS[semis]
    elif rest == 0:
        name = f"{octaves} octaves"
    else:
        name = f"{_INTERVALS[rest]} plus {octaves} octave{'s' if octaves > 1 else ''}"
    return {"semitones": semis, "interval": name}


@tool
def transpose_note(note: str, semitones: int, prefer_flats: bool = False) -> str:
    """Move a note up or down by a number of semitones.

    Args:
        note: The note, with or without an octave.
        semitones: Semitones to move; negative moves down.
        prefer_flats: Spell black keys with flats instead of sharps.
    """
    pc, octave = _parse(note, need_octave=False)
    if octave is None:
        return _name(pc + semitones, prefer_flats)
    midi = 12 * (octave + 1) + pc + semitones
    if not 0 <= midi <= 127:
        raise ValueError("the transposed note is outside the MIDI range")
    return f"{_name(midi, prefer_flats)}{midi // 12 - 1}"


def _spell(root: str, steps: list[int]) -> list[str]:
    pc, _ = _parse(root, need_octave=False)
    flats = "b" in root or root.strip().upper() == "F"
    return [_name(pc + s, flats) for s in steps]


@tool
def spell_chord(
    root: str,
    quality: Literal[
        "major", "minor", "diminished", "augmented", "dominant7", "major7", "minor7", "sus2", "sus4"
    ] = "major",
) -> dict:
    """The notes of a chord built on a root (enharmonic spelling: sharps, or flats for flat roots).

    Args:
        root: The chord's root note, without octave.
        quality: Chord quality.
    """
    return {"chord": f"{root} {quality}", "notes": _spell(root, _CHORDS[quality])}


@tool
def scale_notes(
    tonic: str,
    mode: Literal[
        "major",
        "natural_minor",
        "harmonic_minor",
        "dorian",
        "mixolydian",
        "major_pentatonic",
        "minor_pentatonic",
        "blues",
    ] = "major",
) -> dict:
    """The notes of a scale from its tonic (enharmonic spelling: sharps, or flats for flat tonics).

    Args:
        tonic: The scale's first note, without octave.
        mode: Scale or mode.
    """
    not_empty(tonic=tonic)
    return {"scale": f"{tonic} {mode}", "notes": _spell(tonic, _SCALES[mode])}


TOOLS = [
    beat_duration_ms,
    tempo_from_tap_times,
    song_length_from_bars,
    note_frequency_hz,
    nearest_note_for_frequency,
    interval_between_notes,
    transpose_note,
    spell_chord,
    scale_notes,
]
