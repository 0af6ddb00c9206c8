"""'How did you hear about us?': first touches, answers, and what tracking recorded.

Each account has a latent first-touch channel (taxonomy of CONTRACT.md section 4) drawn
from a segment-specific mix. A share of accounts answers the survey; the response rate
differs by segment (small companies answer more often), and so does the channel mix, so
a dark-funnel estimate that ignores non-response is biased. Answers are free text in
varied styles: short, long, lower case, typos, slang, two channels in one answer,
"don't remember", a few non-English fragments. The tracked source is what a tracking
stack would have recorded for the same first touch: dark channels mostly land on
``direct``, ``organic_search`` or ``referral``.
"""

from __future__ import annotations

import numpy as np

from ingest.taxonomy import CHANNELS  # the taxonomy, in its order

QUESTION = "How did you hear about us?"

# first-touch mix per segment, in CHANNELS order
MIX = {
    "smb": (0.13, 0.10, 0.05, 0.12, 0.08, 0.16, 0.10, 0.03, 0.07, 0.10, 0.03, 0.03),
    "mid_market": (0.16, 0.07, 0.06, 0.09, 0.06, 0.12, 0.10, 0.09, 0.08, 0.07, 0.07, 0.03),
    "enterprise": (0.20, 0.04, 0.06, 0.05, 0.03, 0.07, 0.08, 0.18, 0.08, 0.04, 0.15, 0.02),
}
RESPONSE_RATE = {"smb": 0.74, "mid_market": 0.62, "enterprise": 0.46}
MULTI_RATE = 0.13  # answers naming a second channel
FORGOT_RATE = 0.06  # "don't remember" answers

# what tracking records for each true first touch: (tracked_source, probability)
TRACKED: dict[str, tuple[tuple[str, float], ...]] = {
    "peer_referral": (("direct", 0.62), ("organic_search", 0.23), ("referral", 0.15)),
    "community": (("direct", 0.45), ("referral", 0.35), ("organic_search", 0.20)),
    "podcast": (("direct", 0.60), ("organic_search", 0.40)),
    "ai_assistant": (("direct", 0.50), ("organic_search", 0.30), ("referral", 0.20)),
    "social": (("organic_social", 0.45), ("direct", 0.35), ("referral", 0.20)),
    "search": (("organic_search", 0.82), ("paid_search", 0.10), ("direct", 0.08)),
    "review_site": (("review_site", 0.55), ("referral", 0.35), ("direct", 0.10)),
    "event": (("event", 0.55), ("webinar", 0.30), ("direct", 0.15)),
    "content": (("content", 0.40), ("organic_search", 0.30), ("email", 0.30)),
    "paid_ads": (("paid_search", 0.55), ("paid_social", 0.40), ("direct", 0.05)),
    "partner": (("partner", 0.70), ("referral", 0.30)),
    "other": (("direct", 0.70), ("email", 0.30)),
}

_SLOTS: dict[str, tuple[str, ...]] = {
    "friend": ("a friend", "a colleague", "my old boss", "a former coworker", "our CFO",
               "someone in my network", "a buddy at another startup", "my manager",
               "a peer at a sister company", "an ex-colleague"),
    "community": ("a Slack community", "the RevOps Slack", "Reddit", "r/sysadmin",
                  "a Discord server", "an online forum", "the ops community group",
                  "a subreddit", "a founders Slack group", "the Product Hunt forum"),
    "podcast": ("a podcast", "the SaaS Breakfast podcast", "a B2B growth podcast",
                "an episode of Ops Talk", "a finance podcast", "a podcast I listen to on my commute"),
    "ai": ("ChatGPT", "chatgpt", "Perplexity", "Claude", "Gemini", "chat gpt", "Copilot",
           "an AI chatbot", "GPT"),
    "social": ("LinkedIn", "linkedin", "Twitter", "X", "YouTube", "a LinkedIn post",
               "Instagram", "a YouTube video", "TikTok"),
    "search": ("Google", "google", "Bing", "a web search", "googling", "DuckDuckGo"),
    "review": ("G2", "g2", "Capterra", "TrustRadius", "G2 crowd", "capterra", "a review site",
               "Gartner Peer Insights"),
    "event": ("a conference", "SaaStr", "a trade show", "a webinar", "a meetup",
              "Dreamforce", "your booth at a conference", "a virtual summit", "a local meetup"),
    "content": ("your blog", "a blog post", "your newsletter", "an ebook", "a whitepaper",
                "a case study", "a guide you published", "your benchmark report"),
    "ads": ("an ad", "a Google ad", "a LinkedIn ad", "a sponsored post", "an ad on Facebook",
            "a banner ad", "a sponsored result"),
    "partner": ("our consultant", "our implementation partner", "the reseller",
                "our agency", "a Salesforce partner", "our IT service provider",
                "the marketplace listing of our CRM"),
}  # fmt: skip

