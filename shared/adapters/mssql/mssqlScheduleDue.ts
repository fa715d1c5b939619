import type { ClaimedFire, DueSchedule, ScheduleDueIndex } from '../../ports/scheduleDueIndex.js';
import { dueScheduleFromRow, SCHEDULE_DUE_COLUMNS, type ScheduleDueRow } from '../storeSupport/storeRows.js';
import { isoTimestamp, isoTimestampOrNull } from '../storeSupport/storeSupport.js';
import { int, nvarchar, type SqlRow, type SqlSession, type SqlSessions, timestamp } from './mssqlSession.js';

function key(tenantId: string, scheduleId: string) {
  return { tenant: nvarchar(tenantId, 63), schedule: nvarchar(scheduleId, 128) };
}

/**
 * The schedule due index in the control database (dbo.schedule_due); see ScheduleDueIndex. Each claim is one
 * UPDATE whose WHERE is the compare-and-set, and @@ROWCOUNT says whether this session changed the row: SQL Server
 * takes an update lock on the row before re-checking the predicate, so of concurrent claimers only one matches.
 */
export class MssqlScheduleDueIndex implements ScheduleDueIndex {
  constructor(private readonly sessions: SqlSessions) {}

  private control<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.sessions.control(work);
  }

  private async changed(sql: string, params: Parameters<SqlSession['query']>[1]): Promise<boolean> {
    const rows = await this.control((s) => s.query<{ n: number }>(`${sql}; SELECT @@ROWCOUNT AS n;`, params));
    return rows[0]?.n === 1;
  }

  async set(tenantId: string, scheduleId: string, nextFireTime: string | null): Promise<void> {
    const next = isoTimestampOrNull(nextFireTime, 'nextFireTime');
    // One transaction: the key-range lock HOLDLOCK takes on a missing row makes a concurrent set wait, then update.
    await this.control((s) =>
      s.transaction(() =>
        s.query(
          `UPDATE dbo.schedule_due WITH (UPDLOCK, HOLDLOCK) SET next_fire_at = @next WHERE tenant_id = @tenant AND schedule_id = @schedule;
           IF @@ROWCOUNT = 0 INSERT INTO dbo.schedule_due (tenant_id, schedule_id, next_fire_at) VALUES (@tenant, @schedule, @next);`,
          { ...key(tenantId, scheduleId), next: timestamp(next) },
        ),
      ),
    );
  }

  async remove(tenantId: string, scheduleId: string): Promise<void> {
    await this.control((s) => s.query('DELETE FROM dbo.schedule_due WHERE tenant_id = @tenant AND schedule_id = @schedule', key(tenantId, scheduleId)));
  }

  async get(tenantId: string, scheduleId: string): Promise<DueSchedule | undefined> {
    const rows = await this.control((s) =>
      s.query<ScheduleDueRow & SqlRow>(`SELECT ${SCHEDULE_DUE_COLUMNS} FROM dbo.schedule_due WHERE tenant_id = @tenant AND schedule_id = @schedule`, key(tenantId, scheduleId)),
    );
    return rows[0] === undefined ? undefined : dueScheduleFromRow(rows[0]);
  }

  async listDue(now: string, limit: number): Promise<DueSchedule[]> {
    const rows = await this.control((s) =>
      s.query<ScheduleDueRow & SqlRow>(
        `SELECT TOP (@limit) ${SCHEDULE_DUE_COLUMNS} FROM (
           SELECT ${SCHEDULE_DUE_COLUMNS}, next_fire_at AS due_at FROM dbo.schedule_due WHERE pending_fire_at IS NULL AND next_fire_at IS NOT NULL AND next_fire_at <= @at
           UNION ALL
           SELECT ${SCHEDULE_DUE_COLUMNS}, lease_until AS due_at FROM dbo.schedule_due WHERE pending_fire_at IS NOT NULL AND lease_until <= @at) AS due
         ORDER BY due_at, tenant_id, schedule_id`,
        { at: timestamp(isoTimestamp(now, 'now')), limit: int(limit) },
      ),
    );
    return rows.map(dueScheduleFromRow);
  }

  claim(tenantId: string, scheduleId: string, expected: string, next: string | null, fire: ClaimedFire | null, leaseUntil: string): Promise<boolean> {
    return this.changed(
      `UPDATE dbo.schedule_due SET next_fire_at = @next, pending_fire_at = @fire, pending_missed = @missed, lease_until = @lease
       WHERE tenant_id = @tenant AND schedule_id = @schedule AND next_fire_at = @expected AND pending_fire_at IS NULL`,
      {
        ...key(tenantId, scheduleId),
        expected: timestamp(isoTimestamp(expected, 'expected')),
        next: timestamp(isoTimestampOrNull(next, 'next')),
        fire: timestamp(fire === null ? null : isoTimestamp(fire.scheduledTime, 'scheduledTime')),
        missed: int(fire === null ? null : fire.missedFires),
        lease: timestamp(fire === null ? null : isoTimestamp(leaseUntil, 'leaseUntil')),
      },
    );
  }

  reclaim(tenantId: string, scheduleId: string, scheduledTime: string, expiredLease: string, leaseUntil: string): Promise<boolean> {
    return this.changed(
      'UPDATE dbo.schedule_due SET lease_until = @lease WHERE tenant_id = @tenant AND schedule_id = @schedule AND pending_fire_at = @fire AND lease_until = @expired',
      {
        ...key(tenantId, scheduleId),
        fire: timestamp(isoTimestamp(scheduledTime, 'scheduledTime')),
        expired: timestamp(isoTimestamp(expiredLease, 'expiredLease')),
        lease: timestamp(isoTimestamp(leaseUntil, 'leaseUntil')),
      },
    );
  }

  async finish(tenantId: string, scheduleId: string, scheduledTime: string): Promise<void> {
    await this.control((s) =>
      s.query(
        'UPDATE dbo.schedule_due SET pending_fire_at = NULL, pending_missed = NULL, lease_until = NULL WHERE tenant_id = @tenant AND schedule_id = @schedule AND pending_fire_at = @fire',
        { ...key(tenantId, scheduleId), fire: timestamp(isoTimestamp(scheduledTime, 'scheduledTime')) },
      ),
    );
  }
}

/** Removes a deleted tenant's rows. */
export async function deleteTenantScheduleDue(session: SqlSession, tenantId: string): Promise<void> {
  await session.query('DELETE FROM dbo.schedule_due WHERE tenant_id = @tenant', { tenant: nvarchar(tenantId, 63) });
}
