/**
 * The Azure SQL schema as versioned T-SQL migrations, kept as TypeScript constants so the build output carries
 * them (no .sql files to ship or locate at run time).
 *
 * Each migration is a list of batches (what `GO` separates in a script): CREATE FUNCTION must start a batch.
 * A migration runs in one transaction under an exclusive application lock (see migrateMssql), and is recorded
 * in dbo.schema_migrations with its track. Released migrations are never edited: add a new version.
 *
 * Tracks: `control` (the tenant registry, only in the control database) and `tenant-data` (every tenant table,
 * with row-level security; in the control database for shared tenants and in each dedicated database).
 *
 * Identifiers (tenant, workflow, run, step ids, keys) use the Latin1_General_100_BIN2 collation: ids compare
 * exactly (case and hyphens matter, as in the SQLite store), and they sort by code point, as JavaScript strings
 * and keyset continuation tokens expect.
 */
export interface MssqlMigration {
  version: number;
  name: string;
  /** T-SQL batches, run in order on one connection inside one transaction. */
  batches: readonly string[];
}

/** The migration tracks (see the module comment). */
export type MssqlMigrationTrack = 'control' | 'tenant-data';

/** The tenant registry: the control plane, outside row-level security (it is looked up before a tenant is known). */
export const MSSQL_CONTROL_MIGRATIONS: readonly MssqlMigration[] = [
  {
    version: 1,
    name: 'tenants',
    batches: [
      `CREATE TABLE dbo.tenants (
        id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL CONSTRAINT pk_tenants PRIMARY KEY,
        name nvarchar(400) NOT NULL,
        tier varchar(16) NOT NULL,
        status varchar(16) NOT NULL,
        quotas nvarchar(max) NOT NULL CONSTRAINT ck_tenants_quotas CHECK (ISJSON(quotas) = 1),
        entra_tenant_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NULL,
        placement varchar(16) NOT NULL CONSTRAINT ck_tenants_placement CHECK (placement IN ('shared', 'dedicated')),
        created_at datetime2(3) NOT NULL,
        updated_at datetime2(3) NOT NULL,
        revision int NOT NULL
      );
      CREATE UNIQUE INDEX ux_tenants_entra ON dbo.tenants (entra_tenant_id) WHERE entra_tenant_id IS NOT NULL;
      CREATE INDEX ix_tenants_status ON dbo.tenants (status, id);`,
    ],
  },
  {
    version: 2,
    name: 'run admission',
    // The platform's admission list (see shared/domain/admission.ts): control plane, so no row-level security;
    // only the dispatcher's control sessions touch it.
    batches: [
      `CREATE TABLE dbo.run_admission (
        tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL,
        run_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        tier_rank tinyint NOT NULL CONSTRAINT ck_run_admission_tier CHECK (tier_rank BETWEEN 0 AND 2),
        queued_at datetime2(3) NOT NULL,
        max_running int NOT NULL CONSTRAINT ck_run_admission_max CHECK (max_running >= 1),
        admitted_at datetime2(3) NULL,
        started_at datetime2(3) NULL,
        CONSTRAINT pk_run_admission PRIMARY KEY (tenant_id, run_id)
      );
      CREATE INDEX ix_run_admission_waiting ON dbo.run_admission (tenant_id, tier_rank, queued_at, run_id) WHERE admitted_at IS NULL;
      CREATE INDEX ix_run_admission_admitted ON dbo.run_admission (admitted_at) WHERE admitted_at IS NOT NULL;
      CREATE INDEX ix_run_admission_unstarted ON dbo.run_admission (admitted_at) WHERE admitted_at IS NOT NULL AND started_at IS NULL;
      CREATE TABLE dbo.tenant_admission (
        tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL CONSTRAINT pk_tenant_admission PRIMARY KEY,
        last_served bigint NOT NULL
      );`,
    ],
  },
  {
    version: 3,
    name: 'tenant egress allow-list',
    batches: [`ALTER TABLE dbo.tenants ADD egress nvarchar(max) NULL CONSTRAINT ck_tenants_egress CHECK (egress IS NULL OR ISJSON(egress) = 1);`],
  },
  {
    version: 4,
    name: 'webhook index',
    // The ingress URL names only the hook: this finds its tenant (control plane, before any tenant context).
    batches: [
      `CREATE TABLE dbo.hook_index (
        hook_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL CONSTRAINT pk_hook_index PRIMARY KEY,
        owner_tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL
      );
      CREATE INDEX ix_hook_index_tenant ON dbo.hook_index (owner_tenant_id);`,
    ],
  },
  {
    version: 5,
    name: 'schedule due index',
    // When each active schedule fires next, for every tenant (ports/scheduleDueIndex.ts): control plane, so no
    // row-level security; only the scheduler's and the schedule API's control sessions touch it.
    batches: [
      `CREATE TABLE dbo.schedule_due (
        tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL,
        schedule_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        next_fire_at datetime2(3) NULL,
        pending_fire_at datetime2(3) NULL,
        pending_missed int NULL CONSTRAINT ck_schedule_due_missed CHECK (pending_missed IS NULL OR pending_missed >= 0),
        lease_until datetime2(3) NULL,
        CONSTRAINT pk_schedule_due PRIMARY KEY (tenant_id, schedule_id),
        CONSTRAINT ck_schedule_due_lease CHECK ((pending_fire_at IS NULL AND lease_until IS NULL) OR (pending_fire_at IS NOT NULL AND lease_until IS NOT NULL))
      );
      CREATE INDEX ix_schedule_due_next ON dbo.schedule_due (next_fire_at) WHERE pending_fire_at IS NULL AND next_fire_at IS NOT NULL;
      CREATE INDEX ix_schedule_due_lease ON dbo.schedule_due (lease_until) WHERE pending_fire_at IS NOT NULL;`,
    ],
  },
  {
    version: 6,
    name: 'tenant event sources',
    // The Event Grid topics and CloudEvents sources whose events belong to a tenant (set by a platform admin), and
    // their index (stored lower-case, so the binary collation is exact): one source, one tenant.
    batches: [
      `ALTER TABLE dbo.tenants ADD event_sources nvarchar(max) NOT NULL CONSTRAINT df_tenants_event_sources DEFAULT N'[]'
        CONSTRAINT ck_tenants_event_sources CHECK (ISJSON(event_sources) = 1);
      CREATE TABLE dbo.event_source_index (
        source nvarchar(1024) COLLATE Latin1_General_100_BIN2 NOT NULL CONSTRAINT pk_event_source_index PRIMARY KEY,
        owner_tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL
      );
      CREATE INDEX ix_event_source_index_tenant ON dbo.event_source_index (owner_tenant_id);`,
    ],
  },
];

