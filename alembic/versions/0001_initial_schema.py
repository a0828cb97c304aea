"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-30 08:59:33.858750
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel

from cronium_app.models.types import JSONDocument

revision: str = '0001'
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('email')
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('script', sa.Text(), nullable=False),
    sa.Column('http_request', JSONDocument(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('timeout_seconds', sa.Integer(), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('cpus', sa.Float(), nullable=False),
    sa.Column('memory_mb', sa.Integer(), nullable=False),
    sa.Column('pids_limit', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=16), nullable=False),
    sa.Column('env_vars', JSONDocument(), nullable=False),
    sa.Column('image', sa.String(length=255), nullable=True),
    sa.Column('tags', JSONDocument(), nullable=False),
    sa.Column('schedule_type', sa.String(length=16), nullable=False),
    sa.Column('cron_expression', sa.String(length=120), nullable=True),
    sa.Column('interval_seconds', sa.Integer(), nullable=True),
    sa.Column('run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('start_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('max_executions', sa.Integer(), nullable=False),
    sa.Column('execution_count', sa.Integer(), nullable=False),
    sa.Column('misfire_policy', sa.String(length=16), nullable=False),
    sa.Column('overlap_policy', sa.String(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('idx_events_user_id', ['user_id'], unique=False)

    op.create_table('variables',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('value', JSONDocument(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'key', name='uq_variables_user_key')
    )
    op.create_table('workflows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('schedule_type', sa.String(length=16), nullable=False),
    sa.Column('cron_expression', sa.String(length=120), nullable=True),
    sa.Column('interval_seconds', sa.Integer(), nullable=True),
    sa.Column('run_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('start_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('max_executions', sa.Integer(), nullable=False),
    sa.Column('execution_count', sa.Integer(), nullable=False),
    sa.Column('misfire_policy', sa.String(length=16), nullable=False),
    sa.Column('overlap_policy', sa.String(length=16), nullable=False),
    sa.Column('tags', JSONDocument(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('workflows', schema=None) as batch_op:
        batch_op.create_index('idx_workflows_user_id', ['user_id'], unique=False)

    op.create_table('workflow_runs',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('workflow_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('input', JSONDocument(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.create_index('idx_workflow_runs_workflow', ['workflow_id', 'created_at'], unique=False)

    op.create_table('workflow_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workflow_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('position', JSONDocument(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workflow_id', 'name', name='uq_workflow_steps_name')
    )
    op.create_table('jobs',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('workflow_id', sa.Integer(), nullable=True),
    sa.Column('workflow_run_id', sa.String(length=40), nullable=True),
    sa.Column('workflow_step_id', sa.Integer(), nullable=True),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('execution', JSONDocument(), nullable=False),
    sa.Column('result', JSONDocument(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('orchestrator_id', sa.String(length=128), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('acknowledged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('lease_expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('scheduled_for', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('cancel_requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('exit_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('input', JSONDocument(), nullable=True),
    sa.Column('output', JSONDocument(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workflow_run_id'], ['workflow_runs.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workflow_step_id'], ['workflow_steps.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('idx_jobs_created_at', ['created_at'], unique=False)
        batch_op.create_index('idx_jobs_event_id', ['event_id'], unique=False)
        batch_op.create_index('idx_jobs_lease', ['status', 'lease_expires_at'], unique=False)
        batch_op.create_index('idx_jobs_queue', ['status', 'priority', 'created_at'], unique=False)
        batch_op.create_index('idx_jobs_status', ['status'], unique=False)
        batch_op.create_index('idx_jobs_user_created', ['user_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('idx_jobs_user_id', ['user_id'], unique=False)
        batch_op.create_index('idx_jobs_workflow_id', ['workflow_id'], unique=False)
        batch_op.create_index('idx_jobs_workflow_run_id', ['workflow_run_id'], unique=False)

    op.create_table('workflow_edges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workflow_id', sa.Integer(), nullable=False),
    sa.Column('from_step_id', sa.Integer(), nullable=False),
    sa.Column('to_step_id', sa.Integer(), nullable=False),
    sa.Column('condition', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['from_step_id'], ['workflow_steps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_step_id'], ['workflow_steps.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['workflow_id'], ['workflows.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('workflow_edges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workflow_edges_workflow_id'), ['workflow_id'], unique=False)

    op.create_table('execution_logs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('job_id', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('stream', sa.String(length=8), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.Column('timestamp', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('log_data', JSONDocument(), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_id', 'seq', name='uq_execution_logs_job_seq')
    )


def downgrade() -> None:
    op.drop_table('execution_logs')
    with op.batch_alter_table('workflow_edges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workflow_edges_workflow_id'))

    op.drop_table('workflow_edges')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('idx_jobs_workflow_run_id')
        batch_op.drop_index('idx_jobs_workflow_id')
        batch_op.drop_index('idx_jobs_user_id')
        batch_op.drop_index('idx_jobs_user_created')
        batch_op.drop_index('idx_jobs_status')
        batch_op.drop_index('idx_jobs_queue')
        batch_op.drop_index('idx_jobs_lease')
        batch_op.drop_index('idx_jobs_event_id')
        batch_op.drop_index('idx_jobs_created_at')

    op.drop_table('jobs')
    op.drop_table('workflow_steps')
    with op.batch_alter_table('workflow_runs', schema=None) as batch_op:
        batch_op.drop_index('idx_workflow_runs_workflow')

    op.drop_table('workflow_runs')
    with op.batch_alter_table('workflows', schema=None) as batch_op:
        batch_op.drop_index('idx_workflows_user_id')

    op.drop_table('workflows')
    op.drop_table('variables')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('idx_events_user_id')

    op.drop_table('events')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
