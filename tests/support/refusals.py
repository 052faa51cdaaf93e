"""What a validator refuses: the client-facing message and code of the InvalidInput it raises."""

from __future__ import annotations

from typing import Any

import pytest

from service.errors import InvalidInput


def invalid(fn: Any, *args: Any, code: str = "INVALID_INPUT") -> str:
    """The client-facing message of the InvalidInput that `fn(*args)` raises, whose code
    must be `code`."""
    with pytest.raises(InvalidInput) as info:
        fn(*args)
    assert info.value.code == code
    return info.value.message
