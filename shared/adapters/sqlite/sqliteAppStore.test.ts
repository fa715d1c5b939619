import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_QUOTAS } from '../../domain/tenant.js';
import { runAppStoreContract } from '../../ports/appStore.contract.js';
import type { AppStore } from '../../ports/appStore.js';
import { applySqliteMigrations } from './applySqliteMigrations.js';
import { assertTenantBound, createSqliteAppStore } from './sqliteAppStore.js';
import { CONTROL_MIGRATIONS, TENANT_DATA_MIGRATIONS, TENANT_TABLES } from './sqliteAppStoreSchema.js';

const dirs: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aiq-appstore-'));
  dirs.push(dir);
  return dir;
}

function openStore(dir = tempDir()): { store: AppStore; file: string; dedicatedDirectory: string } {
  const file = path.join(dir, 'app.db');
  const dedicatedDirectory = path.join(dir, 'tenants');
  return { store: createSqliteAppStore({ file, dedicatedDirectory }), file, dedicatedDirectory };
}

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

runAppStoreContract({ name: 'sqlite', newStore: async () => openStore().store });

const tenant = (id: string, placement: 'shared' | 'dedicated' = 'shared') => ({
  id,
  name: id,
  tier: 'basic' as const,
  status: 'active' as const,
  quotas: { ...DEFAULT_QUOTAS.basic },
  entraTenantId: null,
  placement,
  egress: null,
  eventSources: [],
});

