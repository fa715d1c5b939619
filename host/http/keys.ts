import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { HostSettings } from '../config/settings.js';

/** The host's secrets, shaped like the real host's `host.json` secrets blob. */
export interface HostKeys {
  masterKey: string;
  hostKeys: Record<string, string>;
  functionKeys: Record<string, Record<string, string>>;
  systemKeys: Record<string, string>;
}

export type AuthLevel = 'anonymous' | 'function' | 'admin' | 'system';

/** The extensions' system keys the host keeps (webhooks of Event Grid and the Durable HTTP API). */
export const SYSTEM_KEY_NAMES = ['eventgrid_extension', 'durabletask_extension'] as const;

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time comparison that also hides the length of the expected key. */
export function keysEqual(candidate: string, expected: string): boolean {
  return timingSafeEqual(digest(candidate), digest(expected));
}

function newKey(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Loads the keys: settings first (`EMBEDDED_HOST_MASTER_KEY`, `EMBEDDED_HOST_FUNCTION_KEY`,
 * `EMBEDDED_HOST_FUNCTION_KEY_<function>`), then the key file in the state directory. A missing master key is
 * generated once and kept in that file (mode 0600), as the real host keeps generated secrets in storage.
 */
export function loadHostKeys(settings: HostSettings, stateDir: string): { keys: HostKeys; keyFile: string; generated: boolean } {
  const keyFile = path.join(stateDir, 'keys.json');
  let stored: Partial<HostKeys> = {};
  if (fs.existsSync(keyFile)) {
    try {
      stored = JSON.parse(fs.readFileSync(keyFile, 'utf8')) as Partial<HostKeys>;
    } catch {
      throw new Error(`The key file ${keyFile} is not valid JSON; fix or delete it (new keys are then generated).`);
    }
  }
  const masterFromSettings = settings.get('EMBEDDED_HOST_MASTER_KEY');
  const systemKeys: Record<string, string> = { ...(stored.systemKeys ?? {}) };
  const persisted: Partial<HostKeys> = { ...stored, systemKeys };
  let generated = false;
  if (!masterFromSettings && !persisted.masterKey) {
    persisted.masterKey = newKey();
    generated = true;
  }
  for (const name of SYSTEM_KEY_NAMES) {
    if (!systemKeys[name]) {
      systemKeys[name] = newKey();
      generated = true;
    }
  }
  if (generated) {
    fs.mkdirSync(stateDir, { recursive: true });
    fs.writeFileSync(keyFile, `${JSON.stringify(persisted, null, 2)}\n`, { mode: 0o600 });
  }
  const hostKey = settings.get('EMBEDDED_HOST_FUNCTION_KEY');
  const keys: HostKeys = {
    masterKey: masterFromSettings ?? persisted.masterKey ?? '',
    hostKeys: { ...(persisted.hostKeys ?? {}), ...(hostKey ? { default: hostKey } : {}) },
    functionKeys: { ...(persisted.functionKeys ?? {}) },
    systemKeys,
  };
  return { keys, keyFile, generated };
}

/**
 * Checks a presented key against an auth level (`AuthenticationLevelHandler`): the master key satisfies every
 * level; `function` also takes any host key or one of the function's own keys; `system` takes the named
 * system key. `EMBEDDED_HOST_FUNCTION_KEY_<function>` settings add function keys.
 */
export class KeyAuthorizer {
  constructor(
    private readonly keys: HostKeys,
    private readonly settings: HostSettings,
  ) {}

  authorize(level: AuthLevel, presented: string | undefined, functionName: string, systemKeyName?: string): boolean {
    if (level === 'anonymous') return true;
    if (!presented) return false;
    let matched = keysEqual(presented, this.keys.masterKey);
    if (level === 'function') {
      for (const key of Object.values(this.keys.hostKeys)) matched = keysEqual(presented, key) || matched;
      for (const key of Object.values(this.keys.functionKeys[functionName] ?? {})) matched = keysEqual(presented, key) || matched;
      const fromSetting = this.settings.get(`EMBEDDED_HOST_FUNCTION_KEY_${functionName}`);
      if (fromSetting) matched = keysEqual(presented, fromSetting) || matched;
    }
    if (level === 'system' && systemKeyName) {
      const key = this.keys.systemKeys[systemKeyName];
      if (key) matched = keysEqual(presented, key) || matched;
    }
    return matched;
  }

  get masterKey(): string {
    return this.keys.masterKey;
  }

  systemKey(name: (typeof SYSTEM_KEY_NAMES)[number]): string {
    return this.keys.systemKeys[name] ?? this.keys.masterKey;
  }
}
