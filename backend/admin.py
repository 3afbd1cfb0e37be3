"""The operator's commands, run where the backend runs (same environment: DATABASE_URL, ...):

    python -m backend.admin steward grant EMAIL     # the member may approve and suspend organizations
    python -m backend.admin steward revoke EMAIL

Stewards are granted here and never through the API: whoever could make themselves a steward over HTTP could approve
their own organization and issue points to themselves.
"""

from __future__ import annotations

import sys

import click

from backend.accounts import service as accounts
from backend.platform.config import get_settings
from backend.platform.db import make_engine, session_factory
from backend.platform.errors import DomainError


def _session():
    return session_factory(make_engine(get_settings().database_url))()


@click.group()
def cli() -> None:
    """Kyoso's operator commands."""


@cli.group()
def steward() -> None:
    """The community's stewards: they approve and suspend organizations."""


@steward.command("grant")
@click.argument("email")
def grant(email: str) -> None:
    """Makes the member with EMAIL a steward."""
    _set(email, True)


@steward.command("revoke")
@click.argument("email")
def revoke(email: str) -> None:
    """Makes the member with EMAIL no longer a steward."""
    _set(email, False)


def _set(email: str, steward_: bool) -> None:
    with _session() as session:
        try:
            user = accounts.set_steward(session=session, email=email, steward=steward_)
        except DomainError as exc:
            click.echo(f"{exc.code}: {email}", err=True)
            sys.exit(1)
        click.echo(f"{user.email}: {'steward' if user.is_steward else 'not a steward'}")


if __name__ == "__main__":
    cli()
