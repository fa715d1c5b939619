/** The Azure SQL adapters, as the composition root uses them. */
export { createMssqlAppStore, type MssqlAppStore, type MssqlAppStoreOptions, type RlsSelfTestReport } from './mssqlAppStore.js';
