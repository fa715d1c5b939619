import { AppError, ErrorCodes } from '../../domain/errors.js';
import type { Page, Precondition } from '../../ports/appStore.js';
import { encodePageToken, type PageKey } from '../storeSupport/storeSupport.js';
import { nvarchar, type SqlParam, sqlErrorNumber, type SqlSessions, type TenantSqlSession } from './mssqlSession.js';

export function checkPrecondition(precondition: Precondition | undefined, revision: number, what: string): void {
  if (precondition?.ifRevision !== undefined && precondition.ifRevision !== revision) {
    throw new AppError(ErrorCodes.preconditionFailed, `${what} has revision ${revision}, not ${precondition.ifRevision}`);
  }
}

export function toPage<R, T>(rows: R[], limit: number, map: (row: R) => T, key: (row: R) => PageKey, scope: string): Page<T> {
  const items = rows.slice(0, limit);
  const page: Page<T> = { items: items.map(map) };
  if (rows.length > limit) page.continuationToken = encodePageToken(scope, key(items[items.length - 1]!));
  return page;
}

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
