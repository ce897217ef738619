"""Drafting events from documents: Ofsted PDFs, monitoring letters, committee papers.

A draft is an append request plus, for every field, where it came from (page
and quoted text) and a list of what could not be found. Nothing is guessed
silently: a missing field is reported, an unknown document is refused.
"""
