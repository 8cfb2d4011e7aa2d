"""Autologging: patch a library's training entry points so runs record themselves."""
