// The generated frames of a ../shared/conformance protocol folder (sofa-bolt, dubbo): `generated/golden.json`
// maps a frame name to its golden fields and hex, `generated/<name>.bin` holds the bytes. Every .bin must have
// its golden entry, and every .bin must be the bytes its golden hex says.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

export interface GoldenFrame<G> { name: string; golden: G; bytes: Buffer }

export function readGoldenFrames<G extends { hex: string }>(root: string): GoldenFrame<G>[] {
  const golden = JSON.parse(readFileSync(`${root}generated/golden.json`, 'utf8')) as Record<string, G>;
  const names = Object.keys(golden);
  assert.equal(names.length, readdirSync(`${root}generated`).filter((f) => f.endsWith('.bin')).length);
  return names.map((name) => {
    const bytes = readFileSync(`${root}generated/${name}.bin`);
    assert.equal(bytes.toString('hex'), golden[name].hex, name);
    return { name, golden: golden[name], bytes };
  });
}
