"""SQL statements per facility list request: a page of 50 rows costs what a page of one
does (no statement per row), in both representations."""

from sqlalchemy.ext.asyncio import AsyncSession

from tests.facility.conftest import Facility
from tests.isabl.test_hierarchy import counting


async def test_substock_lists_cost_the_same_whatever_the_page_size(
    client, session: AsyncSession, facility: Facility
):
    counts = {}
    for detail in ("", "&detail"):
        for size in (1, 50):
            with counting(session) as statements:
                response = await client.get(f"/api/substock/?pg_size={size}{detail}")
            assert response.status_code == 200, response.text
            assert len(response.json()["data"]) == min(size, 7)
            counts[(detail, size)] = len(statements)
    assert counts[("", 1)] == counts[("", 50)], counts
    assert counts[("&detail", 1)] == counts[("&detail", 50)], counts
    assert 0 < counts[("", 1)] <= counts[("&detail", 1)], counts
