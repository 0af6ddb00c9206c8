"""The browser session of the role views: a signed, http-only cookie; never the key.

Signing in (``POST /ui/login``) checks an API key once with the API's ``KeyVerifier``
and stores a session: a random id whose sha256 is a ``ui_sessions`` row (key id, expiry,
revoked flag). The cookie then carries only that id, the key's public id, its role and a
CSRF token, signed with ``itsdangerous`` (HMAC-SHA1 over a timestamped payload, salt
``undertow-ui``). Every request re-reads the session's row and the key's ``api_keys``
row, so signing out (``POST /ui/logout`` revokes the row) ends the session on every
worker, also for a copy of the cookie taken before, and revoking a key (``undertow keys
revoke``) signs its browser sessions out at once. Expired rows are deleted at sign-in.

The signing secret is ``UNDERTOW_UI_SECRET`` (at least 32 characters) when set, else
32 random bytes made when the app is built: sessions then end when the process
restarts, and with ``undertow serve --workers N`` each worker would refuse the others'
cookies, so set ``UNDERTOW_UI_SECRET`` for more than one worker.

Cookie: ``undertow_ui``, ``HttpOnly``, ``SameSite=Strict``, ``Path=/ui``, ``Secure``
when the request came over https, expiring after ``SESSION_MAX_AGE_S``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Engine, delete, insert, select, update
from starlette.requests import Request
from starlette.responses import Response

from ingest.db.schema import api_keys, ui_sessions
from ingest.settings import SettingsError

COOKIE = "undertow_ui"
COOKIE_PATH = "/ui"
SESSION_MAX_AGE_S = 8 * 3600
SECRET_ENV = "UNDERTOW_UI_SECRET"
MIN_SECRET_CHARS = 32


def ui_secret(environ: dict[str, str] | None = None) -> str:
    """The cookie-signing secret: ``UNDERTOW_UI_SECRET`` or a fresh per-process one."""
    env = os.environ if environ is None else environ
    configured = env.get(SECRET_ENV, "")
    if configured:
        if len(configured) < MIN_SECRET_CHARS:
            raise SettingsError(f"{SECRET_ENV}: must be at least {MIN_SECRET_CHARS} characters")
        return configured
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class UiSession:
    """What the cookie holds: a CSRF token, and once signed in, the key's id and role."""

    csrf: str
    key_id: str | None = None
    role: str | None = None
    name: str | None = None
    sid: str | None = None  # the server-side session's id (``ui_sessions``)

    @property
    def signed_in(self) -> bool:
        return self.key_id is not None and self.role is not None and self.sid is not None

    def may(self, *roles: str) -> bool:
        return self.role == "admin" or self.role in roles

    def csrf_matches(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf, str(presented))


def new_session(
    key_id: str | None = None,
    role: str | None = None,
    name: str | None = None,
    sid: str | None = None,
) -> UiSession:
    """A session with a fresh CSRF token (a new one at every sign-in and sign-out)."""
    return UiSession(csrf=secrets.token_urlsafe(24), key_id=key_id, role=role, name=name, sid=sid)


class SessionCodec:
    """Signs sessions into cookie values and reads them back (None when forged or old)."""

    def __init__(self, secret: str, max_age_s: int = SESSION_MAX_AGE_S) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="undertow-ui")
        self.max_age_s = max_age_s

    def dumps(self, session: UiSession) -> str:
        payload = {
            "c": session.csrf,
            "k": session.key_id,
            "r": session.role,
            "n": session.name,
            "s": session.sid,
        }
        return self._serializer.dumps(payload)

    def loads(self, value: str | None) -> UiSession | None:
        if not value or len(value) > 4096:
            return None
        try:
            data = self._serializer.loads(value, max_age=self.max_age_s)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        sid = data.get("s")
        return UiSession(
            csrf=data["c"],
            key_id=data.get("k"),
            role=data.get("r"),
            name=data.get("n"),
            sid=sid if isinstance(sid, str) else None,
        )

    def read(self, request: Request) -> UiSession | None:
        return self.loads(request.cookies.get(COOKIE))

    def write(self, request: Request, response: Response, session: UiSession) -> None:
        response.set_cookie(
            COOKIE,
            self.dumps(session),
            max_age=self.max_age_s,
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )

    @staticmethod
    def clear(response: Response) -> None:
        response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _id_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def start_session(
    engine: Engine, key_id: str, role: str, name: str | None, max_age_s: int = SESSION_MAX_AGE_S
) -> UiSession:
    """Store a new signed-in session (and drop expired ones); returns it."""
    sid = secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as conn:
        conn.execute(delete(ui_sessions).where(ui_sessions.c.expires_at < now))
        conn.execute(
            insert(ui_sessions).values(
                id_hash=_id_hash(sid),
                key_id=key_id,
                created_at=now,
                expires_at=now + timedelta(seconds=max_age_s),
            )
        )
    return new_session(key_id, role, name, sid)


def end_session(engine: Engine, session: UiSession | None) -> None:
    """Revoke the session's row (signing out): every copy of its cookie stops working."""
    if session is None or session.sid is None:
        return
    c = ui_sessions.c
    with engine.begin() as conn:
        conn.execute(
            update(ui_sessions)
            .where(c.id_hash == _id_hash(session.sid), c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )


def still_valid(engine: Engine, session: UiSession) -> bool:
    """Whether the session is stored, not revoked nor expired, and its key still exists,
    is not revoked and keeps its role."""
    if not session.signed_in or session.sid is None:
        return False
    k, u = api_keys.c, ui_sessions.c
    stmt = (
        select(k.role, k.revoked_at, u.revoked_at.label("ended"), u.expires_at)
        .select_from(ui_sessions.join(api_keys, api_keys.c.key_id == u.key_id))
        .where(u.id_hash == _id_hash(session.sid), u.key_id == session.key_id)
    )
    with engine.connect() as conn:
        row = conn.execute(stmt).first()
    return (
        row is not None
        and row.revoked_at is None
        and row.ended is None
        and row.expires_at > _now()
        and row.role == session.role
    )
