import { parseArgs } from 'node:util';
import { ConfigError, createLogger, loadConfig } from '../core/index.ts';
import { runSimulateCommand } from '../simulators/index.ts';
import { runRulesCommand } from '../rules/index.ts';
import { runSigmaLint, runSigmaTest } from './sigma-command.ts';
import { runDashboardsCommand } from '../dashboards/index.ts';
import { SyslogCollector } from '../collectors/index.ts';
import { rulesFor, startWatchfloor, type Watchfloor } from './app.ts';
import { runDevicesCommand } from './devices-command.ts';
import { runInventoryCommand } from './inventory-command.ts';
import { runAuditCommand, runUsersCommand } from '../ops-server/index.ts';
import { serveBroker } from '../broker/index.ts';
import { runConfigCommand } from './config-check.ts';
import { packageVersion } from './version.ts';
import { checkDataDir } from './data-dir.ts';

const HELP = `watchfloor: an operations center for a data center and its networks (NOC + SOC)

Usage:
  watchfloor start [--config FILE] [--simulate]   run the whole product in one process
  watchfloor start --role broker [--config FILE]  run only the MQTT broker (a node of a Redis-clustered broker)
  watchfloor simulate SCENARIO --broker URL       play the sample data center's sensors (scenarios: normal, crac-failure)
  watchfloor rules test FILE...                   run rule tests on a virtual clock (like promtool test rules)
  watchfloor rules test --sigma RULES --lines FILE   replay sample log lines through Sigma rules
  watchfloor rules lint PATH...                   load Sigma rules, print "N of M rules loaded" and why the rest cannot run
  watchfloor devices list|passwd|collector|admin|remove   MQTT credentials (see devices --help)
  watchfloor inventory import FILE [--apply] | export [--out FILE] | remove ID   bulk import (CSV, NetBox), YAML export
  watchfloor dashboards export DIR | import FILE   Grafana JSON out (built-in dashboards) and in
  watchfloor users add|passwd|disable|enable|list|unlock|locks  local users of the ops server (see users --help)
  watchfloor audit verify                         check the audit log's hash chain
  watchfloor config check FILE                    validate a config as start would, without starting
  watchfloor --version                            print the version
  watchfloor COMMAND --help                       help on one command

Environment: WATCHFLOOR_ADMIN_PASSWORD, WATCHFLOOR_HTTP_PORT (8080), WATCHFLOOR_MQTT_PORT (1883),
WATCHFLOOR_SNMP_TRAP_PORT (1162), WATCHFLOOR_DATA_DIR (./data); a variable overrides the config file.
`;

const START_HELP = `Usage: watchfloor start [--config FILE] [--simulate] [--role all|broker]

  --config FILE   YAML or JSON configuration (default: the bundled sample data center)
  --simulate      also run the sample sensor fleet against the product's own broker
  --role ROLE     all (default): the whole product; broker: only the MQTT broker, e.g. several
                  processes on one Redis (mqtt.persistence: redis, mqtt.redis.url)
`;

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, simulate: { type: 'boolean', default: false }, role: { type: 'string', default: 'all' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(START_HELP);
    return 0;
  }
  if (values.role === 'broker') return startBrokerRole(values.config);
  if (values.role !== 'all') {
    process.stderr.write(`watchfloor: --role "${values.role}": expected all or broker\n\n${START_HELP}`);
    return 2;
  }
  const logger = createLogger();
  const loaded = loadConfig(values.config);
  const { config } = loaded;
  const app = await startWatchfloor({
    config,
    inventory: loaded.inventory,
    rules: rulesFor(config, loaded.baseDir),
    rulesSource: () => rulesFor(config, loaded.baseDir),
    logger,
    adminPassword: process.env.WATCHFLOOR_ADMIN_PASSWORD || undefined,
  });
  const simulate = values.simulate || config.simulate;
  if (simulate) await app.startSimulation({ attacker: true });

  const host = config.http.host === '0.0.0.0' ? 'localhost' : config.http.host;
  const lines = [
    '',
    `  Watchfloor is running: http://${host}:${app.httpPort}/`,
    `  MQTT broker: mqtt://${config.mqtt.host}:${app.mqttPort}   data: ${config.dataDir}`,
    syslogLine(app.collectors, config.syslog.host),
    app.generatedAdminPassword
      ? `  Log in as "admin" with password: ${app.generatedAdminPassword}   (shown once; set WATCHFLOOR_ADMIN_PASSWORD to choose it)`
      : '  Log in as "admin" (password from WATCHFLOOR_ADMIN_PASSWORD when it was first created)',
    simulate ? `  Simulated sample data center: ${app.estate.devices.size} devices publishing. Try: watchfloor simulate crac-failure --broker mqtt://127.0.0.1:${app.mqttPort}` : '',
    '',
  ];
  process.stdout.write(lines.filter((l, i) => l !== '' || i === 0 || i === lines.length - 1).join('\n') + '\n');

  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await app.stop();
  return 0;
}

