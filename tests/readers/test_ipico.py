"""IPICO `aa` line parser: the real capture, a mixed fixture, chunking and encoder round trips."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readers.protocols import make_parser
from readers.protocols.ipico import IpicoParser, encode_ipico, lrc, parse_line
from timing.reads import Read, Rejected

from .streams import FIXTURES, bytewise, capture_path, parse_chunks, parse_whole, split_at

MIXED = (FIXTURES / "ipico-mixed.txt").read_bytes()
VENDOR_EXAMPLE = "aa400000000123450a2a01123018455927a7"
HEX = "0123456789abcdef"


def capture() -> bytes:
    return capture_path("ipico-lite-testreads.txt").read_bytes()


def test_registry_builds_an_ipico_parser() -> None:
    assert isinstance(make_parser("ipico"), IpicoParser)


def test_vendor_example() -> None:
    assert parse_line(VENDOR_EXAMPLE, 7) == Read(
        chip="000000012345", time=datetime(2001, 12, 30, 18, 45, 59, 390_000), dated=True,
        reader="40", line=7, raw=VENDOR_EXAMPLE)


def test_capture_parses_without_a_rejection() -> None:
    records = parse_whole(IpicoParser(), capture())
    assert len(records) == 4116
    assert [record for record in records if isinstance(record, Rejected)] == []
    reads = [record for record in records if isinstance(record, Read)]
    assert Counter(read.chip for read in reads) == {
        "058000120e38": 1019, "058000121838": 1039, "058000123b32": 1019, "058000128608": 1039}
    assert {read.reader for read in reads} == {"00"}
    assert all(read.dated and read.antenna is None and read.sequence is None for read in reads)
    assert sum(1 for read in reads if any(c in "abcdef" for c in read.raw[32:34])) == 1463


def test_capture_hand_checked_lines() -> None:
    reads = [record for record in parse_whole(IpicoParser(), capture())
             if isinstance(record, Read)]
    # Line 1: hundredths 0x32 = 50 -> .50 s (read as decimal it would wrongly be .32).
    assert reads[0] == Read(chip="058000123b32", time=datetime(2026, 3, 7, 13, 48, 50, 500_000),
                            reader="00", line=1, raw="aa00058000123b3200012603071348503277")
    # Line 3: hundredths 0x5f = 95 -> .95 s; a decimal reading would fail outright.
    assert reads[2].chip == "058000128608"
    assert reads[2].time == datetime(2026, 3, 7, 13, 48, 51, 950_000)
    assert reads[2].line == 3
    # Last line: 13:50:28 and 0x3f = 63 hundredths.
    assert reads[-1].time == datetime(2026, 3, 7, 13, 50, 28, 630_000)
    assert reads[-1].line == 4116


def test_capture_fed_byte_by_byte_gives_the_same_records() -> None:
    data = capture()
    assert parse_chunks(IpicoParser(), bytewise(data)) == parse_whole(IpicoParser(), data)


def test_mixed_fixture_exact_records() -> None:
    records = parse_whole(IpicoParser(), MIXED)
    summary = [(r.line, r.reason if isinstance(r, Rejected) else r.chip) for r in records]
    assert summary == [
        (5, "000000012345"),                      # CRLF
        (6, "058000128608"),                      # LF only
        (7, "058000123b32"),                      # CR only
        (9, "bad LRC a8 (computed a7)"),
        (10, "bad length 35 (expected 36, or 42 with TTO)"),
        (11, "non-hex characters 'g'"),
        (12, "impossible date/time 011330 184559"),
        (13, "hundredths 64 (= 100) out of range"),
        (14, "date/time 01123a184559 is not decimal"),
        (15, "058000128608"),                     # TTO variant, 42 characters
        (16, "000000012345"),                     # FS export suffix
        (17, "not an IPICO record"),
        (18, "line is not valid text (binary noise?)"),
        (19, "line longer than 4096 bytes"),
        (20, "058000121838"),                     # no final line ending: flushed by close()
    ]
    # Banner (line 2), blank lines and control frames (4, 8) are skipped, not rejected.
    tto = records[9]
    assert isinstance(tto, Read)
    assert tto.time == datetime(2026, 3, 7, 13, 48, 51, 950_000)
    assert tto.raw == "aa0005800012860800012603071348515f120080b5"
    assert records[12] == Rejected(raw="\\xff\\xfe\\x80\\x00noise",
                                   reason="line is not valid text (binary noise?)", line=18)


def test_tto_checksum_covers_the_tto_bytes() -> None:
    body = "0005800012860800012603071348515f120080"
    assert isinstance(parse_line(f"aa{body}{lrc(body):02x}"), Read)
    plain_lrc = lrc(body[:32])  # an LRC over characters 2..33 only is wrong for TTO lines
    assert parse_line(f"aa{body}{plain_lrc:02x}") == Rejected(
        raw=f"aa{body}{plain_lrc:02x}", reason=f"bad LRC {plain_lrc:02x} (computed b5)")


def test_export_suffixes() -> None:
    for suffix in ("FS", "LS", " LS"):
        read = parse_line(VENDOR_EXAMPLE + suffix)
        assert isinstance(read, Read) and read.chip == "000000012345"
    assert parse_line(VENDOR_EXAMPLE + "ZZ") == Rejected(
        raw=VENDOR_EXAMPLE + "ZZ", reason="bad length 38 (expected 36, or 42 with TTO)")


def test_control_frames_and_banner_are_skipped() -> None:
    stream = (b"ab00000222\r\nac0000372a\r\n\r\n"
              b"ARM9 Controller for DF Dual DSP TTO Actel FPGA (STK Lite) v1.4\r\n"
              b"date.Wed Nov 12 15:30:30 CST 2008\n")
    assert parse_whole(IpicoParser(), stream) == []


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mixed_fixture_any_chunking_gives_the_same_records(data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(MIXED)), max_size=60))
    chunks = split_at(MIXED, set(cuts))
    assert parse_chunks(IpicoParser(), chunks) == parse_whole(IpicoParser(), MIXED)


def test_mixed_fixture_byte_by_byte() -> None:
    chunks = split_at(MIXED, range(len(MIXED)))
    assert parse_chunks(IpicoParser(), chunks) == parse_whole(IpicoParser(), MIXED)


NOISY_PIECES = st.one_of(
    st.binary(max_size=60),
    st.sampled_from(MIXED.splitlines(keepends=True)),
    st.sampled_from([b"\r", b"\n", b"\r\n", b"aa", b"ab"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(NOISY_PIECES, max_size=30), st.data())
def test_noise_never_raises_and_chunking_does_not_matter(pieces: list[bytes],
                                                         data: st.DataObject) -> None:
    stream = b"".join(pieces)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
    records = parse_whole(IpicoParser(), stream)
    assert parse_chunks(IpicoParser(), split_at(stream, set(cuts))) == records
    assert all(record.reason for record in records if isinstance(record, Rejected))
    assert [record.line for record in records] == sorted(record.line for record in records)


@given(
    chip=st.text(alphabet=HEX + "ABCDEF", min_size=12, max_size=12),
    time=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59)),
    reader_id=st.text(alphabet=HEX, min_size=2, max_size=2),
    counters=st.text(alphabet=HEX, min_size=4, max_size=4),
)
def test_encode_parse_round_trip(chip: str, time: datetime, reader_id: str,
                                 counters: str) -> None:
    encoded = encode_ipico(chip, time, reader_id, counters)
    assert len(encoded) == 38 and encoded.endswith(b"\r\n")
    (read,) = parse_whole(IpicoParser(), encoded)
    assert read == Read(chip=chip.lower(), time=time.replace(microsecond=time.microsecond
                                                             // 10_000 * 10_000),
                        reader=reader_id, line=1, raw=encoded.decode().strip())


def test_encode_matches_the_vendor_example() -> None:
    time = datetime(2001, 12, 30, 18, 45, 59, 399_999)
    assert encode_ipico("000000012345", time, "40", "0a2a") == VENDOR_EXAMPLE.encode() + b"\r\n"


@pytest.mark.parametrize(("chip", "time", "reader_id"), [
    ("12345", datetime(2025, 1, 1), "00"),
    ("00000001234g", datetime(2025, 1, 1), "00"),
    ("000000012345", datetime(1999, 12, 31), "00"),
    ("000000012345", datetime(2025, 1, 1), "0"),
])
def test_encode_refuses_what_it_cannot_write(chip: str, time: datetime, reader_id: str) -> None:
    with pytest.raises(ValueError):
        encode_ipico(chip, time, reader_id)
