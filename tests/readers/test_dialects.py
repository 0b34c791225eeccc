"""What sessions say to each reader and what they listen for: clock replies, passing counts,
log-id gaps, the IPICO control frames, resuming after a restart."""

from __future__ import annotations

from datetime import datetime, timedelta

from readers.dialects import (
    IpicoDialect,
    RaceResultDialect,
    ReaderClock,
    UltraDialect,
    ipico_command,
    make_dialect,
)
from readers.protocols.ipico import lrc
from timing.reads import Read, undated_time

T = datetime(2026, 5, 10, 9, 0)


def read(sequence: int) -> Read:
    return Read("1001", T, sequence=sequence)


def test_race_result_fetches_what_it_has_not_seen_and_reads_its_clock() -> None:
    dialect = RaceResultDialect()
    assert dialect.on_connect(reconnect=False) == [
        b"SETPROTOCOL;2.0\r\n", b"GETTIME\r\n", b"SETPUSHPASSINGS;1;0\r\n", b"PASSINGS\r\n"]
    reply = dialect.on_line("PASSINGS;6")
    assert reply is not None and reply.send == [b"1:6\r\n"]       # first time: everything
    dialect.on_records([read(4), read(6), read(5)])
    dialect.on_connect(reconnect=True)
    assert dialect.on_line("PASSINGS;9").send == [b"7:3\r\n"]     # type: ignore[union-attr]
    dialect.on_records([read(9)])
    dialect.on_connect(reconnect=True)
    assert dialect.on_line("PASSINGS;9") is None                   # nothing new
    dialect.on_connect(reconnect=True)
    reply = dialect.on_line("PASSINGS;2")                          # fewer: a new decoder file
    assert reply is not None and reply.send == [b"1:2\r\n"]
    assert dialect.on_line("12") is not None                       # older firmware: bare count
    clock = dialect.on_line("GETTIME;2026-05-10;09:31:07.120")
    assert clock is not None and clock.clock == ReaderClock(T.replace(minute=31, second=7,
                                                                     microsecond=120_000), True)
    undated = dialect.on_line("GETTIME;0000-00-01;00:00:02.773")
    assert undated is not None and undated.clock == ReaderClock(
        undated_time(1, timedelta(seconds=2, microseconds=773_000)), False)
    assert dialect.on_line("SETPROTOCOL;2.0") is None
    assert dialect.on_line("GETTIME;2026-13-10;09:00:00.000") is None     # no month 13: ignored


def test_race_result_reads_the_count_reply_with_a_file_number() -> None:
    dialect = RaceResultDialect()
    assert dialect.on_line("PASSINGS;17;3").send == [b"1:17\r\n"]  # type: ignore[union-attr]
    dialect.on_records([read(17)])
    assert dialect.on_line("PASSINGS;20;3").send == [b"18:3\r\n"]  # type: ignore[union-attr]
    dialect.on_records([read(20)])
    # Another file number: a new decoder file, fetched whole even though it holds more.
    assert dialect.on_line("PASSINGS;25;4").send == [b"1:25\r\n"]  # type: ignore[union-attr]
    assert dialect.on_line("17;3") is None           # a file number only after PASSINGS;


def test_race_result_fetches_from_the_last_passing_seen_at_connect_despite_a_push() -> None:
    dialect = RaceResultDialect()
    dialect.on_records([read(n) for n in range(1, 101)])
    dialect.on_connect(reconnect=True)
    dialect.on_records([read(151)])               # pushed before the count reply came
    assert dialect.on_line("PASSINGS;151").send == [b"101:51\r\n"]  # type: ignore[union-attr]
    dialect.on_connect(reconnect=True)
    # A chunk's records come before its lines: #161, pushed after the reply to a count of 160,
    # is not taken for a sign of a new file.
    dialect.on_records([read(161)])
    assert dialect.on_line("PASSINGS;160").send == [b"152:9\r\n"]  # type: ignore[union-attr]


def test_race_result_resumes_from_the_journal_after_a_restart() -> None:
    dialect = RaceResultDialect()
    dialect.resume(40)
    assert dialect.on_line("PASSINGS;45").send == [b"41:5\r\n"]   # type: ignore[union-attr]


def test_ultra_rewinds_log_id_gaps_once_and_everything_after_a_reconnect() -> None:
    dialect = UltraDialect()
    assert dialect.on_connect(reconnect=False) == [b"R", b"r"]
    assert dialect.on_records([read(100), read(101)]) == []
    assert dialect.on_records([read(105)]) == [b"8102,104\n"]      # 102-104 missed
    assert dialect.on_records([read(103)]) == []                   # a rewound read: no new gap
    assert dialect.on_records([read(105), read(106)]) == []
    assert dialect.on_connect(reconnect=True) == [b"R", b"r", b"8107,\n"]
    clock = dialect.on_line("16:05:01 02-02-2017 (1)")
    assert clock is not None and clock.clock == ReaderClock(datetime(2017, 2, 2, 16, 5, 1), True)
    assert dialect.on_line("V=25.0000") is None
    resumed = UltraDialect()
    resumed.resume(5000)
    assert resumed.on_connect(reconnect=False)[-1] == b"85001,\n"


def test_ipico_asks_its_clock_and_downloads_stored_reads_after_a_reconnect() -> None:
    dialect = IpicoDialect()
    assert dialect.on_connect(reconnect=False) == [b"ab00000222\r\n"]
    assert dialect.on_connect(reconnect=True) == [b"ab00000222\r\n", b"ab00024b01011a\r\n"]
    assert lrc("00024b0101") == sum(b"00024b0101") % 256 == 0x1A
    assert ipico_command(0x02) == b"ab00000222\r\n"   # as captured (rusty-timer's notes)
    # The captured reply to 0x02: 2026-03-06 18:55:44, hundredths 0x37 = 55.
    clock = dialect.on_line("ab000902260306051855443727cf")
    assert clock is not None and clock.clock == ReaderClock(
        datetime(2026, 3, 6, 18, 55, 44, 550_000), True)
    assert dialect.on_line("ab00000121") is None      # an ACK
    assert dialect.on_line("ab000902269906051855443727cf") is None   # month 99: not a clock


def test_formats_without_commands_get_a_silent_dialect() -> None:
    for name in ("p3", "manual"):
        dialect = make_dialect(name)
        assert dialect.on_connect(reconnect=True) == []
        assert dialect.clock_query() is None and not dialect.rewinds
