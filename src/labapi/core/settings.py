"""Settings of the service, read from `LABAPI_*` environment variables and `.env`."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every tunable of labapi; `create_app(Settings(...))` lets tests pass their own."""

    model_config = SettingsConfigDict(env_prefix="LABAPI_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/labapi.db"
    echo_sql: bool = False
    pool_size: int = 10
    pool_max_overflow: int = 10
    pool_timeout: float = 10.0

    # Isabl limit/offset pagination (DRF LimitOffsetPagination)
    page_size_default: int = 100
    page_size_max: int = 10000
    # facility pg/pg_size pagination
    facility_page_size_default: int = 50
    facility_page_size_max: int = 10000

    system_id_prefix: str = "ISB"
    host: str = "127.0.0.1"
    port: int = 8000


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
