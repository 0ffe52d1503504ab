"""State and helpers shared by the service's operation groups.

``ContextService`` is assembled from mixins (filesystem, admin, ...) that all build on
:class:`ServiceCore`: URI resolution with access checks, URI → storage-key mapping, translation
of storage errors into typed errors that name the URI, and the preset layout.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from ..access import check_access
from ..accounts import AccountStore
from ..config import OpenVikingConfig
from ..errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    NotInitializedError,
    PermissionDeniedError,
)
from ..identity import RequestContext
from ..presets import PresetDir, account_presets, user_presets
from ..storage import ContentStore, MetadataDB, PathLocks
from ..storage.sidecar import ABSTRACT_FILE, OVERVIEW_FILE, render_sidecar
from ..uri import VikingURI, resolve_uri

__all__ = ["ServiceCore", "iso_time"]


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


class ServiceCore:
    config: OpenVikingConfig
    store: ContentStore
    db: MetadataDB
    accounts: AccountStore
    locks: PathLocks
    _opened: bool

    # -- guards and mapping ----------------------------------------------------------------

    def _require_open(self) -> None:
        if not self._opened:
            raise NotInitializedError()

    def _resolve(
        self, ctx: RequestContext, raw: str | VikingURI, *, field: str = "uri", mutate: bool = False
    ) -> VikingURI:
        """Resolve a caller's URI and check that the caller may read (or change) it."""
        self._require_open()
        uri = resolve_uri(raw, ctx, field=field)
        check_access(ctx, uri, mutate=mutate)
        return uri

    @staticmethod
    def _key(ctx: RequestContext, uri: VikingURI) -> str:
        return "/".join((ctx.account_id, *uri.parts))

    @staticmethod
    def _lock_path(ctx: RequestContext, uri: VikingURI) -> tuple[str, ...]:
        return (ctx.account_id, *uri.parts)

    @staticmethod
    @contextmanager
    def _fs_errors(uri: VikingURI, kind: str = "file") -> Iterator[None]:
        """Turn storage ``OSError``s into typed errors that name ``uri``."""
        try:
            yield
        except FileNotFoundError:
            raise NotFoundError(uri.uri, kind) from None
        except FileExistsError:
            raise AlreadyExistsError(uri.uri, kind) from None
        except NotADirectoryError:
            raise FailedPreconditionError(
                f"Not a directory (a file is in the way): {uri.uri}",
                {"uri": uri.uri, "reason": "not_a_directory"},
            ) from None
        except IsADirectoryError:
            raise InvalidArgumentError(
                f"Is a directory: {uri.uri}", {"uri": uri.uri, "reason": "is_directory"}
            ) from None
        except PermissionError:
            raise PermissionDeniedError(
                f"Storage refused access to {uri.uri}", {"resource": uri.uri}
            ) from None
        except OSError as exc:
            if exc.errno == errno.ENOTEMPTY:
                raise FailedPreconditionError(
                    f"Directory not empty: {uri.uri}", {"uri": uri.uri}
                ) from None
            raise

    # -- preset layout ---------------------------------------------------------------------

    async def _ensure_dirs(self, account_id: str, presets: list[PresetDir]) -> None:
        for preset in presets:
            uri = VikingURI(preset.parts[0], preset.parts[1:])
            key = "/".join((account_id, *preset.parts))
            await self.store.mkdir(key, exist_ok=True)
            for name, body in ((ABSTRACT_FILE, preset.abstract), (OVERVIEW_FILE, preset.overview)):
                sidecar = f"{key}/{name}"
                if not await self.store.exists(sidecar):
                    text = render_sidecar(uri.uri, body, component="preset", trigger="init")
                    await self.store.write_bytes(sidecar, text.encode("utf-8"))

    async def _ensure_layout(self, account_id: str, user_id: str | None = None) -> None:
        """Create the account's preset folders and, if given, the user's space."""
        await self._ensure_dirs(account_id, account_presets())
        if user_id is not None:
            await self._ensure_dirs(account_id, user_presets(user_id))
