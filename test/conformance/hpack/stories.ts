/** Reads the hpack-test-case stories (../shared/conformance/hpack-test-case). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export const ROOT = new URL('../../../../../shared/conformance/hpack-test-case/', import.meta.url);

export interface StoryCase {
  readonly seqno: number;
  readonly headerTableSize?: number;
  /** Encoded block (absent in raw-data). */
  readonly wire?: Buffer;
  /** Header fields in order; names and values as UTF-8 bytes read as latin1 (one char per byte). */
  readonly headers: [string, string][];
}

export interface Story {
  readonly dir: string;
  readonly file: string;
  readonly cases: StoryCase[];
}

const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

export function readStories(dir: string): Story[] {
  const path = new URL(`${dir}/`, ROOT);
  if (!existsSync(path)) return [];
  return readdirSync(path).filter((f) => f.endsWith('.json')).sort().map((file) => {
    const json = JSON.parse(readFileSync(new URL(file, path), 'utf8')) as {
      cases: { seqno: number; header_table_size?: number; wire?: string; headers: Record<string, string>[] }[];
    };
    return {
      dir, file,
      cases: json.cases.map((c) => ({
        seqno: c.seqno,
        headerTableSize: c.header_table_size,
        wire: c.wire === undefined ? undefined : Buffer.from(c.wire, 'hex'),
        headers: c.headers.map((h) => {
          const [name, value] = Object.entries(h)[0];
          return [bytes(name), bytes(value)] as [string, string];
        }),
      })),
    };
  });
}

/** Directories of encoded stories (every one but raw-data). */
export function encodedDirs(): string[] {
  if (!existsSync(ROOT)) return [];
  return readdirSync(ROOT, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'raw-data').map((d) => d.name).sort();
}
