"""Keyword and phrase rules: the fast, explainable first pass of the aspect tagger.

Each rule is a case-insensitive regular expression over stems and common variants
("charg(e|ed|ing)", "outage(s)", "sluggish", "SSO") with a confidence: a strong phrase
that rarely means anything else scores higher than a lone, ambiguous keyword. Several
rules of one aspect firing on one text raise its confidence (noisy-or).

Before matching, a few phrases that would mislead a keyword are neutralised: "support"
used as a verb ("does it support X?") is not about the support team; "feature" in "a
bug, not a feature" is not a feature request. The rules were written from the dev part
of the labeled sample only (see ``nlp/aspects/data/README.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    aspect: str
    name: str
    pattern: re.Pattern[str]
    confidence: float


def _rule(aspect: str, name: str, regex: str, confidence: float) -> Rule:
    return Rule(aspect, name, re.compile(regex, re.IGNORECASE), confidence)


# Phrases rewritten before matching so that a keyword does not fire out of context.
_NEUTRALISE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), r)
    for p, r in (
        # "support" as a verb: "does it support", "to support", "supports X", "support for X"
        (
            r"\b(does|do|did|doesn'?t|don'?t|can|could|will|would|should|to|not|also|it|that|"
            r"which|must)\s+(\w+\s+){0,3}?support(s|ed|ing)?\b(?!\s+(team|agent|staff|rep))",
            r"\1 \2handle",
        ),
        (r"\bsupport(s|ed|ing)\b(?!\s+(team|agent|staff|rep))", "handles"),
        (r"\bsupport for\b", "handling of"),
        # speed of an answer is support, not performance
        (
            r"\b(quick|fast)(ly)?\s+(to\s+)?(respond|reply|answer|resolv|fix|help|sort)\w*",
            "prompt reply",
        ),
        (
            r"\b(respond\w*|repl\w+|answer\w*|resolv\w+|fix\w*|sort\w* out|help\w*)\s+"
            r"((\w|-)+\s+){0,4}?(quick|fast)(ly)?\b",
            r"\1 promptly",
        ),
        (r"\b(quick|fast) (answers|replies|responses|help)\b", "prompt replies"),
        (r"\bplease support\b", "please add"),
        (r"\b(payment (failed|declined)|failed payment)", "declined payment"),
        (r"\bAPI (keys?|tokens?)\b", "access keys"),
        # "free trial" is onboarding, "trial and error" is not
        (r"\btrial and error\b", "guesswork"),
    )
)

_STRONG, _MEDIUM, _WEAK = 0.9, 0.75, 0.55
# A rule (or rules, by noisy-or) at or above this decides alone; below it, weak rules need
# the embedding head to agree (see nlp/aspects/tagger.py).
DECISIVE = 0.7

RULES: tuple[Rule, ...] = (
    # ------------------------------------------------------------------ pricing
    _rule("pricing", "price", r"\b(pric(e|es|ed|ing|ey|y)|overpriced|underpriced)\b", _STRONG),
    _rule(
        "pricing",
        "expensive",
        r"\b(expensive|inexpensive|cheap(er|est)?|affordable|afford|costly|bargain|"
        r"sticker shock|nickel and dime\w*|fortune)\b",
        _STRONG,
    ),
    _rule("pricing", "cost", r"\b(costs?|costing)\b", _MEDIUM),
    _rule(
        "pricing",
        "value",
        r"\b((good|great|best|poor|bad|fair|no|real|the) value|value for (the )?money|"
        r"worth (the|every) (money|penny|cent|price)|not worth (it|the)|money)\b",
        _MEDIUM,
    ),
    _rule(
        "pricing",
        "plan",
        r"\b(plan|tier|edition|package)s?\b(?=.{0,40}\b(cost|price|budget|include|upgrade|"
        r"standard|enterprise|premium|pro|basic|free|locked|lacks?))|\b(free|enterprise|standard|"
        r"starter|basic|pro|premium|mid|higher|lower|paid) (plan|tier|edition)s?\b",
        _MEDIUM,
    ),
    _rule(
        "pricing",
        "discount",
        r"\b(discount\w*|quote[sd]?|budget|rates?(?! limit)|per[- ](seat|user|license)|seats? (cost|price)|"
        r"price (hike|increase)|raised? (the|our) (price|rate)s?|renewal (price|quote|uplift|cost)|"
        r"list price|line item|minimum purchase|add-?on|(should be|is not|isn'?t|not) included|"
        r"included (in|with) (the|our|every))\b",
        _MEDIUM,
    ),
    _rule("pricing", "fee", r"\b(hidden )?fees?\b", _WEAK),
    _rule("billing", "pay", r"\b(paid|pay(ing)?)\b", _WEAK),
    _rule("performance", "forever", r"\b(responsive(ness)?|takes? (ages|forever))\b", _WEAK),
    _rule("security", "review", r"\b(scopes|IT (team|department|security)|approv\w+)\b", _WEAK),
    _rule("integrations", "sync", r"\b(syncs?|sync(ed|ing)?)\b", _WEAK),
    _rule("pricing", "seats", r"\b(add(ing)?|buy(ing)?|extra|more|another \d+) seats?\b", _WEAK),
    # ------------------------------------------------------------------ billing
    _rule(
        "billing",
        "invoice",
        r"\b(invoic(e|es|ed|ing)|receipts?|credit notes?|billing|billed|bills?|"
        r"proration|prorated|purchase order|PO\s*#?\s*\d+|VAT|net \d{2})\b",
        _STRONG,
    ),
    _rule(
        "billing",
        "charge",
        r"\b(charg(e|es|ed|ing)|double[- ]charged|overcharg\w*|refund\w*|chargebacks?)\b",
        _STRONG,
    ),
    _rule(
        "billing",
        "payment",
        r"\b(payments?|credit card|company card|card on file|our card|"
        r"auto-?renew\w*|subscription|cancel\w* (our|the|my) (plan|subscription|account)|"
        r"service credit|issued a credit)\b",
        _MEDIUM,
    ),
    # ------------------------------------------------------------------ support
    _rule(
        "support",
        "support",
        r"\b(support|customer service|customer success|helpdesk|help desk|service desk)\b",
        _STRONG,
    ),
    _rule(
        "support",
        "people",
        r"\b(agents?|CSM|TAM|account (manager|team|rep)|success manager|support (team|engineer)|"
        r"(their|your|the) (team|staff|engineers?|people|rep)|staff|representatives?|reps? on|"
        r"(billing|account|sales|success|onboarding) (team|department)|emailed|"
        r"have someone call|escalat\w*|callback|call ?back|live chat|chatbot|knowledge ?base|help (article|center)s?)\b",
        _MEDIUM,
    ),
    _rule(
        "support",
        "response",
        r"\b(no (response|reply|answer)|(never|nobody|no one|none) (got back|answers?|answered|replies|replied|responds|"
        r"responded|helped|took over)|(got|get|getting) (help|an answer)|unanswered|"
        r"(team|support|staff|they|agents?|engineers?)( \w+){0,3} (is |are |was |were )?(very |super |always )?responsive|prompt(ly)?|response times?|repl(y|ies|ied)|waiting (\d+|a|two|three|several) "
        r"(days?|weeks?|hours?)|(ticket|case)s? (go|went|was|were|closed)|still no (response|"
        r"reply|answer)|answer(ed)? (quickly|fast|promptly)|thanks? (you )?for (the )?(great |quick )?"
        r"help|super helpful|very helpful|helpful|knowledgeable|rude)\b",
        _MEDIUM,
    ),
    # ------------------------------------------------------------------ reliability
    _rule(
        "reliability",
        "outage",
        r"\b(outages?|downtime|down (since|for|again|during)|(is|was|went|been|are|were) down|"
        r"uptime|incidents?|status page|unavailable|not available|"
        r"service disruption|maintenance window)\b|\b(50[0-4]s?|5xx)\b",
        _STRONG,
    ),
    _rule(
        "reliability",
        "bug",
        r"\b(bugs?|buggy|glitch\w*|crash(es|ed|ing)?|freez(e|es|ing)|froze|errors?|error loop|"
        r"broken|breaks?|broke|"
        r"fail(s|ed|ing|ure|ures)?|something went wrong|goes blank|went blank|stale|"
        r"(did not|didn'?t|never|haven'?t|have not|has not|hasn'?t) (run|ran|fire|fired|trigger\w*))\b",
        _MEDIUM,
    ),
    _rule(
        "reliability",
        "stable",
        r"\b(stable|unstable|stability|instability|reliab\w*|unreliable|dependab\w*|"
        r"rock[- ]solid|data loss|lost (data|our|a full|work)|los(e|ing) (our|data|events|work)|"
        r"disappear\w*|missing (records|pages|data|numbers)|(don'?t|do not|didn'?t) (match|save)|"
        r"duplicat(ed|es) (records|events)|logs? (me|us|you) out)\b",
        _MEDIUM,
    ),
    # ------------------------------------------------------------------ performance
    _rule(
        "performance",
        "slow",
        r"\b(slow(er|est|ly|ness)?|sluggish|laggy|lag(s|ging)?|latency|speed( up)?|"
        r"fast(er|est)?|quick(er|ly)?|snappy|snappier|blazing|lightweight|"
        r"spinning|load(ing)? times?|page loads?|loads? (slowly|quickly)|"
        r"memory hog|performance|performant|runs smoothly|throttl\w*|rate limits?)\b",
        _STRONG,
    ),
    _rule(
        "performance",
        "timing",
        r"\b(time[sd]? ?out|timeouts?|\d+\s*(ms|secs?|seconds|minutes|mins|hours|hrs)\b|\d{1,2}s\b|in seconds|minutes to "
        r"load|(seconds|minutes|hours) (too long|per|to (load|open|run|render))|never renders?|"
        r"at scale|our scale|large datasets?|millions of)",
        _MEDIUM,
    ),
    # ------------------------------------------------------------------ usability
    _rule(
        "usability",
        "ease",
        r"\b(easy|easier|easiest|intuitive|unintuitive|user[- ]friendly|simple|simplicity|"
        r"confus\w*|clunky|cluttered|awkward|learning curve|hard to (use|find|understand|navigate)|"
        r"(can'?t|cannot|could not|couldn'?t) find|looked everywhere|too many clicks|"
        r"(clicks?|clicking) (into|around)|(two|few|\d+|one|single) clicks?|hard to tell)\b",
        _STRONG,
    ),
    _rule(
        "usability",
        "interface",
        r"\b(UI|UX|user interface|interface|navigat\w*|menus?|layout|design(ed)?|look(s)? and feel|"
        r"buttons?|screens?|modals?|pop-?ups?|date picker|keyboard shortcuts?|colou?rs?|"
        r"colou?rblind|accessib\w*|drag and drop|no-?code|without code)\b",
        _MEDIUM,
    ),
    # ------------------------------------------------------------------ features
    _rule(
        "features",
        "feature",
        r"\b(features?|feature[- ]rich|functionalit(y|ies)|capabilit(y|ies)|roadmap|"
        r"feature requests?|module)\b",
        _STRONG,
    ),
    _rule(
        "features",
        "request",
        r"\b(please (add|bring back|support)|(would|we'?d) (like|love) (to be able|the ability|"
        r"a|an)|add the ability|ability to|is (it|that) possible|any plans? for|is that planned|"
        r"wish (it|there|they)|missing|lacks?|lacking|(there is |there'?s )?no way to|there'?s no|"
        r"we need an? |customi[sz]\w*|configurable|reporting|report builder|automations?|"
        r"workflows?|templates?|dashboards? (are|is) flexible|dark mode|gantt|offline mode|"
        r"mobile app\b(?=.{0,20}\?)|undo)\b",
        _WEAK,
    ),
    _rule(
        "features",
        "capability",
        r"\b(reporting|report builder|customi[sz]\w*|powerful|(is|that) planned|"
        r"ability to|(would|we'?d) like to be able|(very|too|pretty) basic|can'?t even|"
        r"no undo|(gets?|getting|got|keeps getting) better|new (version|release)s? (add|bring))\b",
        _MEDIUM,
    ),
    # ------------------------------------------------------------------ onboarding
    _rule(
        "onboarding",
        "onboarding",
        r"\b(onboard\w*|implementation|implement(ed|ing)?|go-?live|went live|still not live|"
        r"live in|kick-?off|rollout|roll(ing)? (it )?out|getting started|get(ting)? going|"
        r"up and running|ramp(ing)? up|welcome email|easy to (learn|pick up)|productive (within|in))\b",
        _STRONG,
    ),
    _rule(
        "onboarding",
        "setup",
        r"\b(set ?up|setting up|initial (setup|configuration)|configur\w*|migrat\w*|"
        r"switch(ed)? from|training|trained|academy|certification|sandbox|pilot|trials?|"
        r"where (do|should) i start|new to the tool|new hires?|new admin|professional services|"
        r"templates? to start|import(ing)? (our|of) (users|historical|data))\b",
        _MEDIUM,
    ),
    # ------------------------------------------------------------------ integrations
    _rule(
        "integrations",
        "integration",
        r"\b(integrat\w*|connectors?|API|APIs|REST|webhooks?|zap(ier|s)?|SDK|endpoints?|"
        r"two-?way sync|one-?way|plug-?ins?|extensions?|OAuth|SCIM|SFTP|"
        r"the rest of our stack|our stack)\b",
        _STRONG,
    ),
    _rule(
        "integrations",
        "tools",
        r"\b(salesforce|sfdc|hubspot|slack|jira|github|gitlab|zendesk|shopify|quickbooks|xero|"
        r"netsuite|snowflake|bigquery|redshift|typeform|gmail|outlook|google (sheets|"
        r"drive|calendar|workspace)|microsoft (teams|dynamics)|okta|ERP|data warehouse|"
        r"accounting software|CSV import|import from|importing from)\b",
        _MEDIUM,
    ),
    # ------------------------------------------------------------------ security
    _rule(
        "security",
        "security",
        r"\b(secur(e|ity)|insecure|SSO|SAML|single sign-?on|2FA|MFA|two-factor|multi-factor|"
        r"SOC ?2|ISO ?27001|GDPR|HIPAA|DPA|compliance|compliant|privacy|encrypt\w*|"
        r"pen ?test\w*|vulnerab\w*|compromised|breach\w*|audit (logs?|trail)|data residency|"
        r"vendor questionnaire)\b",
        _STRONG,
    ),
    _rule(
        "security",
        "access",
        r"\b(permissions?|role-?based|roles?|access control|restrict\w* access|remove access|"
        r"can still access|revok\w*|password\w*|session tokens?|access keys?|IP (allow|white)list\w*|"
        r"allowlist\w*|logins?\b(?=.{0,30}(password|policy|enforce))|deactivated users?|"
        r"data (is|are) stored|where our data)\b",
        _MEDIUM,
    ),
)


def _normalise(text: str) -> str:
    for pattern, replacement in _NEUTRALISE:
        text = pattern.sub(replacement, text)
    return text


def rule_hits(text: str) -> dict[str, list[Rule]]:
    """Aspect -> the rules that fired on ``text`` (empty dict when none)."""
    if not text or not text.strip():
        return {}
    clean = _normalise(text)
    hits: dict[str, list[Rule]] = {}
    for rule in RULES:
        if rule.pattern.search(clean):
            hits.setdefault(rule.aspect, []).append(rule)
    return hits


def rule_tags(text: str) -> dict[str, tuple[float, str]]:
    """Aspect -> (confidence, names of the rules that fired), confidences combined by
    noisy-or: 1 - prod(1 - c)."""
    tags: dict[str, tuple[float, str]] = {}
    for aspect, rules in rule_hits(text).items():
        miss = 1.0
        for rule in rules:
            miss *= 1.0 - rule.confidence
        tags[aspect] = (round(1.0 - miss, 4), ",".join(r.name for r in rules))
    return tags
