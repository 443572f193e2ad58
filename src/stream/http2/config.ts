/**
 * Envoy's config.core.v3.Http2ProtocolOptions (HCM `http2_protocol_options`, cluster
 * `typed_extension_protocol_options` HttpProtocolOptions `explicit_http_config.http2_protocol_options`)
 * read into Http2Options. Fields Skiff does not implement are rejected by name.
 */
import { ConfigError, UnsupportedConfigError } from '../../common/errors.js';
import type { Http2Options } from './options.js';

type Wrapped = { value?: number } | number | undefined;

const FIELDS: Record<string, keyof Http2Options | ''> = {
  max_concurrent_streams: 'maxConcurrentStreams',
  initial_stream_window_size: 'initialStreamWindowSize',
  initial_connection_window_size: 'initialConnectionWindowSize',
  max_outbound_control_frames: 'maxOutboundControlFrames',
  max_consecutive_inbound_frames_with_empty_payload: 'maxConsecutiveEmptyFrames',
  max_inbound_priority_frames_per_stream: 'maxPriorityFramesPerStream',
  max_inbound_window_update_frames_per_data_frame_sent: 'maxWindowUpdatesPerDataFrame',
  // Accepted with Envoy's meaning where Skiff's behaviour already matches: the HPACK table stays at 4096
  // (Envoy's default) and Skiff bounds outbound frames through the socket backlog instead of a frame count.
  hpack_table_size: '',
  max_outbound_frames: '',
};

function num(v: Wrapped): number | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'number' ? v : v.value;
}

/** `downstream`: the HCM's options, where allow_connect (a server setting) is accepted. */
export function http2OptionsFromConfig(raw: Record<string, unknown> | undefined, path: string, downstream = false): Http2Options {
  const out: Http2Options = {};
  if (raw === undefined || raw === null) return out;
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (key === 'allow_connect' && downstream) {
      const b = typeof value === 'boolean' ? value : typeof value === 'object' && value !== null ? (value as { value?: unknown }).value : value;
      if (b !== undefined && typeof b !== 'boolean') throw new ConfigError(`${path}.${key}`, 'must be a bool');
      out.allowConnect = b === true;
      continue;
    }
    const target = FIELDS[key];
    if (target === undefined) throw new UnsupportedConfigError(`${path}.${key}`, `Http2ProtocolOptions field ${key}`);
    const n = num(value as Wrapped);
    if (n === undefined || !Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new ConfigError(`${path}.${key}`, 'must be a uint32');
    if (key === 'hpack_table_size' && n !== 4096) throw new UnsupportedConfigError(`${path}.${key}`, 'hpack_table_size other than 4096');
    if ((key === 'initial_stream_window_size' || key === 'initial_connection_window_size') && (n < 65535 || n > 0x7fffffff)) {
      throw new ConfigError(`${path}.${key}`, 'must be in 65535..2147483647');
    }
    if (key === 'max_concurrent_streams' && n < 1) throw new ConfigError(`${path}.${key}`, 'must be at least 1');
    if (target !== '') (out as Record<string, number>)[target] = n;
  }
  return out;
}
