import { TENANT_TIERS } from '../../domain/tenant.js';
import type { AdmissionStats, AdmittedRun } from '../../ports/runAdmission.js';

/** A run_admission row that holds a slot (the same columns in SQLite and Azure SQL). */
export interface AdmittedRow {
  tenant_id: string;
  run_id: string;
  tier_rank: number;
  admitted_at: string;
}

export function toAdmittedRun(row: AdmittedRow): AdmittedRun {
  return { tenantId: row.tenant_id, runId: row.run_id, tier: TENANT_TIERS[row.tier_rank]!, admittedAt: row.admitted_at };
}

/** Sums `(admitted, tier_rank, n)` groups of run_admission into the stats. */
export function toAdmissionStats(groups: ReadonlyArray<{ admitted: number; tier_rank: number; n: number }>): AdmissionStats {
  const stats: AdmissionStats = { admitted: 0, waiting: { premium: 0, standard: 0, basic: 0 } };
  for (const group of groups) {
    if (group.admitted) stats.admitted += group.n;
    else stats.waiting[TENANT_TIERS[group.tier_rank]!] += group.n;
  }
  return stats;
}
