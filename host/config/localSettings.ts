import fs from 'node:fs';
import path from 'node:path';
import { HostConfigError } from './configError.js';
import { parseJsonWithComments } from './jsonc.js';

const FILE_NAME = 'local.settings.json';

/** The `Host` section of local.settings.json (Core Tools' local HTTP settings). */
export interface LocalHostSection {
  localHttpPort?: number;
  cors?: string[];
  corsCredentials?: boolean;
}

export interface LocalSettings {
  /** Absolute path, or undefined when the app has no local.settings.json. */
  file: string | undefined;
  values: Readonly<Record<string, string>>;
  connectionStrings: Readonly<Record<string, string>>;
  host: LocalHostSection;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMap(section: unknown, sectionName: string): Record<string, string> {
  if (section === undefined) return {};
  if (!isRecord(section)) throw new HostConfigError(`${FILE_NAME}: "${sectionName}" must be an object.`, FILE_NAME);
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(section)) {
    if (typeof value !== 'string') {
      throw new HostConfigError(
        `${FILE_NAME}: "${sectionName}.${key}" must be a string (app settings are strings; write ${JSON.stringify(String(value))}).`,
        FILE_NAME,
      );
    }
    result[key] = value;
  }
  return result;
}

function hostSection(section: unknown): LocalHostSection {
  if (section === undefined) return {};
  if (!isRecord(section)) throw new HostConfigError(`${FILE_NAME}: "Host" must be an object.`, FILE_NAME);
  const result: LocalHostSection = {};
  const port = section['LocalHttpPort'];
  if (port !== undefined) {
    if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
      throw new HostConfigError(`${FILE_NAME}: "Host.LocalHttpPort" must be a port number (0-65535).`, FILE_NAME);
    }
    result.localHttpPort = port as number;
  }
  const cors = section['CORS'];
  if (cors !== undefined) {
    if (typeof cors !== 'string') throw new HostConfigError(`${FILE_NAME}: "Host.CORS" must be a comma-separated string of origins.`, FILE_NAME);
    result.cors = cors.split(',').map((origin) => origin.trim()).filter(Boolean);
  }
  const credentials = section['CORSCredentials'];
  if (credentials !== undefined) {
    if (typeof credentials !== 'boolean') throw new HostConfigError(`${FILE_NAME}: "Host.CORSCredentials" must be true or false.`, FILE_NAME);
    result.corsCredentials = credentials;
  }
  return result;
}

/** Reads the app's local.settings.json (comments allowed). A missing file is not an error. */
export function readLocalSettings(appDir: string): LocalSettings {
  const file = path.join(appDir, FILE_NAME);
  if (!fs.existsSync(file)) return { file: undefined, values: {}, connectionStrings: {}, host: {} };
  const parsed = parseJsonWithComments(fs.readFileSync(file, 'utf8'), FILE_NAME);
  if (!isRecord(parsed)) throw new HostConfigError(`${FILE_NAME} must contain a JSON object.`, FILE_NAME);
  if (parsed['IsEncrypted'] === true) {
    throw new HostConfigError(`${FILE_NAME} is encrypted ("IsEncrypted": true); the embedded host reads only plain settings.`, FILE_NAME);
  }
  return {
    file,
    values: stringMap(parsed['Values'], 'Values'),
    connectionStrings: stringMap(parsed['ConnectionStrings'], 'ConnectionStrings'),
    host: hostSection(parsed['Host']),
  };
}

/**
 * Copies Values into the environment only where the variable is unset or empty (Core Tools'
 * SetupEnvironmentVariables), and ConnectionStrings as `ConnectionStrings__<name>`. Returns the names that
 * were skipped because the environment already defined them.
 */
export function applyLocalSettings(settings: LocalSettings, env: NodeJS.ProcessEnv): string[] {
  const skipped: string[] = [];
  const apply = (name: string, value: string): void => {
    if (env[name] === undefined || env[name] === '') env[name] = value;
    else skipped.push(name);
  };
  for (const [name, value] of Object.entries(settings.values)) apply(name, value);
  for (const [name, value] of Object.entries(settings.connectionStrings)) apply(`ConnectionStrings__${name}`, value);
  return skipped;
}
