import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Integration tests run the compiled host and app (as `npm start` does). `npm test` builds before running
 * vitest and says so through AIQ_BUILT; a direct `vitest` run builds here.
 */
export default function setup(): void {
  // The run status activities publish through an Event Grid output whose topic setting must be set, also for hosts
  // a test starts without test/api/platform.ts (the workers inherit this environment).
  process.env['AIQ_EVENTS_TOPIC_ENDPOINT'] ??= 'https://automateiq-events.localhost/api/events';
  if (process.env['AIQ_BUILT'] === '1') return;
  const root = path.resolve(__dirname, '..', '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
