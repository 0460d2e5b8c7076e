"""Signing the secretariat's staff in to `/quan-tri`, and the checks every admin request passes.

A session lives in the database (models.staff), so signing out, a new password or the end of
its lifetime stops it at once; the cookie holds only a random token (HttpOnly, SameSite=Strict,
Secure when the public address is https). Every POST must come from a page of this site (its
Origin, else its Referer) and carry the form's CSRF token, derived from the session's token.
Failed sign-ins delay the next attempt per account and per client address (domain.sign_in).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.responses import Response as StarletteResponse

from domain.sign_in import ACCOUNT_FREE_TRIES, ADDRESS_FREE_TRIES
from models import staff as accounts
from models.db import session_scope
from portal.errors import error_response
from portal.limits import read_form
from portal.pages import render_page

COOKIE = "thidua_quan_tri"
FORM_COOKIE = "thidua_dang_nhap"  # the sign-in form's own CSRF token (no session yet)
PATH = "/quan-tri"
SIGN_IN = "/quan-tri/dang-nhap"
CROSS_SITE = (
    "Yêu cầu bị từ chối vì không được gửi từ trang quản trị của cổng này (có thể từ một trang "
    "web khác). Không có thay đổi nào được ghi. Hãy mở lại trang /quan-tri và thao tác lại."
)
STALE_FORM = (
    "Biểu mẫu thiếu mã xác thực hoặc mã đã hết hạn. Không có thay đổi nào được ghi. "
    "Hãy mở lại trang và gửi lại."
)
SIGNED_OUT = (
    "Phiên làm việc đã kết thúc hoặc chưa đăng nhập: hãy đăng nhập lại tại /quan-tri/dang-nhap."
)


def system_clock() -> datetime:
    return datetime.now(UTC)


def now(request: Request) -> datetime:
    """The request's instant from the app's clock (`create_app(clock=…)`, tests move it)."""
    return request.app.state.clock()


class SignInRequired(Exception):
    """No valid session: a page is redirected to the sign-in form, anything else is refused."""


@dataclass(frozen=True)
class Staff:
    """The signed-in member of staff and the CSRF token their forms carry."""

    name: str
    csrf: str

    def check_form(self, fields: dict[str, str]) -> None:
        """Refuse (403) a form that does not carry this session's CSRF token."""
        if not hmac.compare_digest(fields.get("csrf", "").encode(), self.csrf.encode()):
            raise HTTPException(403, STALE_FORM)


def _csrf(token: str) -> str:
    return hmac.new(token.encode(), b"thidua/quan-tri/csrf", hashlib.sha256).hexdigest()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_site_only(request: Request) -> None:
    """Refuse (403) a POST that a page of another site sent: its Origin (else its Referer)
    must be this site's public address or the address the request was sent to."""
    if request.method in ("GET", "HEAD"):
        return
    ours = {_origin(request.app.state.settings.public_url)}
    ours.add(f"{request.url.scheme}://{request.headers.get('host', '')}".lower())
    origin = request.headers.get("origin", "null")
    if origin == "null":  # absent, or hidden by a referrer policy: the Referer then
        origin = _origin(request.headers.get("referer", ""))
    if origin not in ours:
        raise HTTPException(403, CROSS_SITE)


router = APIRouter(include_in_schema=False, dependencies=[Depends(same_site_only)])


def signed_in(request: Request) -> Staff:
    """The member of staff whose session cookie this request carries (`SignInRequired` if none)."""
    token = request.cookies.get(COOKIE, "")
    with session_scope(request.app.state.engine) as session:
        account = accounts.session_account(session, token=token, at=now(request))
    if account is None:
        raise SignInRequired
    return Staff(account.name, _csrf(token))


def _https(request: Request) -> bool:
    return request.app.state.settings.public_url.lower().startswith("https://")


def _form(
    request: Request, status: int = 200, *, name: str = "", errors: tuple[str, ...] = ()
) -> HTMLResponse:
    """The sign-in page, with a fresh token for its form (in a cookie and a hidden field)."""
    token = secrets.token_urlsafe(32)
    page = render_page("admin_sign_in.html.j2", status, csrf=token, account=name, errors=errors)
    page.set_cookie(
        FORM_COOKIE, token, path=PATH, httponly=True, samesite="strict", secure=_https(request)
    )
    return page


