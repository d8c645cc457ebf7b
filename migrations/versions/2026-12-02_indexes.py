"""indexes: experiment_project (project_id, experiment_id) for projects= filters

Revision ID: b28bb1cd7e27
Revises: 7df9d57574ac
Create Date: 2026-12-02 01:10:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b28bb1cd7e27"
down_revision: str | None = "7df9d57574ac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The composite index answers "experiments of project P" from the index alone and
    # covers every query the single-column one served.
    with op.batch_alter_table("experiment_project", schema=None) as batch_op:
        batch_op.create_index(
            "ix_experiment_project_project_id_experiment_id",
            ["project_id", "experiment_id"],
            unique=False,
        )
        batch_op.drop_index("ix_experiment_project_project_id")


def downgrade() -> None:
    with op.batch_alter_table("experiment_project", schema=None) as batch_op:
        batch_op.create_index("ix_experiment_project_project_id", ["project_id"], unique=False)
        batch_op.drop_index("ix_experiment_project_project_id_experiment_id")
