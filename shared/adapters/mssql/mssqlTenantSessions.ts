import { nvarchar, type SqlParam, sqlErrorNumber, type SqlSessions, type TenantSqlSession } from './mssqlSession.js';

/** Primary key and unique index violations. */
export const DUPLICATE_KEY = new Set([2627, 2601]);
export const DEADLOCK_VICTIM = 1205;

/** An id-like value (ids, keys, actors) bound as nvarchar(128). */
export const id = (value: string, field = 'id'): SqlParam => nvarchar(value, 128, field);

/** Every operation of a tenant's data: one request, one connection, the tenant's context (see mssqlSession.ts). */
export class TenantSessions {
  constructor(
    readonly tenantId: string,
    private readonly sessions: SqlSessions,
  ) {}

  /** Runs `work` in its own session; a deadlock victim (its transaction rolled back by the server) runs again. */
  async run<T>(work: (session: TenantSqlSession) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.sessions.tenant(this.tenantId, work);
      } catch (error) {
        if (sqlErrorNumber(error) !== DEADLOCK_VICTIM || attempt >= 3) throw error;
      }
    }
  }
}

export { checkPrecondition, toPage } from '../storeSupport/storeSupport.js';
