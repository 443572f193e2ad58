/**
 * Settings of one HTTP/2 connection (Envoy's http2_protocol_options and the HCM limits that apply to it),
 * with the defaults Skiff uses when the config says nothing.
 */
import type { StatsStore } from '../../common/stats.js';

export interface Http2Options {
  /** SETTINGS_MAX_CONCURRENT_STREAMS this side advertises and enforces (REFUSED_STREAM above it). */
  maxConcurrentStreams?: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE this side advertises: how much of one stream's body the peer may send ahead. */
  initialStreamWindowSize?: number;
  /** The connection-level receive window this side opens right after the preface. */
  initialConnectionWindowSize?: number;
  /** Bound on a request's header list (decoded) and on its header block (compressed), in KiB (431 / GOAWAY). */
  maxRequestHeadersKb?: number;
  /** Most header fields in one header list (431 above). */
  maxHeadersCount?: number;
  /** Outbound control frames (SETTINGS/PING ACKs, RST_STREAMs) allowed per flood window (Envoy's max_outbound_control_frames). */
  maxOutboundControlFrames?: number;
  /** Consecutive frames with an empty payload and no end of stream (Envoy's max_consecutive_inbound_frames_with_empty_payload). */
  maxConsecutiveEmptyFrames?: number;
  /** PRIORITY frames per opened stream (Envoy's max_inbound_priority_frames_per_stream). */
  maxPriorityFramesPerStream?: number;
  /** WINDOW_UPDATE frames per DATA frame sent (Envoy's max_inbound_window_update_frames_per_data_frame_sent). */
  maxWindowUpdatesPerDataFrame?: number;
  /** Streams closed before the connection's premature-reset ratio is checked (Envoy's premature_reset_total_stream_count). */
  prematureResetMinStreams?: number;
  /** A stream reset by the peer within this many ms of opening, before its response completed, is premature. */
  prematureResetLifetimeMs?: number;
  /** Length of the window floods are counted in, ms. */
  floodWindowMs?: number;
  /** Where `http2.*` counters go (downstream: the root; upstream: `cluster.<name>.`). */
  stats?: StatsStore;
  statsPrefix?: string;
  /** A connection without streams for this long is sent GOAWAY and closed; 0 = never (HCM common_http_protocol_options.idle_timeout). */
  idleTimeoutMs?: number;
  /**
   * Envoy's allow_connect: extended CONNECT (RFC 8441) for upgrades over HTTP/2. Accepted; Skiff does not implement
   * extended CONNECT yet, so SETTINGS_ENABLE_CONNECT_PROTOCOL is not advertised. Plain CONNECT is always parsed
   * (the connection manager's upgrade_configs decide whether it is served).
   */
  allowConnect?: boolean;
  /** Bytes a listener filter already read from the socket (the preface sniffed by AUTO). */
  initialData?: Uint8Array;
}

export interface ResolvedHttp2Options {
  readonly maxConcurrentStreams: number;
  readonly initialStreamWindowSize: number;
  readonly initialConnectionWindowSize: number;
  readonly maxHeaderBytes: number;
  readonly maxHeadersCount: number;
  readonly maxOutboundControlFrames: number;
  readonly maxConsecutiveEmptyFrames: number;
  readonly maxPriorityFramesPerStream: number;
  readonly maxWindowUpdatesPerDataFrame: number;
  readonly prematureResetMinStreams: number;
  readonly prematureResetLifetimeMs: number;
  readonly floodWindowMs: number;
}

export const H2_DEFAULTS: ResolvedHttp2Options = {
  maxConcurrentStreams: 1024,
  initialStreamWindowSize: 1 << 20,
  initialConnectionWindowSize: 16 << 20,
  maxHeaderBytes: 60 * 1024,
  maxHeadersCount: 100,
  maxOutboundControlFrames: 1000,
  maxConsecutiveEmptyFrames: 1,
  maxPriorityFramesPerStream: 100,
  maxWindowUpdatesPerDataFrame: 10,
  prematureResetMinStreams: 100,
  prematureResetLifetimeMs: 1000,
  floodWindowMs: 1000,
};

export function resolveOptions(o: Http2Options): ResolvedHttp2Options {
  const d = H2_DEFAULTS;
  return {
    maxConcurrentStreams: o.maxConcurrentStreams ?? d.maxConcurrentStreams,
    initialStreamWindowSize: Math.min(Math.max(o.initialStreamWindowSize ?? d.initialStreamWindowSize, 65535), 0x7fffffff),
    initialConnectionWindowSize: Math.min(Math.max(o.initialConnectionWindowSize ?? d.initialConnectionWindowSize, 65535), 0x7fffffff),
    maxHeaderBytes: (o.maxRequestHeadersKb ?? 60) * 1024,
    maxHeadersCount: o.maxHeadersCount ?? d.maxHeadersCount,
    maxOutboundControlFrames: o.maxOutboundControlFrames ?? d.maxOutboundControlFrames,
    maxConsecutiveEmptyFrames: o.maxConsecutiveEmptyFrames ?? d.maxConsecutiveEmptyFrames,
    maxPriorityFramesPerStream: o.maxPriorityFramesPerStream ?? d.maxPriorityFramesPerStream,
    maxWindowUpdatesPerDataFrame: o.maxWindowUpdatesPerDataFrame ?? d.maxWindowUpdatesPerDataFrame,
    prematureResetMinStreams: o.prematureResetMinStreams ?? d.prematureResetMinStreams,
    prematureResetLifetimeMs: o.prematureResetLifetimeMs ?? d.prematureResetLifetimeMs,
    floodWindowMs: o.floodWindowMs ?? d.floodWindowMs,
  };
}
