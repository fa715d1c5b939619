/**
 * Platform admission: which waiting runs start when a slot frees. The platform runs at most `capacity` runs at
 * once (a slot each, from dispatch to the end of the run); every queued run waits in one list, and slots go:
 *
 * 1. by tier: a premium run before any standard run, a standard run before any basic run, whenever they were
 *    queued (the tier queues only say where a run came from; this list says when it starts);
 * 2. within a tier, to the tenant holding the fewest slots (max-min fair share), then to the tenant served least
 *    recently (round robin when every tenant holds as many), then to the tenant whose next run was queued first;
 * 3. within a tenant, oldest first;
 *
 * and never to a tenant already at its own `maxConcurrentRuns`. Pure: the stores load the rows, call
 * {@link selectAdmissions} in their transaction and write its choice.
 */
import { TENANT_TIERS, type TenantTier } from './tenant.js';

/** Tier order: lower ranks are admitted first (premium 0, standard 1, basic 2). */
export function tierRank(tier: TenantTier): number {
  return TENANT_TIERS.indexOf(tier);
}

/** A run waiting for a slot (its ticket), as the list holds it. */
export interface WaitingRun {
  tenantId: string;
  runId: string;
  tierRank: number;
  /** When the run was queued (its createdAt): the order within a tenant. */
  queuedAt: string;
  /** The tenant's limit of runs at once when the run was queued. */
  maxRunning: number;
}

/** What a tenant holds now: slots, and the sequence number of its last admission (0: never admitted). */
export interface TenantLoad {
  active: number;
  lastServed: number;
}

export interface Admission {
  run: WaitingRun;
  /** The sequence number of this admission (the tenant's new `lastServed`). */
  sequence: number;
}

/**
 * Chooses up to `free` runs to admit, in admission order. `waiting` holds, per tenant, its oldest waiting runs
 * in the order the tenant's runs start (tier rank, queue time, run id): a tenant's runs are taken from the front.
 * `load` is read, not changed; `nextSequence` numbers the admissions.
 */
export function selectAdmissions(waiting: readonly WaitingRun[], load: ReadonlyMap<string, TenantLoad>, free: number, nextSequence: number): Admission[] {
  const queues = new Map<string, { runs: WaitingRun[]; next: number; active: number; lastServed: number }>();
  for (const run of waiting) {
    let queue = queues.get(run.tenantId);
    if (queue === undefined) {
      const held = load.get(run.tenantId);
      queue = { runs: [], next: 0, active: held?.active ?? 0, lastServed: held?.lastServed ?? 0 };
      queues.set(run.tenantId, queue);
    }
    queue.runs.push(run);
  }
  const admissions: Admission[] = [];
  let sequence = nextSequence;
  while (admissions.length < free) {
    let best: { runs: WaitingRun[]; next: number; active: number; lastServed: number } | undefined;
    for (const queue of queues.values()) {
      const head = queue.runs[queue.next];
      if (head === undefined || queue.active >= head.maxRunning) continue;
      if (best === undefined || precedes(head, queue, best.runs[best.next]!, best)) best = queue;
    }
    if (best === undefined) break;
    const run = best.runs[best.next]!;
    best.next += 1;
    best.active += 1;
    best.lastServed = sequence;
    admissions.push({ run, sequence });
    sequence += 1;
  }
  return admissions;
}

/** Whether tenant `a`'s next run goes before tenant `b`'s (see the rules at the top of this file). */
function precedes(a: WaitingRun, aLoad: TenantLoad, b: WaitingRun, bLoad: TenantLoad): boolean {
  if (a.tierRank !== b.tierRank) return a.tierRank < b.tierRank;
  if (aLoad.active !== bLoad.active) return aLoad.active < bLoad.active;
  if (aLoad.lastServed !== bLoad.lastServed) return aLoad.lastServed < bLoad.lastServed;
  if (a.queuedAt !== b.queuedAt) return a.queuedAt < b.queuedAt;
  return a.runId < b.runId;
}
