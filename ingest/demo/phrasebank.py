"""B2B SaaS customer language, written for this project: templates and slot fillers.

Templates are grouped by aspect (pricing, support, reliability, ...) and by tone
(``neg``, ``neu``, ``pos``). Slots in braces are filled from ``FILLERS``; a text is a
few sentences drawn from these lists, so thousands of texts read differently. Neutral
lines are how-to questions, feature requests and plain reports; they carry no mood.
The module holds data only; ``texts.py`` composes it.
"""

from __future__ import annotations

ASPECTS = (
    "pricing", "support", "reliability", "usability", "features",
    "onboarding", "performance", "integrations", "billing", "security",
)  # fmt: skip

FILLERS: dict[str, tuple[str, ...]] = {
    "product": ("the platform", "your tool", "the app", "the product", "your software",
                "the system", "the dashboard"),
    "feature": ("the reporting dashboard", "the workflow builder", "the custom fields editor",
                "the audit log", "bulk export", "the mobile app", "the report scheduler",
                "the permissions page", "the forecasting module", "alerting",
                "the public API", "the saved views feature", "the approval flow",
                "the CSV importer", "the admin console", "the usage analytics page",
                "the template library"),
    "integration": ("Salesforce", "HubSpot", "Slack", "Jira", "Snowflake", "Zendesk",
                    "NetSuite", "Okta", "Google Sheets", "Microsoft Teams", "BigQuery",
                    "QuickBooks", "Azure AD", "Intercom", "Workday"),
    "team": ("our finance team", "the ops team", "our analysts", "the sales reps",
             "our support agents", "the marketing team", "our admins", "leadership",
             "the whole department", "our customer success team", "the engineers"),
    "duration": ("for three days", "since Monday", "all week", "since the last release",
                 "for over two weeks", "twice this month", "since yesterday morning",
                 "for the third time this quarter", "on and off for a month"),
    "task": ("close the month", "run our weekly reports", "onboard new hires",
             "prepare the board deck", "reconcile invoices", "ship the quarterly forecast",
             "plan next week's shifts", "send renewals to customers", "audit user access"),
    "wait": ("a few seconds", "under a minute", "almost instantly", "within an hour"),
    "slow": ("over a minute", "five minutes", "ages", "forever", "several minutes",
             "more than thirty seconds"),
    "tenure": ("six months", "a year", "two years", "about eighteen months", "three years",
               "a few months"),
    "person": ("our account manager", "the support engineer", "your onboarding specialist",
               "the CSM", "the agent on chat", "your solutions engineer"),
    "pct": ("20%", "30%", "35%", "40%", "nearly 50%", "25%"),
    "seats": ("15", "40", "120", "250", "a dozen", "300"),
    "doc": ("the help center", "the API docs", "the admin guide", "the release notes",
            "the knowledge base"),
}  # fmt: skip

