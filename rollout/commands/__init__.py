"""One function per command: each takes parsed options and returns a typed result to render."""
