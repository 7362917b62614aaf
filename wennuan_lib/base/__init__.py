"""base: see docs/maintainer.md."""
