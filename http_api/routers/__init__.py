"""The ``/api/v1`` routers: thin adapters that parse a request, call the service as the caller
and wrap the result in the envelope. ``create_app`` includes each module's ``router``."""

__all__: list[str] = []
