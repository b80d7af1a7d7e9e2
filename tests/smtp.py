"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives."""

from __future__ import annotations

import email
import email.policy
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Mailbox:
    messages: list = field(default_factory=list)  # email.message.EmailMessage, in order
    refuse: set = field(default_factory=set)  # recipient addresses answered with 550

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]


def self_signed(directory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key (openssl), for the TLS variants: a client
    trusts it when ``SSL_CERT_FILE`` names it."""
    import subprocess

    cert, key = str(directory / "cert.pem"), str(directory / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


@contextmanager
def smtp_server(login: tuple[str, str] | None = None, tls: str | None = None,
                cert: tuple[str, str] | None = None):
    """Yields (url, mailbox); the server stops when the block ends. With ``login`` the server
    requires AUTH with that user and password (over plain loopback, for the test). ``tls`` is
    ``"starttls"`` (offered, and required before mail) or ``"smtps"`` (TLS from the start),
    with ``cert`` from :func:`self_signed`."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    box = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd cannot be given port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    extra = {}
    if login is not None:
        def authenticator(server, session, envelope, mechanism, data):
            ok = isinstance(data, LoginPassword) and (
                data.login.decode(), data.password.decode()) == login
            return AuthResult(success=ok)

        extra = {"authenticator": authenticator, "auth_required": True,
                 "auth_require_tls": False}
    scheme = "smtp"
    if tls is not None:
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*cert)
        if tls == "starttls":
            extra.update(tls_context=context, require_starttls=True)
        else:
            extra.update(ssl_context=context)
            scheme = "smtps"
    controller = Controller(box, hostname="127.0.0.1", port=port, **extra)
    controller.start()
    try:
        yield f"{scheme}://127.0.0.1:{controller.port}", box
    finally:
        controller.stop()
