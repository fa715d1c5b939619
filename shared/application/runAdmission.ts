import type { AdmittedRun, RunAdmission } from '../ports/runAdmission.js';

/**
 * What becomes of an admitted run when asked to start: `started` (or already running), `gone` (no longer
 * queued: cancelled, deleted; its slot is released), `atLimit` (the tenant's store still counts as many runs
 * running as its limit allows, e.g. runs from before admission existed: the run waits again).
 */
export type StartOutcome = 'started' | 'gone' | 'atLimit';

/** Starts one admitted run (the trigger layer's: it marks the run running and starts its orchestration). */
export type StartAdmittedRun = (run: AdmittedRun) => Promise<StartOutcome>;

export interface AdmitDeps {
  admission: RunAdmission;
  /** Slots of the platform (AIQ_MAX_ACTIVE_RUNS). */
  capacity: number;
  start: StartAdmittedRun;
  warn(message: string): void;
}

/**
 * Admits waiting runs into free slots and starts them, in admission order (so the task hub receives a premium
 * run before the standard runs admitted with it). A run that is gone gives its slot back and the next waiting
 * run is admitted in its place; a run at its tenant's limit waits again, and admission stops for this call (the
 * next freed slot or the reconciler tries again, so this never spins). A start that throws leaves the slot held:
 * the reconciler starts the run later. Returns the number of runs started.
 */
export async function admitWaitingRuns(deps: AdmitDeps): Promise<number> {
  let started = 0;
  for (;;) {
    const admitted = await deps.admission.admit(deps.capacity, new Date().toISOString());
    if (admitted.length === 0) return started;
    let freed = false;
    let blocked = false;
    for (const run of admitted) {
      let outcome: StartOutcome;
      try {
        outcome = await deps.start(run);
      } catch (error) {
        deps.warn(`Run '${run.runId}' of tenant '${run.tenantId}' was admitted but did not start (the reconciler retries): ${(error as Error).message}`);
        continue;
      }
      if (outcome === 'started') started += 1;
      else if (outcome === 'gone') freed = (await deps.admission.release(run.tenantId, run.runId)) || freed;
      else blocked = (await deps.admission.readmit(run.tenantId, run.runId)) || blocked;
    }
    if (!freed || blocked) return started;
  }
}
