"""Temporary: the dependencies moved to backend/platform/http.py and backend/accounts/deps.py."""

from backend.accounts.deps import *  # noqa: F401,F403
from backend.accounts.deps import CSRF_HEADER, SESSION_COOKIE, _member, _token_of  # noqa: F401
from backend.platform.http import *  # noqa: F401,F403
from backend.platform.http import CHAIN_RETRY_AFTER_S  # noqa: F401
