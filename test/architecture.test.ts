import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/hostProcess.js';

/** The dependency rules of docs/architecture.md, checked by dependency-cruiser over the real source tree. */
describe('architecture', () => {
  it('respects the dependency direction (.dependency-cruiser.js)', () => {
    const cli = path.join(repoRoot, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
    let output: string;
    try {
      const roots = ['functions', 'orchestrations', 'shared', 'host'].filter((dir) => fs.existsSync(path.join(repoRoot, dir)));
      output = execFileSync(process.execPath, [cli, '--config', '.dependency-cruiser.js', '--output-type', 'json', ...roots], {
        cwd: repoRoot,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string };
      output = String(failed.stdout ?? '');
      if (!output) throw new Error(`dependency-cruiser failed: ${String(failed.stderr ?? error)}`);
    }
    const result = JSON.parse(output) as { summary: { violations: Array<{ rule: { name: string }; from: string; to: string }>; totalCruised: number } };
    expect(result.summary.totalCruised).toBeGreaterThan(50);
    expect(result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });
});
