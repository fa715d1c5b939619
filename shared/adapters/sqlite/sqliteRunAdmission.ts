import type Database from 'better-sqlite3';
import { selectAdmissions, type TenantLoad, tierRank, type WaitingRun } from '../../domain/admission.js';
import { TENANT_TIERS } from '../../domain/tenant.js';
import type { AdmissionStats, AdmissionTicket, AdmittedRun, RunAdmission } from '../../ports/runAdmission.js';
import { type AdmittedRow, toAdmissionStats, toAdmittedRun } from '../storeSupport/admissionRows.js';
import { isoTimestamp } from '../storeSupport/storeSupport.js';
import { prepare } from './preparedStatement.js';

interface WaitingRow {
  tenant_id: string;
  run_id: string;
  tier_rank: number;
  queued_at: string;
  max_running: number;
}



/**
 * The admission list in the control database (tables run_admission and tenant_admission). `admit` is one
 * IMMEDIATE transaction: it takes the write lock before counting, so concurrent admitters (in this process or
 * another on the same file) never hand out more than `capacity` slots.
 */
export class SqliteRunAdmission implements RunAdmission {
  constructor(private readonly db: () => Database.Database) {}

  async enqueue(ticket: AdmissionTicket): Promise<'waiting' | 'admitted'> {
    const db = this.db();
    return db
      .transaction(() => {
        prepare(db, 
          `INSERT INTO run_admission (tenant_id, run_id, tier_rank, queued_at, max_running, admitted_at)
           VALUES (@tenant, @run, @rank, @queued, @max, NULL) ON CONFLICT (tenant_id, run_id) DO NOTHING`,
        ).run({
          tenant: ticket.tenantId,
          run: ticket.runId,
          rank: tierRank(ticket.tier),
          queued: isoTimestamp(ticket.queuedAt, 'queuedAt'),
          max: Math.max(1, ticket.maxRunning),
        });
        const row = prepare(db, 'SELECT admitted_at FROM run_admission WHERE tenant_id = ? AND run_id = ?').get(ticket.tenantId, ticket.runId) as { admitted_at: string | null };
        return row.admitted_at === null ? 'waiting' : 'admitted';
      })
      .immediate();
  }

  async admit(capacity: number, at: string): Promise<AdmittedRun[]> {
    const db = this.db();
    const admittedAt = isoTimestamp(at, 'at');
    return db
      .transaction(() => {
        const held = (prepare(db, 'SELECT COUNT(*) AS n FROM run_admission WHERE admitted_at IS NOT NULL').get() as { n: number }).n;
        const free = capacity - held;
        if (free <= 0) return [];
        // Each tenant's first `free` waiting runs: no tenant can get more than that in one call.
        const waiting = (
          prepare(db, 
              `SELECT tenant_id, run_id, tier_rank, queued_at, max_running FROM (
                 SELECT *, ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY tier_rank, queued_at, run_id) AS place
                 FROM run_admission WHERE admitted_at IS NULL)
               WHERE place <= ? ORDER BY tenant_id, place`,
            )
            .all(free) as WaitingRow[]
        ).map(
          (row): WaitingRun => ({ tenantId: row.tenant_id, runId: row.run_id, tierRank: row.tier_rank, queuedAt: row.queued_at, maxRunning: row.max_running }),
        );
        if (waiting.length === 0) return [];
        const load = new Map<string, TenantLoad>();
        const loadRows = prepare(db, 
            `SELECT t.tenant_id AS tenant_id,
                    (SELECT COUNT(*) FROM run_admission a WHERE a.tenant_id = t.tenant_id AND a.admitted_at IS NOT NULL) AS active,
                    COALESCE((SELECT last_served FROM tenant_admission s WHERE s.tenant_id = t.tenant_id), 0) AS last_served
             FROM (SELECT DISTINCT tenant_id FROM run_admission WHERE admitted_at IS NULL) t`,
          )
          .all() as Array<{ tenant_id: string; active: number; last_served: number }>;
        for (const row of loadRows) load.set(row.tenant_id, { active: row.active, lastServed: row.last_served });
        const nextSequence = (prepare(db, 'SELECT COALESCE(MAX(last_served), 0) + 1 AS n FROM tenant_admission').get() as { n: number }).n;
        const admissions = selectAdmissions(waiting, load, free, nextSequence);
        const markAdmitted = prepare(db, 'UPDATE run_admission SET admitted_at = ? WHERE tenant_id = ? AND run_id = ?');
        const served = prepare(db, 
          'INSERT INTO tenant_admission (tenant_id, last_served) VALUES (?, ?) ON CONFLICT (tenant_id) DO UPDATE SET last_served = excluded.last_served',
        );
        return admissions.map(({ run, sequence }) => {
          markAdmitted.run(admittedAt, run.tenantId, run.runId);
          served.run(run.tenantId, sequence);
          return { tenantId: run.tenantId, runId: run.runId, tier: TENANT_TIERS[run.tierRank]!, admittedAt };
        });
      })
      .immediate();
  }

  async markStarted(tenantId: string, runId: string, at: string): Promise<void> {
    prepare(this.db(), 'UPDATE run_admission SET started_at = ? WHERE tenant_id = ? AND run_id = ? AND admitted_at IS NOT NULL').run(isoTimestamp(at, 'at'), tenantId, runId);
  }

  async readmit(tenantId: string, runId: string): Promise<boolean> {
    return prepare(this.db(), 'UPDATE run_admission SET admitted_at = NULL, started_at = NULL WHERE tenant_id = ? AND run_id = ? AND admitted_at IS NOT NULL').run(tenantId, runId).changes === 1;
  }

  async release(tenantId: string, runId: string): Promise<boolean> {
    return prepare(this.db(), 'DELETE FROM run_admission WHERE tenant_id = ? AND run_id = ?').run(tenantId, runId).changes === 1;
  }

  async listAdmitted(options: { admittedBefore: string; limit: number; unstarted?: boolean }): Promise<AdmittedRun[]> {
    const rows = prepare(this.db(), 
        `SELECT tenant_id, run_id, tier_rank, admitted_at FROM run_admission
         WHERE admitted_at IS NOT NULL AND admitted_at < ? ${options.unstarted ? 'AND started_at IS NULL' : ''} ORDER BY admitted_at, tenant_id, run_id LIMIT ?`,
      )
      .all(isoTimestamp(options.admittedBefore, 'admittedBefore'), options.limit) as AdmittedRow[];
    return rows.map(toAdmittedRun);
  }

  async stats(): Promise<AdmissionStats> {
    const rows = prepare(this.db(), 'SELECT admitted_at IS NOT NULL AS admitted, tier_rank, COUNT(*) AS n FROM run_admission GROUP BY 1, 2')
      .all() as Array<{ admitted: number; tier_rank: number; n: number }>;
    return toAdmissionStats(rows);
  }
}

/** Removes a deleted tenant's tickets and slots (inside the tenant deletion's transaction). */
export function deleteTenantAdmission(db: Database.Database, tenantId: string): void {
  prepare(db, 'DELETE FROM run_admission WHERE tenant_id = ?').run(tenantId);
  prepare(db, 'DELETE FROM tenant_admission WHERE tenant_id = ?').run(tenantId);
}
