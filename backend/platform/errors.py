"""Domain errors: a stable code, an HTTP status and parameters; never prose.

Services raise these and know nothing of HTTP; the API turns one into
`{"error": code, "message": <the code's text in the request's language>, **params}` and the web app into its error
page. The text of each code lives in the gettext catalogs (`backend/i18n/locales`), where the code is the message id
and the parameters fill its `{name}` fields. Babel extracts the codes from these constructors' first argument.
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the request. `retry_after` (seconds) also becomes the answer's Retry-After header."""

    status = 400

    def __init__(self, code: str, status: int | None = None, *, retry_after: int | None = None,
                 headers: dict[str, str] | None = None, **params: object) -> None:
        super().__init__(code)
        self.code = code
        if status is not None:
            self.status = status
        self.retry_after = retry_after
        self.params = params
        self.headers = dict(headers or {})
        if retry_after is not None:
            self.headers["Retry-After"] = str(retry_after)
            self.params.setdefault("retry_after", retry_after)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.status}, {self.params!r})"


class Invalid(DomainError):
    status = 400


class Unauthorized(DomainError):
    status = 401


class PaymentRequired(DomainError):
    status = 402


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Gone(DomainError):
    status = 410


class Unprocessable(DomainError):
    status = 422


class TooManyAttempts(DomainError):
    status = 429


class Unavailable(DomainError):
    status = 503
