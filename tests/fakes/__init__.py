"""Local fakes for tests: no test talks to anything but the project and these."""

from tests.fakes.openai_server import FakeOpenAIServer, chat_reply, scripted, tool_call

__all__ = ["FakeOpenAIServer", "chat_reply", "scripted", "tool_call"]
