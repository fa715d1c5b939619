import { expect, it } from 'vitest';
import { runArtifactStoreContract } from '../../ports/artifactStore.contract.js';
import { MemoryArtifactStore } from './memoryArtifactStore.js';

runArtifactStoreContract({
  name: 'memory',
  newStore: async () => {
    const store = new MemoryArtifactStore();
    return { store, tamper: async (tenantId, name, content) => store.tamper(tenantId, name, content), close: async () => undefined };
  },
});

it('MemoryArtifactStore keeps its own copy of contents and records the hash', async () => {
  const store = new MemoryArtifactStore();
  const content = Buffer.from('original');
  const ref = await store.put('acme', 'r/s/x', content);
  content.write('mutated!');
  const read = await store.get(ref, 'acme');
  expect(read.content.toString()).toBe('original');
  read.content.write('mutated!');
  expect((await store.get(ref, 'acme')).content.toString()).toBe('original');
  expect(store.metadataOf('acme', 'r/s/x')).toEqual({ sha256: ref.sha256 });
});
