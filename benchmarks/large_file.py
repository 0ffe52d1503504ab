"""Writing one large text file: wall time until it is indexed, and the process's peak memory.

Opens a :class:`ContextService` on a temporary workspace with the hashing embedder (so the
figure is the store's own work, not a model's), builds a text of ``MB`` MiB, and writes it to
``viking://resources/big/ledger.md`` with ``wait=True``. Prints the time of the write
(indexing included), the peak RSS before and after, and the refresh task's warnings.

    .venv/bin/python benchmarks/large_file.py [--mb 30]

Run it from another checkout's virtualenv to compare trees (the script imports only the
public API). Copy the lines, with the machine and date, into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time

from openviking_mcp import ContextService, OpenVikingConfig

_LINE = "The pangolin ledger records every scale counted in the Kruger survey, row %d.\n"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(mb: int) -> None:
    workspace = tempfile.mkdtemp(prefix="ov-large-")
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": workspace},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
        }
    )
    svc = ContextService(config)
    await svc.initialize()
    try:
        ctx = svc.dev_context()
        text = "".join(_LINE % i for i in range(mb * 1024 * 1024 // len(_LINE)))
        before = _peak_mb()
        start = time.perf_counter()
        result = await svc.write(
            ctx, "viking://resources/big/ledger.md", text, mode="create", wait=True, timeout=3600
        )
        took = time.perf_counter() - start
        task = result.get("task_id")
        warnings = (
            (await svc.get_task(ctx, task)).get("result", {}).get("warnings") if task else None
        )
        print(
            f"{mb} MiB: {took:.1f} s, peak RSS {_peak_mb():.0f} MB (before the write "
            f"{before:.0f} MB), status {result.get('semantic_status')}, warnings {warnings}"
        )
    finally:
        await svc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=30, help="size of the text in MiB")
    asyncio.run(run(parser.parse_args().mb))


if __name__ == "__main__":
    main()
