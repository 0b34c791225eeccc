"""IPICO, Ultra and RACE RESULT simulators: the wire formats of `readers.protocols` spoken
back, with the commands `readers.dialects` sends (see that module for the sources)."""

from __future__ import annotations

import re
from datetime import datetime

from readers.lines import LineSplitter
from readers.protocols.ipico import encode_ipico, lrc
from readers.protocols.raceresult import encode_raceresult
from readers.protocols.ultra import encode_ultra
from readers.simulators.base import Send, SimulatedReader
from readers.simulators.race import ChipRead


class IpicoSimulator(SimulatedReader):
    """An IPICO Lite: `aa` lines; answers 0x02 (clock) and 0x4b 01 01 (download stored reads)."""

    format = "ipico"

    def __init__(self, reads: list[ChipRead], *, speed: float = 1.0, garble_every: int = 0,
                 lead_s: float = 1.0, clock_start: datetime | None = None) -> None:
        super().__init__(reads, speed=speed, garble_every=garble_every, lead_s=lead_s,
                         clock_start=clock_start)
        self._commands = LineSplitter()

    def stored_line(self, index: int) -> bytes:
        read = self.memory[index]
        return encode_ipico(read.chip, read.time, "01")

    def garble(self, line: bytes) -> bytes:
        # One tag digit changed: the LRC no longer matches (any one-character change shows).
        flipped = b"1" if line[6:7] != b"1" else b"2"
        return line[:6] + flipped + line[7:]

    def on_command(self, data: bytes) -> list[bytes]:
        answers: list[bytes] = []
        for command in self._commands.feed(data):
            if command[:2] != "ab" or len(command) < 10:
                continue
            instruction = command[6:8]
            if instruction == "02":
                now = self.now()
                bcd = f"{now:%y%m%d}0{now.isoweekday() % 7}{now:%H%M%S}"
                body = f"000902{bcd}{now.microsecond // 10_000:02x}27"
                answers.append(f"ab{body}{lrc(body):02x}\r\n".encode())
            elif instruction == "4b":
                answers.append(_ipico_ack("4b"))
                answers.extend(self.stored_line(index) for index in range(len(self.memory)))
            else:
                answers.append(_ipico_ack(instruction))
        return answers


def _ipico_ack(instruction: str) -> bytes:
    body = f"0000{instruction}"
    return f"ab{body}{lrc(body):02x}\r\n".encode()


class UltraSimulator(SimulatedReader):
    """An Ultra: `0,` live lines with log ids, `1,` rewound ones; `r` clock, `8a,b` rewind."""

    format = "ultra"
    first_log_id = 1000
    _REWIND = re.compile(r"8(\d+),(\d*)")

    def __init__(self, reads: list[ChipRead], *, speed: float = 1.0, garble_every: int = 0,
                 lead_s: float = 1.0, clock_start: datetime | None = None) -> None:
        super().__init__(reads, speed=speed, garble_every=garble_every, lead_s=lead_s,
                         clock_start=clock_start)
        self._commands = b""

    def greeting(self) -> bytes:
        return f"Connected,LocalTime:{self.now():%H:%M:%S}\n".encode()

    def _line(self, index: int, rewind: bool) -> bytes:
        read = self.memory[index]
        return encode_ultra(read.chip, read.time, read.antenna, read.rssi, 1,
                            self.first_log_id + index, rewind)

    def live_line(self, index: int) -> bytes:
        return self._line(index, False)

    def stored_line(self, index: int) -> bytes:
        return self._line(index, True)

    def garble(self, line: bytes) -> bytes:
        fields = line.split(b",")
        fields[2] = b"17x0"
        return b",".join(fields)

    def on_command(self, data: bytes) -> list[bytes]:
        self._commands += data
        answers: list[bytes] = []
        while self._commands:
            head = self._commands[:1]
            if head in (b"R", b"S", b"?"):
                self._commands = self._commands[1:]
            elif head == b"r":
                self._commands = self._commands[1:]
                answers.append(f"{self.now():%H:%M:%S %d-%m-%Y} (1)\n".encode())
            elif head == b"8":
                line, found, rest = self._commands.partition(b"\n")
                if not found:
                    break
                self._commands = rest
                answers.extend(self._rewind(line.decode("latin-1")))
            else:
                self._commands = self._commands[1:]  # unknown byte: ignored, as a reader would
        return answers

    def _rewind(self, command: str) -> list[bytes]:
        match = self._REWIND.fullmatch(command.strip())
        if not match:
            return []
        first = int(match.group(1)) - self.first_log_id
        last = (int(match.group(2)) - self.first_log_id if match.group(2)
                else len(self.memory) - 1)
        return [self.stored_line(index)
                for index in range(max(0, first), min(last, len(self.memory) - 1) + 1)]


