"""A threaded HTTP server for test fakes that does not print a traceback when a client goes
away mid-request (a killed server process, a cancelled stream): that is not an error of the
fake."""

from __future__ import annotations

import http.server
import sys
from typing import Any

__all__ = ["QuietHTTPServer"]


class QuietHTTPServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)
