"""The rule layer: brands, misspellings, several channels, don't-know, ads, negation."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.channels import CHANNELS, DARK_CHANNELS, classify_answers, map_tracked_source
from nlp.channels.head import ChannelHead
from nlp.channels.rules import classify_rules, correct_tokens, normalize


@pytest.mark.parametrize(
    ("answer", "channel"),
    [
        ("ChatGPT", "ai_assistant"),
        ("chatgtp", "ai_assistant"),
        ("Perplexity.ai", "ai_assistant"),
        ("asked Claude", "ai_assistant"),
        ("G2.com", "review_site"),
        ("capeterra", "review_site"),
        ("TrustRadius", "review_site"),
        ("r/sysadmin", "community"),
        ("Slack group", "community"),
        ("linkdin", "social"),
        ("X", "social"),
        ("podcats", "podcast"),
        ("Lenny's Podcast", "podcast"),
        ("googled you", "search"),
        ("Dreamforce booth", "event"),
        ("your newsletter", "content"),
        ("our consultant", "partner"),
        ("a freind", "peer_referral"),
        ("bouche à oreille", "peer_referral"),
    ],
)
def test_brand_and_misspelling_rules(answer: str, channel: str) -> None:
    r = classify_rules(answer)
    assert r.decided
    assert r.weights == {channel: 1.0}, (answer, r)
    assert r.method.startswith("rule:")


@pytest.mark.parametrize(
    "answer",
    [
        "RFP proces",
        "vendor evaulation run by IT",
        "procurement shortlist",
        "formal tender",
        "part of an acquisition",
        "came with the company I acquired",
        "it was aready here when I joined",
    ],
)
def test_formal_purchases_and_inherited_tools_are_other_not_partner(answer: str) -> None:
    # the embedding head read these as partner or community: an enterprise's RFP
    # answers inflated the partner channel's self-reported share of the pipeline
    r = classify_rules(answer)
    assert r.decided and r.weights == {"other": 1.0}, (answer, r)


def test_a_channel_named_beside_a_formal_process_is_that_channel() -> None:
    assert classify_rules("RFP and then a demo at your booth").weights == {"event": 1.0}
    assert classify_rules("Acquired podcast").weights == {"podcast": 1.0}


def test_ads_on_a_platform_are_paid_not_the_platform() -> None:
    assert classify_rules("saw an ad on LinkedIn").weights == {"paid_ads": 1.0}
    assert classify_rules("Google ads").weights == {"paid_ads": 1.0}
    # an ad read on a podcast is the podcast
    assert classify_rules("an ad on a podcast I listen to").weights == {"podcast": 1.0}


def test_several_channels_keep_all_with_weights_summing_to_one() -> None:
    r = classify_rules("A friend told me, then I read reviews on G2 and asked ChatGPT")
    assert set(r.weights) == {"peer_referral", "review_site", "ai_assistant"}
    assert sum(r.weights.values()) == pytest.approx(1.0)


def test_negated_channel_is_dropped() -> None:
    assert classify_rules("not from google, a colleague").weights == {"peer_referral": 1.0}


@pytest.mark.parametrize(
    "answer", ["", "   ", "?", "-", "don't remember", "Not sure", "n/a", "no idea"]
)
def test_empty_and_dont_know_are_other_with_low_confidence(answer: str) -> None:
    r = classify_rules(answer)
    assert r.decided and r.weights == {"other": 1.0}
    assert r.confidence <= 0.3


def test_dont_know_with_a_channel_named_is_that_channel() -> None:
    assert classify_rules("not sure, maybe Google?").weights == {"search": 1.0}


def test_normalize_and_correct() -> None:
    assert normalize("Didn't see G2.com!") == "didnt see g2 com!"
    fixed, changed = correct_tokens("saw it on linkdin")
    assert changed and fixed.endswith("linkedin")
    fixed, changed = correct_tokens("the black stack")  # English words stay as written
    assert not changed


def test_taxonomy_and_tracked_mapping() -> None:
    assert len(CHANNELS) == 12 and set(CHANNELS[:5]) == DARK_CHANNELS
    assert map_tracked_source("Organic Search") == "search"
    assert map_tracked_source("paid_social") == "paid_ads"
    assert map_tracked_source("referral") == "peer_referral"
    assert map_tracked_source("webinar") == "event"
    assert map_tracked_source("direct") == "other"
    assert map_tracked_source(None) == "other"
    assert map_tracked_source("something new") == "other"


class _StubEncoder:
    """Embeds every text onto one axis: the head then decides by its weights alone."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        x = np.zeros((len(texts), 4), dtype=np.float32)
        x[:, 0] = 1.0
        return x


def _stub_head(favourite: str) -> ChannelHead:
    coef = np.zeros((len(CHANNELS), 4), dtype=np.float32)
    coef[CHANNELS.index(favourite), 0] = 10.0
    protos = np.zeros((len(CHANNELS), 4), dtype=np.float32)
    protos[CHANNELS.index(favourite), 0] = 1.0
    return ChannelHead(tuple(CHANNELS), coef, np.zeros(len(CHANNELS)), protos, "channels-stub", {})


def test_head_settles_only_what_rules_cannot_in_one_batch() -> None:
    enc = _StubEncoder()
    texts = ["ChatGPT", "a leaderboard of the best tools", "a leaderboard of the best tools", ""]
    out = classify_answers(texts, encoder=enc, head=_stub_head("review_site"))
    assert list(out.columns) == ["idx", "channel", "weight", "confidence", "method"]
    assert len(enc.calls) == 1 and len(enc.calls[0]) == 1  # unique undecided texts, one batch
    by_idx = {int(r.idx): r for r in out.itertuples()}
    assert by_idx[0].channel == "ai_assistant" and by_idx[0].method.startswith("rule:")
    assert by_idx[1].channel == "review_site" and by_idx[1].method == "head:channels-stub"
    assert by_idx[3].channel == "other" and by_idx[3].confidence <= 0.3
    assert out.groupby("idx")["weight"].sum().round(6).eq(1.0).all()


def test_head_abstains_to_other_when_unsure() -> None:
    flat = ChannelHead(
        tuple(CHANNELS),
        np.zeros((len(CHANNELS), 4), dtype=np.float32),
        np.zeros(len(CHANNELS)),
        np.zeros((len(CHANNELS), 4), dtype=np.float32),
        "channels-flat",
        {},
    )
    out = classify_answers(["a leaderboard of the best tools"], encoder=_StubEncoder(), head=flat)
    assert out.iloc[0]["channel"] == "other" and out.iloc[0]["method"] == "head:abstain"
