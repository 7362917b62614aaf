"""publish: see docs/maintainers.md."""
