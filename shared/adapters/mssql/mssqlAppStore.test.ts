import { describe, expect, it } from 'vitest';
import { runAppStoreContract } from '../../ports/appStore.contract.js';
import { createMssqlAppStore, RLS_SWEEP_SQL } from './mssqlAppStore.js';
import { type MssqlMigration, MSSQL_CONTROL_MIGRATIONS, MSSQL_CONTROL_PLANE_TENANT_TABLES, MSSQL_TENANT_DATA_MIGRATIONS, MSSQL_TENANT_TABLES } from './mssqlMigrations.js';

const connectionString = process.env['AZURE_SQL_CONNECTION_STRING'];
const skip = connectionString
  ? undefined
  : 'AZURE_SQL_CONNECTION_STRING is not set: no SQL Server is available here; set it to run the contract suite against Azure SQL';

runAppStoreContract({
  name: 'mssql (Azure SQL)',
  newStore: () =>
    createMssqlAppStore({
      connectionString: connectionString!,
      // Dedicated tenants need a database of their own; without one configured for the test, the same database
      // stands in (placement still routes through the dedicated path, and isolation still holds by tenant_id).
      dedicatedConnectionStrings: async () => process.env['AZURE_SQL_DEDICATED_CONNECTION_STRING'] || connectionString,
    }),
  ...(skip === undefined ? {} : { skip }),
});

describe('Azure SQL row-level security, live', () => {
  it('passes Microsoft\'s recommended RLS test (counts per context, 33504 on cross-tenant writes, catalog sweep, pooled requests)', async (context) => {
    if (skip !== undefined) context.skip(skip);
    const store = await createMssqlAppStore({ connectionString: connectionString!, maxPoolSize: 5 });
    try {
      const report = await store.rlsSelfTest();
      expect(report.problems).toEqual([]);
      expect(Object.values(report.countsPerContext)).toEqual([2, 2, 2]);
      expect(Object.values(report.noContextCounts).every((n) => n === 0)).toBe(true);
      expect(report.crossTenantInsert).toEqual({ blocked: true, errorNumber: 33504 });
      expect(report.tenantMoveUpdate.blocked).toBe(true);
      expect(report.contextReadOnly).toEqual({ enforced: true, errorNumber: 15664 });
      expect(report.unprotectedTables).toEqual([]);
      expect(report.pooledRequests).toEqual({ requests: 200, crossTenantRows: 0, wrongContexts: 0 });
      expect(report.ok).toBe(true);
    } finally {
      await store.close();
    }
  }, 120_000);
});

// ------------------------------------------------------------------------- the migrations, read as text

interface TableDefinition {
  name: string;
  body: string;
  columns: string[];
}

/** The body of each `CREATE TABLE dbo.x (...)`, found by matching parentheses. */
function tablesOf(sql: string): TableDefinition[] {
  const tables: TableDefinition[] = [];
  const start = /CREATE TABLE dbo\.(\w+)\s*\(/g;
  for (let match = start.exec(sql); match !== null; match = start.exec(sql)) {
    let depth = 1;
    let i = start.lastIndex;
    for (; depth > 0 && i < sql.length; i += 1) {
      if (sql[i] === '(') depth += 1;
      else if (sql[i] === ')') depth -= 1;
    }
    const body = sql.slice(start.lastIndex, i - 1);
    const columns = body
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('CONSTRAINT'))
      .map((line) => line.split(/\s+/)[0]!);
    tables.push({ name: match[1]!, body, columns });
  }
  return tables;
}

/**
 * Everything a reviewer of the schema would check for tenant isolation, from the migration text alone: which
 * tables carry tenant_id, and for each whether the policy, the DENY and the keys cover it. Returns problems.
 */
