// The part of autocannon's API the fixed-rate run uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';
  interface Options { url: string; connections?: number; overallRate?: number; duration?: number }
  interface Result { errors: number; timeouts: number; duration: number }
  interface Instance extends EventEmitter { stop(): void }
  function autocannon(opts: Options, cb: (err: Error | null, result: Result) => void): Instance;
  export default autocannon;
}
