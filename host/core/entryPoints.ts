import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import fg from 'fast-glob';
import { HostConfigError } from '../config/configError.js';

interface AppPackage {
  main?: unknown;
  type?: unknown;
}

function readAppPackage(appDir: string): AppPackage {
  const file = path.join(appDir, 'package.json');
  if (!fs.existsSync(file)) throw new HostConfigError(`package.json was not found in ${appDir}; its "main" names the function files to load.`, 'package.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as AppPackage;
  } catch (error) {
    throw new HostConfigError(`package.json is not valid JSON: ${(error as Error).message}`, 'package.json');
  }
}

/**
 * The files `package.json#main` names, as the worker resolves them: a path or a glob (braces allowed),
 * relative to the app directory, loaded in sorted order.
 */
export function resolveEntryPoints(appDir: string): { files: string[]; esm: (file: string) => boolean } {
  const pkg = readAppPackage(appDir);
  if (typeof pkg.main !== 'string' || pkg.main.trim() === '') {
    throw new HostConfigError('package.json has no "main": set it to the compiled function files, e.g. "dist/functions/**/*.js".', 'package.json');
  }
  const files = fg.sync(pkg.main, { cwd: appDir, onlyFiles: true, absolute: true }).sort();
  if (files.length === 0) {
    throw new HostConfigError(`package.json "main" (${pkg.main}) matches no file in ${appDir}. Was the app built?`, 'package.json');
  }
  const rootIsModule = pkg.type === 'module';
  // The worker's isESModule(): the extension decides, else the ROOT package.json "type".
  return { files, esm: (file) => file.endsWith('.mjs') || (!file.endsWith('.cjs') && rootIsModule) };
}

/** Loads every entry point; `setCurrent` brackets each load so registrations know their script file. */
export async function loadEntryPoints(appDir: string, setCurrent: (file: string | undefined) => void): Promise<string[]> {
  const { files, esm } = resolveEntryPoints(appDir);
  for (const file of files) {
    setCurrent(file);
    try {
      if (esm(file)) await import(pathToFileURL(file).href);
      else require(file);
    } catch (error) {
      const relative = path.relative(appDir, file);
      throw new HostConfigError(`Worker was unable to load entry point "${relative}": ${(error as Error)?.message ?? String(error)}`, relative);
    } finally {
      setCurrent(undefined);
    }
  }
  return files;
}
