"""The channel taxonomy as part of the canonical schema: one definition in ingest, the
rule for spend and experiment channels, and every kind reachable from every entry."""

from __future__ import annotations

import pytest

import nlp.channels
import nlp.channels.taxonomy as nlp_taxonomy
from ingest import taxonomy
from ingest.records import INGEST_ORDER, KINDS


def test_nlp_reads_the_taxonomy_of_ingest() -> None:
    assert nlp_taxonomy.CHANNELS is taxonomy.CHANNELS
    assert nlp.channels.DARK_CHANNELS is taxonomy.DARK_CHANNELS
    assert nlp.channels.map_tracked_source is taxonomy.map_tracked_source
    assert nlp_taxonomy.TRACKED_TO_CHANNEL is taxonomy.TRACKED_TO_CHANNEL


@pytest.mark.parametrize(
    ("given", "channel"),
    [
        ("paid_ads", "paid_ads"),
        ("Paid Ads", "paid_ads"),
        ("paid-search", "paid_ads"),
        ("PPC", "paid_ads"),
        ("Google Ads", "paid_ads"),
        ("paid_social", "paid_ads"),
        ("Webinar", "event"),
        ("newsletter", "content"),
        ("G2", "review_site"),
        ("podcast", "podcast"),
        ("search", "search"),
        ("organic_search", "search"),
        ("other", "other"),
        # names no channel, or could name two
        ("direct", None),
        ("unknown", None),
        ("offline", None),
        ("linkedin", None),
        ("google", None),
        ("organic", None),
        ("tv", None),
        ("", None),
    ],
)
def test_spend_channels_accept_only_unambiguous_names(given: str, channel: str | None) -> None:
    assert taxonomy.spend_channel(given) == channel


def test_every_unambiguous_tracked_alias_is_a_spend_channel() -> None:
    for alias, channel in taxonomy.TRACKED_TO_CHANNEL.items():
        expected = (
            None if channel == "other" and alias != "other" or alias in taxonomy.SPEND_AMBIGUOUS
            else channel
        )  # fmt: skip
        assert taxonomy.spend_channel(alias) == expected, alias


def test_every_kind_is_ingested_by_every_entry() -> None:
    from api.routers.ingest import Kind

    assert sorted(INGEST_ORDER) == sorted(KINDS)
    assert INGEST_ORDER.index("accounts") == 0
    assert INGEST_ORDER.index("leads") < INGEST_ORDER.index("opportunities")
    assert {k.value for k in Kind} == set(KINDS)
