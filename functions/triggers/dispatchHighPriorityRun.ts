import * as df from 'durable-functions';
import { app } from '@azure/functions';
import { SettingNames } from '../../shared/config/settingNames.js';
import { dispatchRun } from './dispatchRun.js';
import { runEventsOutput } from './runEvents.js';

/** Starts runs queued on `runs-high`. */
app.serviceBusQueue('dispatchHighPriorityRun', {
  queueName: 'runs-high',
  connection: SettingNames.serviceBusConnection,
  extraInputs: [df.input.durableClient()],
  extraOutputs: [runEventsOutput],
  handler: dispatchRun,
});