# ticket subjects by aspect and tone
SUBJECTS: dict[str, dict[str, tuple[str, ...]]] = {
    "pricing": {
        "neg": ("Unexpected price increase on renewal", "Renewal quote is far too high",
                "Pricing change is not acceptable", "Why are we paying more for less?"),
        "neu": ("Question about plan tiers", "Quote for additional seats",
                "Difference between Pro and Enterprise plans", "Nonprofit pricing?"),
        "pos": ("Thanks for the flexible renewal", "Appreciate the pricing adjustment"),
    },
    "support": {
        "neg": ("Still no answer on my ticket", "Escalation: support unresponsive",
                "Unhappy with support experience", "Nobody is helping us"),
        "neu": ("Who is our support contact?", "How do I reach phone support?",
                "Support hours over the holidays"),
        "pos": ("Great help from your support team", "Thank you for the quick fix",
                "Kudos to the support engineer"),
    },
    "reliability": {
        "neg": ("Outage again today", "Service down, urgent", "Data sync keeps failing",
                "Repeated errors after the update", "500 errors all morning"),
        "neu": ("Is there a status page?", "Planned maintenance window question",
                "What is your uptime SLA?"),
        "pos": ("Stable since the last fix", "No issues after the migration"),
    },
    "usability": {
        "neg": ("Interface is confusing", "New UI is a step backwards",
                "Too many clicks to do basic things"),
        "neu": ("How do I change the default view?", "Where did the settings menu go?",
                "Keyboard shortcuts?"),
        "pos": ("Love the new layout", "The redesign is great"),
    },
    "features": {
        "neg": ("Feature removed without notice", "Critical feature still missing",
                "Promised feature never shipped"),
        "neu": ("Feature request: {feature}", "Is {feature} on the roadmap?",
                "Request: more filters in {feature}", "Can {feature} do this?"),
        "pos": ("{feature} is fantastic", "Thanks for shipping {feature}"),
    },
    "onboarding": {
        "neg": ("Onboarding has stalled", "Implementation is way behind schedule",
                "New admins are lost"),
        "neu": ("Training session for new users", "Onboarding checklist question",
                "How to add users in bulk?"),
        "pos": ("Smooth onboarding, thank you", "Training session was excellent"),
    },
    "performance": {
        "neg": ("Dashboard extremely slow", "Reports time out", "Performance is terrible",
                "Page loads take forever"),
        "neu": ("Best practice for large reports?", "Recommended browser?",
                "Limits on rows per export"),
        "pos": ("Much faster now", "Performance improvements noticed"),
    },
    "integrations": {
        "neg": ("{integration} sync broken", "{integration} integration failing again",
                "Lost data in {integration} sync"),
        "neu": ("How to connect {integration}?", "Does the {integration} connector support custom objects?",
                "{integration} field mapping question"),
        "pos": ("{integration} integration works great", "Thanks for fixing the {integration} sync"),
    },
    "billing": {
        "neg": ("Charged twice this month", "Incorrect invoice", "Billing error not fixed",
                "Refund still not processed"),
        "neu": ("Update billing contact", "Need a copy of the invoice", "Change of payment method",
                "W-9 / VAT number request"),
        "pos": ("Billing issue resolved, thanks", "Thanks for sorting the invoice"),
    },
    "security": {
        "neg": ("SSO login broken for everyone", "Security concern about data access",
                "Users locked out after the SSO change"),
        "neu": ("SOC 2 report request", "Security questionnaire", "How do we enforce 2FA?",
                "Data retention settings"),
        "pos": ("SSO rollout went smoothly", "Thanks for the security review"),
    },
}  # fmt: skip

