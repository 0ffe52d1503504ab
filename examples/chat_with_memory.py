"""A two-turn chat whose second turn uses a memory extracted from the first.

    python examples/chat_with_memory.py [--path ./example-data] [--config ov.conf]

Turn 1 tells the bot a preference; committing the chat's session extracts it as a long-term
memory under viking://~/memories/. Turn 2, in a *new* session, asks about it: the memory is
found and handed to the bot (``relevant_memories``) and cited in the answer.

With no model configured (the default) the bot answers in retrieval-only mode, listing the
contexts it found; with ``vlm`` or ``bot.model`` in ov.conf it writes the answer itself.
"""

from __future__ import annotations

import argparse
import tempfile

from openviking_mcp import OpenViking


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", help="Workspace folder (default: a temporary one).")
    parser.add_argument("--config", help="ov.conf with vlm or bot.model for written answers.")
    args = parser.parse_args()
    path = args.path or tempfile.mkdtemp(prefix="openviking-chat-")

    with OpenViking(path=path, config_file=args.config) as ov:
        print(f"bot mode: {ov.bot_health()['mode']}  (workspace: {path})\n")

        first = ov.chat("I prefer green tea over coffee. Please remember that.")
        print("you> I prefer green tea over coffee. Please remember that.")
        print(f"bot> {first['message']}\n")

        # Committing the chat's session extracts long-term memories from it (wait: until done).
        commit = ov.commit_session(first["session_id"], wait=True)
        extracted = (commit.get("result") or {}).get("memories_extracted") or {}
        print(f"committed {first['session_id']}: memories extracted {extracted}\n")

        second = ov.chat("Which drink do I prefer?")  # a new session: only memory connects them
        print("you> Which drink do I prefer?")
        print(f"bot> {second['message']}\n")
        print(f"relevant memories:\n{second['relevant_memories']}\n")
        print("citations:", ", ".join(c["uri"] for c in second["citations"]) or "none")


if __name__ == "__main__":
    main()
