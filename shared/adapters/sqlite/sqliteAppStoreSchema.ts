import type Database from 'better-sqlite3';
import { applySqliteMigrations, type SqliteMigration } from './applySqliteMigrations.js';

export type { SqliteMigration } from './applySqliteMigrations.js';

/**
 * The migration tracks. The control database (the `file` of the store) holds the tenant registry and the data of
 * every shared tenant, so it runs both tracks; a dedicated tenant's database runs only `tenant-data`.
 */
export type SqliteMigrationTrack = 'control' | 'tenant-data';

/** The tenant registry (control plane): not tenant-scoped, so it has no tenant_id. */
export const CONTROL_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'tenants',
    sql: `
      CREATE TABLE tenants (
        id TEXT NOT NULL PRIMARY KEY,
        name TEXT NOT NULL,
        tier TEXT NOT NULL,
        status TEXT NOT NULL,
        quotas TEXT NOT NULL CHECK (json_valid(quotas)),
        entra_tenant_id TEXT UNIQUE,
        placement TEXT NOT NULL CHECK (placement IN ('shared', 'dedicated')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        revision INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX tenants_status ON tenants (status, id);
    `,
  },
  {
    version: 2,
    name: 'run admission',
    // One row per queued run until its run ends (see shared/domain/admission.ts): waiting while admitted_at is
    // NULL, holding a slot after. tenant_admission remembers when each tenant was last served (round robin).
    sql: `
      CREATE TABLE run_admission (
        tenant_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        tier_rank INTEGER NOT NULL CHECK (tier_rank BETWEEN 0 AND 2),
        queued_at TEXT NOT NULL,
        max_running INTEGER NOT NULL CHECK (max_running >= 1),
        admitted_at TEXT,
        started_at TEXT,
        PRIMARY KEY (tenant_id, run_id)
      ) STRICT;
      CREATE INDEX run_admission_waiting ON run_admission (tenant_id, tier_rank, queued_at, run_id) WHERE admitted_at IS NULL;
      CREATE INDEX run_admission_admitted ON run_admission (admitted_at) WHERE admitted_at IS NOT NULL;
      CREATE INDEX run_admission_unstarted ON run_admission (admitted_at) WHERE admitted_at IS NOT NULL AND started_at IS NULL;
      CREATE TABLE tenant_admission (
        tenant_id TEXT NOT NULL PRIMARY KEY,
        last_served INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'tenant egress allow-list',
    sql: `ALTER TABLE tenants ADD COLUMN egress TEXT CHECK (egress IS NULL OR json_valid(egress));`,
  },
  {
    version: 4,
    name: 'webhook index',
    // The ingress URL names only the hook: this finds its tenant before any tenant data is opened.
    sql: `
      CREATE TABLE hook_index (
        hook_id TEXT NOT NULL PRIMARY KEY,
        tenant_id TEXT NOT NULL
      ) STRICT;
      CREATE INDEX hook_index_tenant ON hook_index (tenant_id);
    `,
  },
  {
    version: 5,
    name: 'schedule due index',
    // One row per active schedule of every tenant: its next slot, and a fire claimed but not finished (with the
    // lease after which another scheduler finishes it). See ports/scheduleDueIndex.ts.
    sql: `
      CREATE TABLE schedule_due (
        tenant_id TEXT NOT NULL,
        schedule_id TEXT NOT NULL,
        next_fire_at TEXT,
        pending_fire_at TEXT,
        pending_missed INTEGER CHECK (pending_missed IS NULL OR pending_missed >= 0),
        lease_until TEXT,
        PRIMARY KEY (tenant_id, schedule_id),
        CHECK ((pending_fire_at IS NULL) = (lease_until IS NULL))
      ) STRICT;
      CREATE INDEX schedule_due_next ON schedule_due (next_fire_at) WHERE pending_fire_at IS NULL AND next_fire_at IS NOT NULL;
      CREATE INDEX schedule_due_lease ON schedule_due (lease_until) WHERE pending_fire_at IS NOT NULL;
    `,
  },
  {
    version: 6,
    name: 'tenant event sources',
    // The Event Grid topics and CloudEvents sources whose events belong to a tenant (set by a platform admin),
    // and their index: the event router finds the tenant from the source alone, and a source has one tenant.
    sql: `
      ALTER TABLE tenants ADD COLUMN event_sources TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(event_sources));
      CREATE TABLE event_source_index (
        source TEXT NOT NULL PRIMARY KEY,
        tenant_id TEXT NOT NULL
      ) STRICT;
      CREATE INDEX event_source_index_tenant ON event_source_index (tenant_id);
    `,
  },
];

/**
 * Each tenant's data. Every table carries tenant_id, and every primary key, unique index and index starts with
 * it: the repository binds the tenant in every statement, so every lookup is a prefix seek within one tenant,
 * and a key can only collide with a key of the same tenant (a duplicate-key error never reveals another
 * tenant's ids). Foreign keys include tenant_id too, so a row can never point at another tenant's row.
 * JSON is TEXT (checked with json_valid); timestamps are ISO 8601 UTC TEXT, which sorts chronologically.
 */
export const TENANT_DATA_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'workflows, versions, runs, steps, audit',
    sql: `
      CREATE TABLE workflows (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        draft TEXT NOT NULL CHECK (json_valid(draft)),
        latest_version INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        revision INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, id)
      ) STRICT;

      CREATE TABLE workflow_versions (
        tenant_id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        definition TEXT NOT NULL CHECK (json_valid(definition)),
        published_at TEXT NOT NULL,
        published_by TEXT NOT NULL,
        PRIMARY KEY (tenant_id, workflow_id, version),
        FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id)
      ) STRICT;

      CREATE TABLE runs (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        workflow_version INTEGER NOT NULL,
        trigger_kind TEXT NOT NULL,
        trigger_source TEXT NOT NULL,
        input TEXT NOT NULL CHECK (json_valid(input)),
        status TEXT NOT NULL,
        output TEXT CHECK (output IS NULL OR json_valid(output)),
        error TEXT CHECK (error IS NULL OR json_valid(error)),
        idempotency_key TEXT,
        correlation_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        completed_at TEXT,
        PRIMARY KEY (tenant_id, id)
      ) STRICT;
      CREATE UNIQUE INDEX runs_idempotency ON runs (tenant_id, workflow_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE INDEX runs_created ON runs (tenant_id, created_at, id);
      CREATE INDEX runs_workflow_created ON runs (tenant_id, workflow_id, created_at, id);
      CREATE INDEX runs_status_created ON runs (tenant_id, status, created_at, id);

      -- iteration is -1 for a step outside forEach: NULLs are distinct in a key, so NULL could not be upserted.
      CREATE TABLE step_executions (
        tenant_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        step_id TEXT NOT NULL,
        iteration INTEGER NOT NULL CHECK (iteration >= -1),
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        started_at TEXT,
        completed_at TEXT,
        error TEXT CHECK (error IS NULL OR json_valid(error)),
        output TEXT CHECK (output IS NULL OR json_valid(output)),
        output_ref TEXT,
        PRIMARY KEY (tenant_id, run_id, step_id, iteration),
        FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id)
      ) STRICT;

      CREATE TABLE audit_entries (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL CHECK (json_valid(actor)),
        action TEXT NOT NULL,
        target_type TEXT NOT NULL,
        target_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        error_code TEXT,
        correlation_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, id)
      ) STRICT;
      CREATE INDEX audit_at ON audit_entries (tenant_id, at, id);
      CREATE INDEX audit_action_at ON audit_entries (tenant_id, action, at, id);
    `,
  },
  {
    version: 2,
    name: 'run usage',
    // One row per run, written once its orchestration finishes (finalizeRun). A table rather than columns on
    // runs: usage is written by the engine only, read for billing and GET run, and can grow more counters
    // without touching the run row every status update writes.
    sql: `
      CREATE TABLE run_usage (
        tenant_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        steps_executed INTEGER NOT NULL CHECK (steps_executed >= 0),
        duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
        bytes INTEGER NOT NULL CHECK (bytes >= 0),
        connector_calls INTEGER NOT NULL CHECK (connector_calls >= 0),
        recorded_at TEXT NOT NULL,
        PRIMARY KEY (tenant_id, run_id),
        FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id)
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'webhooks and their deliveries',
    // hooks holds no secret, only the secret store versions that are valid. hook_deliveries is the durable
    // inbox (inbox = 1: accepted entries with their payload, unique per hook and delivery id) and the record of
    // duplicates, rejections and replays (inbox = 0, no payload). run_id has no foreign key: a delivery is
    // recorded before its run exists, and outlives it.
    sql: `
      CREATE TABLE hooks (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        name TEXT NOT NULL,
        signature TEXT NOT NULL CHECK (signature IN ('standard-webhooks', 'github')),
        enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        max_body_bytes INTEGER NOT NULL CHECK (max_body_bytes > 0),
        respond_mode TEXT NOT NULL CHECK (respond_mode IN ('accepted', 'output')),
        respond_timeout_seconds INTEGER NOT NULL CHECK (respond_timeout_seconds >= 0),
        secret_version TEXT NOT NULL,
        previous_secret_version TEXT,
        previous_secret_expires_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        revision INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, id)
      ) STRICT;

      CREATE TABLE hook_deliveries (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        hook_id TEXT NOT NULL,
        delivery_id TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'rejected', 'replayed')),
        inbox INTEGER NOT NULL CHECK (inbox IN (0, 1)),
        reason TEXT,
        run_id TEXT,
        received_at TEXT NOT NULL,
        content_type TEXT,
        body_bytes INTEGER NOT NULL CHECK (body_bytes >= 0),
        payload TEXT CHECK (payload IS NULL OR json_valid(payload)),
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, hook_id) REFERENCES hooks (tenant_id, id)
      ) STRICT;
      CREATE UNIQUE INDEX hook_deliveries_inbox ON hook_deliveries (tenant_id, hook_id, delivery_id) WHERE inbox = 1;
      CREATE INDEX hook_deliveries_received ON hook_deliveries (tenant_id, hook_id, received_at, id);
      CREATE INDEX hook_deliveries_unstarted ON hook_deliveries (tenant_id, received_at) WHERE inbox = 1 AND run_id IS NULL AND reason IS NULL;
    `,
  },
  {
    version: 4,
    name: 'schedules',
    // A workflow's cron schedules. When each fires next lives in the control database (schedule_due), which the
    // scheduler reads without visiting every tenant; these rows hold what fires and how.
    sql: `
      CREATE TABLE schedules (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        cron TEXT NOT NULL,
        time_zone TEXT NOT NULL,
        input TEXT NOT NULL CHECK (json_valid(input)),
        version INTEGER CHECK (version IS NULL OR version >= 1),
        missed_fire_policy TEXT NOT NULL CHECK (missed_fire_policy IN ('skip', 'runOnce')),
        status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'errored')),
        last_fire_time TEXT,
        last_run_id TEXT,
        last_error TEXT CHECK (last_error IS NULL OR json_valid(last_error)),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        revision INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id)
      ) STRICT;
      CREATE INDEX schedules_workflow ON schedules (tenant_id, workflow_id, id);
    `,
  },
  {
    version: 5,
    name: 'event subscriptions',
    // Which events (types, subject filters) start runs of which workflow. event_types is a JSON array.
    sql: `
      CREATE TABLE event_subscriptions (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        workflow_id TEXT NOT NULL,
        event_types TEXT NOT NULL CHECK (json_valid(event_types)),
        subject_begins_with TEXT,
        subject_ends_with TEXT,
        case_sensitive INTEGER NOT NULL CHECK (case_sensitive IN (0, 1)),
        enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        revision INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, id)
      ) STRICT;
      CREATE INDEX event_subscriptions_enabled ON event_subscriptions (tenant_id, enabled, id);
    `,
  },
];

/** The tenant tables, children first: the order in which a tenant's rows are deleted. */
export const TENANT_TABLES = ['event_subscriptions', 'hook_deliveries', 'hooks', 'run_usage', 'step_executions', 'runs', 'schedules', 'workflow_versions', 'workflows', 'audit_entries'] as const;

const MIGRATIONS: Readonly<Record<SqliteMigrationTrack, readonly SqliteMigration[]>> = {
  control: CONTROL_MIGRATIONS,
  'tenant-data': TENANT_DATA_MIGRATIONS,
};

/** Brings a database up to date on the given tracks of the app store (see {@link applySqliteMigrations}). */
export function migrateSqlite(db: Database.Database, tracks: readonly SqliteMigrationTrack[]): void {
  applySqliteMigrations(db, Object.fromEntries(tracks.map((track) => [track, MIGRATIONS[track]])));
}
