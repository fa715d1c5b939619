import Database from 'better-sqlite3';
import { prepare } from './preparedStatement.js';

export type Params = Record<string, string | number | null | undefined>;

/**
 * Refuses a statement on tenant data that is not bound to the tenant: inserts must take `@tenant_id`, and every
 * other statement must filter with `tenant_id = @tenant_id`. Exported for its test.
 */
export function assertTenantBound(sql: string): void {
  const bound = /^\s*INSERT\b/i.test(sql) ? /@tenant_id\b/.test(sql) : /\btenant_id = @tenant_id\b/.test(sql);
  if (!bound) throw new Error(`statement on tenant data is not bound to the tenant: ${sql.trim().slice(0, 80)}`);
}

/** The one way to tenant data: binds `@tenant_id` into every statement (see {@link assertTenantBound}). */
export class TenantScope {
  constructor(
    readonly tenantId: string,
    private readonly database: () => Database.Database,
  ) {}

  get<T>(sql: string, params: Params = {}): T | undefined {
    return this.statement(sql).get({ ...params, tenant_id: this.tenantId }) as T | undefined;
  }

  all<T>(sql: string, params: Params = {}): T[] {
    return this.statement(sql).all({ ...params, tenant_id: this.tenantId }) as T[];
  }

  run(sql: string, params: Params = {}): Database.RunResult {
    return this.statement(sql).run({ ...params, tenant_id: this.tenantId });
  }

  /** Runs `work` in an IMMEDIATE transaction (takes the write lock first, so read-then-write cannot race). */
  transaction<T>(work: () => T): T {
    return this.database().transaction(work).immediate();
  }

  private statement(sql: string): Database.Statement {
    assertTenantBound(sql);
    return prepare(this.database(), sql);
  }
}

export function isConstraint(error: unknown, code: 'SQLITE_CONSTRAINT_PRIMARYKEY' | 'SQLITE_CONSTRAINT_UNIQUE'): boolean {
  return error instanceof Database.SqliteError && error.code === code;
}

export { checkPrecondition, toPage } from '../storeSupport/storeSupport.js';
