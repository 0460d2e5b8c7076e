"""ballot boxes: one row per poll holding every ballot, in place of one row per ballot

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:40:00

A row per ballot let its physical order (SQLite rowid, PostgreSQL ctid) and its transaction id
(xmin) be paired with the voters' receipts. The box of each poll holds the sorted multiset of
its ballots instead; existing ballots move into their boxes and the old table is dropped.
"""

import json
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    box = op.create_table(
        "ballotbox",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("ballots", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.PrimaryKeyConstraint("poll_id"),
    )
    connection = op.get_bind()
    boxes: dict[int, list] = {
        poll_id: [] for (poll_id,) in connection.execute(sa.text("SELECT id FROM poll"))
    }
    for poll_id, choices in connection.execute(sa.text("SELECT poll_id, choices FROM ballot")):
        boxes[poll_id].append(sorted(json.loads(choices) if isinstance(choices, str) else choices))
    if boxes:
        op.bulk_insert(box, [{"poll_id": p, "ballots": sorted(b)} for p, b in boxes.items()])
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ballot_poll_id"))
    op.drop_table("ballot")


def downgrade() -> None:
    ballot = op.create_table(
        "ballot",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["poll.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ballot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ballot_poll_id"), ["poll_id"], unique=False)
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT poll_id, ballots FROM ballotbox")).all()
    ballots = []
    for poll_id, stored in rows:
        for choices in json.loads(stored) if isinstance(stored, str) else stored:
            ballots.append({"id": uuid.uuid4().hex, "poll_id": poll_id, "choices": choices})
    if ballots:
        op.bulk_insert(ballot, ballots)
    op.drop_table("ballotbox")
