/**
 * Connection and request deadlines without a Node timer per request. Every request arms the same few timeouts
 * (the connection's idle and headers timeouts, the route timeout, stream_idle_timeout, the per-try timeout), so deadlines of one duration are kept in a list that is
 * ordered by construction (armed later = due later) and served by one unref'd Node timer set for the list's
 * head. Arming and cancelling are O(1) link edits: no Timeout object, closure or timer-heap work per request.
 */

/** Upper bound on deadlines expired by one timer callback; the rest wait for the next one (1 ms later). */
const EXPIRE_LIMIT = 4096;

/** One deadline, owned and re-armed by its request: an intrusive list node. */
export class Deadline {
  prev: Deadline | null = null;
  next: Deadline | null = null;
  dueAt = 0;
  list: DeadlineList | null = null;

  /** @param onExpire runs once when the deadline passes while armed (must not throw: callers guard it) */
  constructor(readonly onExpire: () => void) {}

  get armed(): boolean { return this.list !== null; }

  /** Disarms; a no-op when not armed. */
  cancel(): void { this.list?.remove(this); }
}

/** The armed deadlines of one duration, due-ordered, with one timer for the earliest. */
export class DeadlineList {
  private head: Deadline | null = null;
  private tail: Deadline | null = null;
  private timer: NodeJS.Timeout | undefined;
  private size = 0;

  constructor(readonly ms: number, private readonly onEmpty: (list: DeadlineList) => void = () => {}) {}

  /** Arms `d` to expire `ms` from now, moving it to the end if it was armed already. */
  arm(d: Deadline, now: number): void {
    if (d.list !== null) d.list.remove(d);
    d.dueAt = now + this.ms;
    d.list = this;
    d.prev = this.tail;
    d.next = null;
    if (this.tail !== null) this.tail.next = d; else this.head = d;
    this.tail = d;
    this.size++;
    if (this.timer === undefined) this.schedule(this.ms);
  }

  remove(d: Deadline): void {
    if (d.list !== this) return;
    if (d.prev !== null) d.prev.next = d.next; else this.head = d.next;
    if (d.next !== null) d.next.prev = d.prev; else this.tail = d.prev;
    d.prev = d.next = null;
    d.list = null;
    this.size--;
    // The timer stays: it finds nothing due (or a later head) and re-arms or stops then, which is cheaper
    // than clearing and setting it on every cancel.
  }

  get length(): number { return this.size; }

  private schedule(ms: number): void {
    this.timer = setTimeout(this.expire, Math.max(1, ms));
    this.timer.unref(); // a pending deadline never keeps the process alive (the socket does)
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    const now = Date.now();
    for (let i = 0; i < EXPIRE_LIMIT; i++) {
      const d = this.head;
      if (d === null || d.dueAt > now) break;
      this.remove(d);
      d.onExpire();
    }
    if (this.head !== null) { if (this.timer === undefined) this.schedule(this.head.dueAt - now); }
    else if (this.size === 0) this.onEmpty(this);
  };
}

/**
 * The deadline lists by duration. A list leaves the map once it runs empty, so durations taken from requests
 * (e.g. x-envoy-upstream-rq-timeout-ms) cannot grow it beyond the number of armed deadlines.
 */
export class Deadlines {
  private readonly lists = new Map<number, DeadlineList>();
  private readonly dropEmpty = (list: DeadlineList): void => {
    if (list.length === 0 && this.lists.get(list.ms) === list) this.lists.delete(list.ms);
  };

  /** Arms `d` to expire `ms` (> 0) milliseconds from now, replacing any earlier arming. */
  arm(d: Deadline, ms: number): void {
    let list = this.lists.get(ms);
    if (list === undefined) { list = new DeadlineList(ms, this.dropEmpty); this.lists.set(ms, list); }
    list.arm(d, Date.now());
  }

  /** How many durations have a list (for tests). */
  get durations(): number { return this.lists.size; }
}

/** The deadlines of this thread's connections and requests (a worker has its own module instance). */
export const requestDeadlines = new Deadlines();
