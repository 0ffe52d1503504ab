"""Sessions and long-term memory.

The pure memory core lives here (no storage, no service): category schemas
(:mod:`.memory_schema`), the memory file format (:mod:`.memory_file`), field-level merges
(:mod:`.merge`), the operations extractors propose (:mod:`.operations`), the rule-based and
LLM extractors (:mod:`.extract_rules`, :mod:`.extract_llm`) and batch de-duplication
(:mod:`.dedup`). Import from the submodules.
"""

from __future__ import annotations

__all__: list[str] = []