class RaceResultSimulator(SimulatedReader):
    """A RACE RESULT decoder with GPS time: passings numbered from 1, pushed (`#P;`) once
    `SETPUSHPASSINGS;1;…` is sent, fetched with `<first>:<count>`. `push_before_count`: each
    `PASSINGS` command first makes the next scripted passing (pushed, when push is on), then
    answers the count: the worst timing for a client that catches up after a reconnect."""

    format = "raceresult"

    def __init__(self, reads: list[ChipRead], *, speed: float = 1.0, garble_every: int = 0,
                 lead_s: float = 1.0, clock_start: datetime | None = None,
                 push_before_count: bool = False) -> None:
        super().__init__(reads, speed=speed, garble_every=garble_every, lead_s=lead_s,
                         clock_start=clock_start)
        self._commands = LineSplitter()
        self._push = False
        self.push_before_count = push_before_count

    def attach(self, send: Send) -> None:
        self._push = False  # push mode belongs to a connection
        super().attach(send)

    def _line(self, index: int, pushed: bool) -> bytes:
        read = self.memory[index]
        return encode_raceresult(index + 1, read.chip, read.time, rssi=read.rssi,
                                 antenna=read.antenna, pushed=pushed, box_name="SIM")

    def live_line(self, index: int) -> bytes | None:
        return self._line(index, True) if self._push else None

    def stored_line(self, index: int) -> bytes:
        return self._line(index, False)

    def garble(self, line: bytes) -> bytes:
        fields = line.split(b";")
        fields[4 if line.startswith(b"#P;") else 3] = b"09:6x:00.000"  # the passing's time
        return b";".join(fields)

    def on_command(self, data: bytes) -> list[bytes]:
        answers: list[bytes] = []
        for command in self._commands.feed(data):
            name = command.split(";", 1)[0]
            if name == "SETPROTOCOL":
                answers.append(b"SETPROTOCOL;2.0\r\n")
            elif name == "GETTIME":
                now = self.now()
                answers.append(f"GETTIME;{now:%Y-%m-%d};{now:%H:%M:%S}."
                               f"{now.microsecond // 1000:03d}\r\n".encode())
            elif name == "SETPUSHPASSINGS":
                self._push = command.split(";")[1:2] == ["1"]
                answers.append(b"SETPUSHPASSINGS;OK\r\n")
            elif name == "PASSINGS":
                if self.push_before_count:
                    self.make_next_read()
                answers.append(f"PASSINGS;{len(self.memory)}\r\n".encode())
            elif re.fullmatch(r"\d+:\d+", command):
                first, count = (int(part) for part in command.split(":"))
                last = min(len(self.memory), first + count - 1)
                answers.extend(self.stored_line(index - 1) for index in range(first, last + 1))
                answers.append(b"\r\n")
        return answers


SIMULATORS: dict[str, type[SimulatedReader]] = {
    "ipico": IpicoSimulator,
    "ultra": UltraSimulator,
    "raceresult": RaceResultSimulator,
}

__all__ = ["SIMULATORS", "IpicoSimulator", "RaceResultSimulator", "UltraSimulator"]
