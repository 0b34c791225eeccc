"""What a session says to each kind of reader, and what it listens for besides reads.

A dialect is sans-IO, like the parsers: it returns the bytes to send (start-up commands, a clock
query, a rewind request) and reads the lines that are replies (a clock, a passing count). The
session writes what it returns. Every rewind relies on the core's replay de-duplication: asking
for too much is harmless, asking for too little loses reads, so each dialect errs on "too much".

- RACE RESULT (TCP 3601): `SETPROTOCOL;2.0`, `GETTIME`, push mode on (`SETPUSHPASSINGS;1;0`),
  then `PASSINGS` for the count and a fetch `<first>:<count>` of every passing after the last
  passing number seen when the connection opened (a passing pushed before the count reply does
  not move that start on; all of them on the first connection: a decoder file belongs to one event;
  a count below the last number seen, or a file number other than the last one in a
  `PASSINGS;<count>;<file>` reply, means a new file, fetched from 1). Push is switched on
  before the fetch, so nothing falls between the two. Sources: raceresult.com knowledge base
  article 19; ndf-zz/metarace `decoder/rrs.py`.
- Ultra (TCP 23): `R` starts reading, `r` asks for the clock (reply `HH:MM:SS DD-MM-YYYY (n)`).
  Log ids number the reads: a gap (a log id more than one past the last one seen) asks for the
  missing range again, and every reconnect asks for everything after the last log id seen (on
  the first connection after a restart of Gambero, the last log id in the journal). With
  nothing of the reader in the journal, the first connection is not rewound: log ids run on
  across events, so "from the first record" would bring earlier events' reads (docs/readers.md).
  The bytes of the rewind-by-log-id command differ between public clients (PROTOCOLS.md);
  Gambero sends `8<first>,<last>` + LF (`8<first>,` for "to the end"). This has been checked
  against the simulator only, not against a reader: see docs/readers.md.
- IPICO (serial 9600 8N1, TCP 10000): `ab00000222` asks for the date and time (reply
  `ab RR 09 02 YY MM DD WD HH MM SS cc cfg LL`, BCD but the hundredths in hex); after a
  reconnect `ab00024b0101..` starts the download of the stored reads, which come back as
  ordinary `aa` lines. Sources: iwismer/rusty-timer `docs/ipico-protocol/ipico-control-protocol.md`
  (commands 0x02 and 0x4b, from captures).
- P3, manual, LLRP: nothing to send; no rewind.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from readers.protocols import UnknownFormat
from readers.protocols.ipico import lrc
from timing.reads import Read, Record, undated_time


@dataclass(frozen=True, slots=True)
class ReaderClock:
    """The reader's clock as a reply gave it: a local wall-clock time, or a time of day on the
    decoder's day N (undated)."""

    time: datetime
    dated: bool


@dataclass
class Reply:
    """What a line from the reader asks of the session."""

    send: list[bytes]
    clock: ReaderClock | None = None


class Dialect:
    """A reader that needs nothing sent and answers nothing (P3, manual, LLRP)."""

    rewinds = False
    line_replies = True
    """Replies come as text lines (fed to `on_line`); binary protocols use `on_data`."""
    silence_limit_s: float | None = None
    """Reconnect when the reader sends nothing for this long (None: a silent reader is fine)."""

    def on_connect(self, reconnect: bool) -> list[bytes]:
        return []

    def resume(self, last_sequence: int) -> None:
        """The journal already holds this reader's records up to `last_sequence` (a restart of
        Gambero): rewind from there on the first connection."""

    def clock_query(self) -> bytes | None:
        return None

    def on_line(self, text: str) -> Reply | None:
        return None

    def on_data(self, data: bytes) -> list[bytes]:
        """Bytes as received, for binary protocols' replies (LLRP keepalives)."""
        return []

    def lost_stream(self) -> str | None:
        """Why the stream cannot be followed any more (checked after `on_data`): the session
        then drops the connection and reconnects, to start clean. None: all is well."""
        return None

    def on_records(self, records: Sequence[Record]) -> list[bytes]:
        return []


class RaceResultDialect(Dialect):
    rewinds = True
    _GETTIME = re.compile(r"GETTIME;(\d{4}-\d{2}-\d{2});(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?")
    _PASSINGS = re.compile(r"PASSINGS;(\d+)(?:;(\d+))?|(\d+)")
    """`PASSINGS;17`, `PASSINGS;17;3` (3: the decoder's file number), or a bare `17` (older
    firmware)."""

    def __init__(self) -> None:
        self.last_passing = 0
        self.file_number: int | None = None
        self._fetch_from = 1
        """The first passing the next count reply fetches: one past the last seen when the
        connection opened. Passings pushed before the count reply raise `last_passing` but not
        this, so the ones made while the link was down are still fetched."""

    def resume(self, last_sequence: int) -> None:
        self.last_passing = max(self.last_passing, last_sequence)
        self._fetch_from = max(self._fetch_from, self.last_passing + 1)

    def on_connect(self, reconnect: bool) -> list[bytes]:
        self._fetch_from = self.last_passing + 1
        return [b"SETPROTOCOL;2.0\r\n", b"GETTIME\r\n", b"SETPUSHPASSINGS;1;0\r\n",
                b"PASSINGS\r\n"]

    def clock_query(self) -> bytes:
        return b"GETTIME\r\n"

    def on_line(self, text: str) -> Reply | None:
        line = text.strip()
        clock = self._GETTIME.fullmatch(line)
        if clock:
            reader_clock = _raceresult_clock(clock)
            return None if reader_clock is None else Reply([], reader_clock)
        count = self._PASSINGS.fullmatch(line)
        if count:
            total = int(count.group(1) or count.group(3))
            file_number = int(count.group(2)) if count.group(2) else None
            new_file = file_number is not None and self.file_number not in (None, file_number)
            if file_number is not None:
                self.file_number = file_number
            # Fewer than were seen before this connection: a new file. (Not compared with
            # passings pushed since: a chunk's records reach on_records before its lines do.)
            if total < self._fetch_from - 1 or new_file:
                self.last_passing = 0  # a new decoder file
                self._fetch_from = 1
            if total >= self._fetch_from:
                first, self._fetch_from = self._fetch_from, total + 1
                return Reply([f"{first}:{total - first + 1}\r\n".encode()])
        return None

    def on_records(self, records: Sequence[Record]) -> list[bytes]:
        for record in records:
            if isinstance(record, Read) and record.sequence is not None:
                self.last_passing = max(self.last_passing, record.sequence)
        return []


