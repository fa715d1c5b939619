import { createHash } from 'node:crypto';

/**
 * A stable `Idempotency-Key` for one step of one run: the same on every retry of the step, different across
 * steps and runs. A hash, so it reveals nothing about the ids.
 */
export function idempotencyKey(runId: string, stepId: string): string {
  const hex = createHash('sha256').update(`aiq-rest\u0000${runId}\u0000${stepId}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