describe('SQLite app store', () => {
  it('opens the control database in WAL mode with every migration recorded', async () => {
    const { store, file } = openStore();
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const applied = db.prepare('SELECT track, version FROM schema_migrations ORDER BY track, version').all();
      expect(applied).toEqual([
        ...CONTROL_MIGRATIONS.map((m) => ({ track: 'control', version: m.version })),
        ...TENANT_DATA_MIGRATIONS.map((m) => ({ track: 'tenant-data', version: m.version })),
      ]);
    } finally {
      db.close();
    }
  });

  it('reopens an existing database without applying migrations again, and keeps its data', async () => {
    const dir = tempDir();
    const first = openStore(dir);
    await first.store.tenants.create(tenant('acme'));
    await (await first.store.forTenant('acme')).workflows.create({ id: 'wf', name: 'W', description: '', draft: {}, createdBy: 'u' });
    await first.store.close();
    const second = openStore(dir);
    expect((await (await second.store.forTenant('acme')).workflows.get('wf'))?.name).toBe('W');
    await second.store.close();
  });

  it('brings a database of the first release up to date (e.g. the tenant egress column), keeping its tenants', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'app.db');
    const old = new Database(file);
    applySqliteMigrations(old, { control: CONTROL_MIGRATIONS.filter((m) => m.version === 1), 'tenant-data': TENANT_DATA_MIGRATIONS });
    old
      .prepare("INSERT INTO tenants (id, name, tier, status, quotas, entra_tenant_id, placement, created_at, updated_at, revision) VALUES ('acme', 'Acme', 'basic', 'active', '{}', NULL, 'shared', 'x', 'x', 1)")
      .run();
    old.close();
    const { store } = openStore(dir);
    expect((await store.tenants.get('acme'))?.egress).toBeNull();
    const updated = await store.tenants.update('acme', { egress: { allowHosts: ['10.0.0.0/8'], allowPorts: [5432] } });
    expect(updated.egress).toEqual({ allowHosts: ['10.0.0.0/8'], allowPorts: [5432] });
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      const versions = db.prepare("SELECT version FROM schema_migrations WHERE track = 'control' ORDER BY version").all();
      expect(versions).toEqual(CONTROL_MIGRATIONS.map((m) => ({ version: m.version })));
    } finally {
      db.close();
    }
  });

  it('refuses a database migrated by a newer release', async () => {
    const { store, file } = openStore();
    await store.close();
    const db = new Database(file);
    db.prepare("INSERT INTO schema_migrations (track, version, name, applied_at) VALUES ('control', 999, 'future', '2099-01-01T00:00:00.000Z')").run();
    db.close();
    expect(() => createSqliteAppStore({ file, dedicatedDirectory: path.join(path.dirname(file), 'tenants') })).toThrow(/newer than this release knows/);
  });

  it('puts tenant_id first in the primary key and every index of every tenant table', async () => {
    const { store, file } = openStore();
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      for (const table of TENANT_TABLES) {
        const columns = db.prepare(`SELECT name, pk FROM pragma_table_info('${table}')`).all() as { name: string; pk: number }[];
        expect(columns.find((c) => c.name === 'tenant_id')?.pk, table).toBe(1);
        const indexes = db.prepare(`SELECT name FROM pragma_index_list('${table}')`).all() as { name: string }[];
        expect(indexes.length).toBeGreaterThan(0);
        for (const index of indexes) {
          const first = db.prepare(`SELECT name FROM pragma_index_info('${index.name}') WHERE seqno = 0`).get() as { name: string };
          expect(first.name, `${table}.${index.name}`).toBe('tenant_id');
        }
      }
    } finally {
      db.close();
    }
  });

  it('refuses a statement on tenant data that is not bound to the tenant', () => {
    expect(() => assertTenantBound('SELECT * FROM runs WHERE id = @id')).toThrow(/not bound to the tenant/);
    expect(() => assertTenantBound('DELETE FROM workflows')).toThrow(/not bound to the tenant/);
    expect(() => assertTenantBound('INSERT INTO runs (id) VALUES (@id)')).toThrow(/not bound to the tenant/);
    expect(() => assertTenantBound('SELECT * FROM runs WHERE tenant_id = @tenant_id AND id = @id')).not.toThrow();
    expect(() => assertTenantBound('INSERT INTO runs (tenant_id, id) VALUES (@tenant_id, @id)')).not.toThrow();
  });

  it('keeps a dedicated tenant in its own file, out of the control database, and deletes the file with the tenant', async () => {
    const { store, file, dedicatedDirectory } = openStore();
    await store.tenants.create(tenant('solo', 'dedicated'));
    await store.tenants.create(tenant('crowd'));
    await (await store.forTenant('solo')).workflows.create({ id: 'wf', name: 'Solo', description: '', draft: {}, createdBy: 'u' });
    await (await store.forTenant('crowd')).workflows.create({ id: 'wf', name: 'Crowd', description: '', draft: {}, createdBy: 'u' });
    const soloFile = path.join(dedicatedDirectory, 'solo.db');
    expect(fs.existsSync(soloFile)).toBe(true);

    const control = new Database(file, { readonly: true });
    const dedicated = new Database(soloFile, { readonly: true });
    try {
      expect(control.prepare('SELECT tenant_id, name FROM workflows').all()).toEqual([{ tenant_id: 'crowd', name: 'Crowd' }]);
      expect(dedicated.prepare('SELECT tenant_id, name FROM workflows').all()).toEqual([{ tenant_id: 'solo', name: 'Solo' }]);
    } finally {
      control.close();
      dedicated.close();
    }

    const held = await store.forTenant('solo');
    expect(await store.tenants.delete('solo')).toBe(true);
    expect(fs.existsSync(soloFile)).toBe(false);
    // A data store obtained before the deletion does not bring the file back.
    await expect(held.workflows.count()).rejects.toMatchObject({ code: 'TENANT.NOT_FOUND' });
    expect(fs.existsSync(soloFile)).toBe(false);
    await store.close();
  });

  it('refuses a dedicated database file that belongs to another tenant', async () => {
    const { store, dedicatedDirectory } = openStore();
    await store.tenants.create(tenant('first', 'dedicated'));
    await (await store.forTenant('first')).workflows.count();
    await store.close();
    const { store: reopened } = openStore(path.dirname(dedicatedDirectory));
    await reopened.tenants.create(tenant('second', 'dedicated'));
    fs.copyFileSync(path.join(dedicatedDirectory, 'first.db'), path.join(dedicatedDirectory, 'second.db'));
    await expect(reopened.forTenant('second')).rejects.toThrow(/belongs to tenant first/);
    await reopened.close();
  });

  it('serializes writers of two store instances on the same files', async () => {
    const dir = tempDir();
    const one = openStore(dir).store;
    const two = openStore(dir).store;
    await one.tenants.create(tenant('acme'));
    await (await one.forTenant('acme')).workflows.create({ id: 'wf', name: 'W', description: '', draft: {}, createdBy: 'u' });
    const [a, b] = [await one.forTenant('acme'), await two.forTenant('acme')];
    const versions = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).workflows.publish('wf', 'u')));
    expect(versions.map((v) => v.version).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await one.close();
    await two.close();
  });
});
