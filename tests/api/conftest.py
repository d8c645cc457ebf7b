"""The API tests share the Isabl tests' app (one per backend)."""

from tests.isabl.conftest import client, isabl_app

__all__ = ["client", "isabl_app"]
