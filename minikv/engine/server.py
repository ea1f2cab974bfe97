"""Server commands."""