/**
 * JSON is nvarchar(max); ISJSON checks guard the columns that always hold an object (ISJSON rejects bare
 * scalars before SQL Server 2022, and run input and output may be any JSON value).
 *
 * Every tenant table carries tenant_id, first in its primary key and every index (a duplicate-key error can only
 * name a key of the same tenant, so Msg 2627 cannot enumerate other tenants' ids). Row-level security:
 *
 * - security.fn_tenant_predicate admits a row only when SESSION_CONTEXT(N'tenant_id') is set and equal to the
 *   row's tenant_id: with no context (a connection that skipped the set, a DBA's session) it admits nothing, so
 *   the policy fails closed.
 * - security.tenant_isolation adds, on every tenant table, the FILTER predicate (reads, and the rows UPDATE and
 *   DELETE can touch) and the BLOCK predicates AFTER INSERT and AFTER UPDATE (a row cannot be written into, or
 *   moved to, another tenant: Msg 33504). BEFORE UPDATE and BEFORE DELETE are redundant while the filter
 *   predicate is on; they keep writes confined if the filter is ever dropped for maintenance.
 * - DENY UPDATE on tenant_id to public: changing a row's tenant is never legitimate (sysadmin and dbo are not
 *   bound by DENY; the AFTER UPDATE block predicate still stops them moving rows to a tenant other than their
 *   session context's).
 */
