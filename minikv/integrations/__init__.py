"""Framework integrations: web middleware for the patterns, socket.io managers."""
