/** x-protocol filter stats under `xprotocol.<stat_prefix>.` (modelled on Envoy's dubbo_proxy `dubbo.<prefix>.`). */
import type { Counter, Gauge, StatsStore } from '../common/stats.js';

export class XProtocolStats {
  readonly downstream_cx_total: Counter;
  readonly downstream_cx_active: Gauge;
  readonly downstream_cx_protocol_error: Counter;
  readonly downstream_cx_protocol_from_listener: Counter;
  readonly downstream_rq_total: Counter;
  readonly downstream_rq_active: Gauge;
  readonly downstream_rq_oneway: Counter;
  readonly downstream_rq_heartbeat: Counter;
  readonly downstream_rq_no_route: Counter;
  readonly downstream_rq_no_healthy_upstream: Counter;
  readonly downstream_rq_timeout: Counter;
  readonly downstream_rq_overflow: Counter;
  readonly downstream_rq_upstream_reset: Counter;
  readonly downstream_rq_local_reply: Counter;
  readonly downstream_rq_retry: Counter;
  readonly downstream_rq_per_try_timeout: Counter;
  readonly downstream_goaway_sent: Counter;
  /** Frames whose map a route's header mutation changed (rebuilt), and those it had to leave as they were. */
  readonly header_mutation_applied: Counter;
  readonly header_mutation_skipped: Counter;

  constructor(store: StatsStore, prefix: string) {
    const s = store.scope(`xprotocol.${prefix}.`);
    this.downstream_cx_total = s.counter('downstream_cx_total');
    this.downstream_cx_active = s.gauge('downstream_cx_active');
    this.downstream_cx_protocol_error = s.counter('downstream_cx_protocol_error');
    this.downstream_cx_protocol_from_listener = s.counter('downstream_cx_protocol_from_listener');
    this.downstream_rq_total = s.counter('downstream_rq_total');
    this.downstream_rq_active = s.gauge('downstream_rq_active');
    this.downstream_rq_oneway = s.counter('downstream_rq_oneway');
    this.downstream_rq_heartbeat = s.counter('downstream_rq_heartbeat');
    this.downstream_rq_no_route = s.counter('downstream_rq_no_route');
    this.downstream_rq_no_healthy_upstream = s.counter('downstream_rq_no_healthy_upstream');
    this.downstream_rq_timeout = s.counter('downstream_rq_timeout');
    this.downstream_rq_overflow = s.counter('downstream_rq_overflow');
    this.downstream_rq_upstream_reset = s.counter('downstream_rq_upstream_reset');
    this.downstream_rq_local_reply = s.counter('downstream_rq_local_reply');
    this.downstream_rq_retry = s.counter('downstream_rq_retry');
    this.downstream_rq_per_try_timeout = s.counter('downstream_rq_per_try_timeout');
    this.downstream_goaway_sent = s.counter('downstream_goaway_sent');
    this.header_mutation_applied = s.counter('header_mutation_applied');
    this.header_mutation_skipped = s.counter('header_mutation_skipped');
  }
}
