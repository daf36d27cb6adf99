"""SQL migrations (package data)."""
