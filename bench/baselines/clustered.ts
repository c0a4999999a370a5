import cluster from 'node:cluster';

/**
 * Runs a baseline in WORKERS processes sharing its port, as the service's WORKERS does, so a
 * ceiling is measured with as many processes as the service it is compared with. `start` listens
 * and resolves with the port; "ready <port>" is printed once every process listens.
 */
export function serveClustered(start: () => Promise<number>): void {
  const workers = Number(process.env.WORKERS ?? 1);
  if (workers > 1 && cluster.isPrimary) {
    const ports: number[] = [];
    for (let index = 0; index < workers; index += 1) {
      cluster.fork().on('message', (message: { ready?: number }) => {
        if (message.ready !== undefined && ports.push(message.ready) === workers) {
          // Workers listening on port 0 share one port (node:cluster hands them the same one).
          console.log(`ready ${ports[0]}`);
        }
      });
    }
    process.once('SIGTERM', () => {
      cluster.on('exit', () => Object.keys(cluster.workers ?? {}).length === 0 && process.exit(0));
      Object.values(cluster.workers ?? {}).forEach((worker) => worker?.process.kill('SIGTERM'));
    });
    return;
  }
  void start().then((port) => (cluster.isWorker ? process.send!({ ready: port }) : console.log(`ready ${port}`)));
}