# templates per channel; {x} is the channel's slot
TEMPLATES: dict[str, tuple[str, ...]] = {
    "peer_referral": ("{x} recommended you", "{x} told me about it", "word of mouth",
                      "recommendation from {x}", "{x} uses it and swore by it",
                      "referred by {x}", "heard about it from {x} over lunch",
                      "{x} said we should try it", "a friend", "my coworker showed me"),
    "community": ("{x}", "someone mentioned it in {x}", "saw a thread on {x}",
                  "people in {x} kept talking about you", "from {x} discussions",
                  "community recommendation ({x})", "a thread on reddit"),
    "podcast": ("{x}", "heard an ad read on {x}", "your founder was on {x}",
                "listened to {x}", "podcast", "heard you on {x}"),
    "ai_assistant": ("{x}", "asked {x} for tools like this", "{x} recommended it",
                     "{x} suggested you", "I asked {x} what to use", "AI chatbot answer",
                     "{x} told me"),
    "social": ("{x}", "saw a post on {x}", "{x} (organic, not an ad)", "someone shared it on {x}",
               "scrolling {x}", "a {x} thread"),
    "search": ("{x}", "searched {x}", "found you on {x}", "{x} search", "just searching online",
               "googled it", "web search"),
    "review_site": ("{x}", "read reviews on {x}", "compared tools on {x}", "{x} reviews",
                    "you were top rated on {x}", "found you on {x}"),
    "event": ("{x}", "met your team at {x}", "attended {x}", "at {x} last year",
              "saw a demo at {x}", "your talk at {x}"),
    "content": ("{x}", "read {x}", "downloaded {x}", "subscribed to {x}",
                "came across {x}", "found {x} useful and signed up"),
    "paid_ads": ("{x}", "clicked {x}", "saw {x}", "I think it was {x}",
                 "{x} kept following me around"),
    "partner": ("{x}", "{x} recommended you", "through {x}", "{x} set it up for us",
                "introduced by {x}"),
    "other": ("RFP process", "procurement shortlist", "it was already here when I joined",
              "part of an acquisition", "n/a", "vendor evaluation run by IT",
              "came with the company I acquired", "formal tender"),
}  # fmt: skip
_SLOT_OF = {
    "peer_referral": "friend", "community": "community", "podcast": "podcast",
    "ai_assistant": "ai", "social": "social", "search": "search", "review_site": "review",
    "event": "event", "content": "content", "paid_ads": "ads", "partner": "partner",
}  # fmt: skip

FORGOT = ("don't remember", "dont remember", "not sure", "no idea", "can't recall",
          "idk", "?", "no clue honestly", "don't know", "hmm not sure tbh",
          "ne me souviens pas", "keine Ahnung", "no me acuerdo")  # fmt: skip
FOREIGN = {
    "peer_referral": ("un amigo me lo recomendó", "ein Kollege hat es empfohlen",
                      "recommandé par un collègue", "indicação de um amigo"),
    "search": ("über Google gefunden", "buscando en google", "recherche Google"),
    "event": ("en una conferencia", "auf einer Messe", "lors d'un salon"),
    "social": ("vu sur LinkedIn", "auf LinkedIn gesehen"),
    "ai_assistant": ("ChatGPT me lo sugirió", "ChatGPT hat es vorgeschlagen"),
    "review_site": ("reseñas en Capterra", "Bewertungen auf G2"),
    "community": ("in einer Slack-Community", "dans un forum"),
}  # fmt: skip
JOINERS = (" and then ", ", also ", " + ", " / ", ". later ", " and ", " then ")
PREFIXES = ("", "", "", "", "I think ", "probably ", "honestly ", "pretty sure ", "hmm, ",
            "mainly ", "originally ")  # fmt: skip
SUFFIXES = ("", "", "", "", ".", "!", " lol", " :)", " I think", " a while ago", " last year")


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(0, len(options)))]


def _typo(rng: np.random.Generator, text: str) -> str:
    """One keyboard slip: a dropped, doubled or swapped letter."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 4:
        return text
    i = letters[int(rng.integers(1, len(letters) - 1))]
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]


def _phrase(rng: np.random.Generator, channel: str) -> str:
    if channel in FOREIGN and rng.random() < 0.05:
        return _pick(rng, FOREIGN[channel])
    template = _pick(rng, TEMPLATES[channel])
    if "{x}" in template:
        template = template.replace("{x}", _pick(rng, _SLOTS[_SLOT_OF[channel]]))
    return template


def write_answer(rng: np.random.Generator, channels: list[str]) -> str:
    """A free-text answer naming ``channels`` (empty list: the buyer does not remember)."""
    if not channels:
        text = _pick(rng, FORGOT)
    else:
        text = _pick(rng, JOINERS).join(_phrase(rng, c) for c in channels)
        text = _pick(rng, PREFIXES) + text + _pick(rng, SUFFIXES)
    style = rng.random()
    if style < 0.25:
        text = text.lower()
    elif style < 0.55:
        text = text[:1].upper() + text[1:]
    if rng.random() < 0.15:
        text = _typo(rng, text)
    return text.strip()


def first_touch(rng: np.random.Generator, segment: str) -> str:
    return CHANNELS[int(rng.choice(len(CHANNELS), p=MIX[segment]))]


def tracked_source(rng: np.random.Generator, channel: str) -> str:
    options = TRACKED[channel]
    probs = np.array([p for _, p in options])
    return options[int(rng.choice(len(options), p=probs / probs.sum()))][0]


def reported(rng: np.random.Generator, channel: str, segment: str) -> list[str]:
    """Channels a responder names: usually the true first touch, sometimes two, sometimes
    none remembered (reported as 'other' in truth)."""
    if rng.random() < FORGOT_RATE:
        return []
    out = [channel]
    if rng.random() < MULTI_RATE:
        second = first_touch(rng, segment)
        if second not in out and second != "other":
            out.append(second)
    return out
