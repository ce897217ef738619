"""Security headers on every response: HTML, JSON and problem+json alike.

The strict Content-Security-Policy fits pages with no inline scripts or style
attributes. Swagger UI at /api/docs starts itself with one inline script:
that page's policy allows exactly that script by its SHA-256 hash (computed
from the page as sent, so it follows the configuration) and inline styles,
which Swagger UI's rendering needs.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re

from flask import Flask, Response, request

from service.responses import add_valid, checked

STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
DOCS_CSP = ("default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"
FIXED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
}
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP source expressions ('sha256-…') for each inline <script> of a page."""
    return [f"'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
            for body in _INLINE_SCRIPT.findall(html)]


def hsts_header(app: Flask) -> str | None:
    """Strict-Transport-Security, only when configured as behind HTTPS (TIMELINE_HSTS_SECONDS > 0)."""
    seconds = app.config.get("TIMELINE_HSTS_SECONDS", os.environ.get("TIMELINE_HSTS_SECONDS", "0"))
    seconds = int(seconds or 0)
    return f"max-age={seconds}; includeSubDomains" if seconds > 0 else None


def security_headers(app: Flask) -> tuple[tuple[str, str], ...]:
    """The headers every answer carries unless its view set them (checked, for `add_valid`)."""
    hsts = hsts_header(app)
    return checked(list(FIXED.items()) + [("Content-Security-Policy", STRICT_CSP)] + (
        [("Strict-Transport-Security", hsts)] if hsts else []))


def register(app: Flask) -> None:
    """Add the headers to every response the app sends."""
    defaults = security_headers(app)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        if request.endpoint == DOCS_ENDPOINT and response.status_code == 200:
            hashes = " ".join(inline_script_hashes(response.get_data()))
            response.headers["Content-Security-Policy"] = DOCS_CSP.format(hashes=hashes)
        # Each header unless the view set it: one pass over the headers, not a setdefault (a scan) per header.
        present = {name.lower() for name in response.headers.keys()}
        add_valid(response, [(name, value) for name, value in defaults if name.lower() not in present])
        return response
