"""Keys commands."""
