"""user import jobs: the jobs and their uploaded CSV files

Revision ID: 0004
Revises: 0005

CreateUserImportJob's jobs (``user_import_jobs``: the job's UserImportJobType fields as a
document; its status, the SHA-256 of its pre-signed URL's secret and its run's
heartbeat in columns) and
the CSV uploaded to a job's pre-signed URL (``user_import_files``), kept there until the
job ends so that any node can run it. Downgrading drops both tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "user_import_jobs",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("pool_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("url_secret_hash", sa.String(64), nullable=False),
        sa.Column("upload_expires", sa.Float(), nullable=False),
        sa.Column("uploaded", sa.Boolean(), nullable=False),
        sa.Column("heartbeat", sa.Float(), nullable=True),
        sa.Column("doc", sa.JSON(), nullable=False),
    )
    op.create_index("ix_user_import_jobs_pool", "user_import_jobs", ["pool_id", "created", "job_id"])
    op.create_table(
        "user_import_files",
        sa.Column("job_id", sa.String(64), primary_key=True),
        sa.Column("pool_id", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_user_import_files_pool_id", "user_import_files", ["pool_id"])


def downgrade() -> None:
    op.drop_index("ix_user_import_files_pool_id", table_name="user_import_files")
    op.drop_table("user_import_files")
    op.drop_index("ix_user_import_jobs_pool", table_name="user_import_jobs")
    op.drop_table("user_import_jobs")
