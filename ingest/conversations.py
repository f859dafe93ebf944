"""Conversation files: each session is a document, each turn one passage with its id and time.

Two shapes of ``.json`` file are recognised (anything else is read as a corpus):

- **LoCoMo** (Maharana et al. 2024), per-conversation files as shipped in ``locomo10_v2``:
  ``{"speaker_a", "speaker_b", "session_<N>": [{"speaker", "dia_id", "text", "blip_caption"?}],
  "session_<N>_date_time": "1:56 pm on 8 May, 2023", ...}``, and the upstream single file
  ``locomo10.json`` (a list of ``{"sample_id", "conversation": {...the same keys...}, "qa"}``).
  Sessions are the ``session_<N>`` keys that exist (date keys without a session are ignored).
  A turn reads ``"Speaker: text"``; an image's caption is appended as ``[image: caption]``.
  Its key is its ``dia_id`` (``D3:5``); its time is the session's.
- **hippo's chat format**, for any chat history::

      {"conversation": "name",
       "sessions": [{"id": "s1", "time": "2024-03-01T09:30",
                     "turns": [{"id": "s1:1", "speaker": "Ann", "text": "...", "time": "..."}]}]}

  ``conversation``, session ``id`` and ``time``, turn ``id`` and ``time`` are optional (ids default
  to ``<session id>:<n>``, times to the session's); times are ISO 8601.

Session timestamps become ISO 8601 (``2023-05-08T13:56``). A session without turns, or with a
time that cannot be read, is skipped with that reason; the other sessions are kept.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from hippo.ingest.loaders import LoadedDoc, LoadedPassage
from hippo.model import Skip

__all__ = ["locomo_time", "parse_conversations"]

_SESSION_KEY = re.compile(r"session_(\d+)")
_LOCOMO_TIME = "%I:%M %p %d %B, %Y"


def parse_conversations(data: Any, name: str) -> list[LoadedDoc | Skip] | None:
    """Sessions of a conversation file, or None when ``data`` is not shaped as one.

    ``name`` (the file name without suffix) names a conversation that does not name itself.
    """
    if isinstance(data, dict) and isinstance(data.get("sessions"), list):
        return _hippo_chat(data, name)
    if isinstance(data, dict) and _has_sessions(data.get("conversation")):
        data = [data]
    if isinstance(data, list) and data and all(isinstance(d, dict) and _has_sessions(d.get("conversation"))
                                               for d in data):
        return [doc for item in data
                for doc in _locomo(item["conversation"], str(item.get("sample_id") or name), prefix=len(data) > 1)]
    if _has_sessions(data):
        return _locomo(data, name, prefix=False)
    return None


def _has_sessions(data: Any) -> bool:
    return isinstance(data, dict) and any(_SESSION_KEY.fullmatch(k) and isinstance(v, list) for k, v in data.items())


def locomo_time(text: str) -> str:
    """A LoCoMo date-time as ISO 8601 to the minute.

    >>> locomo_time("1:56 pm on 8 May, 2023")
    '2023-05-08T13:56'
    """
    return datetime.strptime(" ".join(text.replace(" on ", " ").split()), _LOCOMO_TIME).isoformat(timespec="minutes")


def _locomo(conversation: dict[str, Any], name: str, *, prefix: bool) -> list[LoadedDoc | Skip]:
    speakers = [s for s in (conversation.get("speaker_a"), conversation.get("speaker_b")) if isinstance(s, str)]
    numbers = sorted(int(m.group(1)) for k in conversation if (m := _SESSION_KEY.fullmatch(k))
                     and isinstance(conversation[k], list))
    out: list[LoadedDoc | Skip] = []
    for number in numbers:
        key = f"{name}/session_{number}" if prefix else f"session_{number}"
        raw_time = conversation.get(f"session_{number}_date_time")
        try:
            time = locomo_time(raw_time) if isinstance(raw_time, str) and raw_time.strip() else None
        except ValueError:
            out.append(Skip(key, f"bad session: session {number} has date-time {raw_time!r}, not like "
                                 "'1:56 pm on 8 May, 2023'"))
            continue
        turns = []
        for position, turn in enumerate(conversation[f"session_{number}"], start=1):
            if not isinstance(turn, dict):
                continue
            text = _turn_text(turn.get("speaker"), turn.get("text"), turn.get("blip_caption"))
            if text:
                turns.append(LoadedPassage(text, str(turn.get("dia_id") or f"D{number}:{position}"), time))
        meta = {"format": "locomo", "conversation": name, "session": number, "speakers": speakers}
        title = f"{' & '.join(speakers) or name} · session {number}" + (f" · {time.replace('T', ' ')}" if time else "")
        out.append(_session(key, title, turns, meta, time))
    return out


def _hippo_chat(data: dict[str, Any], name: str) -> list[LoadedDoc | Skip]:
    conversation = str(data.get("conversation") or name)
    out: list[LoadedDoc | Skip] = []
    used: set[str] = set()
    for number, session in enumerate(data["sessions"], start=1):
        if not isinstance(session, dict) or not isinstance(session.get("turns"), list):
            out.append(Skip(f"session {number}", f"bad session: session {number} is not an object with a "
                                                 "\"turns\" list"))
            continue
        key = str(session.get("id") or number)
        if key in used:
            key = f"{key}~{number}"
        used.add(key)
        try:
            time = _iso(session.get("time"), f"session {key}")
            turns = []
            for position, turn in enumerate(session["turns"], start=1):
                if not isinstance(turn, dict):
                    continue
                text = _turn_text(turn.get("speaker"), turn.get("text"), turn.get("caption"))
                turn_key = str(turn.get("id") or f"{key}:{position}")
                if text:
                    turns.append(LoadedPassage(text, turn_key, _iso(turn.get("time"), f"turn {turn_key}") or time))
        except ValueError as exc:
            out.append(Skip(f"session {key}", f"bad session: {exc}"))
            continue
        speakers = list(dict.fromkeys(str(t["speaker"]) for t in session["turns"]
                                      if isinstance(t, dict) and t.get("speaker")))
        meta = {"format": "hippo-chat", "conversation": conversation, "session": key, "speakers": speakers}
        title = f"{conversation} · session {key}" + (f" · {time.replace('T', ' ')}" if time else "")
        out.append(_session(key, title, turns, meta, time))
    return out


def _iso(value: Any, what: str) -> str | None:
    """``value`` when it is an ISO 8601 date or date-time, None when absent; ValueError otherwise."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} has time {text!r}, which is not ISO 8601 (like 2024-03-01T09:30)") from None
    return text


def _turn_text(speaker: Any, text: Any, caption: Any) -> str:
    body = " ".join(str(text).split()) if isinstance(text, (str, int, float)) else ""
    if isinstance(caption, str) and caption.strip():
        body = f"{body} [image: {' '.join(caption.split())}]".strip()
    if not body:
        return ""
    return f"{' '.join(str(speaker).split())}: {body}" if speaker else body


def _session(key: str, title: str, turns: list[LoadedPassage], meta: dict[str, Any],
             time: str | None) -> LoadedDoc | Skip:
    if not turns:
        return Skip(key, f"empty: {key} has no turns with text")
    return LoadedDoc(key, title, "\n".join(t.text for t in turns), meta, time, tuple(turns))
