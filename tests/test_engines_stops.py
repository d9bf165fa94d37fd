"""Stop-string matching across token boundaries and UTF-8 split across tokens."""

from __future__ import annotations

import pytest

from calltune.engines.stops import ByteTokenDecoder, SequenceDecoder, StopMatcher, Utf8Stream


def run(matcher: StopMatcher, pieces: list[str]) -> tuple[list[str], str | None]:
    out: list[str] = []
    for p in pieces:
        text, hit = matcher.feed(p)
        out.append(text)
        if hit is not None:
            return out, hit
    out.append(matcher.flush())
    return out, None


def test_stop_split_across_tokens_is_found_and_cut() -> None:
    m = StopMatcher(["<|user|>", "<|observation|>"])
    out, hit = run(m, ["Hello", " wor", "ld<|", "obs", "ervation|>", "never"])
    assert hit == "<|observation|>"
    assert "".join(out) == "Hello world"
    # the partial marker was held back, not emitted before it was decided
    assert out == ["Hello", " wor", "ld", "", ""]


def test_partial_prefix_that_does_not_complete_is_released() -> None:
    m = StopMatcher(["<|user|>"])
    assert m.feed("a <|us") == ("a ", None)
    assert m.pending == "<|us"
    assert m.feed("ed to") == ("<|used to", None)
    assert m.flush() == ""


def test_flush_releases_held_text_at_end() -> None:
    m = StopMatcher(["</s>"])
    out, hit = run(m, ["x </"])
    assert hit is None
    assert out == ["x ", "</"]


def test_first_stop_in_text_wins_and_longest_at_same_position() -> None:
    m = StopMatcher(["b", "a"])
    assert m.feed("xxbxa") == ("xx", "b")
    m2 = StopMatcher(["<|", "<|user|>"])
    assert m2.feed("hi <|user|>") == ("hi ", "<|user|>")


def test_stop_inside_one_piece_drops_the_rest() -> None:
    m = StopMatcher(["\n\n"])
    assert m.feed("line one\n\nline two") == ("line one", "\n\n")
    with pytest.raises(RuntimeError):
        m.feed("more")


def test_no_stops_passes_everything() -> None:
    m = StopMatcher([])
    assert m.feed("abc") == ("abc", None)
    assert m.flush() == ""


def test_utf8_split_across_tokens_never_emits_broken_characters() -> None:
    data = "北京é😀".encode()
    dec = Utf8Stream()
    out = [dec.feed(data[i : i + 1]) for i in range(len(data))]
    assert "".join(out) == "北京é😀"
    assert all("\ufffd" not in o for o in out)
    # each character appears only once its last byte arrived
    assert out[:3] == ["", "", "北"]
    assert dec.flush() == ""


def test_utf8_incomplete_tail_is_flushed_as_replacement() -> None:
    dec = Utf8Stream()
    assert dec.feed(b"a" + "北".encode()[:2]) == "a"
    assert dec.flush() == "\ufffd"


def test_utf8_then_stop_matcher_pipeline() -> None:
    tokens = [b"ok ", "北".encode()[:1], "北".encode()[1:] + b"<", b"|user", b"|> tail"]
    dec, m = Utf8Stream(), StopMatcher(["<|user|>"])
    out: list[str] = []
    hit = None
    for t in tokens:
        text, hit = m.feed(dec.feed(t))
        out.append(text)
        if hit:
            break
    assert hit == "<|user|>"
    assert "".join(out) == "ok 北"


def test_byte_token_decoder_joins_a_character_split_over_tokens() -> None:
    pieces = {1: b"a", 2: "北".encode()[:2], 3: "北".encode()[2:], 4: "\xe4".encode("latin-1")}
    dec = ByteTokenDecoder(pieces.__getitem__)
    assert [dec.feed(t) for t in (1, 2, 3)] == ["a", "", "北"]
    assert (dec.feed(4), dec.flush()) == ("", "\ufffd")


def test_sequence_decoder_emits_only_complete_new_text() -> None:
    # a sentencepiece-like decoder: the leading space of a word depends on the word before it
    words = {1: "Hello", 2: "world", 3: "\ufffd", 4: "!"}

    def decode(ids: list[int]) -> str:
        text = " ".join(words[i] for i in ids)
        return text.replace(" \ufffd !", "é!")  # tokens 3 + 4 are the two bytes of one character

    dec = SequenceDecoder(decode)
    assert [dec.feed(t) for t in (1, 2, 3)] == ["Hello", " world", ""]
    assert dec.feed(4) == "é!"
    assert dec.flush() == ""
    tail = SequenceDecoder(decode)
    assert (tail.feed(3), tail.flush()) == ("", "\ufffd")
