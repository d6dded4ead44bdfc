// npm run bench [-- NAME ...]: runs each benchmark in its own process, one after another, and
// prints their figures. Nothing here passes or fails on time. Figures are kept in BENCHMARKS.md.
import { spawnSync } from 'node:child_process';

const BENCHES: Record<string, { file: string; what: string }> = {
  e2e: { file: 'bench/e2e.ts', what: 'MQTT publish to stored value and to the socket.io alert; product RSS (issue 2)' },
  broker: { file: 'bench/broker.ts', what: 'broker throughput beside bare aedes and Mosquitto; 10,000 idle connections (issue 3)' },
  snmp: { file: 'bench/snmp.ts', what: 'varbinds/s polled, 1,000 simulated devices, traps/s (issue 4)' },
  rules: { file: 'bench/rules.ts', what: 'rules engine alone: 1,000 rules over 100,000 series (issue 5)' },
  store: { file: 'bench/store.ts', what: 'embedded engine, tiers, queries, bytes per point beside VictoriaMetrics (issues 2, 6)' },
  http: { file: 'bench/http.ts', what: 'REST requests/s and socket.io fan-out (issue 7)' },
  ui: { file: 'bench/ui.ts', what: 'the page in Chromium with 1,000 sensors updating each second (issue 8)' },
  sigma: { file: 'bench/sigma.ts', what: 'Sigma engine alone: real syslog lines against 104 rules (issue 15, matching part)' },
  security: { file: 'bench/security.ts', what: 'MQTT memory before authentication under 200 MiB CONNECTs; /query basic auth with the credential cache beside a token (issues 12, 13)' },
  checks: { file: 'bench/checks.ts', what: 'HTTP service checks/min, scheduling lag, RSS; an fping sweep of the same targets (issue 16)' },
  logs: { file: 'bench/logs.ts', what: 'log store: insert rate and full-text search of one IP over 1 M lines (--lines N for more; issue 15)' },
  write: { file: 'bench/write.ts', what: 'line protocol through /api/v2/write in batches of 5,000, stored, beside influxd 1.x and victoria-metrics (issue 17)' },
  syslog: { file: 'bench/syslog.ts', what: 'syslog lines parsed, matched against 100 Sigma rules and stored over TCP and UDP, beside rsyslogd; line -> alert latency; RSS (issue 15)' },
};

const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = asked.filter((name) => !BENCHES[name]);
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
const runner = new URL('../bin/run-ts.js', import.meta.url).pathname;
for (const name of asked.length > 0 ? asked : Object.keys(BENCHES)) {
  const bench = BENCHES[name] as { file: string; what: string };
  console.log(`\n=== ${name}: ${bench.what}\n    node bin/run-ts.js ${bench.file}\n`);
  const r = spawnSync(process.execPath, [runner, bench.file], { stdio: 'inherit' });
  if (r.status !== 0) console.log(`(${name} ended with exit code ${r.status}; its figures above are partial)`);
}
