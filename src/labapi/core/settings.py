"""Settings of the service, read from `LABAPI_*` environment variables and `.env`."""

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every tunable of labapi; `create_app(Settings(...))` lets tests pass their own."""

    model_config = SettingsConfigDict(env_prefix="LABAPI_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./var/labapi.db"
    # PostgreSQL schema to work in (its search_path); None: the server's default (public).
    database_schema: str | None = None
    echo_sql: bool = False
    # One worker serves many requests at once: enough pooled connections that a burst does
    # not open and close overflow connections (each new one costs a connect and loses its
    # prepared statements).
    pool_size: int = 20
    pool_max_overflow: int = 10
    # Seconds a request waits for a free pooled connection before its 503.
    pool_timeout: float = 10.0
    # Seconds a new PostgreSQL connection may take before the request is a 503.
    database_connect_timeout: float = 5.0
    # asyncpg prepared statements kept per connection (PostgreSQL): a statement met again
    # is neither parsed nor planned from scratch. Lists of different lengths are different
    # statements (IN with n parameters), hence more than asyncpg's default of 100.
    statement_cache_size: int = 500
    # PostgreSQL planner cost of a random page read (None: the server's). The server's
    # default, 4.0, models spinning disks: on SSDs, or with the data in memory, it makes a
    # seq scan of a 100k-row table look cheaper than a thousand index probes, and the
    # filtered lists scan the whole table. 1.1 is PostgreSQL's advice for SSDs.
    database_random_page_cost: float | None = 1.1
    # Count the SQL statements of each request and send them as `X-Query-Count` (benchmarks
    # and N+1 hunting; off in production).
    debug_query_count: bool = False
    # PostgreSQL builds the JSON of lists and details whose read schema it can reproduce
    # exactly, in one statement (`api/projection.py`), and representations computed in
    # Python read flat rows (`api/rows.py`, both databases); false: always the ORM path.
    sql_json: bool = True

    # Isabl limit/offset pagination (DRF LimitOffsetPagination)
    page_size_default: int = 100
    page_size_max: int = 10000
    # facility pg/pg_size pagination
    facility_page_size_default: int = 50
    facility_page_size_max: int = 10000

    # Logs: "json" (one object per line, with the request id) or "text".
    log_format: str = "json"
    log_level: str = "INFO"
    # /metrics answers without credentials when true (a scraper inside the network).
    metrics_public: bool = False
    # On SIGTERM, seconds uvicorn lets in-flight requests finish before it stops.
    shutdown_grace_seconds: int = 30

    system_id_prefix: str = "ISB"
    host: str = "127.0.0.1"
    port: int = 8000

    # Signs password-reset and e-mail verification links. Unset: a random key is made once
    # and kept in `secret_key_file`, so links survive restarts.
    secret_key: str | None = None
    secret_key_file: str = "./var/secret_key"
    # API keys expire this many days after their creation; None keeps them until logout.
    token_ttl_days: int | None = None
    password_reset_timeout_hours: int = 72
    # Self-service registration (rest-auth/registration/); closed unless opened here.
    registration_open: bool = False
    # Failed logins (rest-auth login, facility token, Basic) allowed per window, counted per
    # username and per client address; beyond them a 429 with Retry-After.
    login_failures_per_username: int = 10
    login_failures_per_address: int = 50
    login_failure_window_seconds: int = 300
    # Request bodies larger than this are refused with a 413.
    max_body_bytes: int = 20 * 1024 * 1024
    # Hosts the service answers for (next/previous links are built from Host); "*" is any.
    allowed_hosts: list[str] = ["*"]
    # PostgreSQL statement timeout in milliseconds (0: none).
    statement_timeout_ms: int = 30000
    # Time one SQLite statement may spend in REGEXP (Python) before it is a 400.
    sqlite_regex_budget_ms: int = 1000
    # Query strings longer than this are a 414; more parameters than this a 400 (SQLite
    # refuses expressions nested deeper than 1000: every filter adds a level or three).
    max_query_string_bytes: int = 65536
    max_query_params: int = 300
    # Outgoing mail; without an SMTP host, mail is only kept in the outbox table and logged.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "labapi@localhost"

    # Result and reference files: only files inside these directories are served (JSON list
    # in the environment: LABAPI_STORAGE_ROOTS='["/data", "/scratch"]'); none: no file is.
    storage_roots: list[str] = []
    # `raw` answers at most this many bytes of text (lines beyond are left out).
    raw_max_bytes: int = 16 * 1024 * 1024
    # Signed file links (the IGV page's range requests) stay valid this long.
    file_link_ttl_seconds: int = 8 * 3600
    # Where `slideviewer/<image_ids>` redirects; `{image_ids}` is replaced by the ids.
    slideviewer_url: str | None = None
    # Uploaded files (submission forms) are stored under this directory.
    media_root: str = "./var/media"
    # Submission forms larger than this are refused with a 413; `max_body_bytes` caps the
    # whole multipart body first, so the effective limit is the smaller of the two.
    submission_max_bytes: int = 20 * 1024 * 1024
    # Rows a submission form may hold, and bad cells reported in full (the rest counted).
    submission_max_rows: int = 20000
    submission_max_errors: int = 1000


def signing_key(settings: Settings) -> bytes:
    """The key that signs links: the setting, else a random one kept in a file."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.secret_key_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip().encode()


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
