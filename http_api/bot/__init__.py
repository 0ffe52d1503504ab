"""VikingBot's HTTP endpoints: ``/chat``, ``/chat/stream`` (and their ``/bot/v1`` twins),
stream resume, feedback and the bot's health."""

from http_api.bot.routes import router

__all__ = ["router"]
