/**
 * Child process: autocannon at a fixed overall rate against 127.0.0.1:PORT, timing every response
 * itself in microseconds (autocannon's own histogram keeps whole milliseconds, too coarse for a
 * 0.1 ms budget). Prints one JSON line: p50/p90/p99 in µs, requests, achieved rate, non-2xx, errors.
 * Usage: fixed_rate.js PORT RATE DURATION_S CONNECTIONS
 */
import autocannon from 'autocannon';

const [port, rate, durationS, connections] = process.argv.slice(2).map(Number);
if (!(port > 0 && rate > 0 && durationS > 0 && connections > 0)) {
  process.stderr.write('usage: fixed_rate.js PORT RATE DURATION_S CONNECTIONS\n');
  process.exit(2);
}

// Bounded: the rate times the duration, with room for a faster-than-asked run.
const capacity = Math.ceil(rate * durationS * 1.5) + 1000;
const times = new Float64Array(capacity);
let n = 0;
let non2xx = 0;

const instance = autocannon({
  url: `http://127.0.0.1:${port}/`, connections, overallRate: rate, duration: durationS,
}, (err: Error | null, result: { errors: number; timeouts: number; duration: number }) => {
  if (err) { process.stderr.write(`autocannon: ${err.message}\n`); process.exit(1); }
  const sorted = times.subarray(0, n).sort();
  const q = (p: number): number => (n === 0 ? NaN : Math.round(sorted[Math.min(n - 1, Math.floor(p * n))]));
  process.stdout.write(JSON.stringify({
    p50Us: q(0.5), p90Us: q(0.9), p99Us: q(0.99), requests: n,
    achievedRps: Math.round(n / (result.duration || durationS)), non2xx, errors: result.errors + result.timeouts,
  }) + '\n');
});

instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
  if (statusCode < 200 || statusCode >= 300) { non2xx++; return; }
  if (n < capacity) times[n++] = responseTimeMs * 1000;
});
process.once('SIGTERM', () => { instance.stop(); });
