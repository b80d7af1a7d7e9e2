"""Mail over real SMTP for `kpictl nudge --send` (the standard library's smtplib and email).

Settings come from the environment, like cron wants them:

* ``KPICTL_SMTP_URL`` — ``smtp://host[:port]`` (default port 25; STARTTLS whenever the server
  offers it) or ``smtps://host[:port]`` (TLS from the first byte, default port 465);
* ``KPICTL_SMTP_USER`` / ``KPICTL_SMTP_PASSWORD``, else a ``~/.netrc`` entry for the host,
  else no login;
* ``KPICTL_MAIL_FROM`` — the sender (default ``kpictl@<this host's name>``).

A password never reaches output: errors name the server by ``scheme://host:port`` only.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import unquote, urlsplit

from kpictl.errors import InvalidInput, RuntimeFailure

TIMEOUT_S = 30


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: bool  # smtps: TLS from the start
    user: str | None
    password: str | None
    sender: str

    @property
    def shown(self) -> str:
        return f"{'smtps' if self.tls else 'smtp'}://{self.host}:{self.port}"


def settings_from_env(env=os.environ) -> SmtpSettings:
    url = env.get("KPICTL_SMTP_URL")
    if not url:
        raise InvalidInput("--send needs KPICTL_SMTP_URL (e.g. smtp://localhost:25 or "
                           "smtps://mail.example.com)")
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise InvalidInput("KPICTL_SMTP_URL must look like smtp://host[:port] or "
                           "smtps://host[:port]")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise InvalidInput("KPICTL_SMTP_URL has an invalid port") from None
    user = env.get("KPICTL_SMTP_USER") or (unquote(parts.username) if parts.username else None)
    password = env.get("KPICTL_SMTP_PASSWORD") or (unquote(parts.password)
                                                   if parts.password else None)
    if user is None and password is None:
        user, password = _netrc(parts.hostname)
    sender = env.get("KPICTL_MAIL_FROM") or f"kpictl@{socket.getfqdn() or 'localhost'}"
    if "@" not in sender or any(c in sender for c in "\r\n"):
        raise InvalidInput("KPICTL_MAIL_FROM must be one address such as kpictl@example.com")
    return SmtpSettings(parts.hostname, port, parts.scheme == "smtps", user, password, sender)


def _netrc(host: str) -> tuple[str | None, str | None]:
    import netrc

    try:
        entry = netrc.netrc().authenticators(host)
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return None, None
    return (entry[0], entry[2]) if entry else (None, None)


def build_message(*, sender: str, name: str, address: str, subject: str, text: str, html: str,
                  now: datetime) -> EmailMessage:
    """``multipart/alternative``: the plain text first, the HTML look second."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = Address(display_name=name, addr_spec=address)
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a robot
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class Mailer:
    """One SMTP session for a run; ``send`` raises :class:`smtplib.SMTPException` for a
    message the server refused, so the caller can go on with the next recipient."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        s = self.settings
        context = ssl.create_default_context()
        try:
            if s.tls:
                self.smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=TIMEOUT_S, context=context)
            else:
                self.smtp = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT_S)
                self.smtp.ehlo()
                if self.smtp.has_extn("starttls"):
                    self.smtp.starttls(context=context)
                    self.smtp.ehlo()
        except (OSError, smtplib.SMTPException) as exc:
            self._close()
            reason = getattr(exc, "strerror", None) or exc.__class__.__name__
            raise RuntimeFailure(f"cannot reach the mail server {s.shown}: {reason}") from None
        if s.user is not None or s.password is not None:
            try:
                self.smtp.login(s.user or "", s.password or "")
            except (OSError, smtplib.SMTPException):
                # 535, or a server that hangs up on a failed AUTH: the same advice
                self._close()
                raise RuntimeFailure(f"the mail server {s.shown} refused the login of "
                                     f"{s.user!r}: check KPICTL_SMTP_USER/KPICTL_SMTP_PASSWORD "
                                     "or ~/.netrc") from None
        return self

    def send(self, message: EmailMessage) -> None:
        assert self.smtp is not None
        self.smtp.send_message(message)

    def _close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None

    def __exit__(self, *exc) -> None:
        self._close()
