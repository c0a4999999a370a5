/**
 * Loaded with `-r` into a spawned service process (see spawnGatedService): while the test keeps
 * the gate closed, every write transaction stops after its statements and before its COMMIT, so
 * the test can hold changes that are written but not committed, and requests that are accepted
 * but not answered, for as long as it needs: to send a signal, to kill the process, to see what
 * the service answers meanwhile. The test drives the gate over the IPC channel.
 */
import 'reflect-metadata';
import type { GroupWrites, InventoryRepository, InventoryWriteTransaction } from '../../src/inventory/persistence/inventory.repository';
import { PostgresInventoryRepository } from '../../src/inventory/persistence/postgres-inventory.repository';
import { SqliteInventoryRepository } from '../../src/inventory/persistence/sqlite-inventory.repository';
import type { WriteGateCommand, WriteGateReport } from './write-gate';

let closedGate: { readonly opened: Promise<void>; readonly open: () => void } | undefined;

function report(message: WriteGateReport): void {
  process.send?.(message);
}

process.on('message', (message: WriteGateCommand) => {
  if (message.writeGate === 'close') {
    if (closedGate === undefined) {
      let open = () => undefined as void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      closedGate = { opened, open };
    }
    report({ writeGate: 'closed' });
  } else if (message.writeGate === 'open') {
    closedGate?.open();
    closedGate = undefined;
    report({ writeGate: 'opened' });
  }
});
// The channel must not keep a service alive that would otherwise exit.
process.channel?.unref();

type Write = InventoryRepository['write'];

function gated(original: Write): Write {
  return function gatedWrite<T>(this: InventoryRepository, work: (transaction: InventoryWriteTransaction) => Promise<T>): Promise<T> {
    return original.call(this, async (transaction: InventoryWriteTransaction) => {
      let written: GroupWrites | undefined;
      const recording: InventoryWriteTransaction = {
        claimIdempotencyKeys: (claims, now, expiresAt) => transaction.claimIdempotencyKeys(claims, now, expiresAt),
        findIdempotencyRecords: (keys) => transaction.findIdempotencyRecords(keys),
        lockReservations: (ids) => transaction.lockReservations(ids),
        lockLevels: (levels, now) => transaction.lockLevels(levels, now),
        writeGroup: (writes) => {
          written = writes;
          return transaction.writeGroup(writes);
        },
      };
      const result = await work(recording);
      const gate = closedGate;
      if (gate !== undefined) {
        report({ writeGate: 'held', keys: (written?.completions ?? []).map((completion) => completion.key) });
        await gate.opened;
      }
      return result;
    }) as Promise<T>;
  };
}

SqliteInventoryRepository.prototype.write = gated(SqliteInventoryRepository.prototype.write);
PostgresInventoryRepository.prototype.write = gated(PostgresInventoryRepository.prototype.write);
