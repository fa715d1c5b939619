/**
 * The dependency direction of docs/architecture.md, enforced in the test suite:
 * functions/, orchestrations/ → shared/application → shared/ports → shared/domain; adapters and connectors
 * depend on ports and domain only; composition wires them; host/ stands alone.
 */
module.exports = {
  forbidden: [
    {
      name: 'host-stands-alone',
      comment: 'The embedded host is generic: it must not import the app.',
      severity: 'error',
      from: { path: '^host/' },
      to: { path: '^(functions|orchestrations|shared)/' },
    },
    {
      name: 'app-does-not-import-host',
      comment: 'The app runs unchanged on Azure, where host/ does not exist.',
      severity: 'error',
      from: { path: '^(functions|orchestrations|shared)/' },
      to: { path: '^host/' },
    },
    {
      name: 'shared-does-not-import-triggers',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(functions|orchestrations)/' },
    },
    {
      name: 'domain-is-pure',
      comment: 'shared/domain imports nothing outside shared/domain (node built-ins and npm packages excepted).',
      severity: 'error',
      from: { path: '^shared/domain/' },
      to: { path: '^(shared/(?!domain/)|functions/|orchestrations/|host/)' },
    },
    {
      name: 'ports-depend-on-domain-only',
      severity: 'error',
      from: { path: '^shared/ports/' },
      to: { path: '^shared/(application|adapters|connectors|composition|config)/' },
    },
    {
      name: 'application-uses-ports-not-adapters',
      severity: 'error',
      from: { path: '^shared/application/' },
      to: { path: '^shared/(adapters|connectors|composition)/' },
    },
    {
      name: 'adapters-and-connectors-do-not-use-application',
      severity: 'error',
      from: { path: '^shared/(adapters|connectors)/' },
      to: { path: '^shared/(application|composition)/' },
    },
    {
      name: 'only-composition-picks-adapters',
      comment: 'Trigger functions and orchestrations get adapters through shared/composition, never directly.',
      severity: 'error',
      from: { path: '^(functions|orchestrations)/' },
      to: { path: '^shared/adapters/' },
    },
    {
      name: 'orchestrators-are-deterministic',
      comment: 'Orchestrators import domain types and activity handles only: no adapters, no composition.',
      severity: 'error',
      from: { path: '^orchestrations/[^/]+\\.ts$' },
      to: { path: '^shared/(adapters|composition|connectors)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^dist/|\\.test\\.ts$)' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
