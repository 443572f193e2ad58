/**
 * Abuse bounds of one HTTP/2 connection, in the spirit of Envoy's codec limits: each method records one
 * event and returns the name of the stat to count when the connection must be sent GOAWAY
 * ENHANCE_YOUR_CALM, else undefined. Per-window counts reset lazily when a window has passed.
 */
import type { ResolvedHttp2Options } from './options.js';

export type FloodKind =
  | 'outbound_control_flood' | 'inbound_empty_frames_flood' | 'inbound_priority_frames_flood'
  | 'inbound_window_update_frames_flood' | 'too_many_premature_resets';

export class FloodGuard {
  private windowStart = 0;
  private controlInWindow = 0;
  private consecutiveEmpty = 0;
  private priorityFrames = 0;
  private windowUpdates = 0;
  private streamsOpened = 0;
  private dataFramesSent = 0;
  private streamsClosed = 0;
  private prematureResets = 0;

  constructor(private readonly o: ResolvedHttp2Options) {}

  /** An outbound control frame (SETTINGS/PING ACK, RST_STREAM, WINDOW_UPDATE in reply to the peer). */
  controlFrameSent(now: number): FloodKind | undefined {
    if (now - this.windowStart >= this.o.floodWindowMs) { this.windowStart = now; this.controlInWindow = 0; }
    return ++this.controlInWindow > this.o.maxOutboundControlFrames ? 'outbound_control_flood' : undefined;
  }

  /** Every inbound frame: an empty DATA/HEADERS/CONTINUATION that ends nothing counts, anything else resets. */
  frame(emptyAndEndsNothing: boolean): FloodKind | undefined {
    if (!emptyAndEndsNothing) { this.consecutiveEmpty = 0; return undefined; }
    return ++this.consecutiveEmpty > this.o.maxConsecutiveEmptyFrames ? 'inbound_empty_frames_flood' : undefined;
  }

  priorityFrame(): FloodKind | undefined {
    const limit = this.o.maxPriorityFramesPerStream * (1 + this.streamsOpened);
    return ++this.priorityFrames > limit ? 'inbound_priority_frames_flood' : undefined;
  }

  windowUpdateFrame(): FloodKind | undefined {
    const limit = 1 + 2 * (this.streamsOpened + this.o.maxWindowUpdatesPerDataFrame * this.dataFramesSent);
    return ++this.windowUpdates > limit ? 'inbound_window_update_frames_flood' : undefined;
  }

  streamOpened(): void { this.streamsOpened++; }
  dataFrameSent(): void { this.dataFramesSent++; }

  /**
   * A stream closed; `premature` when the peer reset it soon after opening and before its response
   * completed (CVE-2023-44487). Past prematureResetMinStreams closed streams, more premature resets than
   * half of them mark the connection as abusive.
   */
  streamClosed(premature: boolean): FloodKind | undefined {
    this.streamsClosed++;
    if (premature) this.prematureResets++;
    if (this.streamsClosed < this.o.prematureResetMinStreams) return undefined;
    return this.prematureResets * 2 > this.streamsClosed ? 'too_many_premature_resets' : undefined;
  }
}
