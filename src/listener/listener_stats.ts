/**
 * Per-listener counters under `listener.<address>_<port>.` with Envoy's names, created once per bound socket
 * so the accept path only increments properties.
 */
import type { Counter, Gauge, StatsStore } from '../common/stats.js';

export class ListenerSocketStats {
  readonly downstream_cx_total: Counter;
  readonly downstream_cx_active: Gauge;
  readonly downstream_cx_destroy: Counter;
  /** No filter chain matched the connection (and no default_filter_chain): closed. */
  readonly no_filter_chain_match: Counter;
  /** The listener filters did not finish within listener_filters_timeout. */
  readonly downstream_pre_cx_timeout: Counter;
  readonly downstream_pre_cx_active: Gauge;
  /** Envoy's `listener.<addr>.ssl.*`: TLS handshakes and their failures. */
  readonly ssl: TlsStats;

  /** `scopeName` replaces `<address>_<port>` (internal listeners have no address: their name). */
  constructor(store: StatsStore, address: string, port: number, scopeName = `${address}_${port}`) {
    const s = store.scope(`listener.${scopeName}.`);
    this.downstream_cx_total = s.counter('downstream_cx_total');
    this.downstream_cx_active = s.gauge('downstream_cx_active');
    this.downstream_cx_destroy = s.counter('downstream_cx_destroy');
    this.no_filter_chain_match = s.counter('no_filter_chain_match');
    this.downstream_pre_cx_timeout = s.counter('downstream_pre_cx_timeout');
    this.downstream_pre_cx_active = s.gauge('downstream_pre_cx_active');
    this.ssl = new TlsStats(store, `listener.${scopeName}.ssl.`);
  }
}

/** Envoy's TLS stats names (`<scope>ssl.handshake`, `ssl.connection_error`, `ssl.fail_verify_san`, ...). */
export class TlsStats {
  readonly handshake: Counter;
  readonly connection_error: Counter;
  readonly fail_verify_san: Counter;
  readonly fail_verify_no_cert: Counter;
  readonly fail_verify_error: Counter;
  readonly no_certificate: Counter;

  constructor(store: StatsStore, prefix: string) {
    const s = store.scope(prefix);
    this.handshake = s.counter('handshake');
    this.connection_error = s.counter('connection_error');
    this.fail_verify_san = s.counter('fail_verify_san');
    this.fail_verify_no_cert = s.counter('fail_verify_no_cert');
    this.fail_verify_error = s.counter('fail_verify_error');
    this.no_certificate = s.counter('no_certificate');
  }
}
