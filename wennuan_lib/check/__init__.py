"""check: see docs/maintainers.md."""
