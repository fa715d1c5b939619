import { selectAdmissions, type TenantLoad, tierRank } from '../../domain/admission.js';
import { TENANT_TIERS } from '../../domain/tenant.js';
import type { AdmissionStats, AdmissionTicket, AdmittedRun, RunAdmission } from '../../ports/runAdmission.js';
import { type AdmittedRow, toAdmissionStats, toAdmittedRun } from '../storeSupport/admissionRows.js';
import { isoTimestamp } from '../storeSupport/storeSupport.js';
import { int, nvarchar, type SqlRow, type SqlSession, type SqlSessions, timestamp } from './mssqlSession.js';

/**
 * Serializes admitters across instances: an exclusive application lock owned by the admit transaction (the
 * count of held slots and the choice must not interleave with another admitter's).
 */
const ADMISSION_LOCK_SQL = `DECLARE @result int;
EXEC @result = sys.sp_getapplock @Resource = N'automateiq:run-admission', @LockMode = 'Exclusive', @LockOwner = 'Transaction', @LockTimeout = 30000;
IF @result < 0 THROW 50002, N'could not take the run admission lock', 1;`;


function key(tenantId: string, runId: string) {
  return { tenant: nvarchar(tenantId, 63), run: nvarchar(runId, 128) };
}

/** The admission list in the control database (dbo.run_admission, dbo.tenant_admission); see RunAdmission. */
export class MssqlRunAdmission implements RunAdmission {
  constructor(private readonly sessions: SqlSessions) {}

