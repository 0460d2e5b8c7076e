"""THIDUA_SMTP_URL read into an SMTP target: `smtp://host:25`, `smtp+starttls://user@host:587`
or `smtps://host:465`, with `?connect_timeout=10&timeout=30&cafile=…`. An error names what is
wrong and never shows the password."""

import math
from dataclasses import dataclass, field
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit


class SmtpUrlError(ValueError):
    """THIDUA_SMTP_URL cannot be understood (the message never shows its password)."""


@dataclass(frozen=True)
class SmtpTarget:
    hostname: str
    port: int
    use_tls: bool = False  # smtps:// — TLS from the first byte (port 465)
    start_tls: bool = False  # smtp+starttls:// — upgrade, and refuse a server that cannot
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    connect_timeout: float = 10.0  # to connect and read the greeting (at most `timeout` if unset)
    timeout: float = 30.0  # for each command after that
    cafile: str | None = None


MODES = {
    "smtp": (False, False, 25),
    "smtp+starttls": (False, True, 587),
    "smtps": (True, False, 465),
}
TIMEOUTS = ("connect_timeout", "timeout")


def _shown(parts: SplitResult) -> str:
    """The URL as an error may show it: the user and host, never the password, the query, or
    what stands where the port should be (a password typed without `@host` ends up there)."""
    user = f"{parts.username or ''}{':***' if parts.password is not None else ''}"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return (
        f"{parts.scheme}://{user}{'@' if '@' in parts.netloc else ''}{parts.hostname or ''}{port}"
    )


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value < math.inf else None


def parse_smtp_url(
    url: str, *, username: str | None = None, password: str | None = None
) -> SmtpTarget:
    """`smtp://host:25`, `smtp+starttls://user@host:587`, `smtps://host:465`, with
    `?connect_timeout=10&timeout=30&cafile=…` (seconds, a CA file); raises SmtpUrlError."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise SmtpUrlError("THIDUA_SMTP_URL không phải là một địa chỉ hợp lệ") from None
    where = f"THIDUA_SMTP_URL ({_shown(parts)})"
    if parts.scheme not in MODES:
        raise SmtpUrlError(f"{where}: phải bắt đầu bằng smtp://, smtp+starttls:// hoặc smtps://")
    if not parts.hostname:
        raise SmtpUrlError(f"{where}: thiếu tên máy chủ SMTP")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise SmtpUrlError(f"{where}: cổng phải là một số từ 1 đến 65535")
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    if unknown := sorted(query.keys() - {*TIMEOUTS, "cafile"}):
        raise SmtpUrlError(
            f"{where}: không có tham số {unknown[0]} (chỉ có {', '.join(TIMEOUTS)}, cafile)"
        )
    timeouts = {name: _seconds(query[name]) for name in TIMEOUTS if name in query}
    if bad := [name for name, value in timeouts.items() if value is None]:
        raise SmtpUrlError(f"{where}: {bad[0]} phải là số giây lớn hơn 0")
    timeouts.setdefault("connect_timeout", min(10.0, timeouts.get("timeout", 10.0)))
    use_tls, start_tls, default_port = MODES[parts.scheme]
    return SmtpTarget(
        hostname=parts.hostname,
        port=port or default_port,
        use_tls=use_tls,
        start_tls=start_tls,
        username=username or (unquote(parts.username) if parts.username else None),
        password=password or (unquote(parts.password) if parts.password else None),
        cafile=query.get("cafile"),
        **timeouts,
    )