@router.get(SIGN_IN, response_class=HTMLResponse)
def sign_in_form(request: Request):
    return _form(request)


@router.post(SIGN_IN, response_class=HTMLResponse)
async def sign_in(request: Request):
    fields, _ = await read_form(request, 0)
    expected = request.cookies.get(FORM_COOKIE, "")
    if not expected or not hmac.compare_digest(fields.get("csrf", "").encode(), expected.encode()):
        return _form(request, 403, errors=(STALE_FORM,))
    name = fields.get("name", "").strip().lower()
    password = fields.get("password", "")
    address_key = f"address:{request.client.host if request.client else '-'}"
    keys = {f"account:{name[:64]}": ACCOUNT_FREE_TRIES, address_key: ADDRESS_FREE_TRIES}
    return await to_thread.run_sync(_attempt, request, name[:64], password, keys)


def _attempt(request: Request, name: str, password: str, keys: dict[str, int]) -> Response:
    """Count the attempt, check the password outside any transaction (the hashing takes a
    while and SQLite would hold its write lock), then open the session or refuse."""
    engine, at = request.app.state.engine, now(request)
    with session_scope(engine) as session:
        wait = accounts.reserve_attempt(session, keys=keys, at=at)
        account = None if wait else accounts.lookup(session, name)
    if wait:
        again = f"Đăng nhập sai nhiều lần. Thử lại sau {wait} giây."
        page = _form(request, 429, name=name, errors=(again,))
        page.headers["Retry-After"] = str(wait)
        return page
    if not accounts.password_matches(account, password):
        with session_scope(engine) as session:
            refused = dict(action="staff.sign_in_refused", name=name, at=at, address=list(keys)[1])
            accounts.audit(session, actor=name or "-", **refused)
        return _form(request, 401, name=name, errors=("Tên tài khoản hoặc mật khẩu không đúng.",))
    new_hash = accounts.fresh_hash(account, password)
    lifetime = timedelta(hours=request.app.state.settings.admin_session_hours)
    with session_scope(engine) as session:
        account_key, address_key = keys
        free = keys[address_key]
        accounts.release_attempt(
            session, account_key=account_key, address_key=address_key, free=free, at=at
        )
        if new_hash:
            accounts.store_hash(session, account=account, password_hash=new_hash)
        token = accounts.open_session(session, account=account, at=at, lifetime=lifetime)
        accounts.audit(session, actor=name, action="staff.signed_in", name=name, at=at)
    return _signed_in(request, token, lifetime)


def _signed_in(request: Request, token: str, lifetime: timedelta) -> Response:
    """To the workspace, with the session's cookie; the sign-in form's cookie is dropped."""
    response = RedirectResponse(PATH, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=_https(request),
    )
    response.delete_cookie(FORM_COOKIE, path=PATH)
    return response


@router.post("/quan-tri/dang-xuat")
async def sign_out(request: Request):
    staff = await to_thread.run_sync(signed_in, request)
    fields, _ = await read_form(request, 0)
    staff.check_form(fields)

    def close() -> None:
        with session_scope(request.app.state.engine) as session:
            accounts.close_session(session, token=request.cookies[COOKIE])
            accounts.audit(
                session,
                actor=staff.name,
                action="staff.signed_out",
                name=staff.name,
                at=now(request),
            )

    await to_thread.run_sync(close)
    response = RedirectResponse(SIGN_IN, status_code=303)
    response.delete_cookie(COOKIE, path=PATH)
    return response


async def _sign_in_required(request: Request, error: SignInRequired) -> StarletteResponse:
    if request.method in ("GET", "HEAD"):
        return RedirectResponse(SIGN_IN, status_code=303)
    return error_response(request, 401, SIGNED_OUT)


def install(app: FastAPI) -> None:
    """Send a request without a session to the sign-in form (a page) or refuse it (a form)."""
    app.add_exception_handler(SignInRequired, _sign_in_required)
