/**
 * The layering of src/, checked by `npm test` (npm run check:structure) instead of kept by memory:
 *   src/domain  pure logic: imports only domain/ and pure libraries (no I/O, no clock, no process)
 *   src/lib     shared infrastructure: imports no adapter
 *   adapters    logs, store, kafka, demo, ingest, ship, scoring, backtest, warmup, scheduler, api
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
