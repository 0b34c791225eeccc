"""Chip readers: sans-IO protocol parsers (`readers.protocols`), transports that carry bytes
(`readers.transports`), sessions that keep a reader connected (`readers.session`, one per reader,
held by `readers.manager`), and simulated readers (`readers.simulators`)."""
