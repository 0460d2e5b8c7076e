"""outbox indexes: a plan's keys by status, and a thread's messages, read without the bodies

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outboxmessage_plan_status_key", ["plan_id", "status", "key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outboxmessage_thread_id"), ["thread_id"])


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outboxmessage_thread_id"))
        batch_op.drop_index("ix_outboxmessage_plan_status_key")
