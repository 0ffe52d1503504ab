"""Moving a deployment (or one account) between storage backends: see :mod:`.service`."""

from openviking_mcp.migrate.service import MigrateService

__all__ = ["MigrateService"]
