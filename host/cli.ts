#!/usr/bin/env node
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HostConfigError } from './config/configError.js';
import { EmbeddedHost, type FunctionTableRow } from './embeddedHost.js';

const USAGE = `Usage: aiq-host [appDir] [options]

Runs an Azure Functions (Node.js v4 programming model) app on the embedded host.

Options:
  --port <n>             HTTP port (default: local.settings.json Host.LocalHttpPort, else 7071; 0 = any free port)
  --host <address>       address to bind (default 127.0.0.1)
  --auth <mode>          enforce | disabled (default: disabled in Development, as Core Tools)
  --cors <origins>       comma-separated allowed origins (default: local.settings.json Host.CORS)
  --cors-credentials     allow credentials in CORS responses
  --state-dir <dir>      where the broker, timer status and keys are kept (default <appDir>/.embedded-host)
  --log-format <format>  pretty | json (default: pretty on a terminal, json otherwise)
  -h, --help             show this help`;

function printFunctionTable(rows: readonly FunctionTableRow[]): void {
  const lines = ['', 'Functions:', ''];
  for (const row of rows) {
    const state = row.error ? ' (error)' : row.disabled ? ' (disabled)' : '';
    lines.push(`\t${row.name}: ${row.detail}${state}`, '');
    if (row.error) lines.push(`\t  ${row.error}`, '');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      auth: { type: 'string' },
      cors: { type: 'string' },
      'cors-credentials': { type: 'boolean' },
      'state-dir': { type: 'string' },
      'log-format': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals.length > 1) throw new HostConfigError(`Expected at most one app directory, got: ${positionals.join(' ')}`, 'appDir');
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new HostConfigError(`--port must be a port number (got '${values.port}').`, '--port');
  if (values.auth !== undefined && values.auth !== 'enforce' && values.auth !== 'disabled') throw new HostConfigError(`--auth must be 'enforce' or 'disabled' (got '${values.auth}').`, '--auth');
  const logFormat = values['log-format'] ?? (process.stdout.isTTY ? 'pretty' : 'json');
  if (logFormat !== 'pretty' && logFormat !== 'json') throw new HostConfigError(`--log-format must be 'pretty' or 'json' (got '${logFormat}').`, '--log-format');

  const host = new EmbeddedHost({
    appDir: path.resolve(positionals[0] ?? '.'),
    ...(port !== undefined ? { port } : {}),
    ...(values.host ? { hostname: values.host } : {}),
    ...(values.auth ? { auth: values.auth as 'enforce' | 'disabled' } : {}),
    ...(values.cors ? { cors: values.cors.split(',').map((origin) => origin.trim()).filter(Boolean) } : {}),
    ...(values['cors-credentials'] ? { corsCredentials: true } : {}),
    ...(values['state-dir'] ? { stateDir: values['state-dir'] } : {}),
    logFormat,
  });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`Received ${signal}: shutting down.\n`);
    host.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`Shutdown failed: ${(error as Error).stack ?? String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // A function's stray rejection or throw must not take every other function down with it.
  process.on('unhandledRejection', (reason) => host.logs?.emit('error', 'system', `Unhandled promise rejection: ${(reason as Error)?.stack ?? String(reason)}`));
  process.on('uncaughtException', (error) => host.logs?.emit('critical', 'system', `Uncaught exception: ${error.stack ?? String(error)}`));

  try {
    await host.start();
  } catch (error) {
    await host.stop().catch(() => undefined);
    throw error;
  }
  printFunctionTable(host.functionTable());
  process.stdout.write(`Host listening on ${host.baseUrl}\n`);
}

main().catch((error: unknown) => {
  if (error instanceof HostConfigError) process.stderr.write(`aiq-host: ${error.message}\n`);
  else process.stderr.write(`aiq-host: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
