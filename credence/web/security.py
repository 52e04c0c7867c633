"""What every page sends and every form carries: a strict Content-Security-Policy, a signed
double-submit CSRF token, and cookies that scripts cannot read and other sites do not send.

The CSRF token is a random nonce kept in an HttpOnly, SameSite=Strict cookie; a form carries
HMAC-SHA256(key, nonce), which only the server can compute. A forged form posted from another
site carries neither (the browser does not send the cookie, and the attacker cannot sign a
nonce they planted), and is refused with 403.
"""

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from credence.exc import CredenceError

CSRF_COOKIE = "credence_csrf"
CSRF_FIELD = "csrf"
SESSION_COOKIE = "credence_session"
LANG_COOKIE = "credence_lang"

# pages need nothing but their own stylesheet and inline SVG: no script, no frame, no other origin
POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # a subject's file must not stay in a shared cache
}


class ForgedFormError(CredenceError):
    """A form without the token its page gave, or with another (HTTP 403)."""

    status = 403

    def __init__(self) -> None:
        super().__init__("csrf: expected the form's token; reload the page and send the form again")


def secure(response: Response) -> Response:
    response.headers.update(HEADERS)
    return response


def signed(key: bytes, nonce: str) -> str:
    return hmac.new(key, b"csrf|" + nonce.encode(), hashlib.sha256).hexdigest()


def nonce_of(request: Request) -> str:
    """The browser's nonce, or a new one (which ``keep_nonce`` then sets)."""
    found = request.cookies.get(CSRF_COOKIE, "")
    return found if 20 <= len(found) <= 100 else secrets.token_urlsafe(32)


def keep_nonce(request: Request, response: Response, nonce: str, *, secure_cookies: bool) -> None:
    if request.cookies.get(CSRF_COOKIE) != nonce:
        cookie(request, response, CSRF_COOKIE, nonce, secure_cookies=secure_cookies, same_site="strict")


def check(key: bytes, request: Request, given: object) -> None:
    """Refuse a form whose token is not the signature of the browser's nonce."""
    nonce = request.cookies.get(CSRF_COOKIE)
    if not nonce or not isinstance(given, str) or not hmac.compare_digest(signed(key, nonce), given):
        raise ForgedFormError


def cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    *,
    secure_cookies: bool,
    same_site: str = "lax",
    max_age: int | None = None,
) -> None:
    """A cookie scripts cannot read; Secure when asked to or when the request came over HTTPS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite=same_site,  # type: ignore[arg-type]  # starlette's Literal; ours are "lax" and "strict"
        secure=secure_cookies or request.url.scheme == "https",
    )
