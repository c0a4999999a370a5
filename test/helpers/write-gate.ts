import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { type ServiceProcess, spawnService } from './service-process';
import { waitFor } from './wait';

/** Sent to the service process. */
export type WriteGateCommand = { readonly writeGate: 'close' } | { readonly writeGate: 'open' };

/** Sent by the service process: acknowledgements, and each transaction the closed gate holds. */
export type WriteGateReport =
  | { readonly writeGate: 'closed' }
  | { readonly writeGate: 'opened' }
  /** A transaction wrote everything and waits before its COMMIT; `keys` are the idempotency keys it answers. */
  | { readonly writeGate: 'held'; readonly keys: readonly string[] };

/** The preload, for a test that combines it with others (see spawnGatedService). */
export const WRITE_GATE_PRELOAD = join(__dirname, 'write-gate.preload.ts');

/** The test's end of the gate in a service process started by spawnGatedService. */
export class WriteGate {
  private readonly reports: WriteGateReport[] = [];

  constructor(private readonly child: ChildProcess) {
    child.on('message', (message: WriteGateReport) => this.reports.push(message));
  }

  /** Every transaction held since the gate was last closed, in the order they reached it. */
  get held(): ReadonlyArray<{ readonly keys: readonly string[] }> {
    const lastClose = this.reports.map((report) => report.writeGate).lastIndexOf('closed');
    return this.reports.slice(lastClose + 1).flatMap((report) => (report.writeGate === 'held' ? [report] : []));
  }

  /** Resolves once the service confirmed: from now on no transaction commits until open(). */
  close(): Promise<void> {
    return this.command('close', 'closed');
  }

  open(): Promise<void> {
    return this.command('open', 'opened');
  }

  /** Resolves with the first transaction held since the gate closed. */
  firstHeld(timeoutMs = 15_000): Promise<{ readonly keys: readonly string[] }> {
    return waitFor('a write transaction held at the gate', () => this.held[0], { timeoutMs });
  }

  private async command(command: WriteGateCommand['writeGate'], acknowledgement: WriteGateReport['writeGate']): Promise<void> {
    const before = this.reports.length;
    this.child.send({ writeGate: command } satisfies WriteGateCommand);
    await waitFor(`the service to acknowledge "${command}"`, () => this.reports.slice(before).some((report) => report.writeGate === acknowledgement), {
      timeoutMs: 15_000,
    });
  }
}

/** A service process whose write transactions the test can hold before they commit. */
export async function spawnGatedService(env: Record<string, string>): Promise<{ service: ServiceProcess; gate: WriteGate }> {
  const service = await spawnService(env, { preload: [WRITE_GATE_PRELOAD], ipc: true });
  return { service, gate: new WriteGate(service.child) };
}

/** Updates waiting in a service's queue (not counting the group in its transaction), from its metrics. */
export async function queueDepth(service: ServiceProcess): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const match = /^inventory_queue_depth (\d+)$/m.exec(text);
  if (match === null) {
    throw new Error('no inventory_queue_depth in /metrics');
  }
  return Number(match[1]);
}
