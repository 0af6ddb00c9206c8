"""The canonical input records of the contract (section 1): columns, required ones, types.

One ``KindSpec`` per source kind. Everything downstream (mapping, validation, storage)
reads these specs, so a column is declared once. Column types:

- ``id``: a non-empty identifier string (stripped, at most ``MAX_ID_CHARS``)
- ``str``: a short free string (stripped; empty = missing)
- ``text``: a customer text (kept verbatim apart from masking and the length cap)
- ``datetime`` / ``date``: ISO 8601; offsets are converted to naive UTC
- ``float``: a finite number; ``bool``: true/false/yes/no/1/0
- ``email``, ``domain``: used for account resolution only
- ``channel``: a channel of the taxonomy (``ingest.taxonomy.spend_channel``: the
  channel's name, or an alias that names one channel without doubt)

A kind without an id column (``spend``) names its ``natural_key``: the columns that
identify one of its records.

Bounds, declared per column so that every kind gets them by declaring (validation reads
only the spec):

- ``ranges``: every ``float`` column has one; a value outside it is quarantined with a
  reason naming the column and the value. Money is at most ``MAX_MONEY`` in absolute
  value (10^12 in the record's currency: more than any one account's ARR, deal or
  channel's spend, and far from where sums and products of a forecast lose precision or
  overflow); counts (impressions, clicks) and measured lifts have the same bound. A spend
  change and a lift may be negative.
- ``past_only``: date columns of events that have happened (a ticket's creation, a churn,
  a day of spend, a lead's stage dates, a lift test's run); a value later than the ingest
  time plus ``Settings.future_tolerance_days`` is quarantined (a typo such as 2099, or a
  planned date exported as a fact). Dates that may lie ahead (a contract start, an
  opportunity's close) are not listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.errors import UnknownKindError

MAX_ID_CHARS = 256
MAX_STR_CHARS = 512
MAX_MONEY = 1e12


@dataclass(frozen=True)
class KindSpec:
    """One source kind: its canonical columns and how its rows are stored."""

    kind: str
    columns: dict[str, str]  # canonical name -> column type (see module docstring)
    required: tuple[str, ...]
    id_column: str | None  # None: the kind's records are identified by ``natural_key``
    date_column: str
    doc_kind: str | None = None  # documents.kind for kinds that carry a text
    text_column: str | None = None
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    past_only: tuple[str, ...] = ()
    natural_key: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return list(self.columns)


KINDS: dict[str, KindSpec] = {
    "accounts": KindSpec(
        kind="accounts",
        columns={
            "account_id": "id",
            "name": "str",
            "domain": "domain",
            "segment": "str",
            "arr": "float",
            "currency": "str",
            "contract_start": "date",
            "churned_at": "date",
            "tracked_source": "str",
        },
        required=("account_id", "name", "arr", "contract_start"),
        id_column="account_id",
        date_column="contract_start",
        ranges={"arr": (0.0, MAX_MONEY)},
        past_only=("churned_at",),
    ),
    "reviews": KindSpec(
        kind="reviews",
        columns={
            "review_id": "id",
            "source": "str",
            "account_id": "str",
            "reviewer_domain": "domain",
            "reviewer_company": "str",
            "published_at": "datetime",
            "rating": "float",
            "title": "text",
            "body": "text",
        },
        required=("review_id", "published_at", "body"),
        id_column="review_id",
        date_column="published_at",
        doc_kind="review",
        text_column="body",
        ranges={"rating": (1.0, 5.0)},
        past_only=("published_at",),
    ),
    "tickets": KindSpec(
        kind="tickets",
        columns={
            "ticket_id": "id",
            "account_id": "str",
            "requester_email": "email",
            "created_at": "datetime",
            "subject": "text",
            "body": "text",
            "status": "str",
            "priority": "str",
            "csat": "float",
        },
        required=("ticket_id", "created_at", "body"),
        id_column="ticket_id",
        date_column="created_at",
        doc_kind="ticket",
        text_column="body",
        ranges={"csat": (1.0, 5.0)},
        past_only=("created_at",),
    ),
    "surveys": KindSpec(
        kind="surveys",
        columns={
            "response_id": "id",
            "account_id": "str",
            "respondent_email": "email",
            "submitted_at": "datetime",
            "survey_type": "str",
            "score": "float",
            "comment": "text",
        },
        required=("response_id", "submitted_at", "score"),
        id_column="response_id",
        date_column="submitted_at",
        doc_kind="survey",
        text_column="comment",
        ranges={"score": (0.0, 10.0)},  # and per survey type: SURVEY_RANGES
        past_only=("submitted_at",),
    ),
    "attribution": KindSpec(
        kind="attribution",
        columns={
            "response_id": "id",
            "account_id": "str",
            "respondent_email": "email",
            "submitted_at": "datetime",
            "answer": "text",
            "question": "str",
        },
        required=("response_id", "submitted_at", "answer"),
        id_column="response_id",
        date_column="submitted_at",
        doc_kind="attribution",
        text_column="answer",
        past_only=("submitted_at",),
    ),
    "opportunities": KindSpec(
        kind="opportunities",
        columns={
            "opportunity_id": "id",
            "account_id": "id",
            "created_at": "datetime",
            "amount": "float",
            "stage": "str",
            "closed_at": "datetime",
            "is_won": "bool",
            "tracked_source": "str",
        },
        required=("opportunity_id", "account_id", "created_at", "amount"),
        id_column="opportunity_id",
        date_column="created_at",
        ranges={"amount": (0.0, MAX_MONEY)},
        past_only=("created_at",),
    ),
    # marketing measurement (CONTRACT.md section 5)
    "spend": KindSpec(
        kind="spend",
        columns={
            "date": "date",
            "channel": "channel",
            "spend": "float",
            "currency": "str",
            "campaign": "str",
            "segment": "str",
            "impressions": "float",
            "clicks": "float",
        },
        required=("date", "channel", "spend"),
        id_column=None,
        date_column="date",
        ranges={
            "spend": (0.0, MAX_MONEY),
            "impressions": (0.0, MAX_MONEY),
            "clicks": (0.0, MAX_MONEY),
        },
        past_only=("date",),
        natural_key=("date", "channel", "campaign", "segment", "currency"),
    ),
    "leads": KindSpec(
        kind="leads",
        columns={
            "lead_id": "id",
            "account_id": "str",
            "email": "email",
            "created_at": "datetime",
            "mql_at": "datetime",
            "sql_at": "datetime",
            "opportunity_id": "id",
            "tracked_source": "str",
            "segment": "str",
        },
        required=("lead_id", "created_at"),
        id_column="lead_id",
        date_column="created_at",
        past_only=("created_at", "mql_at", "sql_at"),
    ),
    "experiments": KindSpec(
        kind="experiments",
        columns={
            "experiment_id": "id",
            "channel": "channel",
            "start": "date",
            "end": "date",
            "spend_delta": "float",
            "outcome": "str",
            "lift": "float",
            "lift_low": "float",
            "lift_high": "float",
            "design": "str",
        },
        required=("experiment_id", "channel", "start", "end", "spend_delta", "outcome", "lift"),
        id_column="experiment_id",
        date_column="start",
        ranges={
            "spend_delta": (-MAX_MONEY, MAX_MONEY),
            "lift": (-MAX_MONEY, MAX_MONEY),
            "lift_low": (-MAX_MONEY, MAX_MONEY),
            "lift_high": (-MAX_MONEY, MAX_MONEY),
        },
        past_only=("start", "end"),
    ),
}
# The order in which a set of files of several kinds is best ingested: accounts first
# (records of the other kinds resolve against them), leads before the opportunities
# they became, texts last.
INGEST_ORDER: tuple[str, ...] = (
    "accounts",
    "leads",
    "opportunities",
    "spend",
    "experiments",
    "reviews",
    "tickets",
    "surveys",
    "attribution",
)

# Lift-test outcomes and designs (CONTRACT.md section 5).
EXPERIMENT_OUTCOMES = ("pipeline", "opportunities", "leads")
EXPERIMENT_DESIGNS = ("geo", "holdout", "pulse")

# Score ranges of survey types (NPS 0-10, CSAT 1-5).
SURVEY_RANGES: dict[str, tuple[float, float]] = {"nps": (0.0, 10.0), "csat": (1.0, 5.0)}

# Active ISO 4217 currency codes (plus XAU-style funds are deliberately left out).
ISO_4217 = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD
    BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB
    EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK
    JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
    MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP
    SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD
    XOF XPF YER ZAR ZMW ZWL""".split()
)


def spec_for(kind: str) -> KindSpec:
    """The spec of ``kind``; an UnknownKindError (an InputError) names the valid kinds."""
    try:
        return KINDS[kind]
    except KeyError:
        raise UnknownKindError(f"unknown kind '{kind}': use one of {', '.join(KINDS)}") from None
