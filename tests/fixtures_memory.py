"""Fixtures for the trained memory."""
