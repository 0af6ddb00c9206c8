"""Every table of the store, as SQLAlchemy Core tables on one MetaData.

The bottom layer owns the whole schema so that migrations have one home; upper layers
(nlp, risk, api) read and write their own tables through their own modules. Every
ingested record carries its provenance: ``source``, ``source_file``, ``source_line``,
``row_hash`` (of the original row: 128 bits of its sha256, ``ingest.rows.digest``) and
``ingest_run_id``.

Timestamps are stored as naive UTC datetimes; dates as DATE.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


def _provenance() -> list[Column]:
    return [
        Column("source_file", String(512), nullable=False),
        Column("source_line", Integer, nullable=False),
        Column("row_hash", String(64), nullable=False),
        Column("ingest_run_id", Integer, ForeignKey("ingest_runs.id"), nullable=True),
    ]


# ---------------------------------------------------------------- ingest
ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("source", String(64), nullable=False),
    Column("file_name", String(512), nullable=False),
    Column("file_hash", String(64), nullable=False),
    Column("mapping", String(128), nullable=True),
    Column("status", String(16), nullable=False, default="running"),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    Column("read", Integer, nullable=False, default=0),
    Column("inserted", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("unresolved", Integer, nullable=False, default=0),
    Column("seconds", Float, nullable=True),
    # "host:pid" of the process running the ingest: a later ingest of the same file marks
    # a 'running' run whose process is gone as 'interrupted' (ingest 0002)
    Column("owner", String(128), nullable=True),
)

accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(128), primary_key=True),
    Column("name", String(512), nullable=False),
    Column("name_norm", String(512), nullable=False, index=True),
    Column("domain", String(255), nullable=True, index=True),
    Column("segment", String(64), nullable=True),
    Column("arr", Float, nullable=False),
    Column("currency", String(3), nullable=False, default="USD"),
    Column("contract_start", Date, nullable=False),
    Column("churned_at", Date, nullable=True),
    Column("tracked_source", String(128), nullable=True),
    Column("source", String(64), nullable=False),
    *_provenance(),
    Column("updated_at", DateTime, nullable=False),
)

# Reviews, tickets, survey comments and attribution answers: every text Undertow reads.
documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # review | ticket | survey | attribution
    Column("source", String(64), nullable=False),  # g2, zendesk, typeform, hubspot, csv ...
    Column("source_id", String(256), nullable=False),  # review_id, ticket_id, response_id
    Column("account_id", String(128), nullable=True),
    Column("resolved_by", String(16), nullable=True),  # account_id | email | domain | name
    Column("created_at", DateTime, nullable=False),
    Column("title", Text, nullable=True),
    Column("text", Text, nullable=False),  # masked text, the one scored and served
    Column("text_hash", String(64), nullable=False, index=True),  # hash of `text` (32 hex)
    Column("content_hash", String(64), nullable=False),  # kind + account key + date + text
    Column("text_chars", Integer, nullable=False),  # length before any cut
    Column("truncated", Boolean, nullable=False, default=False),
    Column("rating", Float, nullable=True),  # review stars, ticket CSAT, survey score
    Column("attrs", JSON, nullable=True),  # kind-specific extras (status, priority, question ...)
    *_provenance(),
    # resolution keys as given (account_id, e-mail/reviewer domain, normalized company);
    # kept so that records ingested before their account resolve when it arrives
    Column("account_ref", JSON, nullable=True),
    # attribution answers: the hash (ingest.rows.digest) of the respondent's lower-cased
    # e-mail address, which links an answer to the lead of the same address (0009); the
    # address itself is not stored
    Column("email_hash", String(32), nullable=True),
    UniqueConstraint("kind", "source", "source_id", name="uq_documents_source_id"),
    UniqueConstraint("kind", "content_hash", name="uq_documents_content"),
    # every read by account also filters or orders by time (migration 0007)
    Index("ix_documents_account_created", "account_id", "created_at"),
)

surveys = Table(
    "surveys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("response_id", String(256), nullable=False),
    Column("account_id", String(128), nullable=True, index=True),
    Column("resolved_by", String(16), nullable=True),
    Column("submitted_at", DateTime, nullable=False),
    Column("survey_type", String(8), nullable=False),  # nps | csat
    Column("score", Float, nullable=False),
    Column("document_id", Integer, ForeignKey("documents.id"), nullable=True),
    *_provenance(),
    Column("account_ref", JSON, nullable=True),  # resolution keys, as in documents
    UniqueConstraint("source", "response_id", name="uq_surveys_response"),
)

opportunities = Table(
    "opportunities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("opportunity_id", String(256), nullable=False),
    # as given: a stored account's id, or a prospect's that no account has (yet)
    Column("account_id", String(128), nullable=False, index=True),
    Column("created_at", DateTime, nullable=False),
    Column("amount", Float, nullable=False),
    Column("stage", String(128), nullable=True),
    Column("closed_at", DateTime, nullable=True),
    Column("is_won", Boolean, nullable=True),
    Column("tracked_source", String(128), nullable=True),
    *_provenance(),
    # 'account_id' once account_id names a stored account; None while it is a prospect
    # (unresolved: it counts in every pipeline figure, and resolves when its account is
    # ingested) (0009)
    Column("resolved_by", String(16), nullable=True),
    UniqueConstraint("source", "opportunity_id", name="uq_opportunities_source_id"),
)

# ---------------------------------------------------------------- marketing (0009)
# Leads of the revenue funnel. Resolved like documents (account_id, then the e-mail's
# domain); the keys stay in account_ref so that a later accounts ingest resolves them.
leads = Table(
    "leads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("lead_id", String(256), nullable=False),
    Column("account_id", String(128), nullable=True, index=True),  # resolved account
    Column("resolved_by", String(16), nullable=True),
    Column("account_ref", JSON, nullable=True),
    Column("email_hash", String(32), nullable=True, index=True),  # as documents.email_hash
    Column("created_at", DateTime, nullable=False, index=True),
    Column("mql_at", DateTime, nullable=True),
    Column("sql_at", DateTime, nullable=True),
    Column("opportunity_id", String(256), nullable=True, index=True),
    Column("tracked_source", String(128), nullable=True),
    Column("segment", String(64), nullable=True),
    *_provenance(),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("source", "lead_id", name="uq_leads_source_id"),
)

# Marketing spend per day (or week, dated on a day of it) and channel. No id column: a
# figure is identified by date, channel, campaign, segment and currency, hashed into
# natural_key; a later ingest of another figure for that key corrects it in place.
spend = Table(
    "spend",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("natural_key", String(32), nullable=False),
    Column("date", Date, nullable=False, index=True),
    Column("channel", String(32), nullable=False),  # a taxonomy channel
    Column("channel_given", String(128), nullable=False),  # as written in the file
    Column("spend", Float, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("campaign", String(512), nullable=True),
    Column("segment", String(64), nullable=True),
    Column("impressions", Float, nullable=True),
    Column("clicks", Float, nullable=True),
    Column("source", String(64), nullable=False),
    *_provenance(),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("natural_key", name="uq_spend_natural_key"),
)

# Lift tests, as given (the contract's start and end are start_date and end_date here).
experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("experiment_id", String(256), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("channel_given", String(128), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("spend_delta", Float, nullable=False),
    Column("outcome", String(16), nullable=False),  # pipeline | opportunities | leads
    Column("lift", Float, nullable=False),
    Column("lift_low", Float, nullable=True),
    Column("lift_high", Float, nullable=True),
    Column("design", String(16), nullable=True),  # geo | holdout | pulse
    *_provenance(),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("source", "experiment_id", name="uq_experiments_source_id"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ingest_run_id", Integer, ForeignKey("ingest_runs.id"), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("source_file", String(512), nullable=False),
    Column("source_line", Integer, nullable=False),
    Column("raw", Text, nullable=False),  # the original row, as read (JSON of the cells)
    Column("row_hash", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime, nullable=False, index=True),  # retention (migration 0011)
    UniqueConstraint("kind", "source_file", "row_hash", "source_line", name="uq_quarantine_row"),
)

# ---------------------------------------------------------------- marketing (0012)
# One media-mix measurement: the fitted posterior (thinned), its diagnostics, the
# evidence it was calibrated with and the provenance of its inputs.
measurement_runs = Table(
    "measurement_runs",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("as_of", Date, nullable=False, index=True),
    Column("outcome", String(16), nullable=False),  # pipeline | opportunities | leads
    Column("created_at", DateTime, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # ok | not_converged
    Column("weeks", Integer, nullable=False),
    Column("first_week", Date, nullable=False),
    Column("last_week", Date, nullable=False),
    Column("config", JSON, nullable=False),
    Column("diagnostics", JSON, nullable=False),
    Column("evidence", JSON, nullable=False),  # answers' shares, lift tests used / unused
    Column("inputs", JSON, nullable=False),  # provenance: spend rows, experiments, answers
    Column("posterior", JSON, nullable=False),  # marketing.media_posterior.MediaPosterior
    Column("result", JSON, nullable=False),  # channel impact over the modelled weeks
)

# Every pipeline forecast: its assumptions, its weekly quantiles, and (ledger) how each
# week turned out once a later forecast could see it.
forecast_runs = Table(
    "forecast_runs",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("measurement_run_id", String(36), ForeignKey("measurement_runs.run_id"),
           nullable=False),  # fmt: skip
    Column("name", String(128), nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("as_of", Date, nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("weeks", Integer, nullable=False),
    Column("assumptions", JSON, nullable=False),
    Column("definitions_version", String(32), nullable=True),
    Column("result", JSON, nullable=False),
)

forecast_weeks = Table(
    "forecast_weeks",
    metadata,
    Column("run_id", String(36), ForeignKey("forecast_runs.run_id"), primary_key=True),
    Column("week", Date, primary_key=True),
    Column("p10", Float, nullable=False),
    Column("p50", Float, nullable=False),
    Column("p90", Float, nullable=False),
    Column("actual", Float, nullable=True),  # None until a later run can judge it
    Column("judged_at", DateTime, nullable=True),
)


# ---------------------------------------------------------------- nlp
# Keyed on the text's hash and the model version: an unchanged text is never scored twice.
sentiment_scores = Table(
    "sentiment_scores",
    metadata,
    Column("text_hash", String(64), primary_key=True),
    Column("model_version", String(64), primary_key=True),
    Column("p_negative", Float, nullable=False),
    Column("p_neutral", Float, nullable=False),
    Column("p_positive", Float, nullable=False),
    Column("sentiment", Float, nullable=False),  # p_positive - p_negative
    Column("n_chunks", Integer, nullable=False, default=1),
    Column("scored_at", DateTime, nullable=False),
)

aspect_scores = Table(
    "aspect_scores",
    metadata,
    Column("text_hash", String(64), primary_key=True),
    Column("model_version", String(64), primary_key=True),
    Column("aspect", String(32), primary_key=True),
    Column("confidence", Float, nullable=False),
    Column("sentiment", Float, nullable=True),
    Column("method", String(32), nullable=False),
)

channel_labels = Table(
    "channel_labels",
    metadata,
    Column("document_id", Integer, ForeignKey("documents.id"), primary_key=True),
    Column("model_version", String(64), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("weight", Float, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("method", String(64), nullable=False),  # the rule or model that decided
)

model_registry = Table(
    "model_registry",
    metadata,
    Column("model_version", String(64), primary_key=True),
    Column("task", String(32), nullable=False),  # sentiment | aspects | channels
    Column("created_at", DateTime, nullable=False),
    Column("card", JSON, nullable=True),
    Column("metrics", JSON, nullable=True),
)

# ---------------------------------------------------------------- risk
risk_runs = Table(
    "risk_runs",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column("as_of", Date, nullable=False, index=True),
    Column("created_at", DateTime, nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("sentiment_model_version", String(64), nullable=True),
    Column("status", String(16), nullable=False),
    Column("n_accounts", Integer, nullable=False, default=0),
    Column("params", JSON, nullable=True),  # discount rate, horizon, features ...
    Column("metrics", JSON, nullable=True),  # back-test: c_index, integrated_brier, auc ...
)

risk_predictions = Table(
    "risk_predictions",
    metadata,
    Column("run_id", String(36), ForeignKey("risk_runs.run_id"), primary_key=True),
    Column("account_id", String(128), primary_key=True),
    Column("arr", Float, nullable=False),
    Column("segment", String(64), nullable=True),
    Column("sentiment", Float, nullable=True),
    Column("sentiment_trend", Float, nullable=True),
    Column("p_churn_90d", Float, nullable=False),
    Column("p_churn_90d_low", Float, nullable=False),
    Column("p_churn_90d_high", Float, nullable=False),
    Column("p_churn_180d", Float, nullable=False),
    Column("p_churn_180d_low", Float, nullable=False),
    Column("p_churn_180d_high", Float, nullable=False),
    Column("p_churn_365d", Float, nullable=False),
    Column("p_churn_365d_low", Float, nullable=False),
    Column("p_churn_365d_high", Float, nullable=False),
    Column("expected_ltv", Float, nullable=False),
    Column("reason", Text, nullable=True),
    Column("drivers", JSON, nullable=True),  # [{feature, value, contribution, text}]
    # the sales lists (migration 0010): their sort keys, filters and the expansion model
    Column("revenue_at_risk_90d", Float, nullable=True),
    Column("texts_90d", Integer, nullable=True),
    Column("trend_weight", Float, nullable=True),
    Column("p_expand_180d", Float, nullable=True),
    Column("expansion_reason", Text, nullable=True),
    Column("expansion_drivers", JSON, nullable=True),
    Index("ix_risk_predictions_run_p90", "run_id", "p_churn_90d", "account_id"),
    Index("ix_risk_predictions_run_rar90", "run_id", "revenue_at_risk_90d", "account_id"),
    Index("ix_risk_predictions_run_expand", "run_id", "p_expand_180d", "account_id"),
)

# The monthly trajectory a run was built from (what the account view and sparklines show).
risk_trajectories = Table(
    "risk_trajectories",
    metadata,
    Column("run_id", String(36), ForeignKey("risk_runs.run_id"), primary_key=True),
    Column("account_id", String(128), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("sentiment", Float, nullable=True),
    Column("n_texts", Integer, nullable=False, default=0),
    Column("features", JSON, nullable=True),
)

# Every fit's forecasts; later fits score them against what happened.
forecast_ledger = Table(
    "forecast_ledger",
    metadata,
    Column("run_id", String(36), ForeignKey("risk_runs.run_id"), primary_key=True),
    Column("account_id", String(128), primary_key=True),
    Column("horizon_days", Integer, primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("due", Date, nullable=False),
    Column("p_churn", Float, nullable=False),
    Column("outcome", Boolean, nullable=True),  # None until a later fit can judge it
    Column("judged_in_run", String(36), nullable=True),
)

scenarios = Table(
    "scenarios",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(36), ForeignKey("risk_runs.run_id"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("assumptions", JSON, nullable=False),
    Column("result", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

# ---------------------------------------------------------------- api
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", String(32), nullable=False, unique=True),  # public prefix of the key
    Column("role", String(16), nullable=False),
    Column("name", String(128), nullable=True),
    Column("salt", String(64), nullable=False),
    Column("key_hash", String(128), nullable=False),  # scrypt(secret, salt)
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
    Column("last_used_at", DateTime, nullable=True),
)

# The sales lists of the HTTP layer walk one snapshot ordered by their sort key (keyset
# pagination): an index range scan instead of a sort of the whole snapshot. This one is
# sort=trend (migration 0005); the others are declared with the table (0010).
Index(
    "ix_risk_predictions_run_trend",
    risk_predictions.c.run_id,
    risk_predictions.c.sentiment_trend,
    risk_predictions.c.account_id,
)

# Signed-in UI sessions (migration 0011): the cookie carries a random session id, this
# table its sha256. Every /ui request checks the row, so signing out ends the session on
# every worker, also for a copy of the cookie. Owned by the api area (``api.ui.session``).
ui_sessions = Table(
    "ui_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("key_id", String(32), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False, index=True),
    Column("revoked_at", DateTime, nullable=True),
)
