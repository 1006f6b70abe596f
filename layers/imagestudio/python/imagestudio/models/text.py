"""Free text a user writes for a model to read (prompts): printable text only.

Control characters (NUL, ESC, ... but not tab and newlines), Unicode bidirectional overrides,
embeddings, isolates and marks, and unpaired surrogates are refused with a 422 naming the first one
and where it is: they are invisible, change how the text displays (Trojan Source), and would be
charged for, sent to a provider and stored verbatim.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

ALLOWED_CONTROLS = frozenset("\t\n\r")
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def refuse_hidden_characters(text: str) -> str:
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        hidden = (category == "Cc" and char not in ALLOWED_CONTROLS) or category == "Cs"
        if hidden or char in BIDI_CONTROLS:
            name = unicodedata.name(char, "control character")
            raise ValueError(
                f"character {index + 1} is U+{ord(char):04X} ({name}), an invisible control or "
                "text-direction character: remove it (tabs and line breaks are fine)"
            )
    return text


PromptText = Annotated[str, AfterValidator(refuse_hidden_characters)]
