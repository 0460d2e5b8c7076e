"""Every error answered in Vietnamese: a page of the site for a browser, JSON under /api/.

`install(app)` handles the errors of FastAPI and Starlette themselves (an unknown address, a
method the address does not take, an address whose parts do not parse), a refused request body
(`RequestRefused`), the database being unreachable (503 with Retry-After) and anything unexpected
(500, logged with its traceback). A page never answers with English or with JSON.
"""

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from portal.headers import security_headers
from portal.limits import RequestRefused
from portal.pages import not_found, render_page

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30
# (title, message) by status; a custom message (RequestRefused, an API's detail) replaces it.
ERRORS = {
    400: (
        "Yêu cầu không hợp lệ",
        "Yêu cầu gửi lên không đọc được. Vui lòng mở lại trang và gửi lại.",
    ),
    401: ("Cần đăng nhập", "Trang này cần tên đăng nhập và mật khẩu của Văn phòng Khối."),
    403: ("Không được phép", "Bạn không có quyền thực hiện thao tác này."),
    404: ("Không tìm thấy", "Không tìm thấy."),
    405: ("Thao tác không được hỗ trợ", "Địa chỉ này không nhận yêu cầu kiểu {method}."),
    413: ("Dữ liệu gửi lên quá lớn", "Dữ liệu gửi lên quá lớn."),
    415: ("Dữ liệu không đúng dạng", "Dữ liệu gửi lên không đúng dạng mà địa chỉ này nhận."),
    422: ("Dữ liệu không hợp lệ", "Dữ liệu gửi lên không hợp lệ."),
    500: (
        "Lỗi máy chủ",
        "Máy chủ gặp lỗi khi xử lý yêu cầu; lỗi đã được ghi lại để Văn phòng Khối xử lý. "
        "Nếu vừa gửi hồ sơ, hãy mở lại trang của đơn vị để xem hồ sơ đã được ghi nhận chưa.",
    ),
    503: (
        "Tạm ngừng phục vụ",
        "Máy chủ tạm thời không truy cập được cơ sở dữ liệu. Vui lòng thử lại sau ít phút; "
        "hồ sơ gửi lúc này chưa được ghi nhận.",
    ),
}


def error_response(
    request: Request, status: int, message: str | None = None, headers: dict | None = None
) -> Response:
    """The answer to `request` for an error `status`: JSON `{"detail": message}` under /api/,
    else the site's page (the usual not-found page for 404)."""
    title, default = ERRORS.get(status) or ERRORS[500 if status >= 500 else 400]
    message = message or default.format(method=request.method)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    if status == 404:
        return not_found()
    page = render_page("error.html.j2", status, title=title, message=message, code=status)
    page.headers.update(headers or {})
    return page


async def _http_error(request: Request, error: HTTPException) -> Response:
    # Starlette's own details are English ("Not Found"); ours (the API's) are Vietnamese.
    english = error.detail == HTTPException(error.status_code).detail
    message = None if english else str(error.detail)
    return error_response(request, error.status_code, message, error.headers)


async def _invalid_address(request: Request, error: RequestValidationError) -> Response:
    # Only path parameters are validated by FastAPI here (forms are read by portal.limits):
    # an address whose year is not a number names nothing.
    if all(problem["loc"][0] == "path" for problem in error.errors()):
        return error_response(request, 404)
    return error_response(request, 422)


async def _refused(request: Request, error: RequestRefused) -> Response:
    return error_response(request, error.status, str(error))


async def _database_unreachable(request: Request, error: Exception) -> Response:
    log.error("database unreachable while answering %s: %s", request.method, error)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return error_response(request, 503, headers=headers)


async def _server_error(request: Request, error: Exception) -> Response:
    # Starlette re-raises the error after this answer (the traceback reaches the log) and uvicorn
    # then closes the connection: say so, or a client reuses it and gets a reset.
    headers = {"Connection": "close", **security_headers(request.url.path)}
    return error_response(request, 500, headers=headers)


def install(app: FastAPI) -> None:
    """Answer every error of `app` in Vietnamese (see the module's docstring)."""
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_address)
    app.add_exception_handler(RequestRefused, _refused)
    for unreachable in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(unreachable, _database_unreachable)
    app.add_exception_handler(Exception, _server_error)
