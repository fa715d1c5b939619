import { describe, expect, it } from 'vitest';
import { SCHEDULER_TICK, schedulerTickSchedule } from './appConfig.js';

describe('AIQ_SCHEDULER_TICK', () => {
  it('ticks every minute unless set in Development', () => {
    expect(SCHEDULER_TICK).toBe('0 * * * * *');
    expect(schedulerTickSchedule({})).toBe(SCHEDULER_TICK);
    expect(schedulerTickSchedule({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', AIQ_SCHEDULER_TICK: '' })).toBe(SCHEDULER_TICK);
    expect(schedulerTickSchedule({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', AIQ_SCHEDULER_TICK: ' */2 * * * * * ' })).toBe('*/2 * * * * *');
  });

  it('is ignored outside Development, so a production app always ticks each minute', () => {
    expect(schedulerTickSchedule({ AIQ_SCHEDULER_TICK: '* * * * * *' })).toBe(SCHEDULER_TICK);
    expect(schedulerTickSchedule({ AZURE_FUNCTIONS_ENVIRONMENT: 'Production', AIQ_SCHEDULER_TICK: '* * * * * *' })).toBe(SCHEDULER_TICK);
  });

  it('refuses a value that is not a 6-field NCRONTAB expression, naming the setting', () => {
    expect(() => schedulerTickSchedule({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', AIQ_SCHEDULER_TICK: '* * * * *' })).toThrow(expect.objectContaining({ setting: 'AIQ_SCHEDULER_TICK' }));
  });
});
