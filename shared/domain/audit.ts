export interface AuditActor {
  /** The token's subject (object id) or a system identity such as `system:scheduler`. */
  subject: string;
  name: string | null;
  roles: string[];
}

/** One audited mutation: who did what to which resource, with what outcome. */
export interface AuditEntry {
  tenantId: string;
  id: string;
  at: string;
  actor: AuditActor;
  /** e.g. `workflow.create`, `workflow.publish`, `run.start`, `tenant.update`. */
  action: string;
  target: { type: string; id: string };
  outcome: 'success' | 'failure';
  /** For failures: the error code. */
  errorCode: string | null;
  correlationId: string;
}
