"""run: see docs/maintainers.md."""
