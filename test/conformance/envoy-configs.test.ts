// Envoy's own example bootstraps (../shared/conformance/envoy-configs): each is accepted, or rejected with
// an error that names the unsupported field or extension by its path. Never a crash, never a generic error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError, UnsupportedConfigError } from '../../src/common/errors.js';
import { loadBootstrapFile, loadBootstrapText } from '../../src/config/bootstrap.js';
import { buildConfigDump } from '../../src/config/config_dump.js';
import { protoLoadStats } from '../../src/config/protos.js';
import { decodeResource, validateResource } from '../../src/config/resources.js';
import { listUnsupported } from '../../src/config/validate.js';

// From dist/test/conformance/ to the directory beside the repository.
const dir = fileURLToPath(new URL('../../../../shared/conformance/envoy-configs/', import.meta.url));
// Istio's golden bootstraps (istio-agent output): large real-world bootstraps for the decoder.
const istioDir = fileURLToPath(new URL('../../../../shared/conformance/istio-golden/pkg/bootstrap/testdata/', import.meta.url));

/** Envoy's JSON form (what /config_dump prints) loads back to the same config. */
function assertRoundTrip(file: string): void {
  const first = loadBootstrapFile(file, { validate: false });
  const again = loadBootstrapText(JSON.stringify(first.raw), 'json', { validate: false });
  assert.deepEqual(again.bootstrap, first.bootstrap);
  assert.deepEqual(again.raw, first.raw);
}

function configFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 10) return;
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, depth + 1);
      else if (/\.(ya?ml|json)$/.test(name)) out.push(p);
    }
  };
  walk(root, 0);
  return out;
}

/**
 * xDS resource files (a top-level `resources` list of typed resources, read by a bootstrap's
 * path_config_source) are not bootstraps: their resources are decoded and checked one by one instead,
 * and the files are listed apart in the summary.
 */
function resourcesOf(path: string): unknown[] | undefined {
  const doc = parseYaml(readFileSync(path, 'utf8')) as Record<string, unknown> | null;
  const isResourceFile = doc !== null && typeof doc === 'object' && Object.keys(doc).length === 1 && Array.isArray(doc.resources);
  return isResourceFile ? (doc.resources as unknown[]) : undefined;
}

function reasonOf(e: UnsupportedConfigError): string {
  return e.message.replace(/^.*?: /, '').replace(/^unsupported field$/, `unsupported field ${e.path.replace(/\[\d+\]/g, '[]').replace(/^.*\.([^.]+)$/, '$1')}`);
}

function recordReasons(errors: UnsupportedConfigError[]): void {
  for (const e of errors) {
    const reason = reasonOf(e);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
}

// "<field path>: unsupported field", "...: unsupported extension <name> (<type url>)", "...: unsupported value X".
const NAMED_REJECTION = /^[A-Za-z_][\w.[\]"-]*: unsupported (field|extension [\w.]+|value [\w]+|additional [\w ]+)/;

assert.ok(existsSync(dir), `conformance data not found at ${dir}`);
const files = configFiles(dir);
const accepted: string[] = [];
const rejected = new Map<string, string>();
const skipped: string[] = [];
const reasons = new Map<string, number>();
const firstReasons = new Map<string, number>();
const resourceResults = { accepted: 0, rejected: 0 };

for (const file of files) {
  const name = relative(dir, file);
  test(name, () => {
    const resources = resourcesOf(file);
    if (resources) {
      skipped.push(name);
      assert.ok(resources.length > 0);
      resources.forEach((input, i) => {
        const resource = decodeResource(input, `resources[${i}]`);
        try {
          validateResource(resource, `resources[${i}]`);
          resourceResults.accepted++;
        } catch (err) {
          resourceResults.rejected++;
          assert.ok(err instanceof UnsupportedConfigError, `${name}: ${(err as Error).message}`);
          assert.match(err.message, NAMED_REJECTION);
          recordReasons([err]);
        }
      });
      return;
    }
    assertRoundTrip(file);
    let loaded;
    try {
      loaded = loadBootstrapFile(file);
    } catch (err) {
      assert.ok(err instanceof ConfigError, `${name}: not a ConfigError: ${(err as Error)?.stack}`);
      assert.ok(err instanceof UnsupportedConfigError, `${name}: a valid Envoy config rejected as invalid: ${err.message}`);
      assert.match(err.message, NAMED_REJECTION);
      rejected.set(name, err.message);
      firstReasons.set(reasonOf(err), (firstReasons.get(reasonOf(err)) ?? 0) + 1);
      // Every reason, for the summary: the same names whatever is found first.
      const all = listUnsupported(loadBootstrapFile(file, { validate: false }));
      assert.ok(all.some((e) => e.message === err.message));
      recordReasons(all);
      return;
    }
    accepted.push(name);
    const dump = buildConfigDump(loaded, new Date());
    assert.equal(dump.configs.length, 4);
  });
}

const istioFiles = existsSync(istioDir) ? readdirSync(istioDir).filter((f) => f.endsWith('_golden.json')).sort() : [];
for (const name of istioFiles) {
  test(`istio-golden ${name}: decodes fully, round-trips, and is rejected naming an unsupported field`, () => {
    const file = join(istioDir, name);
    assertRoundTrip(file);
    assert.throws(() => loadBootstrapFile(file), (err: unknown) => {
      assert.ok(err instanceof UnsupportedConfigError, `${name}: ${(err as Error)?.message}`);
      assert.match(err.message, NAMED_REJECTION);
      return true;
    });
  });
}

test('summary', () => {
  assert.ok(istioFiles.length >= 5, `only ${istioFiles.length} Istio golden bootstraps found in ${istioDir}`);
  assert.ok(files.length >= 25, `only ${files.length} config files found`);
  assert.equal(accepted.length + rejected.size + skipped.length, files.length);
  // The two resource files of the dynamic-config-fs sandbox (cds.yaml, lds.yaml) are the only non-bootstraps.
  assert.deepEqual(skipped.sort(), ['examples/dynamic-config-fs/configs/cds.yaml', 'examples/dynamic-config-fs/configs/lds.yaml']);
  const top = [...reasons.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 15);
  console.log(`envoy-configs: ${files.length} files, ${accepted.length} accepted, ${rejected.size} rejected naming a field or extension, ${skipped.length} xDS resource files checked resource by resource (not bootstraps: ${skipped.join(', ')})`);
  console.log(`resources in those files: ${resourceResults.accepted} accepted, ${resourceResults.rejected} rejected`);
  console.log(`proto load: ${JSON.stringify(protoLoadStats())}`);
  console.log(`accepted: ${accepted.join(', ')}`);
  console.log('rejection reasons (the first error of each rejected file):');
  for (const [reason, count] of [...firstReasons.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) {
    console.log(`  ${String(count).padStart(3)}  ${reason}`);
  }
  console.log('most common unsupported items (every one, across all files):');
  for (const [reason, count] of top) console.log(`  ${String(count).padStart(3)}  ${reason}`);
});
