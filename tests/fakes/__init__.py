"""Local fakes for tests: no test talks to anything but the project and these."""

from .openai_server import FakeOpenAIServer

__all__ = ["FakeOpenAIServer"]
