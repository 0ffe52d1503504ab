"""A LangChain conversation whose context comes from a running server and whose history is
kept there as a session, committed into long-term memories at the end.

    python examples/langchain_memory.py [--url http://127.0.0.1:1933] [--model gpt-4o-mini]
        [--session langchain-example]

It writes one note to the server (``viking://resources/examples/releases.md``), then for each
question: retrieves documents with ``OpenVikingRetriever``, builds the prompt from them and the
conversation so far (``OpenVikingChatMessageHistory``), asks the model and records the turn in
the session. Committing the session at the end extracts memories (here, a preference).

The model is any OpenAI-compatible chat model, called with the openai package (LangChain's
core needs no provider package): ``--model`` (or ``EXAMPLE_MODEL``), with ``OPENAI_BASE_URL``
and ``OPENAI_API_KEY``. The server: ``--url`` (or ``OPENVIKING_URL``) and
``OPENVIKING_API_KEY`` when it needs a key.
"""

from __future__ import annotations

import argparse
import os

from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, convert_to_openai_messages
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from openai import OpenAI

from openviking_mcp import SyncHTTPClient
from openviking_mcp.integrations.langchain import (
    OpenVikingChatMessageHistory,
    OpenVikingRetriever,
)

NOTE_URI = "viking://resources/examples/releases.md"
NOTE = "# Releases\n\nTo roll back a release, redeploy the previous tag with `make deploy`.\n"
QUESTIONS = (
    "How do I roll back a release?",
    "I prefer green tea over coffee. Which command did you name?",
)
PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "Answer from this context when it helps:\n{context}"),
        MessagesPlaceholder("history"),
        ("human", "{question}"),
    ]
)


def _context(documents: list[Document]) -> str:
    return "\n".join(f"[{d.metadata['uri']}] {d.page_content}" for d in documents)


def _ask(llm: OpenAI, model: str, messages: list[BaseMessage]) -> str:
    answer = llm.chat.completions.create(
        model=model,
        messages=convert_to_openai_messages(messages),
    )
    return answer.choices[0].message.content or ""


def run(url: str, model: str, session_id: str) -> None:
    llm = OpenAI()  # OPENAI_BASE_URL, OPENAI_API_KEY
    with SyncHTTPClient(url, api_key=os.environ.get("OPENVIKING_API_KEY")) as ov:
        ov.write(NOTE_URI, NOTE, wait=True)
        retriever = OpenVikingRetriever(client=ov, k=3, read_full=True)
        history = OpenVikingChatMessageHistory(ov, session_id, wait=True)
        history.clear()  # start the example's conversation afresh
        for question in QUESTIONS:
            documents = retriever.invoke(question)
            for document in documents:
                print(f"retrieved> {document.metadata['uri']} {document.metadata['score']}")
            prompt = PROMPT.invoke(
                {"context": _context(documents), "history": history.messages, "question": question}
            )
            reply = _ask(llm, model, prompt.to_messages())
            history.add_messages([HumanMessage(question), AIMessage(reply)])
            print(f"you> {question}\nassistant> {reply}")
        print(f"history: {len(history.messages)} messages in session {session_id}")
        commit = history.commit()  # wait=True: returns once the memories are extracted
        print(f"memories extracted: {commit['result']['memories_extracted']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("OPENVIKING_URL", "http://127.0.0.1:1933"))
    parser.add_argument("--model", default=os.environ.get("EXAMPLE_MODEL", "gpt-4o-mini"))
    parser.add_argument("--session", default="langchain-example")
    args = parser.parse_args()
    run(args.url, args.model, args.session)


if __name__ == "__main__":
    main()