export const MSSQL_TENANT_DATA_MIGRATIONS: readonly MssqlMigration[] = [
  {
    version: 1,
    name: 'tenant tables with row-level security',
    batches: [
      `IF SCHEMA_ID(N'security') IS NULL EXEC sys.sp_executesql N'CREATE SCHEMA security';`,
      `CREATE TABLE dbo.workflows (
        tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL,
        id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        name nvarchar(400) NOT NULL,
        description nvarchar(max) NOT NULL,
        draft nvarchar(max) NOT NULL CONSTRAINT ck_workflows_draft CHECK (ISJSON(draft) = 1),
        latest_version int NULL,
        created_at datetime2(3) NOT NULL,
        updated_at datetime2(3) NOT NULL,
        created_by nvarchar(256) NOT NULL,
        revision int NOT NULL,
        CONSTRAINT pk_workflows PRIMARY KEY (tenant_id, id)
      );

      CREATE TABLE dbo.workflow_versions (
        tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL,
        workflow_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        version int NOT NULL,
        definition nvarchar(max) NOT NULL CONSTRAINT ck_workflow_versions_definition CHECK (ISJSON(definition) = 1),
        published_at datetime2(3) NOT NULL,
        published_by nvarchar(256) NOT NULL,
        CONSTRAINT pk_workflow_versions PRIMARY KEY (tenant_id, workflow_id, version),
        CONSTRAINT fk_workflow_versions_workflow FOREIGN KEY (tenant_id, workflow_id) REFERENCES dbo.workflows (tenant_id, id)
      );

      CREATE TABLE dbo.runs (
        tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL,
        id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        workflow_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        workflow_version int NOT NULL,
        trigger_kind varchar(16) NOT NULL,
        trigger_source nvarchar(256) NOT NULL,
        input nvarchar(max) NOT NULL,
        status varchar(16) NOT NULL,
        output nvarchar(max) NULL,
        error nvarchar(max) NULL CONSTRAINT ck_runs_error CHECK (ISJSON(error) = 1),
        idempotency_key nvarchar(256) COLLATE Latin1_General_100_BIN2 NULL,
        correlation_id nvarchar(128) NOT NULL,
        created_at datetime2(3) NOT NULL,
        started_at datetime2(3) NULL,
        completed_at datetime2(3) NULL,
        CONSTRAINT pk_runs PRIMARY KEY (tenant_id, id)
      );
      CREATE UNIQUE INDEX ux_runs_idempotency ON dbo.runs (tenant_id, workflow_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE INDEX ix_runs_created ON dbo.runs (tenant_id, created_at DESC, id DESC);
      CREATE INDEX ix_runs_workflow_created ON dbo.runs (tenant_id, workflow_id, created_at DESC, id DESC);
      CREATE INDEX ix_runs_status_created ON dbo.runs (tenant_id, status, created_at DESC, id DESC);

      CREATE TABLE dbo.step_executions (
        tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL,
        run_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        step_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        iteration int NOT NULL CONSTRAINT ck_step_executions_iteration CHECK (iteration >= -1),
        status varchar(16) NOT NULL,
        attempts int NOT NULL,
        started_at datetime2(3) NULL,
        completed_at datetime2(3) NULL,
        error nvarchar(max) NULL CONSTRAINT ck_step_executions_error CHECK (ISJSON(error) = 1),
        output nvarchar(max) NULL,
        output_ref nvarchar(1024) NULL,
        CONSTRAINT pk_step_executions PRIMARY KEY (tenant_id, run_id, step_id, iteration),
        CONSTRAINT fk_step_executions_run FOREIGN KEY (tenant_id, run_id) REFERENCES dbo.runs (tenant_id, id)
      );

      CREATE TABLE dbo.audit_entries (
        tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL,
        id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        at datetime2(3) NOT NULL,
        actor nvarchar(max) NOT NULL CONSTRAINT ck_audit_entries_actor CHECK (ISJSON(actor) = 1),
        action nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        target_type nvarchar(64) NOT NULL,
        target_id nvarchar(256) NOT NULL,
        outcome varchar(16) NOT NULL,
        error_code nvarchar(128) NULL,
        correlation_id nvarchar(128) NOT NULL,
        CONSTRAINT pk_audit_entries PRIMARY KEY (tenant_id, id)
      );
      CREATE INDEX ix_audit_entries_at ON dbo.audit_entries (tenant_id, at DESC, id DESC);
      CREATE INDEX ix_audit_entries_action_at ON dbo.audit_entries (tenant_id, action, at DESC, id DESC);`,
      `CREATE FUNCTION security.fn_tenant_predicate (@tenant_id nvarchar(63))
      RETURNS TABLE
      WITH SCHEMABINDING
      AS RETURN
        SELECT 1 AS allowed
        WHERE SESSION_CONTEXT(N'tenant_id') IS NOT NULL
          AND @tenant_id COLLATE Latin1_General_100_BIN2 = CAST(SESSION_CONTEXT(N'tenant_id') AS nvarchar(128)) COLLATE Latin1_General_100_BIN2;`,
      `CREATE SECURITY POLICY security.tenant_isolation
        ADD FILTER PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.workflows,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.workflows AFTER INSERT,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.workflows AFTER UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.workflows BEFORE UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.workflows BEFORE DELETE,
        ADD FILTER PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.workflow_versions,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.workflow_versions AFTER INSERT,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.workflow_versions AFTER UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.workflow_versions BEFORE UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.workflow_versions BEFORE DELETE,
        ADD FILTER PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.runs,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.runs AFTER INSERT,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.runs AFTER UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.runs BEFORE UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.runs BEFORE DELETE,
        ADD FILTER PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.step_executions,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.step_executions AFTER INSERT,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.step_executions AFTER UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.step_executions BEFORE UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.step_executions BEFORE DELETE,
        ADD FILTER PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.audit_entries,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.audit_entries AFTER INSERT,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.audit_entries AFTER UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.audit_entries BEFORE UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.audit_entries BEFORE DELETE
      WITH (STATE = ON, SCHEMABINDING = ON);`,
      `DENY UPDATE ON dbo.workflows (tenant_id) TO public;
      DENY UPDATE ON dbo.workflow_versions (tenant_id) TO public;
      DENY UPDATE ON dbo.runs (tenant_id) TO public;
      DENY UPDATE ON dbo.step_executions (tenant_id) TO public;
      DENY UPDATE ON dbo.audit_entries (tenant_id) TO public;`,
    ],
  },
  {
    version: 2,
    name: 'run usage with row-level security',
    // One row per run, written when its orchestration finishes (finalizeRun). The counters are bigint (bound as
    // decimal strings and CAST, see MssqlRunRepository.putUsage): bytes and durations may exceed an int.
    batches: [
      `CREATE TABLE dbo.run_usage (
        tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL,
        run_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        steps_executed int NOT NULL CONSTRAINT ck_run_usage_steps CHECK (steps_executed >= 0),
        duration_ms bigint NOT NULL CONSTRAINT ck_run_usage_duration CHECK (duration_ms >= 0),
        bytes bigint NOT NULL CONSTRAINT ck_run_usage_bytes CHECK (bytes >= 0),
        connector_calls int NOT NULL CONSTRAINT ck_run_usage_calls CHECK (connector_calls >= 0),
        recorded_at datetime2(3) NOT NULL,
        CONSTRAINT pk_run_usage PRIMARY KEY (tenant_id, run_id),
        CONSTRAINT fk_run_usage_run FOREIGN KEY (tenant_id, run_id) REFERENCES dbo.runs (tenant_id, id)
      );`,
      `ALTER SECURITY POLICY security.tenant_isolation
        ADD FILTER PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.run_usage,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.run_usage AFTER INSERT,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.run_usage AFTER UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.run_usage BEFORE UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.run_usage BEFORE DELETE;`,
      `DENY UPDATE ON dbo.run_usage (tenant_id) TO public;`,
    ],
  },
  {
    version: 3,
    name: 'webhooks and their deliveries with row-level security',
    // dbo.hooks holds no secret, only the secret store versions that are valid. dbo.hook_deliveries is the durable
    // inbox (inbox = 1: accepted entries with their payload, unique per hook and delivery id) and the record of
    // duplicates, rejections and replays (inbox = 0). run_id has no foreign key: a delivery is stored before its run.
    batches: [
      `CREATE TABLE dbo.hooks (
        tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL,
        id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        workflow_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        name nvarchar(200) NOT NULL,
        signature varchar(32) NOT NULL CONSTRAINT ck_hooks_signature CHECK (signature IN ('standard-webhooks', 'github')),
        enabled tinyint NOT NULL CONSTRAINT ck_hooks_enabled CHECK (enabled IN (0, 1)),
        max_body_bytes int NOT NULL CONSTRAINT ck_hooks_max_body CHECK (max_body_bytes > 0),
        respond_mode varchar(16) NOT NULL CONSTRAINT ck_hooks_respond_mode CHECK (respond_mode IN ('accepted', 'output')),
        respond_timeout_seconds int NOT NULL CONSTRAINT ck_hooks_respond_timeout CHECK (respond_timeout_seconds >= 0),
        secret_version nvarchar(128) NOT NULL,
        previous_secret_version nvarchar(128) NULL,
        previous_secret_expires_at datetime2(3) NULL,
        created_at datetime2(3) NOT NULL,
        updated_at datetime2(3) NOT NULL,
        created_by nvarchar(256) NOT NULL,
        revision int NOT NULL,
        CONSTRAINT pk_hooks PRIMARY KEY (tenant_id, id)
      );

      CREATE TABLE dbo.hook_deliveries (
        tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL,
        id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        hook_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        delivery_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NULL,
        outcome varchar(16) NOT NULL CONSTRAINT ck_hook_deliveries_outcome CHECK (outcome IN ('accepted', 'duplicate', 'rejected', 'replayed')),
        inbox tinyint NOT NULL CONSTRAINT ck_hook_deliveries_inbox CHECK (inbox IN (0, 1)),
        reason nvarchar(128) NULL,
        run_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NULL,
        received_at datetime2(3) NOT NULL,
        content_type nvarchar(256) NULL,
        body_bytes int NOT NULL CONSTRAINT ck_hook_deliveries_bytes CHECK (body_bytes >= 0),
        payload nvarchar(max) NULL,
        CONSTRAINT pk_hook_deliveries PRIMARY KEY (tenant_id, id),
        CONSTRAINT fk_hook_deliveries_hook FOREIGN KEY (tenant_id, hook_id) REFERENCES dbo.hooks (tenant_id, id)
      );
      CREATE UNIQUE INDEX ux_hook_deliveries_inbox ON dbo.hook_deliveries (tenant_id, hook_id, delivery_id) WHERE inbox = 1;
      CREATE INDEX ix_hook_deliveries_received ON dbo.hook_deliveries (tenant_id, hook_id, received_at DESC, id DESC);
      CREATE INDEX ix_hook_deliveries_unstarted ON dbo.hook_deliveries (tenant_id, received_at) WHERE inbox = 1 AND run_id IS NULL AND reason IS NULL;`,
      `ALTER SECURITY POLICY security.tenant_isolation
        ADD FILTER PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.hooks,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.hooks AFTER INSERT,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.hooks AFTER UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.hooks BEFORE UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.hooks BEFORE DELETE,
        ADD FILTER PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.hook_deliveries,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.hook_deliveries AFTER INSERT,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.hook_deliveries AFTER UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.hook_deliveries BEFORE UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.hook_deliveries BEFORE DELETE;`,
      `DENY UPDATE ON dbo.hooks (tenant_id) TO public;
      DENY UPDATE ON dbo.hook_deliveries (tenant_id) TO public;`,
    ],
  },
  {
    version: 4,
    name: 'schedules with row-level security',
    batches: [
      `CREATE TABLE dbo.schedules (
        tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL,
        id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        workflow_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        cron nvarchar(200) NOT NULL,
        time_zone nvarchar(64) NOT NULL,
        input nvarchar(max) NOT NULL CONSTRAINT ck_schedules_input CHECK (ISJSON(input) = 1),
        version int NULL CONSTRAINT ck_schedules_version CHECK (version IS NULL OR version >= 1),
        missed_fire_policy varchar(16) NOT NULL CONSTRAINT ck_schedules_policy CHECK (missed_fire_policy IN ('skip', 'runOnce')),
        status varchar(16) NOT NULL CONSTRAINT ck_schedules_status CHECK (status IN ('active', 'paused', 'errored')),
        last_fire_time datetime2(3) NULL,
        last_run_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NULL,
        last_error nvarchar(max) NULL CONSTRAINT ck_schedules_last_error CHECK (ISJSON(last_error) = 1),
        created_at datetime2(3) NOT NULL,
        updated_at datetime2(3) NOT NULL,
        created_by nvarchar(256) NOT NULL,
        revision int NOT NULL,
        CONSTRAINT pk_schedules PRIMARY KEY (tenant_id, id),
        CONSTRAINT fk_schedules_workflow FOREIGN KEY (tenant_id, workflow_id) REFERENCES dbo.workflows (tenant_id, id)
      );
      CREATE INDEX ix_schedules_workflow ON dbo.schedules (tenant_id, workflow_id, id);`,
      `ALTER SECURITY POLICY security.tenant_isolation
        ADD FILTER PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.schedules,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.schedules AFTER INSERT,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.schedules AFTER UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.schedules BEFORE UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.schedules BEFORE DELETE;`,
      `DENY UPDATE ON dbo.schedules (tenant_id) TO public;`,
    ],
  },
  {
    version: 5,
    name: 'event subscriptions with row-level security',
    batches: [
      `CREATE TABLE dbo.event_subscriptions (
        tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL,
        id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        workflow_id nvarchar(128) COLLATE Latin1_General_100_BIN2 NOT NULL,
        event_types nvarchar(max) NOT NULL CONSTRAINT ck_event_subscriptions_types CHECK (ISJSON(event_types) = 1),
        subject_begins_with nvarchar(1024) NULL,
        subject_ends_with nvarchar(1024) NULL,
        case_sensitive tinyint NOT NULL CONSTRAINT ck_event_subscriptions_case CHECK (case_sensitive IN (0, 1)),
        enabled tinyint NOT NULL CONSTRAINT ck_event_subscriptions_enabled CHECK (enabled IN (0, 1)),
        created_by nvarchar(256) NOT NULL,
        created_at datetime2(3) NOT NULL,
        updated_at datetime2(3) NOT NULL,
        revision int NOT NULL,
        CONSTRAINT pk_event_subscriptions PRIMARY KEY (tenant_id, id)
      );
      CREATE INDEX ix_event_subscriptions_enabled ON dbo.event_subscriptions (tenant_id, enabled, id);`,
      `ALTER SECURITY POLICY security.tenant_isolation
        ADD FILTER PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.event_subscriptions,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.event_subscriptions AFTER INSERT,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.event_subscriptions AFTER UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.event_subscriptions BEFORE UPDATE,
        ADD BLOCK PREDICATE security.fn_tenant_predicate(tenant_id) ON dbo.event_subscriptions BEFORE DELETE;`,
      `DENY UPDATE ON dbo.event_subscriptions (tenant_id) TO public;`,
    ],
  },
];

