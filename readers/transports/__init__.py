"""Transports that carry bytes between a reader and its session: serial (pyserial), TCP client
and server, file replay; simulators bring their own (`readers.simulators.links`). Every failure
of a link is `LinkDown`."""

from readers.transports.base import LinkDown, Transport, TransportKind

__all__ = ["LinkDown", "Transport", "TransportKind"]
