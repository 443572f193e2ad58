/**
 * HTTP/2 codec stats with Envoy's names: rooted at `http2.` downstream, `cluster.<name>.http2.` upstream.
 * Connections without a StatsStore count into a private one (tests, health checks).
 */
import { StatsStore, type Counter, type Gauge } from '../../common/stats.js';

export class Http2Stats {
  readonly rx_reset: Counter;
  readonly tx_reset: Counter;
  readonly rx_messaging_error: Counter;
  readonly header_overflow: Counter;
  readonly too_many_headers: Counter;
  readonly goaway_sent: Counter;
  readonly inbound_empty_frames_flood: Counter;
  readonly inbound_priority_frames_flood: Counter;
  readonly inbound_window_update_frames_flood: Counter;
  readonly outbound_control_flood: Counter;
  readonly outbound_flood: Counter;
  readonly stream_refused_errors: Counter;
  readonly tx_flush_timeout: Counter;
  /** Envoy counts this one as http.<prefix>.downstream_rq_too_many_premature_resets; the h2 scope has it too. */
  readonly too_many_premature_resets: Counter;
  readonly streams_active: Gauge;

  constructor(store: StatsStore | undefined, prefix = '') {
    const s = (store ?? new StatsStore()).scope(`${prefix}http2.`);
    this.rx_reset = s.counter('rx_reset');
    this.tx_reset = s.counter('tx_reset');
    this.rx_messaging_error = s.counter('rx_messaging_error');
    this.header_overflow = s.counter('header_overflow');
    this.too_many_headers = s.counter('too_many_headers');
    this.goaway_sent = s.counter('goaway_sent');
    this.inbound_empty_frames_flood = s.counter('inbound_empty_frames_flood');
    this.inbound_priority_frames_flood = s.counter('inbound_priority_frames_flood');
    this.inbound_window_update_frames_flood = s.counter('inbound_window_update_frames_flood');
    this.outbound_control_flood = s.counter('outbound_control_flood');
    this.outbound_flood = s.counter('outbound_flood');
    this.stream_refused_errors = s.counter('stream_refused_errors');
    this.tx_flush_timeout = s.counter('tx_flush_timeout');
    this.too_many_premature_resets = s.counter('too_many_premature_resets');
    this.streams_active = s.gauge('streams_active');
  }
}
