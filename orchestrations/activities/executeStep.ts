import * as df from 'durable-functions';
import type { InvocationContext } from '@azure/functions';
import { isArtifactRef, resolveArtifacts, storeIfLarge } from '../../shared/application/claimCheck.js';
import { loadDeclaredConnector } from '../../shared/application/declaredConnectors.js';
import { stepArtifacts } from '../../shared/application/stepArtifacts.js';
import { resolveSecretSlots } from '../../shared/application/secretResolution.js';
import { getContainer } from '../../shared/composition/container.js';
import { ConnectorError } from '../../shared/connectors/sdk.js';
import { AppError } from '../../shared/domain/errors.js';
import type { JsonValue } from '../../shared/domain/json.js';
import { redactJson, redactSecrets } from '../../shared/domain/redaction.js';
import { breakerKey, CircuitOpenError, DEFAULT_BREAKER_POLICY } from '../../shared/ports/circuitBreaker.js';
import { Activities, type StepCall, type StepOutcome } from '../activityHandles.js';

/** The prefix a thrown (transient) failure carries so the orchestrator can recover its code after the retries. */
export function transientFailureMessage(code: string, message: string): string {
  return `${code}: ${message}`;
}

function isTransient(error: unknown): boolean {
  if (error instanceof ConnectorError || error instanceof AppError) return error.retryable;
  // A timeout or a network error is transient; a programming error in a connector is not retried.
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function codeOf(error: unknown): string {
  if (error instanceof AppError) return error.code;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'STEP.TIMEOUT';
  return 'STEP.FAILED';
}

/**
 * Runs one step's connector call: resolves the definition's secret references and artifact references (claim
 * check) in its inputs (and, for a connector the definition declares, the secret references of its declaration,
 * read from the run's pinned version), passes the tenant's egress allow-list to the connector, checks the circuit
 * breaker of its target (open: fail fast, try the next fallback), calls the action with an AbortSignal for the
 * step timeout, tries the fallbacks in order after a permanent failure, stores a large output as an artifact,
 * and records the step, with every resolved secret value redacted from what it records, returns and logs. Transient
 * faults are thrown, so the durable retry policy (default 3 retries at 1 s, 2 s, 4 s) retries them.
 */
export async function executeStep(step: StepCall, invocation: InvocationContext): Promise<StepOutcome> {
  const container = getContainer();
  const data = await container.appStore.forTenant(step.tenantId);
  const tenant = await container.tenantCache.get(step.tenantId);
  const existing = (await data.runs.listSteps(step.runId)).find((recorded) => recorded.stepId === step.stepId && recorded.iteration === step.iteration);
  const attempts = (existing?.attempts ?? 0) + 1;
  const startedAt = existing?.startedAt ?? new Date().toISOString();
  const record = (fields: { status: 'running' | 'succeeded' | 'failed'; output?: JsonValue; outputRef?: string | null; error?: { code: string; message: string } | null }): Promise<void> =>
    data.runs.putStep({
      runId: step.runId,
      stepId: step.stepId,
      iteration: step.iteration,
      status: fields.status,
      attempts,
      startedAt,
      completedAt: fields.status === 'running' ? null : new Date().toISOString(),
      error: fields.error ?? null,
      output: fields.output ?? null,
      outputRef: fields.outputRef ?? null,
    });
  await record({ status: 'running' });

  const fail = async (code: string, message: string): Promise<StepOutcome> => {
    await record({ status: 'failed', error: { code, message } });
    return { status: 'failed', error: { code, message }, attempts };
  };
  const tried: string[] = [];
  let lastError: unknown;
  // Every secret value this step has resolved: whatever the step records, returns, throws or logs is redacted.
  const secretValues: string[] = [];
  const redact = (text: string): string => redactSecrets(text, secretValues);
  for (const call of step.calls) {
    let withSecrets: Awaited<ReturnType<typeof resolveSecretSlots>>;
    // A connector the definition declares (not a platform connector): its declaration, secrets resolved.
    let declared: Awaited<ReturnType<typeof loadDeclaredConnector>>;
    try {
      withSecrets = await resolveSecretSlots(call.inputs, call.secretPointers, step.tenantId, container.secretStore);
      secretValues.push(...withSecrets.values);
      declared = container.connectorRegistry.has(call.connector) ? undefined : await loadDeclaredConnector(data, step.runId, call.connector, step.tenantId, container.secretStore);
      secretValues.push(...(declared?.values ?? []));
    } catch (error) {
      // Not the target's fault: a missing secret tries the next fallback, an unreachable store retries the step.
      if (isTransient(error)) throw new Error(transientFailureMessage(codeOf(error), (error as Error).message));
      lastError = error;
      tried.push(`${call.connector}.${call.action}`);
      continue;
    }
    const breaker = breakerKey(step.tenantId, call.connector, call.connector);
    const gate = await container.circuitBreakers.acquire(breaker, DEFAULT_BREAKER_POLICY);
    if (!gate.allowed) {
      lastError = new CircuitOpenError(call.connector, gate.retryAfterMs);
      tried.push(`${call.connector}.${call.action}`);
      continue;
    }
    try {
      const resolved = await resolveArtifacts(withSecrets.inputs, step.tenantId, container.artifacts);
      const registry = container.connectorRegistry;
      // A declared operation checks its own inputs (its schema is the tenant's) before it sends anything.
      if (!declared) registry.validateInput(call.connector, call.action, resolved);
      const action = declared ? registry.declaredAction(call.connector, declared.inputs, call.action) : registry.action(call.connector, call.action);
      const signal = AbortSignal.timeout(call.timeoutSeconds * 1000);
      const rawOutput = await Promise.race([
        action.run(resolved as never, {
          tenantId: step.tenantId,
          runId: step.runId,
          stepId: step.stepId,
          // This tenant's egress allow-list, read for this step: it never reaches another tenant's calls.
          egress: tenant?.egress ?? undefined,
          signal,
          artifacts: stepArtifacts(container.artifacts, { tenantId: step.tenantId, runId: step.runId, stepId: step.stepId }),
          redact: (value) => void secretValues.push(value),
          log: (message, level = 'information') => invocation[level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'info'](`[${step.runId}/${step.stepId}] ${redact(message)}`),
        }),
        new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
      ]);
      await container.circuitBreakers.recordSuccess(breaker, DEFAULT_BREAKER_POLICY);
      // A target that echoes a credential back (an echo endpoint, an error page) must not put it in run history.
      const output = secretValues.length > 0 ? redactJson(rawOutput as JsonValue, secretValues) : rawOutput;
      const stored = await storeIfLarge(output, { tenantId: step.tenantId, runId: step.runId, stepId: step.stepId }, container.artifacts);
      const claimChecked = isArtifactRef(stored);
      await record({ status: 'succeeded', output: claimChecked ? null : output, outputRef: claimChecked ? stored.$artifact : null });
      return { status: 'succeeded', output: stored, attempts };
    } catch (error) {
      lastError = error;
      tried.push(`${call.connector}.${call.action}`);
      if (isTransient(error)) {
        // Only faults of the target count against its breaker, never bad input.
        await container.circuitBreakers.recordFailure(breaker, DEFAULT_BREAKER_POLICY);
        const message = redact((error as Error).message);
        await record({ status: 'running', error: { code: codeOf(error), message } });
        throw new Error(transientFailureMessage(codeOf(error), message));
      }
    }
  }
  const message = redact(lastError instanceof Error ? lastError.message : String(lastError));
  return fail(codeOf(lastError), tried.length > 1 ? `${message} (tried ${tried.join(', ')})` : message);
}

df.app.activity(Activities.executeStep.name, { handler: executeStep as never });
