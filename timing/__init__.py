"""The scoring core: reads -> passings -> standings -> results (pure, no I/O libraries)."""
