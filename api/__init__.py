"""Composition roots: the HTTP app (create_app) and the `undertow` CLI."""
