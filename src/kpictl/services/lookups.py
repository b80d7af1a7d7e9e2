"""Finding people and KPIs by the names users type, and validating those names."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kpictl.domain import HANDLE_RE, KEY_RE, TAG_RE
from kpictl.errors import InvalidInput, NotFound, did_you_mean
from kpictl.models import Kpi, Person


def normalize_handle(handle: str) -> str:
    value = handle.strip().lower()
    if not HANDLE_RE.fullmatch(value):
        raise InvalidInput(
            f"invalid handle {handle!r}: use 1-64 characters a-z, 0-9, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def normalize_key(key: str) -> str:
    value = key.strip().lower()
    if not KEY_RE.fullmatch(value):
        raise InvalidInput(
            f"invalid KPI key {key!r}: use 1-100 characters a-z, 0-9, '.', '_' or '-', "
            "such as sales.new-arr"
        )
    return value


def normalize_tag(tag: str, *, what: str = "tag") -> str:
    value = tag.strip().lower()
    if not TAG_RE.fullmatch(value):
        raise InvalidInput(
            f"invalid {what} {tag!r}: use 1-64 characters a-z, 0-9, '.', '_', '/' or '-'"
        )
    return value


def clean_text(text: str | None, *, what: str, required: bool = False, limit: int = 10_000):
    """Trim user text; refuse NUL bytes and over-long values on every backend alike."""
    if text is None:
        if required:
            raise InvalidInput(f"{what} is required")
        return None
    value = text.strip()
    if required and not value:
        raise InvalidInput(f"{what} must not be empty")
    if "\x00" in value:
        raise InvalidInput(f"{what} contains a NUL byte")
    if len(value) > limit:
        raise InvalidInput(f"{what} is too long ({len(value)} characters; at most {limit})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} is not valid text (lone surrogate)") from None
    return value or None


def find_person(session: Session, handle: str) -> Person | None:
    value = handle.strip().lower()
    return session.execute(select(Person).where(Person.handle == value)).scalar_one_or_none()


def get_person(session: Session, handle: str) -> Person:
    person = find_person(session, handle)
    if person is None:
        handles = session.execute(select(Person.handle)).scalars().all()
        hint = did_you_mean(handle.strip().lower(), handles) or "."
        raise NotFound(f"no person '{handle}'{hint} See `kpictl people list`.")
    return person


def find_kpi(session: Session, key: str, *, for_update: bool = False) -> Kpi | None:
    stmt = select(Kpi).where(Kpi.key == key.strip().lower())
    if for_update:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def get_kpi(session: Session, key: str, *, for_update: bool = False) -> Kpi:
    kpi = find_kpi(session, key, for_update=for_update)
    if kpi is None:
        keys = session.execute(select(Kpi.key)).scalars().all()
        hint = did_you_mean(key.strip().lower(), keys) or "."
        raise NotFound(f"no KPI '{key}'{hint} See `kpictl report`.")
    return kpi


def handles_by_id(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Person.id, Person.handle)).all())
