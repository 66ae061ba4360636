"""The Dash dashboard: explore a cascade step by step, compare runs, teach with it."""

from dashboard.app import create_app, serve

__all__ = ["create_app", "serve"]
