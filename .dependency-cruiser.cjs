/**
 * The layering of src/, checked by `npm test` (npm run check:structure) instead of kept by memory:
 *   src/domain  pure logic: imports only domain/ and pure libraries (no I/O, no clock, no process)
 *   src/lib     shared infrastructure: imports no adapter
 *   adapters    in three tiers, each importing only the tiers below (and domain, lib, config, errors):
 *                 storage and transport: logs, store, kafka
 *                 jobs: demo, ingest, ship, scoring, backtest, warmup
 *                 hosts: scheduler, api (the API calls the scheduler through its own interface in api/context.ts)
 *   src/cli     the only composition root: nothing else imports it
 * and no import circles anywhere. Unused files, exports and dependencies are knip's (knip.json).
 */
const ADAPTERS = '^src/(logs|store|kafka|demo|ingest|ship|scoring|backtest|warmup|scheduler|api)/';
/** Libraries that only compute (no I/O), allowed in domain/. */
const PURE_PACKAGES = '^node_modules/(simple-statistics)/';
/** Node builtins that only compute, allowed in domain/ (none is needed today). */
const PURE_BUILTINS = '^(node:)?(assert|assert/strict|buffer|string_decoder|util)$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle: the files cannot be understood, tested or moved one at a time.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'src/domain imports only src/domain and pure libraries; I/O belongs to the adapters.',
      from: { path: '^src/domain/' },
      to: { pathNot: ['^src/domain/', PURE_PACKAGES], dependencyTypesNot: ['core'] },
    },
    {
      name: 'domain-uses-pure-builtins-only',
      severity: 'error',
      comment: 'Node builtins in src/domain only where they only compute.',
      from: { path: '^src/domain/' },
      to: { dependencyTypes: ['core'], pathNot: PURE_BUILTINS },
    },
    {
      name: 'lib-imports-no-adapter',
      severity: 'error',
      comment: 'src/lib is shared by the adapters, so it must not depend on one of them.',
      from: { path: '^src/lib/' },
      to: { path: [ADAPTERS, '^src/cli/'] },
    },
    {
      name: 'storage-and-transport-import-no-job',
      severity: 'error',
      comment: 'logs, store and kafka serve the jobs and hosts above them and import none of them.',
      from: { path: '^src/(logs|store|kafka)/' },
      to: { path: '^src/(demo|ingest|ship|scoring|backtest|warmup|scheduler|api)/' },
    },
    {
      name: 'jobs-import-no-host',
      severity: 'error',
      comment: 'A job (ingest, warm-up, scoring, ...) is run by the scheduler, the API or the CLI, never the other way round.',
      from: { path: '^src/(demo|ingest|ship|scoring|backtest|warmup)/' },
      to: { path: '^src/(scheduler|api)/' },
    },
    {
      name: 'hosts-are-independent',
      severity: 'error',
      comment: 'The API and the scheduler are wired together by src/cli; neither imports the other.',
      from: { path: '^src/(scheduler|api)/' },
      to: { path: '^src/(scheduler|api)/', pathNot: '^src/$1/' },
    },
    {
      name: 'only-cli-composes',
      severity: 'error',
      comment: 'src/cli assembles the adapters; an adapter importing it would run up the layers.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // TypeScript 7 has no JavaScript API, so swc parses the sources; `import type` counts like any import.
    parser: 'swc',
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
