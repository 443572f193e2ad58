/**
 * The envelope of a discovery response read straight from its wire bytes (grpc-js hands the ADS stream's
 * messages over undecoded, see ads_client.ts): version, type URL, nonce, removed names, and where each resource's
 * packed bytes sit. The resources themselves are not decoded here: that is done one by one, inline in slices or
 * on the xDS worker thread (offload.ts), so no single synchronous step decodes a whole 10 000-resource push.
 *
 * Field numbers: envoy/service/discovery/v3/discovery.proto (DiscoveryResponse, DeltaDiscoveryResponse, Resource)
 * and google/protobuf/any.proto. Bounded: every read moves forward inside the buffer; malformed bytes throw
 * EnvelopeError (the stream is then dropped and re-opened, as grpc-js does with a message it cannot parse).
 */
import { SkiffError } from '../common/errors.js';

/** One resource's Any: its type URL and the byte range of its value in the response buffer. */
export interface ResourceRef {
  readonly typeUrl: string;
  readonly start: number;
  readonly end: number;
}

export interface SotwEnvelope {
  readonly versionInfo: string;
  readonly typeUrl: string;
  readonly nonce: string;
  readonly resources: readonly ResourceRef[];
}

/** A delta Resource: its name and version, and its Any when it carries one. */
export interface DeltaRef {
  readonly name: string;
  readonly version: string;
  readonly resource: ResourceRef | undefined;
}

export interface DeltaEnvelope {
  readonly systemVersionInfo: string;
  readonly typeUrl: string;
  readonly nonce: string;
  readonly resources: readonly DeltaRef[];
  readonly removed: readonly string[];
}

export class EnvelopeError extends SkiffError {
  constructor(message: string) {
    super('SKIFF_XDS_BAD_ENVELOPE', `cannot read the discovery response: ${message}`, 'upstream');
    this.name = 'EnvelopeError';
  }
}

// Not fatal: protobufjs (what grpc-js decoded the envelope with before) replaces bad UTF-8 rather than failing.
const decoder = new TextDecoder('utf-8');

function text(buf: Uint8Array, start: number, end: number): string {
  if (start === end) return '';
  // Short ASCII strings (type URLs, versions, nonces) without the decoder's call overhead.
  if (end - start <= 64) {
    let ascii = true;
    for (let i = start; i < end; i++) if (buf[i]! > 0x7f) { ascii = false; break; }
    if (ascii) return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  }
  return decoder.decode(buf.subarray(start, end));
}

/** A forward-only cursor over one message's bytes. */
class Cursor {
  pos: number;
  constructor(readonly buf: Uint8Array, start: number, readonly end: number) { this.pos = start; }

  more(): boolean { return this.pos < this.end; }

  /** A varint up to 2^53 (tags and lengths fit in 32 bits; larger values are only skipped). */
  varint(): number {
    let v = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw new EnvelopeError('truncated varint');
      const b = this.buf[this.pos++]!;
      v += shift < 28 ? (b & 0x7f) << shift : (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
    }
    throw new EnvelopeError('varint longer than 10 bytes');
  }

  /** The [start, end) of a length-delimited field's content; the cursor moves past it. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (len > this.end - start) throw new EnvelopeError('field runs past its message');
    this.pos = start + len;
    return [start, this.pos];
  }

  string(): string {
    const [start, end] = this.span();
    return text(this.buf, start, end);
  }

  skip(wire: number): void {
    switch (wire) {
      case 0: this.varint(); return;
      case 1: this.pos += 8; break;
      case 2: this.span(); return;
      case 5: this.pos += 4; break;
      default: throw new EnvelopeError(`wire type ${wire}`);
    }
    if (this.pos > this.end) throw new EnvelopeError('truncated field');
  }
}

/**
 * The name of a packed resource without decoding it: field 1 (a string) of Listener, RouteConfiguration,
 * Cluster and ClusterLoadAssignment alike (name / cluster_name). Scans the top-level fields (the last
 * occurrence wins, as in protobuf); undefined when the bytes are not well formed (the full decode reports it).
 */
export function peekName(bytes: Uint8Array | undefined): string | undefined {
  if (bytes === undefined) return undefined;
  const c = new Cursor(bytes, 0, bytes.length);
  let name: string | undefined;
  try {
    while (c.more()) {
      const tag = c.varint();
      if (tag === 0x0a) name = c.string();
      else c.skip(tag & 7);
    }
  } catch (err) {
    if (err instanceof EnvelopeError) return undefined;
    throw err;
  }
  return name;
}

/**
 * The type URLs of a response's resources are nearly always one string repeated: the previous one is reused when
 * the bytes match, so 10 000 resources make one string, not 10 000.
 */
class TypeUrlInterner {
  private last = '';
  private lastBytes: Uint8Array | undefined;

