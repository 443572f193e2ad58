/**
 * Tag extraction for /stats/prometheus, with Envoy's default tag names: a stat name such as
 * `cluster.web.upstream_rq_2xx` becomes the family `cluster.upstream_rq_xx` with the tags
 * `envoy_response_code_class="2"` and `envoy_cluster_name="web"`.
 *
 * Each rule's pattern has the part to cut out of the name as group 1 and, when different, the tag's
 * value as group 2. Rules run in order on the name left by the previous ones.
 */
export interface Tag { name: string; value: string }
export interface TaggedName { family: string; tags: Tag[] }

interface TagRule { tag: string; pattern: RegExp }

// The `d` flag gives group offsets, so the cut is made exactly where the group matched.
const RULES_BEFORE_CLUSTER: readonly TagRule[] = [
  // upstream_rq_2xx -> upstream_rq_xx
  { tag: 'envoy_response_code_class', pattern: /_rq_(\d)xx$/d },
  // upstream_rq_200 -> upstream_rq
  { tag: 'envoy_response_code', pattern: /_rq(_(\d{3}))$/d },
];

const RULES_AFTER_CLUSTER: readonly TagRule[] = [
  // listener.127.0.0.1_10000.downstream_cx_total, listener.[__1]_10000.x (IPv4 or IPv6 address and port)
  { tag: 'envoy_listener_address', pattern: /^listener\.(((?:[\d_.]+|\[[\da-fA-F:_.]*\]_\d+))\.)/d },
  // http.ingress_http.downstream_rq_total, and the same under a listener
  { tag: 'envoy_http_conn_manager_prefix', pattern: /^(?:listener\.)?http\.((.*?)\.)/d },
  // http.rds.<route_config>.config_reload (after the HCM prefix is gone)
  { tag: 'envoy_rds_route_config', pattern: /^http\.rds\.((.*?)\.)/d },
  // vhost.<name>.vcluster.<name>.upstream_rq_total
  { tag: 'envoy_virtual_host', pattern: /^vhost\.((.*?)\.)/d },
  { tag: 'envoy_virtual_cluster', pattern: /^vhost\.vcluster\.((.*?)\.)/d },
  // tcp.<stat_prefix>.downstream_cx_total
  { tag: 'envoy_tcp_prefix', pattern: /^tcp\.((.*?)\.)/d },
];

/** Cluster names may hold dots (Istio's `outbound|80||web.ns.svc.cluster.local`), so known names win. */
const CLUSTER_FALLBACK = /^cluster\.((.*?)\.)/d;

function applyRule(name: string, rule: TagRule, tags: Tag[]): string {
  const m = rule.pattern.exec(name);
  if (!m || !m.indices || !m.indices[1]) return name;
  const [from, to] = m.indices[1];
  tags.push({ name: rule.tag, value: m[2] ?? m[1] });
  return name.slice(0, from) + name.slice(to);
}

export class TagExtractor {
  /** Longest first, so `web.v2` wins over `web` for `cluster.web.v2.upstream_rq_total`. */
  private readonly clusterNames: string[];

  constructor(clusterNames: readonly string[] = []) {
    this.clusterNames = [...clusterNames].sort((a, b) => b.length - a.length);
  }

  extract(statName: string): TaggedName {
    const tags: Tag[] = [];
    let name = statName;
    for (const rule of RULES_BEFORE_CLUSTER) name = applyRule(name, rule, tags);
    name = this.extractCluster(name, tags);
    for (const rule of RULES_AFTER_CLUSTER) name = applyRule(name, rule, tags);
    return { family: name, tags };
  }

  private extractCluster(name: string, tags: Tag[]): string {
    if (!name.startsWith('cluster.')) return name;
    for (const c of this.clusterNames) {
      if (name.startsWith(c + '.', 8)) {
        tags.push({ name: 'envoy_cluster_name', value: c });
        return 'cluster.' + name.slice(8 + c.length + 1);
      }
    }
    return applyRule(name, { tag: 'envoy_cluster_name', pattern: CLUSTER_FALLBACK }, tags);
  }
}