/** `watchfloor start --role broker`: the broker alone, until SIGINT or SIGTERM. */
async function startBrokerRole(configFile: string | undefined): Promise<number> {
  const logger = createLogger();
  const loaded = loadConfig(configFile);
  // A broker node may run beside the product on the same directory: it refuses a newer format, and
  // leaves migrating and stamping to `watchfloor start` (cli/data-dir.ts).
  checkDataDir(loaded.config.dataDir, packageVersion);
  const broker = await serveBroker({ config: loaded.config, inventory: loaded.inventory, logger });
  const { host, persistence } = loaded.config.mqtt;
  const tls = broker.tlsPort !== undefined ? `   mqtts://${host}:${broker.tlsPort}` : '';
  process.stdout.write(`\n  Watchfloor broker (role broker): mqtt://${host}:${broker.port}${tls}   persistence: ${persistence}\n\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  logger.info('stopping the broker');
  await broker.close();
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case 'rules':
      if (rest[0] === 'lint' && rest.length > 1 && !rest.includes('--help')) return runSigmaLint(rest.slice(1));
      if (rest[0] === 'test' && rest.includes('--sigma')) return runSigmaTest(rest.slice(1));
      return runRulesCommand(rest);
    case 'simulate':
      return runSimulateCommand(rest);
    case 'devices':
      return runDevicesCommand(rest);
    case 'inventory':
      return runInventoryCommand(rest);
    case 'dashboards':
      return runDashboardsCommand(rest);
    case 'users':
      return runUsersCommand(rest, { checkDataDir: (dir) => checkDataDir(dir, packageVersion) });
    case 'audit':
      return runAuditCommand(rest, { checkDataDir: (dir) => checkDataDir(dir, packageVersion) });
    case 'config':
      return runConfigCommand(rest);
    case '--version':
    case '-V':
    case 'version':
      process.stdout.write(`${packageVersion}\n`);
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(HELP);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`watchfloor: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`watchfloor: ${err.message}\n`);
      process.exit(1);
    }
    const e = err as { code?: string; message?: string };
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      process.stderr.write(`watchfloor: ${e.message}\n`);
      process.exit(2);
    }
    if (e.code === 'EADDRINUSE') {
      process.stderr.write(`watchfloor: ${e.message}: another program holds that port; set WATCHFLOOR_HTTP_PORT / WATCHFLOOR_MQTT_PORT\n`);
      process.exit(1);
    }
    process.stderr.write(`watchfloor: ${e.message ?? String(err)}\n`);
    process.exit(1);
  },
);

/** The banner's syslog line: where to send logs (README "Send logs"), empty when no listener is up. */
function syslogLine(collectors: Watchfloor['collectors'], host: string): string {
  const ports = collectors.find((c): c is SyslogCollector => c instanceof SyslogCollector)?.ports ?? {};
  const parts = [ports.udp !== undefined && `udp ${ports.udp}`, ports.tcp !== undefined && `tcp ${ports.tcp}`, ports.tls !== undefined && `tls ${ports.tls}`].filter(Boolean);
  return parts.length > 0 ? `  Syslog in on ${host}: ${parts.join(', ')}   (logger -n ${host} -P ${ports.udp ?? ports.tcp ?? ports.tls} 'hello')` : '';
}
