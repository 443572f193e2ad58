// Best-of-rounds timing for micro benchmarks on a shared machine: every round measures each task once, in an
// order rotated by 3 per round (so no task always runs first or right after the same neighbour); a task's
// figure is its best round, in ns per operation when each task call does `batch` operations.
import { Bench } from 'tinybench';

export type Task = [name: string, fn: () => void];

export async function bestOfRounds(label: string, tasks: readonly Task[], rounds: number, batch: number): Promise<Map<string, number>> {
  const best = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ name: `${label}, round ${round + 1}`, time: 120, warmup: true });
    for (let k = 0; k < tasks.length; k++) {
      const [name, fn] = tasks[(k + round * 3) % tasks.length];
      bench.add(name, fn);
    }
    await bench.run();
    for (const task of bench.tasks) {
      const r = task.result as unknown as { period?: number; latency?: { mean: number } } | undefined;
      const ns = ((r?.latency?.mean ?? r?.period ?? NaN) * 1e6) / batch;
      best.set(task.name, Math.min(best.get(task.name) ?? Infinity, ns));
    }
  }
  return best;
}
