"""Benchmarks for studybot (run each script directly: `.venv/bin/python bench/<name>.py`)."""
