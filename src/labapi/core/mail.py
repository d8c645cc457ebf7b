"""Outgoing mail: every message is kept in the outbox table and logged; with an SMTP host
configured it is also sent (in a worker thread, never on the event loop)."""

import logging
import smtplib
from email.message import EmailMessage

import anyio.to_thread
from sqlalchemy.ext.asyncio import AsyncSession

from labapi.auth.models import OutboxMessage
from labapi.core.models import utcnow
from labapi.core.settings import Settings

log = logging.getLogger("labapi.mail")


def _smtp_send(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


async def send_mail(
    *,
    session: AsyncSession,
    settings: Settings,
    recipients: list[str],
    subject: str,
    body: str,
    html: str | None = None,
) -> OutboxMessage:
    """Queue a message in the outbox and send it when SMTP is configured."""
    outbox = OutboxMessage(recipients=recipients, subject=subject, body=body, html=html)
    session.add(outbox)
    if settings.smtp_host:
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject
        message.set_content(body)
        if html:
            message.add_alternative(html, subtype="html")
        try:
            await anyio.to_thread.run_sync(_smtp_send, settings, message)
            outbox.sent = utcnow()
        except (OSError, smtplib.SMTPException) as exc:
            outbox.error = str(exc)
            log.warning("mail to %s not sent: %s", recipients, exc)
    log.info("mail %r to %s (%s)", subject, recipients, "sent" if outbox.sent else "outbox")
    await session.flush()
    return outbox
