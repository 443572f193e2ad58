/**
 * Envoy's Prometheus exposition for /stats/prometheus: names prefixed `envoy_`, every character outside
 * [a-zA-Z0-9_] turned into `_`, tags extracted into labels (tags.ts), one `# TYPE` line per family,
 * families sorted by name. Counters are exposed under their Envoy names (no `_total` suffix added).
 */
import type { StatSample, StatKind } from './stats_query.js';
import { TagExtractor, type Tag } from './tags.js';

interface Family { kind: StatKind; series: { labels: string; value: number }[] }

export function sanitizeMetricName(name: string): string {
  return 'envoy_' + name.replace(/[^a-zA-Z0-9_]/g, '_');
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatLabels(tags: readonly Tag[]): string {
  return '{' + tags.map((t) => `${t.name}="${escapeLabelValue(t.value)}"`).join(',') + '}';
}

export function prometheusText(stats: readonly StatSample[], clusterNames: readonly string[]): string {
  const extractor = new TagExtractor(clusterNames);
  const families = new Map<string, Family>();
  for (const s of stats) {
    const { family, tags } = extractor.extract(s.name);
    const metric = sanitizeMetricName(family);
    let f = families.get(metric);
    if (!f) { f = { kind: s.kind, series: [] }; families.set(metric, f); }
    // A counter and a gauge that collapse to one family cannot share a # TYPE line: the first kind wins.
    if (f.kind !== s.kind) continue;
    f.series.push({ labels: formatLabels(tags), value: s.value });
  }
  const names = [...families.keys()].sort();
  let out = '';
  for (const name of names) {
    const f = families.get(name)!;
    out += `# TYPE ${name} ${f.kind}\n`;
    for (const s of f.series) out += `${name}${s.labels} ${s.value}\n`;
  }
  return out;
}
