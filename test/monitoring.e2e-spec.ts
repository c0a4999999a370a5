import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { TEST_DIALECT } from './helpers/dialect';
import { postUpdate } from './helpers/inventory-client';
import { startApp, type TestApp } from './helpers/test-app';

const ROOT = join(__dirname, '..');
const DASHBOARD = join(ROOT, 'ops', 'grafana', 'inventory-dashboard.json');
const ALERTS = join(ROOT, 'ops', 'prometheus', 'alerts.yml');

/** Series Prometheus makes itself for every scrape target, never in a /metrics answer. */
const SYNTHETIC_SERIES = new Set(['up']);

/** PromQL words that are not metric names where they stand outside a call. */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'group_left', 'group_right', 'by', 'without', 'on', 'ignoring', 'inf', 'nan']);

/**
 * The metric names a PromQL expression (or a Grafana `label_values(…)` query) reads: what is left
 * once strings, label matchers, ranges, grouping clauses, Grafana variables, calls and keywords
 * are taken out.
 */
function metricNamesOf(expression: string): string[] {
  const labelValues = /^\s*label_values\((.*),\s*[a-zA-Z_]\w*\s*\)\s*$/s.exec(expression);
  const stripped = (labelValues === null ? expression : labelValues[1])
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\$\{?\w+\}?/g, '');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (match[2] === undefined && !KEYWORDS.has(match[1])) {
      names.add(match[1]);
    }
  }
  return [...names];
}

/** Every name a scrape exposes: each family's own, and a histogram's or summary's series too. */
function exposedNames(scrape: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    const suffixes = type === 'histogram' ? ['_bucket', '_sum', '_count'] : type === 'summary' ? ['_sum', '_count'] : [];
    suffixes.forEach((suffix) => names.add(`${name}${suffix}`));
  }
  return names;
}

interface Panel {
  readonly title: string;
  readonly type: string;
  readonly targets?: ReadonlyArray<{ readonly expr: string }>;
  readonly panels?: readonly Panel[];
}

interface Dashboard {
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: ReadonlyArray<{ readonly type: string; readonly query?: string | { readonly query: string } }> };
}

interface AlertRules {
  readonly groups: ReadonlyArray<{ readonly name: string; readonly rules: ReadonlyArray<Record<string, unknown>> }>;
}

function dashboardExpressions(dashboard: Dashboard): Array<{ where: string; expression: string }> {
  const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
  const fromPanels = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expression: target.expr })));
  const fromVariables = dashboard.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => ({ where: 'a dashboard variable', expression: typeof variable.query === 'string' ? variable.query : variable.query!.query }));
  return [...fromPanels, ...fromVariables];
}

describe('metricNamesOf', () => {
  it('finds the metrics of an expression, not its functions, labels, ranges or keywords', () => {
    expect(
      metricNamesOf(
        'histogram_quantile(0.99, sum by (instance, le) (rate(http_request_duration_seconds_bucket{route="/v1/x", method=~"P.*"}[$__rate_interval]))) > 0.5',
      ),
    ).toEqual(['http_request_duration_seconds_bucket']);
    expect(metricNamesOf('sum(a_total) == 0 and on (job) sum(max_over_time(b[1h] offset 5m)) > 1e3 unless bool c')).toEqual(['a_total', 'b', 'c']);
    expect(metricNamesOf('x{instance=~"$instance"} / ignoring (le) group_left y')).toEqual(['x', 'y']);
    expect(metricNamesOf('label_values(inventory_queue_depth, instance)')).toEqual(['inventory_queue_depth']);
  });
});

describe(`the Grafana dashboard and Prometheus alerts read metrics the service exposes (${TEST_DIALECT})`, () => {
  let app: TestApp;
  let exposed: Set<string>;
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  const alerts = parse(readFileSync(ALERTS, 'utf8')) as AlertRules;

  beforeAll(async () => {
    app = await startApp();
    // A little traffic first, though every family is listed (with its TYPE) before its first sample.
    await postUpdate(app, { storeId: 'store-1', productId: 'SKU-001', delta: 1, version: 12, idempotencyKey: 'monitoring-1' }).expect(200);
    exposed = exposedNames((await app.http().get('/metrics').expect(200)).text);
  });

  afterAll(async () => {
    await app.close();
  });

  const unknownIn = (expression: string) => metricNamesOf(expression).filter((name) => !exposed.has(name) && !SYNTHETIC_SERIES.has(name));

  it('the dashboard: every panel query and variable', () => {
    const expressions = dashboardExpressions(dashboard);
    expect(expressions.length).toBeGreaterThan(20);
    expect(expressions.filter(({ expression }) => metricNamesOf(expression).length === 0)).toEqual([]);
    expect(expressions.flatMap(({ where, expression }) => unknownIn(expression).map((name) => `${name} (${where})`))).toEqual([]);
  });

  it('the alert rules: each has an expression over exposed metrics, a severity and a summary', () => {
    const rules = alerts.groups.flatMap((group) => group.rules);
    expect(rules.length).toBeGreaterThan(5);
    for (const rule of rules) {
      expect(rule).toEqual(expect.objectContaining({ alert: expect.any(String), expr: expect.any(String), labels: expect.objectContaining({ severity: expect.stringMatching(/^(page|warning)$/) }) }));
      expect(rule.annotations).toEqual(expect.objectContaining({ summary: expect.any(String), description: expect.any(String) }));
    }
    expect(rules.flatMap((rule) => unknownIn(rule.expr as string).map((name) => `${name} (alert ${rule.alert as string})`))).toEqual([]);
  });

  it('would notice a metric that is not exposed', () => {
    expect(unknownIn('sum(rate(inventory_update_total[5m]))')).toEqual(['inventory_update_total']);
    expect(unknownIn('histogram_quantile(0.99, rate(inventory_queue_depth_bucket[5m]))')).toEqual(['inventory_queue_depth_bucket']);
  });
});
