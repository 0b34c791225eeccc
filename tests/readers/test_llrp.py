"""LLRP through sllurp: report frames built by hand after the LLRP 1.0.1 layout, fed whole and
a byte at a time; keepalives answered; the start-up messages; a session over TCP."""

from __future__ import annotations

import asyncio
import struct
import sys
from datetime import UTC, datetime

import pytest

from readers.llrp import HEADER, LlrpDialect, LlrpParser, message_type
from readers.protocols import make_parser
from readers.session import ReaderSession, SessionSettings
from readers.transports.tcp import TcpClient
from timing.model import ReaderConfig
from timing.reads import Read, Rejected

from .live.helpers import DedupSink, eventually

FIRST_SEEN = 1778396400123456   # 2026-05-10 07:00:00.123456 UTC


def tv(parameter: int, fmt: str, value: int) -> bytes:
    return struct.pack("!B" + fmt, 0x80 | parameter, value)


def tag_report(epc: str, antenna: int, rssi: int, first_seen_us: int | None) -> bytes:
    """A TagReportData parameter (TLV 240) with TV parameters EPC-96 (13), AntennaID (1),
    PeakRSSI (6), FirstSeenTimestampUTC (2), TagSeenCount (8)."""
    body = struct.pack("!B", 0x80 | 13) + bytes.fromhex(epc) + tv(1, "H", antenna) \
        + tv(6, "b", rssi)
    if first_seen_us is not None:
        body += tv(2, "Q", first_seen_us)
    body += tv(8, "H", 4)
    return struct.pack("!HH", 240, 4 + len(body)) + body


def message(kind: int, body: bytes, message_id: int) -> bytes:
    return HEADER.pack((1 << 10) | kind, HEADER.size + len(body), message_id) + body


def report(*tags: bytes, message_id: int = 7) -> bytes:
    return message(61, b"".join(tags), message_id)


EPC_A = "300833b2ddd9014000000001"
EPC_B = "300833b2ddd90140000000ff"
STREAM = (message(63, b"", 1)                                     # a reader event: skipped
          + report(tag_report(EPC_A, 2, -55, FIRST_SEEN),
                   tag_report(EPC_B, 1, -61, FIRST_SEEN + 40_000))
          + message(62, b"", 8)                                     # keepalive
          + report(tag_report(EPC_A, 3, -70, None), message_id=9))


def test_reports_become_reads_with_utc_first_seen_times() -> None:
    records = make_parser("llrp").feed(STREAM)
    reads = [record for record in records if isinstance(record, Read)]
    assert [(r.chip, r.antenna, r.rssi, r.line) for r in reads] == \
        [(EPC_A, 2, -55.0, 2), (EPC_B, 1, -61.0, 2)]
    assert reads[0].time == datetime(2026, 5, 10, 7, 0, 0, 123456, tzinfo=UTC)
    rejected = [record for record in records if isinstance(record, Rejected)]
    assert [(r.reason, r.line) for r in rejected] == \
        [("tag report without FirstSeenTimestampUTC", 4)]


def test_feeding_a_byte_at_a_time_gives_the_same_records() -> None:
    parser = LlrpParser()
    one_by_one = [record for byte in STREAM for record in parser.feed(bytes([byte]))]
    assert one_by_one == LlrpParser().feed(STREAM)


def reason(record: Read | Rejected) -> str:
    assert isinstance(record, Rejected), record
    return record.reason


def test_an_impossible_length_or_a_cut_message_is_rejected_not_raised() -> None:
    parser = LlrpParser()
    lost = parser.feed(HEADER.pack((1 << 10) | 61, 3, 1) + b"junk")
    assert [reason(record) for record in lost] == ["message length 3 is impossible: stream lost"]
    assert parser.feed(report(tag_report(EPC_A, 1, -50, FIRST_SEEN))[:-5]) == []
    assert [reason(record) for record in parser.close()] == ["stream ended inside a message"]
    garbled = report(b"\x00\xf0\x00\x03")                      # a TLV shorter than its header
    records = LlrpParser().feed(garbled)
    assert all(isinstance(record, Rejected) for record in records)


