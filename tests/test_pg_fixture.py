from __future__ import annotations

import pytest
import sqlalchemy as sa


@pytest.mark.postgres
def test_throwaway_postgres_accepts_queries(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("select 40 + 2")).scalar() == 42
    engine.dispose()