def _raceresult_clock(match: re.Match[str]) -> ReaderClock | None:
    """The clock a GETTIME reply gives; None for an impossible one (`2026-13-10`)."""
    day, hours, minutes, seconds, fraction = match.groups()
    time_of_day = timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds),
                            microseconds=int((fraction or "0").ljust(6, "0")))
    try:
        if day.startswith("0000-00-"):
            return ReaderClock(undated_time(int(day[-2:]), time_of_day), dated=False)
        return ReaderClock(datetime.fromisoformat(day) + time_of_day, dated=True)
    except (ValueError, OverflowError):
        return None


class UltraDialect(Dialect):
    rewinds = True
    _CLOCK = re.compile(r"(\d{1,2}):(\d{1,2}):(\d{1,2}) (\d{1,2})-(\d{1,2})-(\d{4}).*")

    def __init__(self) -> None:
        self.last_log: int | None = None
        self._asked: set[tuple[int, int]] = set()

    def resume(self, last_sequence: int) -> None:
        self.last_log = max(self.last_log or 0, last_sequence)

    def on_connect(self, reconnect: bool) -> list[bytes]:
        commands = [b"R", b"r"]
        if self.last_log is not None:
            commands.append(ultra_rewind(self.last_log + 1, None))
        return commands

    def clock_query(self) -> bytes:
        return b"r"

    def on_line(self, text: str) -> Reply | None:
        match = self._CLOCK.fullmatch(text.strip())
        if not match:
            return None
        hours, minutes, seconds, day, month, year = (int(part) for part in match.groups())
        try:
            moment = datetime(year, month, day, hours, minutes, seconds)
        except ValueError:
            return None
        return Reply([], ReaderClock(moment, dated=True))

    def on_records(self, records: Sequence[Record]) -> list[bytes]:
        send: list[bytes] = []
        for record in records:
            if not isinstance(record, Read) or record.sequence is None:
                continue
            log = record.sequence
            if self.last_log is not None and log > self.last_log + 1:
                gap = (self.last_log + 1, log - 1)
                if gap not in self._asked:
                    self._asked.add(gap)
                    send.append(ultra_rewind(*gap))
            if self.last_log is None or log > self.last_log:
                self.last_log = log
        return send


def ultra_rewind(first: int, last: int | None) -> bytes:
    """Ask an Ultra for its stored reads with log ids `first`..`last` (None: to the end)."""
    return f"8{first},{'' if last is None else last}\n".encode()


class IpicoDialect(Dialect):
    rewinds = True
    _CLOCK = re.compile(r"ab[0-9a-f]{2}0902([0-9a-f]{18})[0-9a-f]{2}", re.IGNORECASE)

    def on_connect(self, reconnect: bool) -> list[bytes]:
        commands = [ipico_command(0x02)]
        if reconnect:
            commands.append(ipico_command(0x4B, bytes([0x01, 0x01])))
        return commands

    def clock_query(self) -> bytes:
        return ipico_command(0x02)

    def on_line(self, text: str) -> Reply | None:
        match = self._CLOCK.fullmatch(text.strip())
        if not match:
            return None
        data = bytes.fromhex(match.group(1))
        try:
            digits = [int(f"{byte:02x}") for byte in data[:7]]  # BCD
            year, month, day, _weekday, hours, minutes, seconds = digits
            moment = datetime(2000 + year, month, day, hours, minutes, seconds,
                              data[7] * 10_000)
        except ValueError:
            return None
        return Reply([], ReaderClock(moment, dated=True))


def ipico_command(instruction: int, data: bytes = b"", reader: int = 0) -> bytes:
    """A control frame `ab RR LL II data LRC` + CRLF (reader 00 = broadcast)."""
    body = f"{reader:02x}{len(data):02x}{instruction:02x}{data.hex()}"
    return f"ab{body}{lrc(body):02x}\r\n".encode("ascii")


DIALECTS: dict[str, type[Dialect]] = {
    "raceresult": RaceResultDialect,
    "ultra": UltraDialect,
    "ipico": IpicoDialect,
}


def make_dialect(reader_format: str) -> Dialect:
    """The dialect of `reader_format`. UnknownFormat (a ValueError) when its optional extra is
    not installed, as `make_parser` says."""
    if reader_format == "llrp":
        try:
            from readers.llrp import LlrpDialect  # sllurp: an optional extra
        except ImportError as error:
            raise UnknownFormat(f"format 'llrp' needs {error.name or 'sllurp'}: "
                                f"pip install 'gambero[llrp]'") from error
        return LlrpDialect()
    return DIALECTS.get(reader_format, Dialect)()


__all__ = ["Dialect", "IpicoDialect", "RaceResultDialect", "ReaderClock", "Reply",
           "UltraDialect", "ipico_command", "make_dialect", "ultra_rewind"]
