"""Hashes commands."""
