"""The demo world's customers: segments, names, domains, ARR, contract starts, contacts.

Everything is drawn from one ``numpy.random.Generator`` so a seed fixes the world.
Segments differ in size (ARR), in how many people write to support, and in how easily
they churn (see ``dynamics``); they also answer the attribution survey at different
rates, so a non-response correction has something to correct.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEGMENTS = ("smb", "mid_market", "enterprise")
SEGMENT_SHARE = (0.52, 0.31, 0.17)
# median ARR (USD) and log-normal spread per segment
ARR_MEDIAN = {"smb": 9_000.0, "mid_market": 48_000.0, "enterprise": 210_000.0}
ARR_SIGMA = {"smb": 0.55, "mid_market": 0.45, "enterprise": 0.5}
ARR_FLOOR = {"smb": 1_200.0, "mid_market": 15_000.0, "enterprise": 80_000.0}

_PREFIX = (
    "North", "Blue", "Bright", "Silver", "Iron", "Cedar", "Harbor", "Summit", "Red", "Clear",
    "Stone", "Maple", "River", "Granite", "Swift", "Golden", "Pine", "Oak", "Falcon", "Lumen",
    "Nova", "Atlas", "Beacon", "Copper", "Delta", "Echo", "Frontier", "Glacier", "Horizon",
    "Juniper", "Keystone", "Lakeside", "Meridian", "Orbit", "Pioneer", "Quarry", "Ridge",
    "Sterling", "Tidal", "Union", "Vantage", "Willow", "Zenith", "Arbor", "Bay", "Crest",
    "Dune", "Ember", "Fjord", "Grove", "Haven", "Indigo", "Jade", "Kite", "Lark", "Mosaic",
)  # fmt: skip
_ROOT = (
    "wind", "peak", "line", "field", "stone", "bridge", "path", "point", "gate", "wave",
    "light", "works", "forge", "leaf", "brook", "view", "crest", "spring", "star", "core",
    "mark", "shift", "port", "scale", "loop", "stack", "grid", "base", "flow", "sight",
)  # fmt: skip
_TRADE = (
    "Analytics", "Logistics", "Health", "Labs", "Systems", "Retail", "Foods", "Capital",
    "Software", "Media", "Energy", "Robotics", "Partners", "Insurance", "Learning", "Freight",
    "Biotech", "Studios", "Dynamics", "Networks", "Payments", "Manufacturing", "Realty",
    "Security", "Travel", "Apparel", "Telecom", "Pharma", "Consulting", "Marine",
)  # fmt: skip
_SUFFIX = ("", "", "", " Inc", " LLC", " Ltd", " Group", " Co")
_TLD = (".com", ".com", ".com", ".io", ".co", ".net", ".ai")

FIRST_NAMES = (
    "Alex", "Priya", "Jordan", "Maria", "Chen", "Fatima", "Liam", "Sofia", "Noah", "Aisha",
    "Lucas", "Emma", "Mateo", "Olivia", "Kenji", "Amara", "Ethan", "Zara", "Daniel", "Ines",
    "Samuel", "Hannah", "Ravi", "Chloe", "Tomasz", "Grace", "Omar", "Lena", "Diego", "Mia",
    "Jonas", "Yuki", "Kwame", "Nadia", "Ben", "Elif", "Marcus", "Julia", "Arjun", "Sara",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Patel", "Garcia", "Nguyen", "Kim", "Müller", "Rossi", "Okafor", "Silva",
    "Johnson", "Brown", "Khan", "Lopez", "Cohen", "Novak", "Andersen", "Tanaka", "Dubois",
    "Schmidt", "Ivanova", "Martin", "Walker", "Haddad", "Costa", "Fischer", "Larsen", "Reyes",
    "Wright", "Chowdhury", "OBrien", "Yilmaz", "Moreau", "Hughes", "Mendes", "Sato", "Berg",
)  # fmt: skip


@dataclass(frozen=True)
class Firm:
    """One customer account as the CRM knows it, plus its contacts."""

    account_id: str
    name: str
    domain: str
    segment: str
    arr: float  # initial ARR; expansions won later add to it
    start_month: int  # month index of contract_start (negative: before the data window)
    start_day: int
    contacts: tuple[str, ...]  # e-mail addresses at the account's domain


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def _contact(rng: np.random.Generator, domain: str) -> str:
    first = str(rng.choice(FIRST_NAMES)).lower()
    last = str(rng.choice(LAST_NAMES)).lower().replace("ü", "u")
    style = int(rng.integers(0, 4))
    local = (f"{first}.{last}", f"{first[0]}{last}", f"{first}", f"{first}_{last}")[style]
    return f"{local}@{domain}"


def _unique_names(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    """``n`` distinct (company name, domain) pairs."""
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    while len(out) < n:
        root = str(rng.choice(_PREFIX)) + str(rng.choice(_ROOT))
        if rng.random() < 0.75:
            base = f"{root} {rng.choice(_TRADE)}"
        else:
            base = f"{rng.choice(_PREFIX)} {rng.choice(_TRADE)}"
        key = _slug(base)
        if key in seen:
            continue
        seen.add(key)
        name = base + str(rng.choice(_SUFFIX))
        out.append((name, key + str(rng.choice(_TLD))))
    return out


def draw_firms(rng: np.random.Generator, n: int, months: int) -> list[Firm]:
    """``n`` accounts. About 65% signed before the data window (left-truncated: their
    history before the window is unseen), the rest sign during it."""
    names = _unique_names(rng, n)
    segments = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_SHARE)
    firms: list[Firm] = []
    for i in range(n):
        seg = SEGMENTS[int(segments[i])]
        arr = float(np.exp(np.log(ARR_MEDIAN[seg]) + ARR_SIGMA[seg] * rng.standard_normal()))
        arr = round(max(arr, ARR_FLOOR[seg]) / 100.0) * 100.0
        if rng.random() < 0.65:
            start = -int(rng.integers(1, 49))  # up to 4 years before the window opens
        else:
            start = int(rng.integers(0, max(months - 2, 1)))
        name, domain = names[i]
        n_contacts = {"smb": 2, "mid_market": 4, "enterprise": 8}[seg]
        contacts = tuple(_contact(rng, domain) for _ in range(n_contacts))
        firms.append(
            Firm(
                account_id=f"ACC-{i + 1:05d}",
                name=name,
                domain=domain,
                segment=seg,
                arr=arr,
                start_month=start,
                start_day=int(rng.integers(1, 29)),
                contacts=contacts,
            )
        )
    return firms
