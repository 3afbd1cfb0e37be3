"""Reports: CSV files a spreadsheet opens safely (no formula from a member's text runs), and the organizer's charts."""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime, timedelta, timezone

import pytest

from backend.accounts.models import User, WalletKind
from backend.claims.models import Claim, ClaimMethod, ClaimStatus
from backend.events.models import Event
from backend.organizations.models import Organization
from backend.perks.models import Perk, PerkPass, PerkRedemption
from backend.reports import service as reports
from backend.reports.csv import attachment_headers, csv_text

T0 = datetime(2026, 11, 3, 10, 0, tzinfo=timezone.utc)


def parsed(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")  # spreadsheet programs then read UTF-8 (Japanese titles)
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://evil\")",
                                  " =1+1", "\n=1+1", "\r\n@SUM(A1)", "\u3000=1+1", "  -2+3"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_kept_as_text(cell):
    assert parsed(csv_text(["title"], [[cell]]))[1] == ["'" + cell]


def test_other_cells_are_written_as_they_are():
    text = csv_text(["id", "title", "amount", "empty"], [[1, "祭り, 夏", -5, ""], [2, 'say "hi"', 0.5, None]])
    assert text.endswith("\r\n") and "\r\n" in text
    assert parsed(text) == [["id", "title", "amount", "empty"], ["1", "祭り, 夏", "-5", ""],
                            ["2", 'say "hi"', "0.5", ""]]


def test_the_download_is_named_after_the_report():
    assert attachment_headers("votes") == {"Content-Disposition": 'attachment; filename="kyoso-votes.csv"'}


def test_time_buckets_count_each_moment_once_and_leave_out_earlier_ones():
    size = timedelta(minutes=10)
    times = [T0 - timedelta(seconds=1), T0, T0 + timedelta(minutes=9), T0 + timedelta(minutes=10),
             T0 + timedelta(hours=5)]  # after the last bucket: counted in it
    assert reports.time_buckets(times=times, start=T0, size=size, count=3) == [
        (T0, 2), (T0 + size, 1), (T0 + 2 * size, 1)]


def _organization(session) -> Organization:
    org = Organization(name_ja="団体", name_en="Org", issuer_address="0x" + "1" * 40, issuer_key=b"sealed")
    session.add(org)
    session.flush()
    return org


def _event(session, org: Organization, token_id: int) -> Event:
    row = Event(organization_id=org.id, title_ja="祭り", title_en="Festival", category="festival", starts_at=T0,
                ends_at=T0 + timedelta(hours=2), claim_start=T0, claim_end=T0 + timedelta(hours=2), points=10,
                token_id=token_id, kiosk_seed=os.urandom(32))
    session.add(row)
    session.flush()
    return row


def _users(session, count: int) -> list[User]:
    users = [User(wallet_address=f"0x{n:040x}", wallet_kind=WalletKind.custodial) for n in range(1, count + 1)]
    session.add_all(users)
    session.flush()
    return users


def test_claim_counts_and_buckets_of_an_event(session):
    event = _event(session, _organization(session), 1)
    users = _users(session, 3)
    now = T0 + timedelta(minutes=3)  # the chart's last bucket ends at the next ten minutes: 10:10
    moments = [now - timedelta(hours=4), now - timedelta(minutes=10), now]
    statuses = [ClaimStatus.confirmed, ClaimStatus.accepted, ClaimStatus.confirmed]
    for u, at, status in zip(users, moments, statuses):
        session.add(Claim(user_id=u.id, event_id=event.id, recipient=u.wallet_address, method=ClaimMethod.code,
                          status=status, created_at=at))
    session.commit()
    assert reports.claim_counts(session=session, event_id=event.id) == {"total": 3, "confirmed": 2}
    buckets = reports.claim_buckets(session=session, event_id=event.id, now=now)
    assert len(buckets) == reports.CHART_BUCKETS
    assert buckets[-1] == (T0, 1) and buckets[-2] == (T0 - reports.CHART_BUCKET, 1)
    assert buckets[0][0] == T0 + reports.CHART_BUCKET - reports.CHART_BUCKET * reports.CHART_BUCKETS
    assert sum(n for _, n in buckets) == 2  # the claim of four hours ago is before the chart


def test_activity_counts_redemptions_and_mission_completions_per_day_in_japan(session):
    org = _organization(session)
    mission_badge = _event(session, org, 2)
    perk = Perk(organization_id=org.id, title_ja="割引", title_en="Discount", valid_from=T0,
                valid_until=T0 + timedelta(days=30), rule={"kind": "category", "category": "festival"})
    session.add(perk)
    session.flush()
    members = _users(session, 2)
    # 2026-11-03 16:00 UTC is already 11-04 in Japan
    late = datetime(2026, 11, 3, 16, 0, tzinfo=timezone.utc)
    for n, (member, at) in enumerate(zip(members, [T0, late])):
        session.add(PerkPass(id=f"pass{n}", perk_id=perk.id, user_id=member.id, code_hash=f"{n:064x}",
                             expires_at=at + timedelta(minutes=1), used_at=at))
        session.add(PerkRedemption(perk_id=perk.id, user_id=member.id, pass_id=f"pass{n}", created_at=at))
    session.add(Claim(user_id=members[0].id, event_id=mission_badge.id, recipient=members[0].wallet_address,
                      method=ClaimMethod.mission, created_at=late))
    session.add(Claim(user_id=members[1].id, event_id=mission_badge.id, recipient=members[1].wallet_address,
                      method=ClaimMethod.code, created_at=late))  # not a mission completion
    session.commit()
    days, redeemed, completed = reports.activity(session=session, organization_id=org.id,
                                                 now=datetime(2026, 11, 4, 3, 0, tzinfo=timezone.utc))
    assert (redeemed, completed) == (2, 1) and len(days) == reports.ACTIVITY_DAYS
    (day_before, r1), c1 = days[-2]
    (last_day, r2), c2 = days[-1]
    assert last_day == datetime(2026, 11, 4, tzinfo=reports.JST) and day_before == last_day - timedelta(days=1)
    assert (r1, c1, r2, c2) == (1, 0, 1, 1)
