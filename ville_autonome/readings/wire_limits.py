"""Explicit limits on what the centre decodes from the wire, and the one guarded JSON parser.

Anything published on a subscribed topic reaches a decoder: a gateway's credentials are enough
to send it. The decoders of this package therefore parse JSON only through :func:`load_json`,
which turns every way a payload can break a parser into :class:`WireLimitError` (a
``ValueError``) naming the limit:

======================  ============  ===============================================================
limit                   value         why
======================  ============  ===============================================================
``MAX_PAYLOAD_BYTES``   1,000,000     one uplink envelope (``GatewayConfig.max_batch`` ≤ 50,000
                                      readings of ~20 bytes fits well under it)
``MAX_DEPTH``           16            nesting of arrays/objects: an envelope needs 3, health 4;
                                      deeper input would exhaust the parser's recursion
``MAX_INT_DIGITS``      19            an integer token (ms timestamps need 13, int64 has 19);
                                      CPython refuses > 4300 digits with a bare ``ValueError``
``MAX_ID_CHARS``        64            device, gateway and quantity names (slugs are ≤ 64)
``MAX_TEXT_CHARS``      32            quality, unit, error names
``MAX_ITEMS``           50,000        readings of one envelope, devices of one health document
``MAX_KEYS``            64            keys of one reading or of one device's ``errors``
======================  ============  ===============================================================

Floats beyond the double range decode as ±inf and are refused where a value is read (not
finite); ``NaN``/``Infinity`` literals are accepted by the parser for the same reason, so that the
reading that holds one is refused alone, with its reason.
"""

from __future__ import annotations

import json
from typing import Any

from typing_extensions import TypeIs  # typing.TypeIs from Python 3.13

MAX_PAYLOAD_BYTES = 1_000_000
MAX_DEPTH = 16
MAX_INT_DIGITS = 19
MAX_ID_CHARS = 64
MAX_TEXT_CHARS = 32
MAX_ITEMS = 50_000
MAX_KEYS = 64
MAX_INT = 2**63 - 1  # sequence numbers, epochs, timestamps, error counts


class WireLimitError(ValueError):
    """A payload that cannot be decoded within the limits; the message names what broke."""


def _bounded_int(token: str) -> int:
    digits = len(token) - (1 if token[:1] == "-" else 0)
    if digits > MAX_INT_DIGITS:
        raise WireLimitError(f"an integer of {digits} digits exceeds the limit of {MAX_INT_DIGITS}")
    return int(token)


def depth_within(doc: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects nest at most ``limit`` deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if type(node) is dict else node if type(node) is list else None
        if children is None:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children if type(child) in (dict, list))
    return True


def load_json(payload: bytes, *, max_bytes: int = MAX_PAYLOAD_BYTES) -> Any:
    """Parse ``payload`` as JSON within the limits above, or raise :class:`WireLimitError`."""
    if len(payload) > max_bytes:
        raise WireLimitError(f"payload of {len(payload)} bytes exceeds the limit of {max_bytes}")
    try:
        doc = json.loads(payload, parse_int=_bounded_int)
    except WireLimitError:
        raise
    except RecursionError:
        raise WireLimitError(f"JSON nested deeper than the limit of {MAX_DEPTH}") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise WireLimitError(f"not JSON: {str(exc)[:200]}") from None
    if not depth_within(doc):
        raise WireLimitError(f"JSON nested deeper than the limit of {MAX_DEPTH}")
    return doc


def is_int(value: object, *, minimum: int = 0, maximum: int = MAX_INT) -> TypeIs[int]:
    """A JSON integer (not a boolean) within [minimum, maximum]."""
    return type(value) is int and minimum <= value <= maximum


def is_text(value: object, max_chars: int = MAX_ID_CHARS) -> TypeIs[str]:
    """A non-empty string of at most ``max_chars`` characters."""
    return type(value) is str and 0 < len(value) <= max_chars


def excerpt(value: Any, max_chars: int = 200) -> str:
    """``repr`` of a decoded value, cut to ``max_chars`` (for error details and logs)."""
    text = repr(value) if not isinstance(value, dict | list) else json.dumps(value, default=str)[: max_chars + 1]
    return text if len(text) <= max_chars else text[:max_chars] + "…"
