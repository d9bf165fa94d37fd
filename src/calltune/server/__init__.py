"""The OpenAI-compatible function-calling server and its web playground."""

from .app import create_app, serve

__all__ = ["create_app", "serve"]
