"""API keys: one role each, stored only as salted scrypt hashes.

A key reads ``ut_<key_id>_<secret>``: ``key_id`` (16 hex characters) is public and names
the key in lists, logs and revocations; ``secret`` is shown once at creation and never
stored. The ``api_keys`` row keeps a random salt and ``scrypt$n$r$p$<hex digest>`` of the
secret, so parameters can be raised later without breaking old keys.

Verifying a key costs one scrypt (tens of milliseconds, on purpose). ``KeyVerifier``
keeps that cost bounded without letting anyone lock an owner out:

- **Cache.** A worker remembers a keyed HMAC of each key it has verified; later requests
  with that key skip scrypt and every budget. The ``api_keys`` row is still read on every
  request, so a revocation takes effect at once on every worker.
- **Single flight.** Concurrent first requests presenting the same key (key id and
  secret) share one scrypt: the first runs it, the others wait for its answer. Requests
  with another secret for the same key id do not join it, so an attacker's wrong guess
  never decides the owner's request.
- **Failure budgets, charged only for failures.** A wrong secret for a real key id, once
  scrypt has said so, spends a token of the budget of its (key id, client address) pair
  and one of its client address (token buckets refilled over a window,
  ``UNDERTOW_API_AUTH_FAILURES*`` in ``api.settings``). A success spends nothing. A
  request whose pair or client budget is empty gets ``AuthThrottled`` (HTTP 429 with
  ``Retry-After``) before any scrypt. The budget is per pair, not per key id: wrong
  secrets sent from one address for a key id that ``keys list`` and the access log show
  cannot lock the owner out from any other address.
- **Bounded scrypt.** At most ``UNDERTOW_API_AUTH_CONCURRENCY`` scrypts run at once in a
  worker; a request waits its turn up to ``UNDERTOW_API_AUTH_WAIT`` seconds, then gets
  ``AuthThrottled`` (scope "server"). Attackers spread over many addresses can thus slow
  first sign-ins, never use more than those slots' CPU, and never make a correct key fail
  its check.

So a correct key is refused only when its own client address spent its budgets on wrong
secrets (a shared NAT or proxy address: see ``api.settings``), or when every scrypt slot
stayed busy for the whole wait; a key this worker has verified before is never refused.
Like the rate limit, budgets, flights and the cache live in memory, per worker process:
with N workers an attacker gets N budgets. Unknown key ids and malformed keys cost no
scrypt and spend no budget (they are one indexed read).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from api.ratelimit import TokenBucketLimiter
from ingest.db.schema import api_keys
from ingest.errors import InputError, NotFoundError

ROLES = ("sales", "finance", "marketing", "admin")
PREFIX = "ut"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
LAST_USED_EVERY_S = 60.0
log = logging.getLogger("undertow.api")  # write last_used_at at most this often per key and worker


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _scrypt(
    secret: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P
) -> str:
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 << 20)
    return f"scrypt${n}${r}${p}${digest.hex()}"


def _matches(secret: str, salt_hex: str, stored: str) -> bool:
    try:
        algo, n, r, p, _ = stored.split("$")
        assert algo == "scrypt"
        candidate = _scrypt(secret, bytes.fromhex(salt_hex), int(n), int(r), int(p))
    except (ValueError, AssertionError):
        return False
    return hmac.compare_digest(candidate.encode(), stored.encode())


def parse_key(key: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed key, else None."""
    parts = key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    key_id, secret = parts[1], parts[2]
    if len(key_id) > 32 or len(secret) > 256 or not key_id.isalnum():
        return None
    return key_id, secret


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    return role


def create_key(engine: Engine, role: str, name: str | None = None) -> dict[str, Any]:
    """Store a new key for ``role``; the returned ``key`` is the only copy of the secret."""
    check_role(role)
    if name is not None and len(name) > 128:
        raise InputError("key name must be at most 128 characters")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    created = _now()
    with engine.begin() as conn:
        conn.execute(
            insert(api_keys).values(
                key_id=key_id,
                role=role,
                name=name,
                salt=salt.hex(),
                key_hash=_scrypt(secret, salt),
                created_at=created,
            )
        )
    return {
        "key_id": key_id,
        "role": role,
        "name": name,
        "created_at": created,
        "key": f"{PREFIX}_{key_id}_{secret}",
    }


def list_keys(engine: Engine, include_revoked: bool = True) -> list[dict[str, Any]]:
    """Every key's public fields (never a hash or salt), oldest first."""
    c = api_keys.c
    stmt = select(c.key_id, c.role, c.name, c.created_at, c.revoked_at, c.last_used_at).order_by(
        c.id
    )
    if not include_revoked:
        stmt = stmt.where(c.revoked_at.is_(None))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def revoke_key(engine: Engine, key_id: str) -> dict[str, Any]:
    """Mark a key revoked (idempotent); NotFoundError for an unknown key id."""
    c = api_keys.c
    with engine.begin() as conn:
        row = conn.execute(select(c.key_id, c.role, c.revoked_at).where(c.key_id == key_id)).first()
        if row is None:
            raise NotFoundError(f"no API key with id '{key_id}' (see `undertow keys list`)")
        revoked_at = row.revoked_at or _now()
        if row.revoked_at is None:
            conn.execute(update(api_keys).where(c.key_id == key_id).values(revoked_at=revoked_at))
    return {"key_id": key_id, "role": row.role, "revoked_at": revoked_at}


