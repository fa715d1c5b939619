import { output } from '@azure/functions';
import type { TenantTier } from '../../shared/domain/tenant.js';
import { SettingNames } from '../../shared/config/settingNames.js';

/** The Service Bus queue of each tier: premium runs never wait behind standard or basic ones. */
export const RUN_QUEUES: Readonly<Record<TenantTier, string>> = { premium: 'runs-high', standard: 'runs-standard', basic: 'runs-low' };

/** One output binding per tier queue; a run's message goes to its tenant's tier. */
export const runQueueOutputs = {
  premium: output.serviceBusQueue({ queueName: RUN_QUEUES.premium, connection: SettingNames.serviceBusConnection }),
  standard: output.serviceBusQueue({ queueName: RUN_QUEUES.standard, connection: SettingNames.serviceBusConnection }),
  basic: output.serviceBusQueue({ queueName: RUN_QUEUES.basic, connection: SettingNames.serviceBusConnection }),
} as const;

/** The small message that asks a dispatcher to start a run. */
export interface RunDispatchMessage {
  tenantId: string;
  runId: string;
  /** How many times the run was deferred because its tenant had too many runs executing. */
  deferrals?: number;
}
