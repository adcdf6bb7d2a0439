"""The incident tests' county fixtures (organisation and accounts on SQLite and
PostgreSQL), reused for the dispute services on both backends."""

from tests.incidents.conftest import (  # noqa: F401  # fixtures
    _english,
    api,
    county,
    county_engine,
    county_files,
    county_settings,
    postgres_county_template,
    sqlite_county_template,
)