  private control<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    return this.sessions.control(work);
  }

  async enqueue(ticket: AdmissionTicket): Promise<'waiting' | 'admitted'> {
    const rows = await this.control((s) =>
      s.query<{ admitted_at: string | null }>(
        `IF NOT EXISTS (SELECT 1 FROM dbo.run_admission WITH (UPDLOCK, HOLDLOCK) WHERE tenant_id = @tenant AND run_id = @run)
           INSERT INTO dbo.run_admission (tenant_id, run_id, tier_rank, queued_at, max_running, admitted_at)
           VALUES (@tenant, @run, @rank, @queued, @max, NULL);
         SELECT admitted_at FROM dbo.run_admission WHERE tenant_id = @tenant AND run_id = @run;`,
        { ...key(ticket.tenantId, ticket.runId), rank: int(tierRank(ticket.tier)), queued: timestamp(isoTimestamp(ticket.queuedAt, 'queuedAt')), max: int(Math.max(1, ticket.maxRunning)) },
      ),
    );
    return rows[0]?.admitted_at == null ? 'waiting' : 'admitted';
  }

  async admit(capacity: number, at: string): Promise<AdmittedRun[]> {
    const admittedAt = isoTimestamp(at, 'at');
    return this.control((s) =>
      s.transaction(async () => {
        await s.query(ADMISSION_LOCK_SQL);
        const held = (await s.query<{ n: number }>('SELECT COUNT(*) AS n FROM dbo.run_admission WHERE admitted_at IS NOT NULL'))[0]?.n ?? 0;
        const free = capacity - held;
        if (free <= 0) return [];
        const waiting = await s.query<{ tenant_id: string; run_id: string; tier_rank: number; queued_at: string; max_running: number }>(
          `SELECT tenant_id, run_id, tier_rank, queued_at, max_running FROM (
             SELECT *, ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY tier_rank, queued_at, run_id) AS place
             FROM dbo.run_admission WHERE admitted_at IS NULL) AS w
           WHERE place <= @free ORDER BY tenant_id, place`,
          { free: int(free) },
        );
        if (waiting.length === 0) return [];
        const loadRows = await s.query<{ tenant_id: string; active: number; last_served: number }>(
          `SELECT t.tenant_id,
                  (SELECT COUNT(*) FROM dbo.run_admission a WHERE a.tenant_id = t.tenant_id AND a.admitted_at IS NOT NULL) AS active,
                  COALESCE((SELECT last_served FROM dbo.tenant_admission s WHERE s.tenant_id = t.tenant_id), 0) AS last_served
           FROM (SELECT DISTINCT tenant_id FROM dbo.run_admission WHERE admitted_at IS NULL) AS t`,
        );
        const load = new Map<string, TenantLoad>(loadRows.map((row) => [row.tenant_id, { active: row.active, lastServed: Number(row.last_served) }]));
        const nextSequence = Number((await s.query<{ n: number }>('SELECT COALESCE(MAX(last_served), 0) + 1 AS n FROM dbo.tenant_admission'))[0]?.n ?? 1);
        const admissions = selectAdmissions(
          waiting.map((row) => ({ tenantId: row.tenant_id, runId: row.run_id, tierRank: row.tier_rank, queuedAt: row.queued_at, maxRunning: row.max_running })),
          load,
          free,
          nextSequence,
        );
        for (const { run, sequence } of admissions) {
          await s.query(
            `UPDATE dbo.run_admission SET admitted_at = @at WHERE tenant_id = @tenant AND run_id = @run;
             UPDATE dbo.tenant_admission SET last_served = @sequence WHERE tenant_id = @tenant;
             IF @@ROWCOUNT = 0 INSERT INTO dbo.tenant_admission (tenant_id, last_served) VALUES (@tenant, @sequence);`,
            { ...key(run.tenantId, run.runId), at: timestamp(admittedAt), sequence: int(sequence) },
          );
        }
        return admissions.map(({ run }) => ({ tenantId: run.tenantId, runId: run.runId, tier: TENANT_TIERS[run.tierRank]!, admittedAt }));
      }),
    );
  }

  async markStarted(tenantId: string, runId: string, at: string): Promise<void> {
    await this.control((s) =>
      s.query('UPDATE dbo.run_admission SET started_at = @at WHERE tenant_id = @tenant AND run_id = @run AND admitted_at IS NOT NULL', { ...key(tenantId, runId), at: timestamp(isoTimestamp(at, 'at')) }),
    );
  }

  async readmit(tenantId: string, runId: string): Promise<boolean> {
    const rows = await this.control((s) =>
      s.query<{ n: number }>('UPDATE dbo.run_admission SET admitted_at = NULL, started_at = NULL WHERE tenant_id = @tenant AND run_id = @run AND admitted_at IS NOT NULL; SELECT @@ROWCOUNT AS n;', key(tenantId, runId)),
    );
    return rows[0]?.n === 1;
  }

  async release(tenantId: string, runId: string): Promise<boolean> {
    const rows = await this.control((s) => s.query<{ n: number }>('DELETE FROM dbo.run_admission WHERE tenant_id = @tenant AND run_id = @run; SELECT @@ROWCOUNT AS n;', key(tenantId, runId)));
    return rows[0]?.n === 1;
  }

  async listAdmitted(options: { admittedBefore: string; limit: number; unstarted?: boolean }): Promise<AdmittedRun[]> {
    const rows = await this.control((s) =>
      s.query<AdmittedRow & SqlRow>(
        `SELECT TOP (@limit) tenant_id, run_id, tier_rank, admitted_at FROM dbo.run_admission
         WHERE admitted_at IS NOT NULL AND admitted_at < @before ${options.unstarted ? 'AND started_at IS NULL' : ''} ORDER BY admitted_at, tenant_id, run_id`,
        { limit: int(options.limit), before: timestamp(isoTimestamp(options.admittedBefore, 'admittedBefore')) },
      ),
    );
    return rows.map(toAdmittedRun);
  }

  async stats(): Promise<AdmissionStats> {
    const rows = await this.control((s) =>
      s.query<{ admitted: number; tier_rank: number; n: number }>(
        `SELECT CASE WHEN admitted_at IS NULL THEN 0 ELSE 1 END AS admitted, tier_rank, COUNT(*) AS n
         FROM dbo.run_admission GROUP BY CASE WHEN admitted_at IS NULL THEN 0 ELSE 1 END, tier_rank`,
      ),
    );
    return toAdmissionStats(rows);
  }
}

/** Removes a deleted tenant's tickets and slots. */
export async function deleteTenantAdmission(session: SqlSession, tenantId: string): Promise<void> {
  await session.query('DELETE FROM dbo.run_admission WHERE tenant_id = @tenant; DELETE FROM dbo.tenant_admission WHERE tenant_id = @tenant;', { tenant: nvarchar(tenantId, 63) });
}
