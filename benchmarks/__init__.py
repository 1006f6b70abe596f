"""Reproducible measurements: `make bench` prints them side by side in one run."""
