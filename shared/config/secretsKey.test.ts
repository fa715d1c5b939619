import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadAppConfig, PUBLISHED_DEVELOPMENT_SECRETS_KEY } from './appConfig.js';

const sampleKey = (): string => (JSON.parse(fs.readFileSync(path.resolve('local.settings.sample.json'), 'utf8')) as { Values: Record<string, string> }).Values['AIQ_SECRETS_KEY']!;
const keyOf = (env: Record<string, string>): (() => Buffer) => {
  const secrets = loadAppConfig(env).secrets;
  if (secrets.kind !== 'sqlite') throw new Error('expected the local secret store');
  return secrets.key;
};

describe('AIQ_SECRETS_KEY', () => {
  it('knows the key the sample settings publish', () => {
    expect(sampleKey()).toBe(PUBLISHED_DEVELOPMENT_SECRETS_KEY);
  });

  it('accepts the published key in Development only; outside it, using the store names the setting', () => {
    expect(keyOf({ AZURE_FUNCTIONS_ENVIRONMENT: 'Development', AIQ_SECRETS_KEY: PUBLISHED_DEVELOPMENT_SECRETS_KEY })()).toHaveLength(32);
    const production = keyOf({ AIQ_SECRETS_KEY: PUBLISHED_DEVELOPMENT_SECRETS_KEY });
    expect(production).toThrow(ConfigError);
    expect(production).toThrow(/published in local\.settings\.sample\.json/);
    const own = Buffer.alloc(32, 7).toString('base64');
    expect(keyOf({ AIQ_SECRETS_KEY: own })()).toEqual(Buffer.alloc(32, 7));
  });

  it('refuses a malformed key at startup and a missing one when the store is used', () => {
    expect(() => loadAppConfig({ AIQ_SECRETS_KEY: 'c2hvcnQ=' })).toThrow(expect.objectContaining({ setting: 'AIQ_SECRETS_KEY' }));
    expect(keyOf({})).toThrow(expect.objectContaining({ setting: 'AIQ_SECRETS_KEY' }));
  });
});
