"""LLRP readers (Impinj Speedway / R700 and others, TCP 5084), through the `sllurp` library.

sllurp (PyPI, GPL-3.0-only) is an optional extra: `pip install 'gambero[llrp]'`. Gambero itself
is Apache-2.0 and does not need it for any other format; a distribution that bundles sllurp is
bound by the GPL (see docs/readers.md). Only this module imports it.

What Gambero uses from sllurp: `LLRPMessage`, which decodes a message's bytes into a dict and
encodes the commands Gambero sends, and `LLRPROSpec`, which builds the inventory spec. The
framing (a 10-byte header: version and type in 16 bits, a 32-bit length counting the header,
a 32-bit message id), the keepalive answer and the start-up sequence are here, sans-IO.

- `LlrpParser` turns RO_ACCESS_REPORT messages into reads: `chip` = the EPC in lowercase hex,
  `time` = FirstSeenTimestampUTC (microseconds since 1970, an instant, UTC), `antenna` =
  AntennaID, `rssi` = PeakRSSI (dBm). A tag report without a UTC first-seen time is rejected
  (the ROSpec Gambero sends asks for it). A message sllurp cannot decode is rejected whole. A
  length field below 10 or above 1 MiB means the stream cannot be followed any more (LLRP has no
  start marker to find the next message by): the rest of the buffer is rejected, and the
  dialect reports the loss (`lost_stream`), so the session drops the connection and reconnects
  at once, starting clean with the start-up sequence.
- `LlrpDialect` sends, on connect: SET_READER_CONFIG (a keepalive every 10 s), DELETE_ROSPEC
  (all), ADD_ROSPEC (one ROSpec: all antennas, a report for every tag, with antenna, peak RSSI,
  first-seen time and seen count), ENABLE_ROSPEC, START_ROSPEC; it answers every KEEPALIVE with
  a KEEPALIVE_ACK, and the session reconnects when nothing arrives for 25 s (two keepalives
  missed). No rewind: a reader's report buffer is not replayed after a reconnect.

Readers report a tag many times as it crosses; the scoring rules make one passing of them.
Sources: the LLRP 1.0.1 standard (message header, RO_ACCESS_REPORT, TagReportData parameters);
sllurp 3.x `llrp.py` (the client's start-up sequence: SET_READER_CONFIG, ADD/ENABLE/START_ROSPEC,
KEEPALIVE_ACK). Tested with constructed frames, not against a reader.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sllurp.llrp import LLRPMessage  # type: ignore[import-untyped]
from sllurp.llrp_proto import LLRPROSpec  # type: ignore[import-untyped]

from readers.dialects import Dialect
from timing.reads import Read, Record, Rejected

HEADER = struct.Struct("!HII")
MAX_MESSAGE = 1 << 20
RO_ACCESS_REPORT = 61
KEEPALIVE = 62
KEEPALIVE_INTERVAL_MS = 10_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ROSPEC_ID = 1


def split_messages(buffer: bytearray) -> tuple[list[bytes], str | None]:
    """Take the complete messages off the front of `buffer`; a reason if the stream is lost."""
    messages: list[bytes] = []
    while len(buffer) >= HEADER.size:
        _, length, _ = HEADER.unpack_from(buffer)
        if not HEADER.size <= length <= MAX_MESSAGE:
            return messages, f"message length {length} is impossible: stream lost"
        if len(buffer) < length:
            break
        messages.append(bytes(buffer[:length]))
        del buffer[:length]
    return messages, None


def message_type(message: bytes) -> int:
    return int(HEADER.unpack_from(message)[0] & 0x3FF)


class LlrpParser:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._number = 0

    def feed(self, data: bytes) -> list[Record]:
        self._buffer += data
        messages, lost = split_messages(self._buffer)
        records: list[Record] = []
        for message in messages:
            self._number += 1
            if message_type(message) == RO_ACCESS_REPORT:
                records.extend(self._report(message))
        if lost is not None:
            self._number += 1
            records.append(Rejected(self._buffer[:64].hex(), lost, self._number))
            self._buffer.clear()
        return records

    def close(self) -> list[Record]:
        if not self._buffer:
            return []
        leftover, self._buffer = bytes(self._buffer), bytearray()
        return [Rejected(leftover[:64].hex(), "stream ended inside a message", self._number + 1)]

    def _report(self, message: bytes) -> list[Record]:
        try:
            decoded: dict[str, Any] = LLRPMessage(msgbytes=message).msgdict
            tags = decoded["RO_ACCESS_REPORT"].get("TagReportData", [])
        except Exception as error:  # sllurp raises several kinds on bad input
            return [Rejected(message[:64].hex(), f"undecodable RO_ACCESS_REPORT: {error}",
                             self._number)]
        return [_tag_read(tag, self._number) for tag in tags]


_EARLIEST_US = 0
_LATEST_US = (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)
              ) // timedelta(microseconds=1)
"""LLRP counts microseconds since 1970 in an unsigned 64-bit field: past year 9999 no date
can hold it (found by fuzzing: it raised OverflowError out of the parser)."""


def _tag_read(tag: dict[str, Any], number: int) -> Record:
    epc = tag.get("EPC") or tag.get("EPC-96")
    chip = epc.decode("ascii").lower() if isinstance(epc, bytes) else str(epc or "").lower()
    micros = tag.get("FirstSeenTimestampUTC")
    shown = f"epc={chip} antenna={tag.get('AntennaID')} first_seen_utc={micros}"
    if not chip:
        return Rejected(shown, "tag report without an EPC", number)
    if not isinstance(micros, int):
        return Rejected(shown, "tag report without FirstSeenTimestampUTC", number)
    if not _EARLIEST_US <= micros <= _LATEST_US:
        return Rejected(shown, "FirstSeenTimestampUTC is not a date (years 1970 to 9999)",
                        number)
    antenna = tag.get("AntennaID")
    rssi = tag.get("PeakRSSI")
    return Read(chip=chip, time=_EPOCH + timedelta(microseconds=micros),
                antenna=antenna if isinstance(antenna, int) else None,
                rssi=float(rssi) if isinstance(rssi, int | float) else None,
                line=number, raw=shown)


def encode(message: dict[str, Any]) -> bytes:
    data: bytes = LLRPMessage(msgdict=message).msgbytes
    return data


class LlrpDialect(Dialect):
    line_replies = False
    silence_limit_s = 2.5 * KEEPALIVE_INTERVAL_MS / 1000

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._lost: str | None = None

    def on_connect(self, reconnect: bool) -> list[bytes]:
        self._buffer.clear()
        self._lost = None
        rospec = LLRPROSpec(None, ROSPEC_ID, antennas=(0,), report_every_n_tags=1,
                            tag_content_selector={
                                "EnableROSpecID": False, "EnableSpecIndex": False,
                                "EnableInventoryParameterSpecID": False,
                                "EnableAntennaID": True, "EnableChannelIndex": False,
                                "EnablePeakRSSI": True, "EnableFirstSeenTimestamp": True,
                                "EnableLastSeenTimestamp": False, "EnableTagSeenCount": True,
                                "EnableAccessSpecID": False})
        return [
            encode({"SET_READER_CONFIG": {
                "ResetToFactoryDefaults": False,
                "KeepaliveSpec": {"KeepaliveTriggerType": 1,
                                  "TimeInterval": KEEPALIVE_INTERVAL_MS}}}),
            encode({"DELETE_ROSPEC": {"ROSpecID": 0}}),
            encode({"ADD_ROSPEC": {"ROSpecID": ROSPEC_ID, "ROSpec": rospec}}),
            encode({"ENABLE_ROSPEC": {"ROSpecID": ROSPEC_ID}}),
            encode({"START_ROSPEC": {"ROSpecID": ROSPEC_ID}}),
        ]

    def on_data(self, data: bytes) -> list[bytes]:
        self._buffer += data
        messages, lost = split_messages(self._buffer)
        if lost is not None:
            self._buffer.clear()
            self._lost = lost
        answers = []
        for message in messages:
            if message_type(message) == KEEPALIVE:
                message_id = HEADER.unpack_from(message)[2]
                answers.append(encode({"KEEPALIVE_ACK": {"ID": message_id}}))
        return answers

    def lost_stream(self) -> str | None:
        return self._lost

    def on_records(self, records: Sequence[Record]) -> list[bytes]:
        return []


__all__ = ["KEEPALIVE", "RO_ACCESS_REPORT", "LlrpDialect", "LlrpParser", "split_messages"]
