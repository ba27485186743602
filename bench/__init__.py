"""Cognate's benchmark (issue 3, "Speed"): see bench/README.md. Not run in CI."""
