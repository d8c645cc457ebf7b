"""Connection set-up: SQLite gets foreign keys, case-sensitive LIKE and unicode lower();
datetimes come back aware, in UTC, with their microseconds."""

import datetime as dt

import pytest
from sqlalchemy import select, text

from labapi.isabl.models import Center


async def test_foreign_keys_are_enforced(session, backend):
    if backend == "sqlite":
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1
    center = Center(name="n", acronym="a", slug="n-a", created_by_id=999_999)
    session.add(center)
    with pytest.raises(Exception, match="(?i)foreign key"):
        async with session.begin_nested():
            await session.flush()


async def test_like_is_case_sensitive_and_lower_folds_unicode(session):
    like = (await session.execute(text("SELECT 'ABC' LIKE 'abc'"))).scalar_one()
    lowered = (await session.execute(text("SELECT lower('ÄΣÉ')"))).scalar_one()
    assert not like
    assert lowered == "äσé"


async def test_datetimes_round_trip_in_utc(session):
    when = dt.datetime(2016, 6, 4, 23, 30, 51, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    center = Center(name="n", acronym="a", slug="n-a", created=when)
    session.add(center)
    await session.flush()
    session.expunge_all()
    stored = (await session.scalars(select(Center.created))).one()
    assert stored == when
    assert stored.tzinfo == dt.UTC
    assert stored.isoformat() == "2016-06-04T21:30:51.123456+00:00"
