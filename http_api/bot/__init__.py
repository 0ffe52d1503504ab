"""VikingBot's HTTP endpoints: ``/chat``, ``/chat/stream`` (and their ``/bot/v1`` twins),
stream resume, feedback and the bot's health."""

from .routes import router

__all__ = ["router"]
