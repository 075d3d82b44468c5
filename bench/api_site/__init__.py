"""Bench-only Django site for ``bench/observation_post.py`` and ``bench/network_load.py``
(never used in production)."""