# body sentences by aspect and tone
LINES: dict[str, dict[str, tuple[str, ...]]] = {
    "pricing": {
        "neg": (
            "Our renewal quote went up {pct} and nobody explained why, which is infuriating.",
            "The new pricing is outrageous and simply not justifiable for what we get.",
            "We are paying more every year while the product gets worse.",
            "Charging extra for {feature}, which used to be included, is a shameless bait and switch.",
            "Honestly the price is too high, and finance is angry and asking me to find something cheaper.",
            "At this price we cannot keep {seats} seats, and I am frustrated nobody offered any flexibility.",
        ),
        "neu": (
            "Could you send a quote for {seats} additional seats?",
            "What is the difference between the Pro and Enterprise tiers?",
            "Is annual billing cheaper than monthly?",
            "Do you offer discounts for multi-year contracts?",
            "We may need to add {seats} seats next quarter, what would that cost?",
        ),
        "pos": (
            "The pricing is fair for the value we get.",
            "Thanks for working with us on the renewal, the new terms are great.",
            "For what it does, {product} is well worth the money.",
            "Really appreciate the flexible pricing as we grow.",
        ),
    },
    "support": {
        "neg": (
            "I opened a ticket {duration} and still have not heard back, which is terrible service.",
            "Every answer from support is a useless copy-paste of the docs that ignores the problem.",
            "We keep getting bounced between agents and nobody owns the issue, it is exhausting.",
            "The support experience has been awful and it is hurting our team.",
            "Your agent closed the ticket without fixing anything, which is just rude.",
            "Support is slow, unhelpful and frankly disappointing.",
        ),
        "neu": (
            "Who should we contact for urgent issues outside business hours?",
            "Could you tell me what support tier we are on?",
            "Please add my colleague to this ticket.",
            "Is there a way to see all our open tickets in one place?",
        ),
        "pos": (
            "{person} was incredibly helpful and solved it in minutes.",
            "Support has been fantastic, fast and friendly every time.",
            "Thank you so much, the fix worked perfectly.",
            "Huge thanks to {person} for going above and beyond.",
            "Your support team is the best we have worked with.",
        ),
    },
    "reliability": {
        "neg": (
            "{product} has been down {duration} and we cannot {task}, this is a disaster.",
            "The sync keeps failing and we lose data every time.",
            "We are seeing constant errors and the app crashes when we open {feature}.",
            "This is the third outage this month and my team is furious.",
            "Nothing works reliably anymore, we cannot trust the numbers.",
            "After the latest update {feature} is completely broken.",
        ),
        "neu": (
            "Is there a status page we can subscribe to?",
            "When is the next planned maintenance window?",
            "What uptime does our contract guarantee?",
            "Could you confirm whether last night's maintenance is finished?",
        ),
        "pos": (
            "{product} has been rock solid and dependable since the migration, great work.",
            "No downtime at all this quarter, great job.",
            "Everything has been running smoothly and reliably, we are very pleased.",
            "The fix worked and the sync has been stable ever since.",
        ),
    },
    "usability": {
        "neg": (
            "The new interface is confusing and my team keeps making mistakes.",
            "It takes far too many clicks to do the simplest thing, which is maddening.",
            "Nobody on {team} can find anything since the redesign, it is a mess.",
            "The UI is clunky and frustrating to use every day.",
            "Honestly the usability is awful, worse than what we had before.",
        ),
        "neu": (
            "How do I change the default view for all users?",
            "Where can I find the settings for {feature}?",
            "Is there a dark mode or keyboard shortcuts list?",
            "Can I rename the columns in {feature}?",
            "How do I pin a report to the home page?",
        ),
        "pos": (
            "The interface is clean and intuitive, {team} picked it up right away.",
            "I love how easy it is to set up {feature}.",
            "The new layout is a big improvement, everything is easier to find.",
            "Using {product} is genuinely a pleasure.",
        ),
    },
    "features": {
        "neg": (
            "{feature} was removed without any notice and it broke our process.",
            "We were promised {feature} a year ago and it still has not shipped, very disappointing.",
            "The product is missing basic features that every competitor has.",
            "{feature} is half-baked and useless for our needs.",
            "We are unhappy and evaluating alternatives because the features we need are missing.",
        ),
        "neu": (
            "Feature request: could {feature} support custom date ranges?",
            "Is {feature} on the roadmap for this year?",
            "It would be useful to export {feature} to PDF.",
            "Can {feature} be limited to certain user roles?",
            "Could you add more filter options to {feature}?",
            "Does {feature} support conditional logic?",
        ),
        "pos": (
            "{feature} is fantastic and saves {team} hours every week.",
            "Thanks for shipping {feature}, it is exactly what we needed.",
            "The new {feature} is a wonderful game changer for us.",
            "We love the steady stream of useful new features.",
        ),
    },
    "onboarding": {
        "neg": (
            "Our implementation is months behind and nobody seems to care, which is a failure on your side.",
            "The onboarding was disorganized and left us on our own.",
            "Our new admin has no idea how to use {product} and the training was useless.",
            "Since our champion left, nobody here knows how to run {product} and we are struggling with no help.",
        ),
        "neu": (
            "Can we schedule a training session for {seats} new users?",
            "Is there an onboarding checklist for new admins?",
            "How do we add users in bulk from a CSV?",
            "We have a new admin starting next week, what should they read first?",
        ),
        "pos": (
            "Onboarding was smooth and {person} made it easy.",
            "The training session was excellent, {team} is up and running.",
            "We were live in two weeks, which is impressive.",
            "The onboarding materials are clear and really well made.",
        ),
    },
    "performance": {
        "neg": (
            "{feature} takes {slow} to load, which is unacceptable.",
            "Reports keep timing out and we cannot {task}, it is a nightmare.",
            "Performance has gotten dramatically worse since the update.",
            "Everything is painfully slow and {team} is losing hours.",
        ),
        "neu": (
            "Is there a limit on rows per export?",
            "What is the recommended way to run very large reports?",
            "Which browsers do you recommend for this app?",
            "Do scheduled reports run in our time zone or UTC?",
        ),
        "pos": (
            "{feature} now loads in {wait}, a huge improvement.",
            "The performance gains in the last release are great.",
            "Everything feels fast and snappy now, love it.",
        ),
    },
    "integrations": {
        "neg": (
            "The {integration} sync has been broken {duration}.",
            "Records are duplicated every time the {integration} integration runs, a total mess.",
            "We lost data because the {integration} connector failed silently.",
            "The {integration} integration is broken and unreliable, and we waste hours fixing records by hand.",
        ),
        "neu": (
            "How do I connect {integration} to our workspace?",
            "Does the {integration} connector support custom objects?",
            "Can we map our own fields in the {integration} sync?",
            "How often does the {integration} sync run?",
        ),
        "pos": (
            "The {integration} integration works flawlessly, excellent job.",
            "Connecting {integration} took five minutes, brilliant.",
            "Thanks for fixing the {integration} sync, it runs perfectly now.",
        ),
    },
    "billing": {
        "neg": (
            "We were charged twice this month and still have no refund.",
            "The invoice is wrong again and this is getting ridiculous.",
            "Billing keeps wrongly charging us for seats we removed months ago.",
            "I have asked three times to fix our invoice and nothing happens, it is unacceptable.",
        ),
        "neu": (
            "Please update our billing contact to the finance mailbox.",
            "Could you send a copy of last month's invoice?",
            "We need to change our payment method to bank transfer.",
            "Can you add our VAT number to future invoices?",
        ),
        "pos": (
            "Thanks for sorting out the invoice so quickly.",
            "Billing is simple and transparent, which we appreciate.",
            "The refund arrived already, thank you.",
        ),
    },
    "security": {
        "neg": (
            "SSO stopped working and everyone is locked out.",
            "We found users who could see data they should not, which is a serious and alarming problem.",
            "The {integration} login change broke access for {team}.",
            "Your security team has ignored our questionnaire for weeks, which is worrying.",
        ),
        "neu": (
            "Could you share your latest SOC 2 report?",
            "How do we enforce two-factor authentication for all users?",
            "Where can we configure data retention?",
            "Can we restrict logins to our IP range?",
        ),
        "pos": (
            "The SSO rollout with {integration} went perfectly.",
            "Your security documentation is thorough and our review passed quickly.",
            "We feel confident about how you handle our data.",
        ),
    },
}  # fmt: skip