@dataclass(frozen=True)
class ApiKey:
    """The verified caller."""

    key_id: str
    role: str
    name: str | None = None

    def may(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles


class AuthThrottled(Exception):
    """A check was not made: too many failed checks for this (key id, client) pair or
    client, or every scrypt slot busy for too long."""

    def __init__(self, retry_after_s: float, scope: str) -> None:
        if scope == "server":
            message = "too many API key checks at once"
        else:
            message = f"too many failed API key checks for this {scope}"
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.scope = scope


def _failure_budget(limit: int, window_s: float) -> TokenBucketLimiter:
    """``limit`` failures at once, earned back evenly over ``window_s`` (0 = no budget)."""
    rate = limit / window_s if limit > 0 and window_s > 0 else 0.0
    return TokenBucketLimiter(rate, limit)


@dataclass
class _Flight:
    """One scrypt check in progress; requests presenting the same key wait for it."""

    done: threading.Event = field(default_factory=threading.Event)
    matched: bool | None = None  # None: the check was not made (throttled, or it failed)


class KeyVerifier:
    """Checks presented keys against the store (see the module docstring)."""

    def __init__(
        self,
        failures_per_key: int = 5,
        failures_per_client: int = 20,
        failure_window_s: float = 60.0,
        concurrency: int = 2,
        wait_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pepper = secrets.token_bytes(32)  # per-process; cache entries die with it
        self._verified: dict[str, bytes] = {}
        self._last_used: dict[str, float] = {}
        self._flights: dict[bytes, _Flight] = {}
        self._lock = threading.Lock()
        self._pair_failures = _failure_budget(failures_per_key, failure_window_s)
        self._client_failures = _failure_budget(failures_per_client, failure_window_s)
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self.wait_s = wait_s
        self.clock = clock

    def _mac(self, key_id: str, secret: str, key_hash: str) -> bytes:
        msg = f"{key_id}\0{secret}\0{key_hash}".encode()
        return hmac.new(self._pepper, msg, hashlib.sha256).digest()

    @staticmethod
    def _pair(key_id: str, client: str | None) -> str:
        return f"{key_id}\0{client or ''}"

    def _check_budgets(self, key_id: str, client: str | None) -> None:
        """AuthThrottled when this pair's or client's failure budget is empty (spends nothing)."""
        now = self.clock()
        wait = self._pair_failures.wait(self._pair(key_id, client), now)
        if wait > 0:
            raise AuthThrottled(wait, "key id")
        if client is not None:
            wait = self._client_failures.wait(client, now)
            if wait > 0:
                raise AuthThrottled(wait, "client")

    def _charge_failure(self, key_id: str, client: str | None) -> None:
        now = self.clock()
        self._pair_failures.take(self._pair(key_id, client), now)
        if client is not None:
            self._client_failures.take(client, now)

    def _scrypt_check(self, key_id: str, secret: str, row: Any, client: str | None) -> bool:
        """One scrypt, budgets checked before and charged after a failure, in a slot."""
        self._check_budgets(key_id, client)
        if not self._slots.acquire(timeout=self.wait_s):
            raise AuthThrottled(1.0, "server")
        try:
            self._check_budgets(key_id, client)  # failures may have landed while it waited
            matched = _matches(secret, row.salt, row.key_hash)
        finally:
            self._slots.release()
        if not matched:
            self._charge_failure(key_id, client)
        return matched

    def _check(self, key_id: str, secret: str, row: Any, mac: bytes, client: str | None) -> bool:
        """Whether ``secret`` is the key's, one scrypt shared by concurrent requests."""
        while True:
            with self._lock:
                flight = self._flights.get(mac)
                leader = flight is None
                if flight is None:
                    flight = self._flights[mac] = _Flight()
            if leader:
                break
            if not flight.done.wait(self.wait_s):
                raise AuthThrottled(1.0, "server")
            if flight.matched is not None:
                return flight.matched
            # the leader was throttled for its own client (or failed): check for ourselves
        try:
            flight.matched = self._scrypt_check(key_id, secret, row, client)
        finally:
            with self._lock:
                del self._flights[mac]
            flight.done.set()
        if flight.matched:
            with self._lock:
                if len(self._verified) > 10_000:
                    self._verified.clear()
                self._verified[key_id] = mac
        return flight.matched

    def verify(self, engine: Engine, presented: str, client: str | None = None) -> ApiKey | None:
        """The key's caller, or None for a malformed, unknown, revoked or wrong key.

        ``client`` (the caller's address) has failure budgets of its own. Raises
        ``AuthThrottled`` instead of running scrypt once a budget is spent, or when no
        scrypt slot freed up in time.
        """
        parsed = parse_key(presented)
        if parsed is None:
            return None
        key_id, secret = parsed
        c = api_keys.c
        with engine.connect() as conn:
            row = conn.execute(
                select(c.role, c.name, c.salt, c.key_hash, c.revoked_at).where(c.key_id == key_id)
            ).first()
        if row is None or row.revoked_at is not None:
            return None
        mac = self._mac(key_id, secret, row.key_hash)
        cached = self._verified.get(key_id)
        if cached is None or not hmac.compare_digest(cached, mac):
            if not self._check(key_id, secret, row, mac, client):
                return None
        self._touch(engine, key_id)
        return ApiKey(key_id=key_id, role=row.role, name=row.name)

    def _touch(self, engine: Engine, key_id: str) -> None:
        now = time.monotonic()
        if now - self._last_used.get(key_id, -1e9) < LAST_USED_EVERY_S:
            return
        self._last_used[key_id] = now
        try:
            with engine.begin() as conn:
                conn.execute(
                    update(api_keys).where(api_keys.c.key_id == key_id).values(last_used_at=_now())
                )
        except SQLAlchemyError as exc:  # bookkeeping only: never fail a request over it
            log.warning("cannot record last use of key %s: %s", key_id, exc)
