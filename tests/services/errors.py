"""What a service refused with, for asserting its code and parameters."""

from __future__ import annotations

import pytest

from backend.platform.errors import DomainError


def refused(call, *args, **kwargs) -> DomainError:
    """The domain error `call(*args, **kwargs)` raises (the test fails if it raises none)."""
    with pytest.raises(DomainError) as error:
        call(*args, **kwargs)
    return error.value