function isolationProblems(migrations: readonly MssqlMigration[]): string[] {
  const sql = migrations.flatMap((m) => m.batches).join('\n');
  const problems: string[] = [];
  const tables = tablesOf(sql);
  const tenantTables = tables.filter((t) => t.columns.includes('tenant_id'));
  const predicates = new Map<string, Set<string>>();
  for (const match of sql.matchAll(/ADD (FILTER|BLOCK) PREDICATE security\.fn_tenant_predicate\(tenant_id\) ON dbo\.(\w+)(?: (AFTER INSERT|AFTER UPDATE|BEFORE UPDATE|BEFORE DELETE))?/g)) {
    const kinds = predicates.get(match[2]!) ?? new Set<string>();
    kinds.add(match[3] === undefined ? match[1]! : `${match[1]} ${match[3]}`);
    predicates.set(match[2]!, kinds);
  }
  for (const table of tenantTables) {
    const kinds = predicates.get(table.name) ?? new Set<string>();
    for (const needed of ['FILTER', 'BLOCK AFTER INSERT', 'BLOCK AFTER UPDATE', 'BLOCK BEFORE UPDATE', 'BLOCK BEFORE DELETE']) {
      if (!kinds.has(needed)) problems.push(`dbo.${table.name}: no ${needed} predicate`);
    }
    if (!new RegExp(`DENY UPDATE ON dbo\\.${table.name} \\(tenant_id\\) TO public;`).test(sql)) problems.push(`dbo.${table.name}: no DENY UPDATE on tenant_id`);
    if (!/tenant_id nvarchar\(63\) COLLATE Latin1_General_100_BIN2 NOT NULL/.test(table.body)) problems.push(`dbo.${table.name}: tenant_id is not a non-null binary-collated nvarchar(63)`);
    const pk = /PRIMARY KEY \((\w+)/.exec(table.body);
    if (pk?.[1] !== 'tenant_id') problems.push(`dbo.${table.name}: primary key does not start with tenant_id`);
    for (const fk of table.body.matchAll(/FOREIGN KEY \((\w+)/g)) if (fk[1] !== 'tenant_id') problems.push(`dbo.${table.name}: a foreign key does not start with tenant_id`);
    for (const index of sql.matchAll(new RegExp(`CREATE (?:UNIQUE )?INDEX (\\w+) ON dbo\\.${table.name} \\((\\w+)`, 'g'))) {
      if (index[2] !== 'tenant_id') problems.push(`dbo.${table.name}: index ${index[1]} does not start with tenant_id`);
    }
  }
  for (const name of predicates.keys()) {
    if (!tenantTables.some((t) => t.name === name)) problems.push(`the policy names dbo.${name}, which is not a tenant table`);
  }
  if (tenantTables.length > 0 && !/WITH \(STATE = ON, SCHEMABINDING = ON\);/.test(sql)) problems.push('the security policy is not created ON and schema-bound');
  return problems;
}

describe('Azure SQL migrations', () => {
  const tenantData = MSSQL_TENANT_DATA_MIGRATIONS.flatMap((m) => m.batches).join('\n');

  it('puts tenant_id on exactly the tenant tables, and none on the control-plane tenants table', () => {
    expect(tablesOf(tenantData).filter((t) => t.columns.includes('tenant_id')).map((t) => t.name).sort()).toEqual([...MSSQL_TENANT_TABLES].sort());
    expect(tablesOf(tenantData).every((t) => t.columns.includes('tenant_id'))).toBe(true);
    const control = tablesOf(MSSQL_CONTROL_MIGRATIONS.flatMap((m) => m.batches).join('\n'));
    // The control plane: the registry, the platform's admission list, the webhook index, the schedule due index and
    // the event source index (no row-level security: they are read before a tenant is known, by control sessions only).
    expect(control.map((t) => t.name)).toEqual(['tenants', 'run_admission', 'tenant_admission', 'hook_index', 'schedule_due', 'event_source_index']);
    expect(control[0]!.columns).not.toContain('tenant_id');
    expect(control.find((t) => t.name === 'hook_index')!.columns).not.toContain('tenant_id');
    expect(control.find((t) => t.name === 'event_source_index')!.columns).not.toContain('tenant_id');
  });

  it('covers every table with tenant_id with FILTER and BLOCK predicates, DENY UPDATE and tenant-first keys', () => {
    expect(isolationProblems(MSSQL_TENANT_DATA_MIGRATIONS)).toEqual([]);
    // The admission and schedule-due tables carry tenant_id as data of the control plane, outside the policy by design.
    const outside = new RegExp(`^dbo\\.(${MSSQL_CONTROL_PLANE_TENANT_TABLES.join('|')}):|^the security policy`);
    expect(isolationProblems(MSSQL_CONTROL_MIGRATIONS).filter((problem) => !outside.test(problem))).toEqual([]);
    expect(RLS_SWEEP_SQL).toContain("t.name IN (N'run_admission', N'tenant_admission', N'schedule_due')");
    expect(MSSQL_CONTROL_MIGRATIONS.flatMap((m) => m.batches).join('\n')).not.toMatch(/PREDICATE/);
  });

  it('notices a table that the policy leaves out (the check above can fail)', () => {
    const weakened: MssqlMigration[] = MSSQL_TENANT_DATA_MIGRATIONS.map((m) => ({
      ...m,
      batches: m.batches.map((batch) =>
        batch
          .replace(/\s*ADD BLOCK PREDICATE security\.fn_tenant_predicate\(tenant_id\) ON dbo\.runs AFTER UPDATE,/, '')
          .replace('DENY UPDATE ON dbo.audit_entries (tenant_id) TO public;', ''),
      ),
    }));
    const extra: MssqlMigration = { version: 2, name: 'new table', batches: ['CREATE TABLE dbo.new_things (\n  tenant_id nvarchar(63) COLLATE Latin1_General_100_BIN2 NOT NULL,\n  id int NOT NULL,\n  CONSTRAINT pk_new_things PRIMARY KEY (id, tenant_id)\n);'] };
    expect(isolationProblems([...weakened, extra])).toEqual([
      'dbo.runs: no BLOCK AFTER UPDATE predicate',
      'dbo.audit_entries: no DENY UPDATE on tenant_id',
      'dbo.new_things: no FILTER predicate',
      'dbo.new_things: no BLOCK AFTER INSERT predicate',
      'dbo.new_things: no BLOCK AFTER UPDATE predicate',
      'dbo.new_things: no BLOCK BEFORE UPDATE predicate',
      'dbo.new_things: no BLOCK BEFORE DELETE predicate',
      'dbo.new_things: no DENY UPDATE on tenant_id',
      'dbo.new_things: primary key does not start with tenant_id',
    ]);
  });

  it('has a predicate function that fails closed when the session context is unset', () => {
    const fn = MSSQL_TENANT_DATA_MIGRATIONS.flatMap((m) => m.batches).find((batch) => batch.startsWith('CREATE FUNCTION security.fn_tenant_predicate'));
    expect(fn).toBeDefined();
    expect(fn).toMatch(/WITH SCHEMABINDING/);
    expect(fn).toMatch(/WHERE SESSION_CONTEXT\(N'tenant_id'\) IS NOT NULL\s+AND @tenant_id COLLATE Latin1_General_100_BIN2 = CAST\(SESSION_CONTEXT\(N'tenant_id'\) AS nvarchar\(128\)\)/);
  });

  it('numbers each track 1..n, and starts every CREATE FUNCTION batch with it (T-SQL requires it)', () => {
    for (const track of [MSSQL_CONTROL_MIGRATIONS, MSSQL_TENANT_DATA_MIGRATIONS]) {
      expect(track.map((m) => m.version)).toEqual(track.map((_, i) => i + 1));
      for (const batch of track.flatMap((m) => m.batches)) {
        if (/CREATE FUNCTION/.test(batch)) expect(batch.trimStart().startsWith('CREATE FUNCTION')).toBe(true);
      }
    }
  });
});
