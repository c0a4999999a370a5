import { GroupCommitQueue, ProcessingTimeoutError, QueueClosedError, QueueFullError, type QueueLimits, type Settled } from './update-queue';

const limits: QueueLimits = { capacity: 100, submitTimeoutMs: 5000, processingTimeoutMs: 10_000, maxGroupWeight: 1000 };

/** A processor whose groups finish only when the test says so. */
class GatedProcessor {
  readonly groups: number[][] = [];
  private gates: Array<() => void> = [];
  active = 0;
  maxActive = 0;

  readonly process = async (jobs: readonly number[]): Promise<Array<Settled<string>>> => {
    this.groups.push([...jobs]);
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    await new Promise<void>((resolve) => this.gates.push(resolve));
    this.active -= 1;
    return jobs.map((job) => (job < 0 ? { ok: false, error: new Error(`job ${job} failed`) } : { ok: true, value: `done ${job}` }));
  };

  /** Lets the oldest waiting group finish (failing if no group starts within a few turns). */
  async release(): Promise<void> {
    for (let turn = 0; this.gates.length === 0; turn += 1) {
      if (turn > 50) {
        throw new Error(`no group waiting to finish; groups so far: ${JSON.stringify(this.groups)}`);
      }
      await nextTurn();
    }
    this.gates.shift()!();
    await nextTurn();
  }
}

/** Lets the event loop run one turn (the queue signals its drains on the next turn). */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommitQueue', () => {
  it('processes one group at a time, in arrival order, grouping whatever waits', async () => {
    const processor = new GatedProcessor();
    const queue = new GroupCommitQueue(processor.process, limits);
    const outcomes = [queue.submit(1)];
    await nextTurn();
    outcomes.push(...[2, 3, 4].map((job) => queue.submit(job)));
    await processor.release();
    await processor.release();
    expect(await Promise.all(outcomes)).toEqual(['done 1', 'done 2', 'done 3', 'done 4']);
    // The first job started alone; the three that arrived meanwhile shared the next group.
    expect(processor.groups).toEqual([[1], [2, 3, 4]]);
    expect(processor.maxActive).toBe(1);
  });

  it('groups every submission of one event-loop turn, even when the processor is idle', async () => {
    const processor = new GatedProcessor();
    const queue = new GroupCommitQueue(processor.process, limits);
    const outcomes = [1, 2, 3].map((job) => queue.submit(job));
    await processor.release();
    expect(await Promise.all(outcomes)).toEqual(['done 1', 'done 2', 'done 3']);
    expect(processor.groups).toEqual([[1, 2, 3]]);
  });

  it('keeps one job’s failure to that job', async () => {
    const processor = new GatedProcessor();
    const queue = new GroupCommitQueue(processor.process, limits);
    const first = queue.submit(1);
    const failing = expect(queue.submit(-2)).rejects.toThrow('job -2 failed');
    const third = queue.submit(3);
    await processor.release();
    expect(processor.groups).toEqual([[1, -2, 3]]);
    await expect(first).resolves.toBe('done 1');
    await failing;
    await expect(third).resolves.toBe('done 3');
  });

  it('bounds a group by weight', async () => {
    const processor = new GatedProcessor();
    const queue = new GroupCommitQueue(processor.process, { ...limits, maxGroupWeight: 10 }, (job) => job);
    const outcomes = [1, 6, 4, 3, 2].map((job) => queue.submit(job));
    await processor.release();
    await processor.release();
    await Promise.all(outcomes);
    expect(processor.groups).toEqual([
      [1, 6],
      [4, 3, 2],
    ]);
  });

  it('makes a submission wait for room, then fails it with QueueFullError after the submit timeout', async () => {
    const processor = new GatedProcessor();
    const queue = new GroupCommitQueue(processor.process, { ...limits, capacity: 2, submitTimeoutMs: 50 });
    const running = queue.submit(1);
    await nextTurn();
    const waiting = [queue.submit(2), queue.submit(3)];
    expect(queue.depth).toBe(2);
    const started = Date.now();
    await expect(queue.submit(4)).rejects.toBeInstanceOf(QueueFullError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    await processor.release();
    await processor.release();
    await expect(Promise.all([running, ...waiting])).resolves.toEqual(['done 1', 'done 2', 'done 3']);
  });

  it('refuses at once when as many submissions already wait for room as the queue holds', async () => {
    const processor = new GatedProcessor();
    const queue = new GroupCommitQueue(processor.process, { ...limits, capacity: 2, submitTimeoutMs: 5000 });
    const accepted = [queue.submit(1)];
    await nextTurn();
    accepted.push(queue.submit(2), queue.submit(3));
    const waiting = [4, 5].map((job) => queue.submit(job));
    expect(queue.blockedSubmitters).toBe(2);
    const started = Date.now();
    await expect(queue.submit(6)).rejects.toBeInstanceOf(QueueFullError);
    expect(Date.now() - started).toBeLessThan(50);
    for (let group = 0; group < 3; group += 1) {
      await processor.release();
    }
    await expect(Promise.all([...accepted, ...waiting])).resolves.toEqual(['done 1', 'done 2', 'done 3', 'done 4', 'done 5']);
  });

  it('admits a waiting submission as soon as room frees up, in order', async () => {
    const processor = new GatedProcessor();
    const queue = new GroupCommitQueue(processor.process, { ...limits, capacity: 1 });
    const first = queue.submit(1);
    await nextTurn();
    const second = queue.submit(2);
    const third = queue.submit(3);
    expect(queue.depth).toBe(1);
    expect(queue.blockedSubmitters).toBe(1);
    await processor.release();
    await processor.release();
    await processor.release();
    await expect(Promise.all([first, second, third])).resolves.toEqual(['done 1', 'done 2', 'done 3']);
    expect(processor.groups).toEqual([[1], [2], [3]]);
  });

  it('answers ProcessingTimeoutError when a job takes too long, and still completes the job', async () => {
    const processor = new GatedProcessor();
    const queue = new GroupCommitQueue(processor.process, { ...limits, processingTimeoutMs: 30 });
    await expect(queue.submit(1)).rejects.toBeInstanceOf(ProcessingTimeoutError);
    await processor.release();
    expect(processor.groups).toEqual([[1]]);
    expect(processor.active).toBe(0);
  });

  it('refuses submissions once closed, after draining everything accepted', async () => {
    const processor = new GatedProcessor();
    const queue = new GroupCommitQueue(processor.process, limits);
    const accepted = [queue.submit(1)];
    await nextTurn();
    accepted.push(queue.submit(2));
    let closed = false;
    const closing = queue.close().then(() => (closed = true));
    await expect(queue.submit(3)).rejects.toBeInstanceOf(QueueClosedError);
    await processor.release();
    expect(closed).toBe(false);
    await processor.release();
    await closing;
    await expect(Promise.all(accepted)).resolves.toEqual(['done 1', 'done 2']);
  });

  it('fails every job of a group whose processor throws, and carries on', async () => {
    let calls = 0;
    const queue = new GroupCommitQueue<number, number>((jobs) => {
      calls += 1;
      return calls === 1 ? Promise.reject(new Error('database down')) : Promise.resolve(jobs.map((job) => ({ ok: true as const, value: job })));
    }, limits);
    await expect(queue.submit(1)).rejects.toThrow('database down');
    await expect(queue.submit(2)).resolves.toBe(2);
  });
});
