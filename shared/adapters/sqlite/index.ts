/** The SQLite adapters, as the composition root uses them. */
export { createSqliteAppStore, type SqliteAppStoreOptions } from './sqliteAppStore.js';
export { openSqliteDatabase } from './openSqliteDatabase.js';
