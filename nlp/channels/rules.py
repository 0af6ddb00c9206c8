"""Rule layer of the channel classifier: settles most answers without the encoder.

Steps for one answer:

1. ``normalize``: lower case, accents stripped, apostrophes dropped, other punctuation
   to spaces ("Didn't see G2.com!" -> "didnt see g2 com").
2. ``correct_tokens``: a token that is no English word (the encoder's WordPiece
   vocabulary decides) and lies within Damerau-Levenshtein distance 1 (2 for targets of
   8+ letters) of a lexicon word with the same first letter is read as that word
   ("linkdin", "podcats", "colleage", "capeterra").
3. The answer is cut into clauses (at punctuation and at "then", "and", "after",
   "also", ...). In each clause the lexicon rules (``lexicon.RULES``, in order) match;
   a match consumes its words so later, broader rules cannot re-read them. A match
   preceded within three words by a negation ("not", "never", "wasn't") is dropped.
4. Clause-level readings: an ad on a platform is ``paid_ads`` (not the platform's
   channel) unless the ad ran on a podcast or at an event; a review-site report is the
   review site; a podcast watched on YouTube is the podcast.
5. Weak cues ("searched", "reviews", "recommended") count only when the whole answer
   has no strong cue; then they are hints for the embedding head, not a verdict. A named non-taxonomy route ("a sales rep reached out") is
   ``other``, dropped when a channel is also named.
6. No channel at all: an "I don't remember" answer is ``other`` with confidence 0.3;
   anything else is left to the embedding head (``RuleResult.decided`` False).

Several channels in one answer keep all of them with equal weights summing to 1.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from nlp.channels.lexicon import FUZZY_TARGETS, RULES, STRONG, UNKNOWN_PATTERN

CONFIDENCE_STRONG = 0.95
CONFIDENCE_FUZZY = 0.85
CONFIDENCE_WEAK = 0.7
CONFIDENCE_UNKNOWN = 0.3
CONFIDENCE_EMPTY = 0.2

_CLAUSE_SPLIT = re.compile(
    r"[,;.!?/+&|()\[\]\n\-]+|\b(?:and then|then|and|after|afterwards|before|also|plus|"
    r"as well as|later|but|or|et|und|ou|oder|puis|luego|dann|despues)\b"
)
_NEGATION = re.compile(
    r"\b(not|no|never|didnt|wasnt|werent|nor|neither|without|instead of|rather than|nicht|"
    r"kein|pas|nunca)\b"
)
_UNKNOWN = re.compile(rf"\b{UNKNOWN_PATTERN}\b")
_COMPILED = [
    (name, ch, strength, re.compile(rf"\b(?:{pat})\b")) for name, ch, strength, pat in RULES
]
# Strong rules consume their words before any weak rule looks ("asked chat" is the AI).
_ORDERED = [r for r in _COMPILED if r[2] == STRONG] + [r for r in _COMPILED if r[2] != STRONG]


@dataclass
class RuleResult:
    """What the rules concluded about one answer."""

    weights: dict[str, float] = field(default_factory=dict)
    confidence: float = 0.0
    method: str = ""
    decided: bool = False
    normalized: str = ""
    hints: tuple[str, ...] = ()  # channels of weak cues, for the head to weigh


def normalize(text: object) -> str:
    """Lower-case ASCII words separated by single spaces."""
    if text is None:
        return ""
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = s.replace("ß", "ss")
    s = re.sub(r"['’`´]s\b", "", s)  # possessives: "lenny's" -> "lenny", "cto's" -> "cto"
    s = re.sub(r"['’`´]", "", s)
    s = re.sub(r"\bn/a\b", "na", s)
    s = re.sub(r"\br/(?=[a-z])", "subreddit ", s)
    s = re.sub(r"(?<=\w)[-.:_](?=\w)", " ", s)  # e-book, chat-gpt, re:invent, perplexity.ai
    s = re.sub(r"\s-+\s|\s-+$|^-+\s", " , ", s)  # a spaced dash separates clauses
    s = re.sub(r"[^a-z0-9,;.!?/+&|()\[\]\n\-]+", " ", s)
    return re.sub(r"[ \t]+", " ", s).strip()


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Whole English words of the encoder's vocabulary: these are never 'corrected'."""
    try:
        from nlp.encoder import base_model_path

        path = Path(base_model_path()) / "vocab.txt"
        words = path.read_text(encoding="utf-8").split()
    except Exception:  # the packaged model is missing: fall back to no vocabulary filter
        return frozenset()
    return frozenset(w for w in words if w.isalpha() and not w.startswith("##"))


