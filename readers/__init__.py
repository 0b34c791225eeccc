"""Chip readers: sans-IO protocol parsers (`readers.protocols`) and, later, transports."""
