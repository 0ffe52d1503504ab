"""litellm, imported on first use with offline-safe settings (shared by every litellm user).

Importing litellm normally fetches a model price table from the internet, which stalls for
seconds without network; the bundled table is used instead, and its banners are silenced.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["import_litellm"]


def import_litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm
