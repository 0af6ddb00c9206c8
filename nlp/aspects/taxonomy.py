"""The aspect taxonomy: what a customer text can be about.

Ten aspects, each with a one-line definition (the labeling guide of
``nlp/aspects/data/labeled.csv`` uses the same words) and a few prototype phrases. The
prototypes are extra training examples for the embedding head: they anchor each aspect
in the encoder's space with wording that is not copied from the labeled sample.

Boundaries that matter in practice:
- ``pricing`` is what things cost (price level, plans and tiers, discounts, value for
  money, renewal price); ``billing`` is how money moves (invoices, charges, refunds,
  payment methods, receipts, billing cycle).
- ``reliability`` is whether it works (outages, errors, bugs, crashes, data loss, stale
  or wrong data); ``performance`` is how fast it works (latency, load times, throughput).
- ``usability`` is how easy the product is to use; ``features`` is what it can do (or
  cannot: requests, missing capabilities, roadmap).
- ``integrations`` covers connectors, the API, webhooks, imports from other systems;
  ``security`` covers access control, SSO, authentication, compliance and privacy.
- ``onboarding`` is the start of the relationship: setup, implementation, migration,
  training, trials and go-live.
- ``support`` is the vendor's people answering: support, customer success, account
  managers, response times, help content.
"""

from __future__ import annotations

ASPECTS: tuple[str, ...] = (
    "pricing",
    "billing",
    "support",
    "reliability",
    "performance",
    "usability",
    "features",
    "onboarding",
    "integrations",
    "security",
)

DEFINITIONS: dict[str, str] = {
    "pricing": "what the product costs: price level, plans and tiers, discounts, value for money, renewal price",
    "billing": "how money moves: invoices, charges, refunds, payment methods, receipts, billing cycle",
    "support": "the vendor's people answering: support agents, customer success, response times, help content",
    "reliability": "whether it works: outages, downtime, errors, bugs, crashes, data loss, wrong or stale data",
    "performance": "how fast it works: latency, load times, slowness, throughput, timeouts under load",
    "usability": "how easy it is to use: interface, navigation, learning curve, clicks, design",
    "features": "what it can do: capabilities, missing functionality, feature requests, roadmap",
    "onboarding": "getting started: setup, implementation, data migration, training, trial, go-live",
    "integrations": "connecting to other systems: connectors, API, webhooks, sync with other tools, imports",
    "security": "protection and compliance: permissions, SSO, authentication, SOC 2, GDPR, privacy, audit",
}

PROTOTYPES: dict[str, tuple[str, ...]] = {
    "pricing": (
        "The subscription is too expensive for our budget.",
        "Reasonable price for what you get.",
        "They raised the price at renewal.",
        "Can we get a discount on the enterprise plan?",
        "The per-seat cost is hard to justify.",
        "Great value for money.",
    ),
    "billing": (
        "We were charged the wrong amount on our invoice.",
        "Please issue a refund for the duplicate charge.",
        "How do I update the credit card used for payment?",
        "The invoice needs our purchase order number.",
        "Billing statements are hard to reconcile.",
    ),
    "support": (
        "The support team answered my ticket quickly.",
        "Nobody from customer service replied to my request.",
        "Our account manager is helpful and responsive.",
        "I waited days for a response from support.",
        "The agent on live chat solved my problem.",
    ),
    "reliability": (
        "The service was down for hours.",
        "The app keeps crashing with an error.",
        "We lost data because of a bug.",
        "The platform is stable and always available.",
        "The sync failed again and records are missing.",
    ),
    "performance": (
        "Pages take a long time to load.",
        "The application is slow and laggy.",
        "Reports run quickly even on big datasets.",
        "Requests time out under heavy load.",
        "It got much faster after the update.",
    ),
    "usability": (
        "The interface is intuitive and easy to use.",
        "Navigation is confusing and it takes too many clicks.",
        "The design is cluttered and hard to understand.",
        "Simple and user friendly.",
        "I can never find the setting I need in the menus.",
    ),
    "features": (
        "It is missing a feature we need.",
        "Please add the ability to customize reports.",
        "The product has powerful functionality.",
        "Is this capability on the roadmap?",
        "The new automation feature is great.",
    ),
    "onboarding": (
        "The initial setup and implementation took months.",
        "Onboarding was smooth and we went live quickly.",
        "We need training for our new users.",
        "Migrating our data from the old system was painful.",
        "The trial ended before we finished the configuration.",
    ),
    "integrations": (
        "The Salesforce integration stopped syncing.",
        "The API and webhooks are well documented.",
        "It connects with Slack, Jira and our other tools.",
        "We need a connector for our data warehouse.",
        "Importing data from another system fails.",
    ),
    "security": (
        "We need single sign-on and two-factor authentication.",
        "Please share your SOC 2 report and GDPR documentation.",
        "Role-based permissions control who sees what.",
        "Is our data encrypted and private?",
        "Former employees can still access the account.",
    ),
}
