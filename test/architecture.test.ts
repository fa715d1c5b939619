import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/hostProcess.js';

/** The dependency rules of docs/architecture.md, checked by dependency-cruiser over the real source tree. */
describe('architecture', () => {
  it('respects the dependency direction (.dependency-cruiser.js)', () => {
    const cli = path.join(repoRoot, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
    let output: string;
    try {
      output = execFileSync(process.execPath, [cli, '--config', '.dependency-cruiser.js', '--output-type', 'json', 'functions', 'orchestrations', 'shared', 'host'], {
        cwd: repoRoot,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? '');
    }
    const result = JSON.parse(output) as { summary: { violations: Array<{ rule: { name: string }; from: string; to: string }>; totalCruised: number } };
    expect(result.summary.totalCruised).toBeGreaterThan(50);
    expect(result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });
});
