"""Who is calling: API keys, the widget's site keys, and the per-client rate limit.

Keys are compared in constant time and never logged; a client is named in logs by a short hash of
its key. A site key is public (it is in the page's HTML), so it counts only when the request comes
from the page origin it was issued for.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import HTTPException, Request, status

from service.api.rate_limit import RateLimiter
from service.config import Settings

API_KEY_HEADER = "X-API-Key"
SITE_KEY_HEADER = "X-Site-Key"


@dataclass(frozen=True)
class Client:
    """``kind`` is ``key``, ``site`` or ``address``; ``name`` a key's hash prefix or the address."""

    kind: str
    name: str
    refusal: str | None = None  # why the credentials it sent were not accepted

    @property
    def bucket(self) -> str:
        """The client's rate-limit bucket: one per key, site key or address."""
        return f"{self.kind}:{self.name}"

    @property
    def log_name(self) -> str | None:
        """What the request log says about the client: never a key, at most its hash prefix."""
        return self.bucket if self.kind != "address" else None


def key_hash(key: str) -> str:
    """A short hash that names a key in logs and rate-limit buckets, where the key itself must not appear."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def matches(given: str, keys: Iterable[str]) -> str | None:
    """The key equal to ``given``. Every key is compared, each in constant time, and as digests of one
    length, so the time taken tells nothing about the keys, not even their lengths."""
    digest = hashlib.sha256(given.encode()).digest()
    found = None
    for key in keys:
        if hmac.compare_digest(digest, hashlib.sha256(key.encode()).digest()):
            found = key
    return found


def presented_key(request: Request) -> str | None:
    """``Authorization: Bearer KEY`` or ``X-API-Key: KEY``."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get(API_KEY_HEADER) or None


class Access:
    """The app's keys and rate limiter; ``admit`` guards the question routes, ``admit_operator`` /metrics."""

    def __init__(self, settings: Settings) -> None:
        self.api_keys = [key.get_secret_value() for key in settings.api_keys]
        self.site_keys = dict(settings.site_keys)
        rate = settings.rate
        self.limiter = RateLimiter(*rate) if rate else None
        self.limit_local = settings.rate_limit_local

    @property
    def keys_required(self) -> bool:
        """Whether the question routes need a key: some API key or site key is configured."""
        return bool(self.api_keys or self.site_keys)

    def identify(self, request: Request) -> Client:
        """Who sent ``request``: a valid API key, else a site key valid for the page's origin, else the
        address, with why a key it sent was refused."""
        address = request.client.host if request.client else "unknown"
        refusal = None
        given = presented_key(request)
        if given is not None and self.api_keys:
            if matches(given, self.api_keys):
                return Client("key", key_hash(given))
            refusal = "the API key is not valid"
        site_key = request.headers.get(SITE_KEY_HEADER)
        if site_key and self.site_keys:
            key = matches(site_key, self.site_keys)
            origin = request.headers.get("origin", "")
            if key is not None and origin == self.site_keys[key]:  # an origin is public: plain comparison
                return Client("site", key_hash(key))
            refusal = refusal or (
                "the site key is not valid for this page's origin" if key else "the site key is not valid"
            )
        return Client("address", address, refusal)

    def admit(self, request: Request) -> Client:
        """The calling client, after its rate limit where one applies (``rate_limited``); 429 or 401
        with the reason otherwise."""
        client = self.identify(request)
        request.state.client = client.log_name
        if self.rate_limited(client, request):
            self.throttle(client.bucket)
        if self.keys_required and client.kind == "address":
            raise unauthorized(
                client.refusal or f"an API key is required: send Authorization: Bearer KEY or {API_KEY_HEADER}: KEY"
            )
        return client

    def rate_limited(self, client: Client, request: Request) -> bool:
        """Whom the rate limit is for: pages in a browser (they send an ``Origin``) and callers without a
        valid API key from another machine, throttled by site key, else by address, so guessing keys
        is throttled too. A valid API key, or a script on the server's own machine, is the operator's
        own use and is not held to a limit it did not choose (unless ``rate_limit_local``). Behind a
        reverse proxy the address is the one the proxy forwards (``X-Forwarded-For``)."""
        if client.kind == "key":
            return False
        address = request.client.host if request.client else ""
        return "origin" in request.headers or self.limit_local or not _loopback(address)

    def throttle(self, bucket: str) -> None:
        """429 with ``Retry-After`` once ``bucket`` has spent its burst."""
        if self.limiter is not None and (wait := self.limiter.take(bucket)):
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"too many requests: try again in {math.ceil(wait)} s",
                headers={"Retry-After": str(math.ceil(wait))},
            )

    def admit_operator(self, request: Request) -> None:
        """/metrics: an API key when API keys are set (a site key does not open it), else open."""
        client = self.identify(request)
        request.state.client = client.log_name
        if self.api_keys and client.kind != "key":
            raise unauthorized(client.refusal or "an API key is required for metrics")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def unauthorized(detail: str) -> HTTPException:
    """A 401 saying ``detail``, with the header that asks for a bearer key."""
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})
