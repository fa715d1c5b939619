import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Integration tests run the compiled host and app (as `npm start` does). `npm test` builds before running
 * vitest and says so through AIQ_BUILT; a direct `vitest` run builds here.
 */
export default function setup(): void {
  if (process.env['AIQ_BUILT'] === '1') return;
  const root = path.resolve(__dirname, '..', '..');
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
