"""`kyoso`, the operator's command, run where the backend runs (the same environment: DATABASE_URL, ...):

    kyoso steward add EMAIL              # the member may approve and suspend organizations
    kyoso steward remove EMAIL
    kyoso steward list
    kyoso sponsor set EMAIL              # one of the sponsor's accounts: gas budgets, the spend report
    kyoso sponsor remove EMAIL
    kyoso sponsor list
    kyoso organizations approve ID       # what a steward does on the console, without one
    kyoso organizations suspend ID --reason "..."
    kyoso accounts verify EMAIL          # the operator vouches for the address (checked in person, by phone)

`python -m backend.admin ...` is the same command (`kyoso` is its console script, pyproject.toml). Roles are given
here and never through the API: whoever could make themselves a steward or a sponsor over HTTP could approve their own
organization, or spend the sponsor's gas. They live in the database (users.is_steward, users.is_sponsor) and have
power only while the account's address is verified: a role written on an address nobody has confirmed is inert.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable

# siwe's grammar (abnf), loaded with the accounts domain, warns about rules it redefines on purpose: noise on an
# operator's terminal (pytest ignores it the same way, pyproject.toml)
warnings.filterwarnings("ignore", message=r"rule '\w+' redefines")

import click  # noqa: E402
from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from backend.accounts import service as accounts  # noqa: E402
from backend.accounts.models import User  # noqa: E402
from backend.i18n import error_message  # noqa: E402
from backend.organizations import service as organizations  # noqa: E402
from backend.platform.config import get_settings  # noqa: E402
from backend.platform.db import make_engine, migrate, session_factory  # noqa: E402
from backend.platform.errors import DomainError  # noqa: E402

UNVERIFIED = ("  note: this address is not verified yet, so the role has no power until it is (the member opens the "
              "link from the account page, or: kyoso accounts verify {email})")


def _session() -> Session:
    engine = make_engine(get_settings().database_url)
    migrate(engine)  # as the app does at start: the command may be the first thing run on a new database
    return session_factory(engine)()


def _run(what: Callable[[Session], str]) -> None:
    with _session() as session:
        try:
            click.echo(what(session))
        except DomainError as exc:
            click.echo(f"{exc.code}: {error_message(exc.code, 'en', **exc.params)}", err=True)
            sys.exit(1)


def _account_line(user: User, role: str, has: bool) -> str:
    line = f"{user.email}: {role if has else 'not ' + role}"
    if has and not user.verified:
        line += "\n" + UNVERIFIED.format(email=user.email)
    return line


def _listing(session: Session, column, role: str) -> str:
    users = session.scalars(select(User).where(column.is_(True), User.deleted_at.is_(None)).order_by(User.id)).all()
    if not users:
        return f"no {role}s"
    return "\n".join(f"{u.email or u.wallet_address}{'' if u.verified else '  (address not verified: no power)'}"
                     for u in users)


@click.group()
def cli() -> None:
    """Kyoso's operator commands (on the database of DATABASE_URL)."""


# ---------------------------------------------------------------------------------------------- stewards


@cli.group()
def steward() -> None:
    """The community's stewards: they approve and suspend organizations."""


def _set_steward(email: str, value: bool) -> None:
    _run(lambda s: _account_line(accounts.set_steward(session=s, email=email, steward=value), "a steward", value))


@steward.command("add")
@click.argument("email")
def steward_add(email: str) -> None:
    """Makes the member with EMAIL a steward."""
    _set_steward(email, True)


@steward.command("remove")
@click.argument("email")
def steward_remove(email: str) -> None:
    """Makes the member with EMAIL no longer a steward."""
    _set_steward(email, False)


@steward.command("list")
def steward_list() -> None:
    """The stewards."""
    _run(lambda s: _listing(s, User.is_steward, "steward"))


# ---------------------------------------------------------------------------------------------- the sponsor


@cli.group()
def sponsor() -> None:
    """The sponsor's accounts (the city, which pays the gas): gas budgets, the spend report."""


def _set_sponsor(email: str, value: bool) -> None:
    _run(lambda s: _account_line(accounts.set_sponsor(session=s, email=email, sponsor=value),
                                 "a sponsor's account", value))


@sponsor.command("set")
@click.argument("email")
def sponsor_set(email: str) -> None:
    """Makes the member with EMAIL one of the sponsor's accounts."""
    _set_sponsor(email, True)


@sponsor.command("remove")
@click.argument("email")
def sponsor_remove(email: str) -> None:
    """Makes the member with EMAIL no longer one of the sponsor's accounts."""
    _set_sponsor(email, False)


@sponsor.command("list")
def sponsor_list() -> None:
    """The sponsor's accounts."""
    _run(lambda s: _listing(s, User.is_sponsor, "sponsor's account"))


# ---------------------------------------------------------------------------------------------- organizations


@cli.group("organizations")
def organizations_group() -> None:
    """Organizations: approve or suspend one, as a steward would."""


@organizations_group.command("approve")
@click.argument("organization_id", type=click.IntRange(1, 2**63 - 1))
def organization_approve(organization_id: int) -> None:
    """Lets organization ORGANIZATION_ID issue: the relayer registers it on chain."""
    def approve(session: Session) -> str:
        org = organizations.approve_organization(session=session, user=None, organization_id=organization_id)
        return f"organization {org.id} ({org.name_en}): {org.status.value}"
    _run(approve)


@organizations_group.command("suspend")
@click.argument("organization_id", type=click.IntRange(1, 2**63 - 1))
@click.option("--reason", required=True, help="why: shown to its organizers and on its failed claims")
def organization_suspend(organization_id: int, reason: str) -> None:
    """Stops organization ORGANIZATION_ID: its key loses the issuer role on chain, its queued claims fail."""
    def suspend(session: Session) -> str:
        org = organizations.suspend_organization(session=session, user=None, organization_id=organization_id,
                                                 reason=reason[:500])
        return f"organization {org.id} ({org.name_en}): {org.status.value} ({org.status_reason})"
    _run(suspend)


# ---------------------------------------------------------------------------------------------- accounts


@cli.group("accounts")
def accounts_group() -> None:
    """Members' accounts."""


@accounts_group.command("verify")
@click.argument("email")
def account_verify(email: str) -> None:
    """Marks the address EMAIL verified, as its mailed link would (check it another way first)."""
    _run(lambda s: f"{accounts.mark_verified(session=s, email=email).email}: address verified")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
