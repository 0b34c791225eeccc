"""Transports that carry bytes between a reader and the parsers (serial, TCP, file replay,
simulators): issue 4."""
