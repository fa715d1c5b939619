import type Database from 'better-sqlite3';
import type { ClaimedFire, DueSchedule, ScheduleDueIndex } from '../../ports/scheduleDueIndex.js';
import { dueScheduleFromRow, SCHEDULE_DUE_COLUMNS, type ScheduleDueRow } from '../storeSupport/storeRows.js';
import { isoTimestamp, isoTimestampOrNull } from '../storeSupport/storeSupport.js';
import { prepare } from './preparedStatement.js';

/**
 * The schedule due index in the control database (table schedule_due). Every claim is one UPDATE whose WHERE
 * is the compare-and-set: SQLite runs it under the database write lock, so of several claimers (in this process
 * or others on the same file) only one sees its row change.
 */
export class SqliteScheduleDueIndex implements ScheduleDueIndex {
  constructor(private readonly db: () => Database.Database) {}

  async set(tenantId: string, scheduleId: string, nextFireTime: string | null): Promise<void> {
    prepare(
      this.db(),
      `INSERT INTO schedule_due (tenant_id, schedule_id, next_fire_at) VALUES (?, ?, ?)
       ON CONFLICT (tenant_id, schedule_id) DO UPDATE SET next_fire_at = excluded.next_fire_at`,
    ).run(tenantId, scheduleId, isoTimestampOrNull(nextFireTime, 'nextFireTime'));
  }

  async remove(tenantId: string, scheduleId: string): Promise<void> {
    prepare(this.db(), 'DELETE FROM schedule_due WHERE tenant_id = ? AND schedule_id = ?').run(tenantId, scheduleId);
  }

  async get(tenantId: string, scheduleId: string): Promise<DueSchedule | undefined> {
    const row = prepare(this.db(), `SELECT ${SCHEDULE_DUE_COLUMNS} FROM schedule_due WHERE tenant_id = ? AND schedule_id = ?`).get(tenantId, scheduleId) as ScheduleDueRow | undefined;
    return row === undefined ? undefined : dueScheduleFromRow(row);
  }

  async listDue(now: string, limit: number): Promise<DueSchedule[]> {
    const at = isoTimestamp(now, 'now');
    // Two index range scans (see the partial indexes), merged oldest first.
    const rows = prepare(
      this.db(),
      `SELECT ${SCHEDULE_DUE_COLUMNS} FROM (
         SELECT *, next_fire_at AS due_at FROM schedule_due WHERE pending_fire_at IS NULL AND next_fire_at IS NOT NULL AND next_fire_at <= @at
         UNION ALL
         SELECT *, lease_until AS due_at FROM schedule_due WHERE pending_fire_at IS NOT NULL AND lease_until <= @at)
       ORDER BY due_at, tenant_id, schedule_id LIMIT @limit`,
    ).all({ at, limit }) as ScheduleDueRow[];
    return rows.map(dueScheduleFromRow);
  }

  async claim(tenantId: string, scheduleId: string, expected: string, next: string | null, fire: ClaimedFire | null, leaseUntil: string): Promise<boolean> {
    return (
      prepare(
        this.db(),
        `UPDATE schedule_due SET next_fire_at = @next, pending_fire_at = @fire, pending_missed = @missed, lease_until = @lease
         WHERE tenant_id = @tenant AND schedule_id = @schedule AND next_fire_at = @expected AND pending_fire_at IS NULL`,
      ).run({
        tenant: tenantId,
        schedule: scheduleId,
        expected: isoTimestamp(expected, 'expected'),
        next: isoTimestampOrNull(next, 'next'),
        fire: fire === null ? null : isoTimestamp(fire.scheduledTime, 'scheduledTime'),
        missed: fire === null ? null : fire.missedFires,
        lease: fire === null ? null : isoTimestamp(leaseUntil, 'leaseUntil'),
      }).changes === 1
    );
  }

  async reclaim(tenantId: string, scheduleId: string, scheduledTime: string, expiredLease: string, leaseUntil: string): Promise<boolean> {
    return (
      prepare(
        this.db(),
        'UPDATE schedule_due SET lease_until = @lease WHERE tenant_id = @tenant AND schedule_id = @schedule AND pending_fire_at = @fire AND lease_until = @expired',
      ).run({
        tenant: tenantId,
        schedule: scheduleId,
        fire: isoTimestamp(scheduledTime, 'scheduledTime'),
        expired: isoTimestamp(expiredLease, 'expiredLease'),
        lease: isoTimestamp(leaseUntil, 'leaseUntil'),
      }).changes === 1
    );
  }

  async finish(tenantId: string, scheduleId: string, scheduledTime: string): Promise<void> {
    prepare(
      this.db(),
      'UPDATE schedule_due SET pending_fire_at = NULL, pending_missed = NULL, lease_until = NULL WHERE tenant_id = ? AND schedule_id = ? AND pending_fire_at = ?',
    ).run(tenantId, scheduleId, isoTimestamp(scheduledTime, 'scheduledTime'));
  }
}

/** Removes a deleted tenant's rows (inside the tenant deletion's transaction). */
export function deleteTenantScheduleDue(db: Database.Database, tenantId: string): void {
  prepare(db, 'DELETE FROM schedule_due WHERE tenant_id = ?').run(tenantId);
}
