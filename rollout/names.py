"""The name of a Lambda function or state machine, however a plan or record writes it."""

from __future__ import annotations

__all__ = ["resource_name"]

_MARKERS = (":function:", ":stateMachine:")


def resource_name(written: str) -> str:
    """`orders-api` for `orders-api`, `123:function:orders-api` or its full ARN.

    Two targets naming one function by name and by ARN still move one alias, so checks
    compare this form.
    """
    for marker in _MARKERS:
        if marker in written:
            return written.split(marker, 1)[1].split(":", 1)[0]
    return written
