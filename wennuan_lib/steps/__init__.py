"""steps: see docs/maintainers.md."""
