import type { TenantTier } from '../domain/tenant.js';

/** A queued run asking for a slot. */
export interface AdmissionTicket {
  tenantId: string;
  runId: string;
  tier: TenantTier;
  /** When the run was queued (its createdAt). */
  queuedAt: string;
  /** The tenant's limit of runs executing at once. */
  maxRunning: number;
}

/** A run that holds a slot. */
export interface AdmittedRun {
  tenantId: string;
  runId: string;
  tier: TenantTier;
  admittedAt: string;
}

export interface AdmissionStats {
  /** Slots held. */
  admitted: number;
  /** Runs waiting, per tier. */
  waiting: Record<TenantTier, number>;
}

/**
 * The platform's admission list (control plane, not tenant-scoped): queued runs wait here for one of the
 * platform's slots, and hold it until their run ends. The order is the domain's (shared/domain/admission.ts):
 * tier, then fair share between tenants, then queue time, never past a tenant's own limit. Every operation is
 * atomic across instances sharing the store.
 */
export interface RunAdmission {
  /**
   * Puts a run on the waiting list. Idempotent: a run already listed keeps its place; the answer says where it
   * is (`waiting`, or `admitted` when it already holds a slot).
   */
  enqueue(ticket: AdmissionTicket): Promise<'waiting' | 'admitted'>;
  /** Admits waiting runs while fewer than `capacity` slots are held; returns the runs this call admitted, in order. */
  admit(capacity: number, at: string): Promise<AdmittedRun[]>;
  /** Records that an admitted run's orchestration was started (until then, a crash may have stranded it). */
  markStarted(tenantId: string, runId: string, at: string): Promise<void>;
  /** Gives an admitted run's slot back and puts it at its place in the waiting list again. False when it held none. */
  readmit(tenantId: string, runId: string): Promise<boolean>;
  /** Frees the run's slot or takes it off the waiting list. Idempotent: false when it was on neither. */
  release(tenantId: string, runId: string): Promise<boolean>;
  /**
   * Runs holding a slot since before `admittedBefore`, oldest first (for the reconciler); with `unstarted`, only
   * those not marked started.
   */
  listAdmitted(options: { admittedBefore: string; limit: number; unstarted?: boolean }): Promise<AdmittedRun[]>;
  stats(): Promise<AdmissionStats>;
}