# extra sentences that make a text strongly negative or strongly positive
ESCALATION = (
    "If this is not fixed soon we will have to cancel at renewal.",
    "This is unacceptable for a tool we pay this much for.",
    "We are fed up and actively looking at other vendors.",
    "I am escalating this complaint to our leadership.",
    "Frankly, my patience has run out.",
    "This is seriously hurting our business.",
    "We regret choosing {product}.",
    "Nobody on {team} trusts {product} anymore, and I do not blame them.",
)
DELIGHT = (
    "Honestly one of the best tools we use.",
    "We will definitely expand to more teams.",
    "Keep up the great work!",
    "Really happy we chose {product}.",
    "Everyone on {team} loves it.",
    "Could not be happier with the partnership.",
)
MILD_NEG = (
    "It is a bit disappointing.",
    "This is annoying.",
    "Not great.",
    "We expected much better than this.",
    "Please fix this mess.",
)

GREETINGS = ("Hi team,", "Hello,", "Hi support,", "Hi there,", "Good morning,", "Hey,", "")
SIGNOFFS_NEG = ("Regards,", "", "Waiting for an answer.", "Not happy.")
SIGNOFFS = ("Thanks,", "Best regards,", "Cheers,", "", "Thank you,", "Best,")

# review titles by tone
REVIEW_TITLES = {
    "neg": ("Disappointing", "Not worth the money", "Used to be good", "Frustrating experience",
            "Buggy and overpriced", "Look elsewhere", "Support has gone downhill"),
    "neu": ("Does the job", "Decent tool with some gaps", "OK for the basics",
            "Solid but not perfect", "Mixed feelings"),
    "pos": ("Great tool for our team", "Love it", "Excellent product and support",
            "A must-have for us", "Highly recommend", "Best in class"),
}  # fmt: skip
REVIEW_OPENERS = {
    "neg": ("We have used {product} for {tenure} and it has gone downhill.",
            "I wanted to like {product}, but it has been a constant struggle.",
            "After {tenure} with {product} we are close to leaving."),
    "neu": ("We have used {product} for {tenure}.", "{team} uses {product} daily.",
            "We rolled out {product} to {seats} users."),
    "pos": ("We have used {product} for {tenure} and love it.",
            "{product} has transformed the way we work.",
            "After {tenure}, {product} is still our favourite tool."),
}  # fmt: skip
NEUTRAL_REVIEW_LINES = (
    "It does what it says, though some reports could be more flexible.",
    "Setup took a while but it works fine now.",
    "Pricing is in line with other tools in this category.",
    "Some features are great, others feel unfinished.",
    "Support is fine, answers usually come within a day.",
)

# short NPS comments by tone
NPS_COMMENTS = {
    "neg": ("Overpriced for what it does.", "Support is slow and useless.",
            "Too many annoying bugs lately.", "The product keeps breaking, very frustrating.", "Not worth the price anymore.",
            "Unhappy, we are looking at alternatives.", "Frustrating to use.", "Constant sync problems.",
            "Terrible experience since the last update.", "Poor reliability."),
    "neu": ("It is fine.", "Does the job.", "OK overall, some features missing.",
            "Average.", "Works, but nothing special.", "No strong opinion.",
            "Good in parts, needs better reporting.", "Depends on the week."),
    "pos": ("Great product!", "Love the support team.", "Saves us hours every week.",
            "Easy to use and reliable.", "Fantastic tool.", "Would recommend to anyone.",
            "Excellent value.", "The team is super responsive.", "Best tool we use."),
}  # fmt: skip
