"""The channel taxonomy of CONTRACT.md section 4, and how tracked sources map onto it.

Part of the canonical schema: ``spend.channel`` and ``experiments.channel`` are validated
against it at ingest, and every layer above (channel classification in ``nlp``, the dark
funnel and the revenue funnel in ``marketing``) reads these facts from here.

Self-reported answers and tracked first-touch sources share one taxonomy of twelve
channels. The first five are *dark*: buyers report them, attribution tracking cannot
see them.

Tracked-source mapping (``map_tracked_source``), documented here because finance reads it:

=================  ===============  ==================================================
tracked value      channel          why
=================  ===============  ==================================================
direct             other            "direct" means tracking saw no source at all
organic_search     search
paid_search        paid_ads         a paid click, whatever the engine
paid_social        paid_ads         a paid click, whatever the network
organic_social     social           an organic post the tracker happened to see
referral           peer_referral    CRM lead source "referral" = a person referred them
review_site        review_site
event / webinar    event
email / content    content          newsletters and nurture e-mail are owned content
partner            partner
(empty / unknown)  other
=================  ===============  ==================================================

Common vendor spellings ("Organic Search", "PPC", "cpc", "Google Ads", "LinkedIn",
"G2", "Trade Show", ...) are normalized first; any other value is ``other``.

Channels of spend and lift tests (``spend_channel``): money is spent on a taxonomy
channel, so a value must name one ("Paid Ads" and "paid-ads" normalize to ``paid_ads``).
A tracked-source alias is accepted too when it names one channel without doubt
(``paid_search``, ``ppc``, ``google_ads``, ``webinar``, ``newsletter``, ``g2`` ...). Refused:
aliases that map to ``other`` (``direct``, ``none``, ``unknown``, ``offline``: they name no
channel) and brand or engine names that money could buy on either side of the
paid/organic line (``SPEND_AMBIGUOUS``: ``linkedin`` is LinkedIn Ads or an organic post,
``google`` is Google Ads or organic search). Refused values go to quarantine with the
reason; ``other`` itself is accepted.
"""

from __future__ import annotations

import re

CHANNELS: tuple[str, ...] = (
    "peer_referral",
    "community",
    "podcast",
    "ai_assistant",
    "social",
    "search",
    "review_site",
    "event",
    "content",
    "paid_ads",
    "partner",
    "other",
)
DARK_CHANNELS: frozenset[str] = frozenset(CHANNELS[:5])

TRACKED_SOURCES: tuple[str, ...] = (
    "direct",
    "organic_search",
    "paid_search",
    "paid_social",
    "organic_social",
    "referral",
    "review_site",
    "event",
    "webinar",
    "email",
    "partner",
    "content",
)

TRACKED_TO_CHANNEL: dict[str, str] = {
    "direct": "other",
    "none": "other",
    "unknown": "other",
    "organic_search": "search",
    "organic": "search",
    "seo": "search",
    "search": "search",
    "google": "search",
    "bing": "search",
    "paid_search": "paid_ads",
    "ppc": "paid_ads",
    "cpc": "paid_ads",
    "sem": "paid_ads",
    "google_ads": "paid_ads",
    "adwords": "paid_ads",
    "paid": "paid_ads",
    "paid_ads": "paid_ads",
    "paid_social": "paid_ads",
    "display": "paid_ads",
    "retargeting": "paid_ads",
    "organic_social": "social",
    "social": "social",
    "social_media": "social",
    "linkedin": "social",
    "twitter": "social",
    "youtube": "social",
    "referral": "peer_referral",
    "referrals": "peer_referral",
    "word_of_mouth": "peer_referral",
    "customer_referral": "peer_referral",
    "peer_referral": "peer_referral",
    "review_site": "review_site",
    "review_sites": "review_site",
    "reviews": "review_site",
    "g2": "review_site",
    "capterra": "review_site",
    "trustradius": "review_site",
    "event": "event",
    "events": "event",
    "webinar": "event",
    "trade_show": "event",
    "tradeshow": "event",
    "conference": "event",
    "email": "content",
    "email_marketing": "content",
    "newsletter": "content",
    "content": "content",
    "blog": "content",
    "partner": "partner",
    "partners": "partner",
    "reseller": "partner",
    "affiliate": "partner",
    "marketplace": "partner",
    "community": "community",
    "podcast": "podcast",
    "ai_assistant": "ai_assistant",
    "other": "other",
    "offline_sources": "other",
    "offline": "other",
}

# Tracked-source aliases that do not say which channel money bought (see the docstring).
SPEND_AMBIGUOUS: frozenset[str] = frozenset(
    {"google", "bing", "linkedin", "twitter", "youtube", "organic"}
)

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize_source(value: object) -> str:
    """Lower-case, non-alphanumerics folded to single underscores ("Organic Search" ->
    "organic_search")."""
    if value is None:
        return ""
    return _NON_ALNUM.sub("_", str(value).strip().lower()).strip("_")


def map_tracked_source(value: object) -> str:
    """The taxonomy channel a tracked first-touch source credits.

    Accepts the tracked-source vocabulary of the demo world and CRM exports (see the
    module docstring for the table); empty, missing or unknown values are ``other``.
    """
    key = normalize_source(value)
    if not key or key == "nan":
        return "other"
    return TRACKED_TO_CHANNEL.get(key, "other")


def is_dark(channel: str) -> bool:
    """True for the five channels tracking cannot see."""
    return channel in DARK_CHANNELS


def spend_channel(value: object) -> str | None:
    """The taxonomy channel that spend (or a lift test) on ``value`` is for; None when
    ``value`` names no channel or could name several (module docstring)."""
    key = normalize_source(value)
    if key in CHANNELS:
        return key
    if not key or key in SPEND_AMBIGUOUS:
        return None
    channel = TRACKED_TO_CHANNEL.get(key)
    return channel if channel not in (None, "other") else None


def channel_problem(value: str) -> str:
    """Why ``value`` is refused as a spend or experiment channel (one line)."""
    key = normalize_source(value)
    if key in SPEND_AMBIGUOUS:
        paid_or_not = TRACKED_TO_CHANNEL[key]
        return (
            f"'channel' {value!r} is ambiguous: name the channel (paid_ads for its ads, "
            f"{paid_or_not} for organic)"
        )
    return f"'channel' {value!r} is not a channel of the taxonomy ({', '.join(CHANNELS)})"
