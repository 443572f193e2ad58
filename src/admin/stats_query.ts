/**
 * The stat selection shared by /stats and /stats/prometheus: `filter` (a regular expression searched
 * anywhere in the name, as Envoy's RE2 partial match), `usedonly` (here: non-zero values, since Skiff's
 * stats carry no "ever written" bit) and `type` (All, Counters, Gauges).
 */
import type { StatsStore } from '../common/stats.js';

export type StatKind = 'counter' | 'gauge';

export interface StatSample { name: string; value: number; kind: StatKind }

export type StatsSelection = { ok: true; stats: StatSample[] } | { ok: false; error: string };

/** Longest filter accepted: the admin port is loopback, but a pathological pattern should still be cheap to refuse. */
const MAX_FILTER_LENGTH = 1024;

export function selectStats(store: StatsStore, query: URLSearchParams): StatsSelection {
  let filter: RegExp | undefined;
  const source = query.get('filter');
  if (source !== null && source !== '') {
    if (source.length > MAX_FILTER_LENGTH) return { ok: false, error: `filter longer than ${MAX_FILTER_LENGTH} characters` };
    try { filter = new RegExp(source); } catch (e) { return { ok: false, error: `Invalid regex: ${(e as Error).message}` }; }
  }
  const type = (query.get('type') ?? 'All').toLowerCase();
  if (!['all', 'counters', 'gauges', 'histograms'].includes(type)) {
    return { ok: false, error: `invalid type ${JSON.stringify(query.get('type'))}: expected All, Counters, Gauges or Histograms` };
  }
  const usedOnly = query.has('usedonly');
  const { counters, gauges } = store.snapshot();
  const out: StatSample[] = [];
  if (type === 'all' || type === 'counters') for (const c of counters) out.push({ name: c.name, value: c.value, kind: 'counter' });
  if (type === 'all' || type === 'gauges') for (const g of gauges) out.push({ name: g.name, value: g.value, kind: 'gauge' });
  const kept = out.filter((s) => (!usedOnly || s.value !== 0) && (!filter || filter.test(s.name)));
  kept.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ok: true, stats: kept };
}

/** `name: value` lines, sorted by name (Envoy's text /stats). */
export function statsText(stats: readonly StatSample[]): string {
  let s = '';
  for (const st of stats) s += `${st.name}: ${st.value}\n`;
  return s;
}

/** Envoy's `/stats?format=json`: `{"stats":[{"name":...,"value":...}]}`. */
export function statsJson(stats: readonly StatSample[]): { stats: { name: string; value: number }[] } {
  return { stats: stats.map((s) => ({ name: s.name, value: s.value })) };
}
