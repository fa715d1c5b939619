import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ACTIVE_RUNS, loadAppConfig } from './appConfig.js';

describe('AIQ_MAX_ACTIVE_RUNS', () => {
  it('defaults when unset or empty, and takes a whole number of runs', () => {
    expect(loadAppConfig({}).maxActiveRuns).toBe(DEFAULT_MAX_ACTIVE_RUNS);
    expect(loadAppConfig({ AIQ_MAX_ACTIVE_RUNS: '' }).maxActiveRuns).toBe(DEFAULT_MAX_ACTIVE_RUNS);
    expect(loadAppConfig({ AIQ_MAX_ACTIVE_RUNS: ' 12 ' }).maxActiveRuns).toBe(12);
  });

  it('refuses anything else at startup, naming the setting', () => {
    for (const value of ['0', '-1', '1.5', 'many', '1e3', '99999999']) {
      expect(() => loadAppConfig({ AIQ_MAX_ACTIVE_RUNS: value }), value).toThrow(expect.objectContaining({ setting: 'AIQ_MAX_ACTIVE_RUNS' }));
    }
  });
});
