/** A fire being claimed: the slot and the earlier slots its one run stands for. */
export interface ClaimedFire {
  /** The slot (ISO 8601 UTC): with the schedule id, it makes the run's idempotency key. */
  scheduledTime: string;
  /** Earlier slots this one run stands for (runOnce after downtime). */
  missedFires: number;
}

/** A fire the scheduler claimed and has not finished yet (its run may or may not exist). */
export interface PendingFire extends ClaimedFire {
  /** Until when the claimer owns it; after that, another scheduler finishes it. */
  leaseUntil: string;
}

/** A schedule the scheduler has to look at: its next slot is due, or an unfinished fire's lease expired. */
export interface DueSchedule {
  tenantId: string;
  scheduleId: string;
  /** The next slot (ISO 8601 UTC); null when the cron never fires again. */
  nextFireTime: string | null;
  pending: PendingFire | null;
}

/**
 * The platform's index of when each active schedule fires next (control plane, one row per active schedule of
 * every tenant), so the scheduler finds due schedules with one indexed query instead of visiting every tenant.
 *
 * Claiming is a compare-and-set per schedule: {@link claim} moves the next fire time from the slot the caller saw
 * to the following one and records the claimed fire as pending, in one atomic statement. Of any number of
 * schedulers (several instances, overlapping ticks) seeing the same slot, exactly one claims it. The pending
 * fire survives a crash: once its lease expires, {@link listDue} returns it again and a scheduler finishes it
 * (the run's idempotency key makes a second start return the first run).
 */
export interface ScheduleDueIndex {
  /** Sets the next fire time (create, change, resume). An unfinished fire is kept. */
  set(tenantId: string, scheduleId: string, nextFireTime: string | null): Promise<void>;
  /** Removes the schedule (pause, delete, errored). Idempotent. */
  remove(tenantId: string, scheduleId: string): Promise<void>;
  /** The schedule's row, if it has one. */
  get(tenantId: string, scheduleId: string): Promise<DueSchedule | undefined>;
  /**
   * Up to `limit` schedules to act on at `now`, oldest first: those whose next slot is at or before `now` and that
   * have no unfinished fire, and those whose unfinished fire's lease expired.
   */
  listDue(now: string, limit: number): Promise<DueSchedule[]>;
  /**
   * Claims the slot `expected`: only if the next fire time is still `expected` and no fire is pending, sets it to
   * `next` and records `fire` (if any) as pending until `leaseUntil`. True when this call claimed it.
   */
  claim(tenantId: string, scheduleId: string, expected: string, next: string | null, fire: ClaimedFire | null, leaseUntil: string): Promise<boolean>;
  /** Takes over a pending fire whose lease `expiredLease` ran out: true when this call got the new lease. */
  reclaim(tenantId: string, scheduleId: string, scheduledTime: string, expiredLease: string, leaseUntil: string): Promise<boolean>;
  /** Marks the pending fire of `scheduledTime` done (its run exists, or it failed for good). */
  finish(tenantId: string, scheduleId: string, scheduledTime: string): Promise<void>;
}
