/**
 * The README's "Dashboard and alarms" lists (between <!-- monitoring:begin --> and
 * <!-- monitoring:end -->), rendered from the same definitions the dashboard and the alarms are
 * built from (constructs/dashboard.ts, alarms.ts), for one pipeline stack. `npm run docs:monitoring`
 * writes it for config/default.json; __tests__/stacks/monitoring.test.ts checks the README is current.
 */
import { alarmSpecs, ALARM_PERIOD_SECONDS } from "./constructs/alarms";
import { dashboardWidgets } from "./constructs/dashboard";
import type { MetricRef, MonitoredPipeline } from "./constructs/monitored";

export const MONITORING_BEGIN = "<!-- monitoring:begin -->";
export const MONITORING_END = "<!-- monitoring:end -->";

const metricText = (m: MetricRef) =>
  `\`${m.namespace} ${m.name}\` (${m.of ? `${m.of}, ` : ""}${m.statistic}${extraDims(m)})`;

/** Dimensions worth naming: ResourceType and Reason values (the others are the stack's own). */
function extraDims(m: MetricRef): string {
  const shown = Object.entries(m.dimensions).filter(([k]) => k === "ResourceType" || k === "Reason");
  return shown.map(([k, v]) => `, ${k}=${v}`).join("");
}

export function monitoringReadmeBlock(p: MonitoredPipeline): string {
  const widgets = dashboardWidgets(p).map(
    (w, i) =>
      `${i + 1}. **${w.title}** (${w.unit}): ${w.lines.map((l) => `${l.label}: ${metricText(l.metric)}`).join("; ")}`,
  );
  const alarms = alarmSpecs(p).map((a) => {
    const op = a.comparison === "GreaterThanThreshold" ? ">" : "≥";
    const what = a.metrics.length === 1 ? metricText(a.metrics[0]!) : `SUM of ${summed(a.metrics.map(metricText))}`;
    return `| \`${p.name}-${a.id}\` | ${what} ${op} ${a.threshold} | ${a.description} |`;
  });
  return [
    `Dashboard \`${p.name}-pipeline\`, widgets in order (${p.region}, 5-minute points):`,
    "",
    ...widgets,
    "",
    `Alarms (one ${ALARM_PERIOD_SECONDS / 60}-minute period, missing data = not breaching, ALARM and OK to the notification topic):`,
    "",
    "| alarm | when | meaning |",
    "|---|---|---|",
    ...alarms,
  ].join("\n");
}

/** The texts in order, a text that repeats (the same metric of several functions) once with its count. */
function summed(texts: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const t of texts) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].map(([t, n]) => (n === 1 ? t : `${t} × ${n}`)).join(", ");
}

export function replaceMonitoringBlock(readme: string, block: string): string {
  const begin = readme.indexOf(MONITORING_BEGIN);
  const end = readme.indexOf(MONITORING_END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no ${MONITORING_BEGIN} … ${MONITORING_END} block`);
  return `${readme.slice(0, begin + MONITORING_BEGIN.length)}\n${block}\n${readme.slice(end)}`;
}
