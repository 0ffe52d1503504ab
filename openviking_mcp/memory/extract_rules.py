"""The extractor used when no LLM is configured: explicit statements only.

It reads the **user** messages (never the assistant's or tools'), splits them into sentences
(after dropping fenced code and ``>`` quotes) and applies one rule per sentence, first match
wins. Questions (ending in ``?`` or opening with a question word or auxiliary: "do you prefer
X?", "would I like..."), conditionals ("if I prefer...") and requests ("I'd like...") are
skipped.

What it catches (sentence openers, case-insensitive, after fillers like "btw,"):

* "your name is X", "I'll call you X", "let's call you X" -> ``identity`` (the assistant's name).
* "my name is X", "call me X", "I go by X" -> ``profile`` (``name``).
* "I work at/for ORG (as ROLE)", "I work as (a) ROLE (at ORG)" -> ``profile``
  (``employer`` / ``occupation``).
* "I live in / I'm based in PLACE" -> ``profile`` (``location``).
* "remember that ...", "don't forget that ...", "keep in mind that ..." -> the rules above are
  tried on the clause; otherwise ``entities`` in category ``facts``, named after the clause's
  subject ("the staging database runs on 5433" -> ``entities/facts/staging-database.md``).
  *Decision:* never ``cases`` - a case needs a problem and its solution, which a pattern cannot
  tell apart reliably; a remembered fact is about a thing, hence an entity.
* "I/we (really) prefer/like/love/enjoy/hate/dislike/don't like/can't stand X", "I'd prefer X"
  -> ``preferences``: topic = the head of X (cut at "over", "than", "because", "in", "for"...,
  at most 4 words), content = "User prefers X." with my/me/I turned into their/them/they.
  Objects that are only pronouns ("I like it", "I love that") are skipped.
* A first-person sentence with a date -> ``events`` dated by the message's ``created_at``:
  ISO dates, "November 20 (2026)", "20 Nov", today/tonight/this morning, yesterday/last night,
  the day before yesterday, tomorrow, "N days ago", "(last|next|this|on) Friday" (past tense:
  the latest such day up to the message; future tense - will/going to/next - the next one).
  Content quotes the sentence: ``On 2026-11-20 (Friday), the user said: "..."``.
* Always ONE ``events`` memory summarising the extraction: counts of messages and tool calls,
  the first user request and what was noted. Its name derives from the session id and the
  first message's time, so re-extracting the same archive yields the same path.

What it misses: anything implicit (a preference shown by behaviour, a correction), anything
said by the assistant or found in tool output, paraphrases of the patterns, pronoun
resolution ("I like it"), non-English text, cases/patterns/experiences, updates and deletes
(it only adds; merging into existing memories is the writer's job), and multi-sentence facts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from openviking_mcp.memory.dedup import dedupe_operations
from openviking_mcp.memory.memory_schema import MemorySchema, load_schemas, slugify
from openviking_mcp.memory.operations import MemoryOperation, check_operation
from openviking_mcp.sessions.transcript import message_role, message_text, message_time

__all__ = ["extract_with_rules"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
_QUESTION_START = _words(
    "do does did would could can should will shall is are am was were what why how "
    "when where who whom which whose may might have has had if whether maybe perhaps"
)
_FILLER = re.compile(
    r"^(?:(?:actually|also|oh|btw|by the way|fyi|and|so|well|ok|okay|honestly|hey|hi|"
    r"just so you know|for the record|anyway)\b[,:!]?\s*)+",
    re.I,
)
_VAGUE = _words("it this that them those these you your yours")
_CUT_WORDS = _words(
    "over than instead rather because since when whenever but so if unless while as "
    "before after until without in for on at during with from and or"
)
_LEAD_WORDS = _words("to using use the a an my our some")
_EVENT_STOP = _words(
    "i we my our me us you it the a an and to of on at in was were had have has just "
    "finally also then so that this is are be been did do got will shall would going gonna"
)
_VERBS = {
    "prefer": "prefers",
    "like": "likes",
    "love": "loves",
    "enjoy": "enjoys",
    "hate": "hates",
    "dislike": "dislikes",
    "detest": "detests",
    "don't like": "does not like",
    "do not like": "does not like",
    "can't stand": "cannot stand",
    "cannot stand": "cannot stand",
    "would prefer": "prefers",
    "'d prefer": "prefers",
}
_VERBS_LONGEST_FIRST = sorted(_VERBS.items(), key=lambda item: -len(item[0]))
_PRONOUNS = {
    "i": "they",
    "me": "them",
    "my": "their",
    "mine": "theirs",
    "myself": "themselves",
    "we": "they",
    "us": "them",
    "our": "their",
    "ours": "theirs",
    "i'm": "they're",
    "i've": "they've",
}

_ADVERBS = r"(?:(?:really|much|strongly|generally|usually|always|definitely|mostly|also|still|"
_ADVERBS += r"absolutely|kind of|kinda|totally)\s+)*"
_PREF = re.compile(
    r"^(?:i|we)(?P<verb>'d prefer|\s+would prefer|\s+" + _ADVERBS + r"(?:prefer|like|love|enjoy|"
    r"hate|dislike|detest|don't like|do not like|can't stand|cannot stand))\s+(?P<obj>.+)$",
    re.I,
)
_NAME = re.compile(
    r"^(?P<how>my name is|my name's|call me|i am called|i'm called|i go by|people call me)\s+"
    r"(?P<name>.+)$",
    re.I,
)
_AGENT_NAME = re.compile(
    r"^(?:your name is|your name's|i'll call you|i will call you|let's call you|we'll call you|"
    r"you are called|you're called)\s+(?P<name>.+)$",
    re.I,
)
_WORK_AT = re.compile(
    r"^i\s+(?:currently\s+|now\s+)?work\s+(?:at|for)\s+(?P<org>.+?)(?:\s+as\s+(?:an?\s+)?"
    r"(?P<role>.+))?$",
    re.I,
)
_WORK_AS = re.compile(
    r"^i\s+(?:currently\s+|now\s+)?work\s+as\s+(?:an?\s+)?(?P<role>.+?)(?:\s+(?:at|for)\s+"
    r"(?P<org>.+))?$",
    re.I,
)
_LIVE = re.compile(
    r"^(?:i\s+(?:currently\s+|now\s+)?(?:live|reside)|i(?:'m| am)\s+(?:currently\s+|now\s+)?"
    r"based)\s+in\s+(?P<place>.+)$",
    re.I,
)
_REMEMBER = re.compile(
    r"^(?:please\s+)?(?:remember(?:\s+that|:)|don't forget(?:\s+that|:)|do not forget that|"
    r"keep in mind(?:\s+that|:))\s*(?P<fact>.+)$",
    re.I,
)
_SUBJECT_END = re.compile(
    r"\b(?:is|are|was|were|has|have|had|uses|use|runs|run|lives|works|needs|must|should|can|"
    r"will|costs|belongs|starts|ends|takes)\b",
    re.I,
)
_FIRST_PERSON = re.compile(r"\b(?:i|we|my|our|us|me)\b|\bi'", re.I)
_FUTURE = re.compile(r"\b(?:will|going to|gonna|plan to|planning to|scheduled|shall)\b|'ll\b", re.I)
_MONTH = r"(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(?:on\s+)?(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b", re.I)),
    (
        "md",
        re.compile(
            r"\b(?:on\s+)?" + _MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?\b",
            re.I,
        ),
    ),
    (
        "dm",
        re.compile(
            r"\b(?:on\s+)?(?:the\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
            + _MONTH
            + r"(?:,?\s+(?P<y>\d{4}))?\b",
            re.I,
        ),
    ),
    (
        "rel",
        re.compile(
            r"\b(?P<rel>the day before yesterday|yesterday|last night|today|tonight|"
            r"this (?:morning|afternoon|evening)|tomorrow)\b",
            re.I,
        ),
    ),
    ("ago", re.compile(r"\b(?P<n>\d+|one|two|three|four|five|six|seven) days? ago\b", re.I)),
    (
        "wd",
        re.compile(
            r"\b(?:(?P<q>last|next|this|on)\s+)?(?P<wd>" + "|".join(_WEEKDAYS) + r")\b", re.I
        ),
    ),
]
_REL_DAYS = {
    "the day before yesterday": -2,
    "yesterday": -1,
    "last night": -1,
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "tomorrow": 1,
}


def _sentences(text: str) -> list[str]:
    text = re.sub(r"```.*?(```|\Z)", " ", text, flags=re.S)
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith(">")]
    out: list[str] = []
    for line in lines:
        line = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line)
        out.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", line) if s.strip())
    return out


def _third_person(text: str) -> str:
    def swap(m: re.Match[str]) -> str:
        return _PRONOUNS[m.group(0).lower()]

    return re.sub(r"\b(?:i'm|i've|i|me|my|mine|myself|we|us|our|ours)\b", swap, text, flags=re.I)


def _clip(text: str, stop: frozenset[str], max_words: int) -> str:
    """The leading words of ``text`` up to a stop word or punctuation."""
    head = re.split(r"[,;:(\u2014]| - ", text, maxsplit=1)[0]
    words: list[str] = []
    for word in head.split():
        if word.lower() in stop and words:
            break
        words.append(word)
    return " ".join(words[:max_words]).strip(" .!\"'")


def _sentence_end(text: str) -> str:
    text = text.strip().rstrip(".!")
    return text[:1].upper() + text[1:] + "."


def _name(raw: str) -> str | None:
    name = _clip(raw, _words("and but please from please, because since"), 3)
    if not name or not name[0].isalpha():
        return None
    if name.split()[0].lower() in {"back", "later", "when", "if", "tomorrow", "anytime", "now"}:
        return None
    return name.title() if name.islower() else name


Rule = Callable[[str], list[tuple[str, dict[str, Any]]]]


def _rule_agent_name(body: str) -> list[tuple[str, dict[str, Any]]]:
    match = _AGENT_NAME.match(body)
    name = _name(match.group("name")) if match else None
    if not name:
        return []
    return [("identity", {"name": name, "content": f"The user named the assistant {name}."})]


def _rule_name(body: str) -> list[tuple[str, dict[str, Any]]]:
    match = _NAME.match(body)
    name = _name(match.group("name")) if match else None
    if not match or not name:
        return []
    wants = match.group("how").lower() in ("call me", "i go by")
    text = f"User wants to be called {name}." if wants else f"User's name is {name}."
    return [("profile", {"name": name, "content": text})]


def _rule_work(body: str) -> list[tuple[str, dict[str, Any]]]:
    match = _WORK_AT.match(body) or _WORK_AS.match(body)
    if not match:
        return []
    org = _clip(match.group("org") or "", _CUT_WORDS - {"and"}, 5)
    role = _clip(match.group("role") or "", _CUT_WORDS, 5)
    fields: dict[str, Any] = {}
    if org:
        fields["employer"] = org
    if role:
        fields["occupation"] = role
    if not fields:
        return []
    text = "User works" + (f" as {role}" if role else "") + (f" at {org}" if org else "") + "."
    return [("profile", {**fields, "content": text})]


def _rule_live(body: str) -> list[tuple[str, dict[str, Any]]]:
    match = _LIVE.match(body)
    place = _clip(match.group("place"), _CUT_WORDS - {"in", "on"}, 5) if match else ""
    if not place:
        return []
    return [("profile", {"location": place, "content": f"User lives in {place}."})]


def _rule_preference(body: str) -> list[tuple[str, dict[str, Any]]]:
    match = _PREF.match(body)
    if not match:
        return []
    obj = match.group("obj").strip().rstrip(".!")
    if obj.split()[0].lower() in _VAGUE:
        return []
    verb_text = " ".join(match.group("verb").lower().split())
    verb = next(third for first, third in _VERBS_LONGEST_FIRST if verb_text.endswith(first))
    words = obj.split()
    while words and words[0].lower() in _LEAD_WORDS:
        words = words[1:]
    topic = _clip(" ".join(words), _CUT_WORDS, 4)
    if not slugify(topic):
        return []
    return [("preferences", {"topic": topic, "content": f"User {verb} {_third_person(obj)}."})]


def _rule_remember(body: str) -> list[tuple[str, dict[str, Any]]]:
    match = _REMEMBER.match(body)
    if not match:
        return []
    fact = match.group("fact").strip()
    for rule in (_rule_agent_name, _rule_name, _rule_work, _rule_live, _rule_preference):
        found = rule(fact)
        if found:
            return found
    verb = _SUBJECT_END.search(fact)
    subject = fact[: verb.start()] if verb and verb.start() > 0 else fact
    words = [w for w in subject.split() if w.lower() not in _LEAD_WORDS | {"his", "her"}]
    name = " ".join(words[:6]) if words else ""
    if not slugify(name):
        return []
    content = _sentence_end(_third_person(fact))
    return [("entities", {"category": "facts", "name": name, "content": content})]


_RULES: list[Rule] = [
    _rule_agent_name,
    _rule_name,
    _rule_work,
    _rule_live,
    _rule_remember,
    _rule_preference,
]


def _resolve(kind: str, m: re.Match[str], sentence: str, today: date) -> date | None:
    future = bool(_FUTURE.search(sentence))
    try:
        if kind == "iso":
            return date(int(m["y"]), int(m["m"]), int(m["d"]))
        if kind in ("md", "dm"):
            month = _MONTHS.index(m["mon"][:3].lower()) + 1
            return date(int(m["y"]) if m["y"] else today.year, month, int(m["d"]))
    except ValueError:
        return None
    if kind == "rel":
        return today + timedelta(days=_REL_DAYS[" ".join(m["rel"].lower().split())])
    if kind == "ago":
        n = m["n"].lower()
        return today - timedelta(days=int(n) if n.isdigit() else _NUMBERS[n])
    wanted = _WEEKDAYS.index(m["wd"].lower())
    qualifier = (m["q"] or "").lower()
    if qualifier == "next" or (future and qualifier != "last"):
        ahead = (wanted - today.weekday()) % 7 or (7 if qualifier == "next" else 0)
        return today + timedelta(days=ahead)
    back = (today.weekday() - wanted) % 7 or (7 if qualifier == "last" else 0)
    return today - timedelta(days=back)


def _event(sentence: str, today: date) -> tuple[str, dict[str, Any]] | None:
    if not _FIRST_PERSON.search(sentence):
        return None
    for kind, pattern in _DATE_PATTERNS:
        match = pattern.search(sentence)
        if not match:
            continue
        day = _resolve(kind, match, sentence, today)
        if day is None:
            return None
        rest = sentence[: match.start()] + " " + sentence[match.end() :]
        words = [w for w in re.findall(r"[A-Za-z0-9']+", rest) if w.lower() not in _EVENT_STOP]
        if len(words) < 2:
            return None
        text = sentence.strip()
        weekday = _WEEKDAYS[day.weekday()].title()
        content = f'On {day.isoformat()} ({weekday}), the user said: "{text}"'
        return "events", {
            "event_name": " ".join(words[:4]),
            "event_date": day.isoformat(),
            "content": content,
        }
    return None


def _is_question(sentence: str) -> bool:
    first = re.split(r"[\s,]+", sentence.strip().lower(), maxsplit=1)[0]
    return sentence.rstrip().endswith("?") or first in _QUESTION_START


def _statements(sentence: str, today: date) -> list[tuple[str, dict[str, Any]]]:
    if _is_question(sentence):
        return []
    body = _FILLER.sub("", sentence.replace("\u2019", "'")).strip()
    if not body or _is_question(body):
        return []
    clause = body.rstrip(".!").strip()
    for rule in _RULES:
        found = rule(clause)
        if found:
            return found
    event = _event(body, today)
    return [event] if event else []


def _summary(
    messages: list[dict[str, Any]],
    found: list[MemoryOperation],
    session_id: str,
    now: datetime,
) -> MemoryOperation:
    users = [m for m in messages if message_role(m) == "user"]
    first_user = next((message_text(m).strip() for m in users if message_text(m).strip()), "")
    start = message_time(users[0] if users else messages[0], now)
    end = max([start, *(message_time(m, start) for m in messages if m.get("created_at"))])
    tools = sum(
        1
        for m in messages
        for p in (m.get("parts") or [])
        if isinstance(p, Mapping) and p.get("type") == "tool"
    )
    assistants = sum(1 for m in messages if message_role(m) == "assistant")
    counts: dict[str, int] = {}
    for op in found:
        counts[op.memory_type] = counts.get(op.memory_type, 0) + 1
    noted = ", ".join(f"{n} {t}" for t, n in sorted(counts.items())) or "nothing explicit"
    request = " ".join(first_user.split())
    request = request if len(request) <= 300 else request[:299] + "\u2026"
    lines = [
        f"Session {session_id}: {len(users)} user message(s), {assistants} assistant "
        f"message(s), {tools} tool call(s), from {start:%Y-%m-%d %H:%M} to "
        f"{end:%Y-%m-%d %H:%M} UTC.",
        f'First request: "{request}"' if request else "First request: (no user text)",
        f"Noted by the rule-based extractor: {noted}.",
    ]
    name = f"session {slugify(session_id)[:40] or 'unnamed'} {start:%H%M%S}"
    return MemoryOperation(
        op="add",
        memory_type="events",
        fields={
            "event_name": name,
            "event_date": start.date().isoformat(),
            "content": "\n\n".join(lines),
            "tags": ["session-summary"],
        },
        reason="rule: one summary event per extraction",
    )


def extract_with_rules(
    messages: list[dict[str, Any]],
    *,
    session_id: str,
    now: datetime,
    schemas: Mapping[str, MemorySchema] | None = None,
) -> list[MemoryOperation]:
    """Add operations for the explicit statements of the user messages, plus one session
    summary event (none at all for an empty message list). Operations for types missing from
    ``schemas`` (default: the built-ins) or not valid for them are left out."""
    if not messages:
        return []
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    schemas = schemas if schemas is not None else load_schemas()
    found: list[MemoryOperation] = []
    for index, message in enumerate(messages):
        if message_role(message) != "user":
            continue
        today = message_time(message, now).date()
        for sentence in _sentences(message_text(message)):
            for memory_type, fields in _statements(sentence, today):
                found.append(
                    MemoryOperation(
                        op="add",
                        memory_type=memory_type,
                        fields=fields,
                        reason=f"rule: explicit statement in message {index}",
                    )
                )
    found = dedupe_operations(found, schemas, when=now)
    ops = [*found, _summary(messages, found, session_id, now)]
    kept: list[MemoryOperation] = []
    for op in ops:
        checked, _ = check_operation(op, schemas, (), now=now)
        if checked is not None:
            kept.append(checked)
    return kept
