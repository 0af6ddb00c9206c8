"""Keyword rules, sentence splitting and the rules-only tagger."""

from __future__ import annotations

import pytest

from nlp.aspects import ASPECTS, AspectTagger
from nlp.aspects.rules import RULES, rule_tags
from nlp.aspects.sentences import chunk_sentences, split_sentences


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("Way too pricey for a team our size.", "pricing"),
        ("Overpriced compared to the alternatives.", "pricing"),
        ("We were double-charged and need a refund.", "billing"),
        ("Please resend the invoices with our PO number.", "billing"),
        ("The dashboard was down for three hours this morning.", "reliability"),
        ("It keeps crashing when I open a report.", "reliability"),
        ("Everything is sluggish since the update.", "performance"),
        ("The UI is clunky and confusing.", "usability"),
        ("Our onboarding manager made the implementation painless.", "onboarding"),
        ("The HubSpot connector stopped syncing deals.", "integrations"),
        ("We need SAML SSO and audit logs for SOC 2.", "security"),
        ("The support team never answered my ticket.", "support"),
        ("Any plans for a Gantt view? It is missing from the roadmap.", "features"),
    ],
)
def test_a_phrase_and_its_variants_tag_their_aspect(text: str, aspect: str) -> None:
    assert aspect in rule_tags(text)


def test_support_as_a_verb_is_not_the_support_team() -> None:
    assert "support" not in rule_tags("Does your product support importing from Xero?")
    assert "support" in rule_tags("Your support agents were quick and friendly.")


def test_rules_only_tagger_is_multi_label() -> None:
    texts = [
        "Support is great, but the price went up 40% and the app crashes daily.",
        "Thanks!",
    ]
    tags = AspectTagger(use_embeddings=False).tag(texts)
    first = set(tags.loc[tags["idx"] == 0, "aspect"])
    assert {"support", "pricing", "reliability"} <= first
    assert 1 not in set(tags["idx"])  # nothing to tag in a thank-you
    assert set(tags["method"]) == {"rules"}
    assert tags["confidence"].between(0, 1).all()


def test_empty_and_blank_texts_get_no_rows() -> None:
    tags = AspectTagger(use_embeddings=False).tag(["", "   ", None])  # type: ignore[list-item]
    assert list(tags.columns) == ["idx", "aspect", "confidence", "method"]
    assert tags.empty


def test_noisy_or_raises_confidence_when_rules_agree() -> None:
    one = rule_tags("Expensive.")["pricing"][0]
    two = rule_tags("Expensive, and the price per seat went up again.")["pricing"][0]
    assert two > one


def test_every_rule_names_a_taxonomy_aspect() -> None:
    assert {r.aspect for r in RULES} == set(ASPECTS)


def test_sentences_split_on_stops_and_review_sections() -> None:
    assert split_sentences("Pros: fast. Cons: expensive!") == ["Pros: fast.", "Cons: expensive!"]
    assert split_sentences("urgent!!! prod is down") == ["urgent!!! prod is down"]
    assert split_sentences("") == []


def test_long_texts_are_chunked_not_cut() -> None:
    sentences = [f"Sentence number {i} talks about the product at some length." for i in range(60)]
    chunks = chunk_sentences(sentences, max_chars=300)
    assert len(chunks) > 1
    assert all(len(c) <= 300 for c in chunks)
    assert " ".join(chunks) == " ".join(sentences)
