#!/usr/bin/env node
// Runs the compiled benchmarks one by one, each in its own node process so one cannot disturb the next:
// first the micro benchmarks (dist/bench/micro/**/*.js, one file per hot function, tinybench), then the
// macro ones (dist/bench/macro/*.js, end to end with real peers). Each prints its own table.
// Usage: node scripts/bench.mjs [micro|macro] [NAME_FILTER]   (see bench/README.md for the environment knobs)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const kinds = args[0] === 'micro' || args[0] === 'macro' ? [args.shift()] : ['micro', 'macro'];
const filter = args[0];

/** Micro benchmarks may sit in sub-folders mirroring assembly/; helpers under lib/ are not benchmarks. */
function microFiles(dir, depth = 0) {
  if (!existsSync(dir) || depth > 8) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (name !== 'lib') out.push(...microFiles(p, depth + 1)); }
    else if (name.endsWith('.js')) out.push(p);
  }
  return out;
}

/** Macro entry points are the top-level files only: lib/ holds their helpers and child processes. */
function macroFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().filter((n) => n.endsWith('.js')).map((n) => join(dir, n));
}

if (!existsSync(join(root, 'dist'))) { console.error('bench: nothing compiled in dist/ (run npm run build)'); process.exit(1); }
let failed = 0;
let ran = 0;
for (const kind of kinds) {
  const dir = join(root, 'dist', 'bench', kind);
  const files = (kind === 'micro' ? microFiles(dir) : macroFiles(dir)).filter((f) => !filter || f.includes(filter));
  if (files.length === 0) { console.log(`\n# ${kind}: no benchmarks in ${relative(root, dir)}${filter ? ` matching ${filter}` : ''}`); continue; }
  for (const f of files) {
    console.log(`\n# ${relative(root, f)}`);
    const r = spawnSync(process.execPath, [f], { cwd: root, stdio: 'inherit', env: process.env });
    ran++;
    if (r.status !== 0) { failed++; console.log(`# ${relative(root, f)} exited ${r.status ?? r.signal}`); }
  }
}
console.log(`\n# bench: ${ran} run, ${failed} failed`);
process.exit(failed ? 1 : 0);
