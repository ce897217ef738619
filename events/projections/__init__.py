"""Projections: pure functions from an authority's events to what they mean (DESIGN §5)."""