def _damerau(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance, giving up early above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=1)
def fuzzy_targets() -> tuple[str, ...]:
    """Words that misspellings are corrected towards: ``FUZZY_TARGETS`` plus every word of
    5+ letters in the lexicon's patterns that a rule matches on its own."""
    words = set(FUZZY_TARGETS)
    for _name, _channel, _strength, pattern in RULES:
        plain = re.sub(r"\\\w|\w\?|\(\?[!=<][^)]*\)", " ", pattern)
        for w in re.findall(r"[a-z]{5,}", plain):
            if any(rx.search(f" {w} ") for _n, _c, _s, rx in _COMPILED):
                words.add(w)
    return tuple(sorted(words))


@lru_cache(maxsize=20000)
def _correct_token(token: str) -> str:
    targets = fuzzy_targets()
    if len(token) < 4 or not token.isalpha() or token in targets:
        return token
    if token in _known_words():
        return token
    best, best_d = token, 99
    for target in targets:
        if len(target) < 5:
            continue
        limit = 2 if len(target) >= 7 else 1
        if target[0] != token[0]:  # a typo in the first letter: only one, in long words
            if len(target) < 7:
                continue
            limit = 1
        d = _damerau(token, target, limit)
        if d <= limit and d < best_d:
            best, best_d = target, d
    return best


def correct_tokens(normalized: str) -> tuple[str, bool]:
    """The answer with misspelled lexicon words corrected, and whether any was."""
    out, changed = [], False
    for tok in re.split(r"(\W+)", normalized):
        fixed = _correct_token(tok) if tok and tok[0].isalpha() else tok
        changed |= fixed != tok
        out.append(fixed)
    return "".join(out), changed


@dataclass
class _Hit:
    rule: str
    channel: str
    strength: str


def _clause_hits(clause: str) -> list[_Hit]:
    if clause in {"x", "x com", "on x", "via x"}:
        return [_Hit("social:x", "social", STRONG)]
    text = f" {clause} "
    hits: list[_Hit] = []
    for name, channel, strength, rx in _ORDERED:
        for m in list(rx.finditer(text)):
            before = text[max(0, m.start() - 40) : m.start()].split()[-3:]
            negated = bool(_NEGATION.search(" ".join(before)))
            text = text[: m.start()] + "#" * (m.end() - m.start()) + text[m.end() :]
            if not negated:
                hits.append(_Hit(name, channel, strength))
    return _clause_readings(hits)


def _clause_readings(hits: list[_Hit]) -> list[_Hit]:
    """Clause-level readings of channels named together (module docstring, step 4)."""
    if any(h.rule == "peer:told" for h in hits) and any(
        h.strength == STRONG and h.channel != "peer_referral" for h in hits
    ):  # "Gemini told me", "the host raved about it": the verb belongs to that channel
        hits = [h for h in hits if h.rule != "peer:told"]
    strong = {h.channel for h in hits if h.strength == STRONG}
    drop: set[str] = set()
    if "paid_ads" in strong:
        if strong & {"podcast", "event"}:
            drop.add("paid_ads")
        else:
            drop |= {"social", "search", "community", "review_site"}
    if "review_site" in strong:
        drop.add("content")
    if "podcast" in strong:
        drop.add("social")
    if "ai_assistant" in strong:
        drop.add("search")
    return [h for h in hits if h.channel not in drop or h.strength != STRONG]


def classify_rules(text: object) -> RuleResult:
    """The rules' verdict on one answer (see the module docstring)."""
    norm = normalize(text)
    bare = re.sub(r"[^a-z0-9]+", " ", norm).strip()
    if not bare:
        return RuleResult({"other": 1.0}, CONFIDENCE_EMPTY, "rule:empty", True, norm)
    corrected, fuzzy = correct_tokens(norm)
    hits: list[_Hit] = []
    for clause in _CLAUSE_SPLIT.split(corrected):
        if clause and clause.strip():
            hits.extend(_clause_hits(re.sub(r"\s+", " ", clause).strip()))
    strong = [h for h in hits if h.strength == STRONG]
    chosen = strong if strong else hits
    channel_hits = [h for h in chosen if h.channel != "other"]
    if channel_hits:
        chosen = channel_hits
    if not chosen:
        if bare in {"other", "others", "misc"} or _UNKNOWN.search(
            re.sub(r"[^a-z0-9]+", " ", corrected)
        ):
            return RuleResult({"other": 1.0}, CONFIDENCE_UNKNOWN, "rule:dont_know", True, norm)
        return RuleResult({}, 0.0, "", False, norm)
    channels = list(dict.fromkeys(h.channel for h in chosen))
    weight = 1.0 / len(channels)
    rules = sorted({h.rule for h in chosen})
    confidence = CONFIDENCE_STRONG if strong else CONFIDENCE_WEAK
    if fuzzy:
        confidence = min(confidence, CONFIDENCE_FUZZY)
        rules.append("fuzzy")
    method = "rule:" + "+".join(rules)
    if len(method) > 64:
        method = method[:61] + "..."
    weights = {c: weight for c in channels}
    if not strong:  # weak cues only: the head decides, the cues are its hints
        return RuleResult(weights, confidence, method, False, norm, tuple(channels))
    return RuleResult(weights, confidence, method, True, norm)
