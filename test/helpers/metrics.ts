import type { TestApp } from './test-app';

/** The value of one Prometheus sample (undefined when absent). */
export function metricSample(text: string, metric: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([name, value]) => `${name}="${value}"`);
  for (const line of text.split('\n')) {
    if ((line.startsWith(`${metric}{`) || line.startsWith(`${metric} `)) && wanted.every((label) => line.includes(label))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

export async function metricsOf(app: TestApp): Promise<string> {
  return (await app.http().get('/metrics').expect(200)).text;
}
