"""Serial readers (RS-232, or a USB-serial adapter) through pyserial.

pyserial opens and configures the port (baud, parity, 8 data bits, 1 stop bit, no flow
control); the bytes are then read without a thread: the event loop watches the port's file
descriptor and a read takes what has arrived. When the cable is pulled the device node goes
away (or a read fails with EIO): that is `LinkDown`, and the session reopens **the same path**
until the device is back. Naming the port by a stable path such as
`/dev/serial/by-id/usb-FTDI_…` keeps that path the same when the adapter comes back.

Vendor defaults, used when event.toml gives no `baud`: IPICO 9600 8N1, no flow control
(IPICO Reader Serial Protocol 1.00). For the other formats no vendor default is documented in
the sources Gambero relies on: 9600 8N1 is used, and `baud` should be set from the reader's
own settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

import serial

from readers.transports.base import READ_SIZE, LinkDown, TransportKind

DEFAULT_BAUD = 9600
VENDOR_SERIAL: dict[str, tuple[int, str]] = {
    "ipico": (9600, serial.PARITY_NONE),
}
"""format -> (baud, parity) from the vendor's documents."""


def serial_defaults(reader_format: str) -> tuple[int, str]:
    return VENDOR_SERIAL.get(reader_format, (DEFAULT_BAUD, serial.PARITY_NONE))


class SerialPort:
    kind: TransportKind = "serial"

    def __init__(self, port: str, baud: int = DEFAULT_BAUD,
                 parity: str = serial.PARITY_NONE) -> None:
        self.port, self.baud, self.parity = port, baud, parity
        self._serial: serial.Serial | None = None

    @property
    def address(self) -> str:
        return f"{self.port} {self.baud} 8{self.parity}1"

    async def open(self) -> None:
        if not os.path.exists(self.port):
            raise LinkDown(f"{self.port}: no such device (unplugged?)")
        try:
            # Opening a USB adapter can take a moment: not on the event loop's thread.
            self._serial = await asyncio.to_thread(
                serial.Serial, self.port, self.baud, parity=self.parity,
                bytesize=serial.EIGHTBITS, stopbits=serial.STOPBITS_ONE, timeout=0,
                write_timeout=2, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as error:
            raise LinkDown(f"cannot open {self.port}: {error}") from error

    async def read(self) -> bytes:
        port = self._serial
        if port is None:
            raise LinkDown("not open")
        descriptor = port.fileno()
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(descriptor, wake)
        try:
            await ready
        finally:
            loop.remove_reader(descriptor)
        try:
            data = os.read(descriptor, READ_SIZE)
        except OSError as error:  # EIO: the device went away under us
            raise LinkDown(f"{self.port}: {error.strerror or error}") from error
        if not data:
            raise LinkDown(f"{self.port}: the device closed")
        return data

    async def write(self, data: bytes) -> None:
        port = self._serial
        if port is None:
            raise LinkDown("not open")
        try:
            await asyncio.to_thread(port.write, data)
        except (serial.SerialException, OSError) as error:
            raise LinkDown(f"{self.port}: cannot send: {error}") from error

    async def close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()


__all__ = ["DEFAULT_BAUD", "VENDOR_SERIAL", "SerialPort", "serial_defaults"]