def test_keepalives_are_acknowledged_and_the_start_up_starts_an_inventory() -> None:
    dialect = LlrpDialect()
    types = [message_type(command) for command in dialect.on_connect(reconnect=False)]
    # SET_READER_CONFIG, DELETE_ROSPEC, ADD_ROSPEC, ENABLE_ROSPEC, START_ROSPEC
    assert types == [3, 21, 20, 24, 22]
    answers = dialect.on_data(STREAM[:40]) + dialect.on_data(STREAM[40:])
    assert len(answers) == 1
    version_type, length, message_id = HEADER.unpack(answers[0])
    assert (version_type & 0x3FF, length, message_id) == (72, 10, 8)   # KEEPALIVE_ACK


async def test_a_session_over_tcp_answers_keepalives_and_stores_reads() -> None:
    received = bytearray()
    acknowledged = asyncio.Event()

    async def reader(stream_in: asyncio.StreamReader, stream_out: asyncio.StreamWriter) -> None:
        stream_out.write(STREAM)
        try:
            while data := await stream_in.read(4096):
                received.extend(data)
                if b"\x04\x48\x00\x00\x00\x0a\x00\x00\x00\x08" in received:
                    acknowledged.set()
        finally:
            stream_out.close()

    server = await asyncio.start_server(reader, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sink = DedupSink()
    session = ReaderSession(ReaderConfig("impinj", "finish", "llrp"),
                            TcpClient("127.0.0.1", port), sink,
                            settings=SessionSettings(drift_limit_ms=10**9))
    session.start()
    try:
        await asyncio.wait_for(acknowledged.wait(), 10)
        await eventually(lambda: len(sink.reads) == 2 and len(sink.rejected) == 1,
                         what="two reads and a rejection")
    finally:
        await session.stop()
        server.close()
        await server.wait_closed()
    assert message_type(bytes(received[:10])) == 3      # SET_READER_CONFIG came first
    assert session.health.reads == 2 and session.health.rejected == 1


def test_without_sllurp_a_reader_is_refused_with_a_value_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from readers.dialects import make_dialect
    from readers.manager import ReaderManager

    for name in [name for name in sys.modules if name.split(".")[0] == "sllurp"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "sllurp", None)
    monkeypatch.delitem(sys.modules, "readers.llrp", raising=False)
    with pytest.raises(ValueError, match=r"pip install 'gambero\[llrp\]'"):
        make_dialect("llrp")
    manager = ReaderManager(DedupSink())
    with pytest.raises(ValueError, match="sllurp"):   # what `readers run` reports and exits on
        manager.add(ReaderConfig("impinj", "finish", "llrp", host="10.0.0.9"))


async def test_a_lost_stream_makes_the_session_reconnect_and_start_again(
        caplog: pytest.LogCaptureFixture) -> None:
    from .live.helpers import ScriptedTransport

    transport = ScriptedTransport()
    sink = DedupSink()
    session = ReaderSession(ReaderConfig("impinj", "finish", "llrp"), transport, sink,
                            settings=SessionSettings(backoff_initial_s=0.02,
                                                     drift_limit_ms=10**9))
    session.start()
    try:
        transport.feed(report(tag_report(EPC_A, 1, -50, FIRST_SEEN)))
        await eventually(lambda: len(sink.reads) == 1, what="the first read")
        transport.feed(HEADER.pack((1 << 10) | 61, 3, 1) + b"junk")    # length 3: lost
        await eventually(lambda: transport.opens == 2, what="the reconnect")
        assert "stream lost" in caplog.text and session.health.reconnects == 1
        # The start-up sequence is sent again on the new connection.
        assert [message_type(sent) for sent in transport.sent].count(3) == 2
        transport.feed(report(tag_report(EPC_B, 1, -50, FIRST_SEEN)))
        await eventually(lambda: len(sink.reads) == 2, what="reads after the reconnect")
        assert [reason(record) for _, record in sink.rejected] == \
            ["message length 3 is impossible: stream lost"]
    finally:
        await session.stop()