  read(c: Cursor): string {
    const [start, end] = c.span();
    const bytes = c.buf.subarray(start, end);
    const prev = this.lastBytes;
    if (prev !== undefined && prev.length === bytes.length) {
      let same = true;
      for (let i = 0; i < bytes.length; i++) if (prev[i] !== bytes[i]) { same = false; break; }
      if (same) return this.last;
    }
    this.last = text(c.buf, start, end);
    this.lastBytes = bytes;
    return this.last;
  }
}

/** google.protobuf.Any in buf[start, end): its type URL and its value's range (empty when absent). */
function readAny(buf: Uint8Array, start: number, end: number, urls: TypeUrlInterner): ResourceRef {
  const c = new Cursor(buf, start, end);
  let typeUrl = '';
  let vStart = end;
  let vEnd = end;
  while (c.more()) {
    const tag = c.varint();
    if (tag === 0x0a) typeUrl = urls.read(c);
    else if (tag === 0x12) [vStart, vEnd] = c.span();
    else c.skip(tag & 7);
  }
  return { typeUrl, start: vStart, end: vEnd };
}

/** A state-of-the-world DiscoveryResponse. */
export function readSotwResponse(buf: Uint8Array): SotwEnvelope {
  const c = new Cursor(buf, 0, buf.length);
  const urls = new TypeUrlInterner();
  let versionInfo = '';
  let typeUrl = '';
  let nonce = '';
  const resources: ResourceRef[] = [];
  while (c.more()) {
    const tag = c.varint();
    switch (tag) {
      case 0x0a: versionInfo = c.string(); break; // 1 version_info
      case 0x12: { const [s, e] = c.span(); resources.push(readAny(buf, s, e, urls)); break; } // 2 resources
      case 0x22: typeUrl = c.string(); break; // 4 type_url
      case 0x2a: nonce = c.string(); break; // 5 nonce
      default: c.skip(tag & 7); // canary, control_plane, fields added later
    }
  }
  return { versionInfo, typeUrl, nonce, resources };
}

/** A delta Resource in buf[start, end). */
function readDeltaResource(buf: Uint8Array, start: number, end: number, urls: TypeUrlInterner): DeltaRef {
  const c = new Cursor(buf, start, end);
  let name = '';
  let version = '';
  let resource: ResourceRef | undefined;
  while (c.more()) {
    const tag = c.varint();
    switch (tag) {
      case 0x0a: version = c.string(); break; // 1 version
      case 0x12: { const [s, e] = c.span(); resource = readAny(buf, s, e, urls); break; } // 2 resource
      case 0x1a: name = c.string(); break; // 3 name
      default: c.skip(tag & 7); // aliases, ttl, cache_control, resource_name, metadata
    }
  }
  return { name, version, resource };
}

/** A DeltaDiscoveryResponse. */
export function readDeltaResponse(buf: Uint8Array): DeltaEnvelope {
  const c = new Cursor(buf, 0, buf.length);
  const urls = new TypeUrlInterner();
  let systemVersionInfo = '';
  let typeUrl = '';
  let nonce = '';
  const resources: DeltaRef[] = [];
  const removed: string[] = [];
  while (c.more()) {
    const tag = c.varint();
    switch (tag) {
      case 0x0a: systemVersionInfo = c.string(); break; // 1 system_version_info
      case 0x12: { const [s, e] = c.span(); resources.push(readDeltaResource(buf, s, e, urls)); break; } // 2 resources
      case 0x22: typeUrl = c.string(); break; // 4 type_url
      case 0x2a: nonce = c.string(); break; // 5 nonce
      case 0x32: removed.push(c.string()); break; // 6 removed_resources
      default: c.skip(tag & 7); // control_plane, removed_resource_names
    }
  }
  return { systemVersionInfo, typeUrl, nonce, resources, removed };
}
