"""CSV files for municipal reporting (proposals, votes, payouts, perk redemptions, mission completions).

UTF-8 with a byte-order mark, so that spreadsheet programs show Japanese text correctly. A router answers with
`csv_response(header, rows, name)`, documented by `CSV_DOC`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from starlette.responses import Response

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
# The OpenAPI `responses` entry of a route that answers with csv_response.
CSV_DOC = {200: {"content": {"text/csv": {}}, "description": "CSV, UTF-8 with BOM"}}

# What a spreadsheet would run as a formula when a cell starts with it. Leading whitespace of any kind (space, tab,
# CR, LF, the full-width space of a Japanese input method) too: spreadsheet programs strip it when they read the cell
# and then see the formula behind it (" =1+1", "\n=HYPERLINK(...)").
_FORMULA_STARTS = ("=", "+", "-", "@")


def safe_cell(value):
    """A text cell that a spreadsheet would run as a formula is kept as text: titles and reasons come from members."""
    if isinstance(value, str) and value and (value[0] in _FORMULA_STARTS or value[0].isspace()):
        return "'" + value
    return value


def csv_text(header: list[str], rows: Iterable[list]) -> str:
    """The whole file: a byte-order mark, the header, then the rows (cells escaped), CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return "\ufeff" + out.getvalue()


def attachment_headers(name: str) -> dict[str, str]:
    """The download's file name: kyoso-<name>.csv."""
    return {"Content-Disposition": f'attachment; filename="kyoso-{name}.csv"'}


def csv_response(header: list[str], rows: Iterable[list], name: str) -> Response:
    """The download a report route answers with."""
    return Response(csv_text(header, rows), media_type=CSV_MEDIA_TYPE, headers=attachment_headers(name))
