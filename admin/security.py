"""Security headers on every console response: a Content-Security-Policy, no framing.

Scripts run only from the hub itself, each ``<script>`` tag carrying this response's
nonce (flask-admin's templates ask :func:`csp_nonce` for it); no inline event handler
runs. The few flask-admin's templates write inline (``onclick="return
faHelpers.safeConfirm(…)"``) are renamed ``data-hub-onclick`` in the page, where the
policy ignores them, and ``static/console.js`` attaches their behaviour.
Styles come from the hub's own files. No other site may frame a console page
(clickjacking), and browsers must not guess content types.
"""

from __future__ import annotations

import re
import secrets

from flask import Flask, g
from werkzeug.wrappers import Response

NONCE_KEY = "csp_nonce"
# An inline handler attribute in rendered HTML. Text and attribute values are escaped
# (a '"' is "&#34;"), so only real attributes match.
INLINE_HANDLER = re.compile(r'(\s)on(click|change|submit)="')


def csp_nonce() -> str:
    """This response's script nonce (one per request)."""
    nonce = g.get(NONCE_KEY)
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return str(nonce)


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def add_security_headers(response: Response) -> Response:
    if response.mimetype == "text/html" and not response.is_streamed:
        page = response.get_data(as_text=True)
        if INLINE_HANDLER.search(page):
            response.set_data(INLINE_HANDLER.sub(r'\1data-hub-on\2="', page))
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    return response


def secure_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
