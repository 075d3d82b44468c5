"""Bench-only Django site for ``bench/observation_post.py`` (never used in production)."""
