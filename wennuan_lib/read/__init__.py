"""read: see docs/maintainers.md."""
