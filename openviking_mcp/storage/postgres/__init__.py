"""The PostgreSQL backend (``storage.backend: postgres``): one database, shared by any number
of server and worker processes, holds what the local backend keeps in its data folder.

Importing this package loads psycopg; only the postgres backend imports it.
"""

from openviking_mcp.storage.postgres._db import PgDatabase
from openviking_mcp.storage.postgres.content import PgContentStore
from openviking_mcp.storage.postgres.locks import PgPathLocks

__all__ = ["PgContentStore", "PgDatabase", "PgPathLocks"]
