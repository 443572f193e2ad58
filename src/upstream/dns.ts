/**
 * Name resolution for STRICT_DNS clusters: dns.lookup (the system resolver, as getaddrinfo, so /etc/hosts
 * applies) with every address returned, filtered by the cluster's dns_lookup_family as Envoy reads it.
 */
import { promises as dnsPromises } from 'node:dns';
import type { Cluster as EnvoyCluster } from '../types/envoy.js';

export type LookupFamily = NonNullable<EnvoyCluster['dns_lookup_family']>;

/** Every address for `hostname` of the IP family asked (4, 6, or 0 for both). Injectable for tests. */
export type Lookup = (hostname: string, family: 0 | 4 | 6) => Promise<readonly { address: string; family: number }[]>;

export const systemLookup: Lookup = async (hostname, family) => dnsPromises.lookup(hostname, { all: true, family });

/**
 * The addresses to use: V4_ONLY / V6_ONLY one family; AUTO IPv6 if there is any, else IPv4; V4_PREFERRED the
 * reverse; ALL both. An empty answer is an error (the caller keeps its last hosts).
 */
export async function resolve(lookup: Lookup, hostname: string, mode: LookupFamily): Promise<string[]> {
  const family = mode === 'V4_ONLY' ? 4 : mode === 'V6_ONLY' ? 6 : 0;
  const answers = await lookup(hostname, family);
  const v4 = answers.filter((a) => a.family === 4).map((a) => a.address);
  const v6 = answers.filter((a) => a.family === 6).map((a) => a.address);
  let picked: string[];
  switch (mode) {
    case 'V4_ONLY': picked = v4; break;
    case 'V6_ONLY': picked = v6; break;
    case 'V4_PREFERRED': picked = v4.length > 0 ? v4 : v6; break;
    case 'ALL': picked = [...v4, ...v6]; break;
    default: picked = v6.length > 0 ? v6 : v4; break; // AUTO
  }
  if (picked.length === 0) throw Object.assign(new Error(`no ${mode} address for ${hostname}`), { code: 'ENODATA' });
  return [...new Set(picked)];
}