/**
 * Control-plane tables that name tenants without being tenant data (the platform's admission list, the schedule
 * due index): read and written only by control sessions, so deliberately outside row-level security.
 */
export const MSSQL_CONTROL_PLANE_TENANT_TABLES = ['run_admission', 'tenant_admission', 'schedule_due'] as const;

/** The tenant tables, children first: the order in which a tenant's rows are deleted. */
export const MSSQL_TENANT_TABLES = ['event_subscriptions', 'hook_deliveries', 'hooks', 'run_usage', 'step_executions', 'runs', 'schedules', 'workflow_versions', 'workflows', 'audit_entries'] as const;

/** The migrations of a track. */
export function mssqlMigrations(track: MssqlMigrationTrack): readonly MssqlMigration[] {
  return track === 'control' ? MSSQL_CONTROL_MIGRATIONS : MSSQL_TENANT_DATA_MIGRATIONS;
}

/** Creates the migration ledger if missing; run first, in the migration transaction. */
export const CREATE_MIGRATION_LEDGER_SQL = `IF OBJECT_ID(N'dbo.schema_migrations', N'U') IS NULL
  CREATE TABLE dbo.schema_migrations (
    track varchar(32) NOT NULL,
    version int NOT NULL,
    name nvarchar(200) NOT NULL,
    applied_at datetime2(3) NOT NULL CONSTRAINT df_schema_migrations_applied_at DEFAULT SYSUTCDATETIME(),
    CONSTRAINT pk_schema_migrations PRIMARY KEY (track, version)
  );`;

/**
 * Serializes migrators (several Function instances start at once): an exclusive application lock owned by the
 * migration transaction, released by its commit or rollback. A negative result (timeout, deadlock) aborts.
 */
export const MIGRATION_LOCK_SQL = `DECLARE @result int;
EXEC @result = sys.sp_getapplock @Resource = N'automateiq:schema-migrations', @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 120000;
IF @result < 0 THROW 50001, N'could not take the schema migration lock', 1;`;
