"""Deterministic demo data for `manage.py seed_demo`: a Chinese cosmetics chain, its guides and customers."""
