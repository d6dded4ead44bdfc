/** `watchfloor devices ...`: MQTT credentials for devices, collectors and admins, on the data directory's credential book. */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MqttAccounts } from '../broker/index.ts';
import { loadConfig, randomSecret } from '../core/index.ts';
import { checkDataDir } from './data-dir.ts';
import { RegisteredDevices } from './registered-devices.ts';
import { packageVersion } from './version.ts';

const HELP = `Usage: watchfloor devices COMMAND [--config FILE] ...

  devices list                                   every MQTT account (never a password)
  devices passwd DEVICE_ID [--password-stdin]    set or rotate a device's password
  devices collector NAME (--devices ID,ID|* | --kinds KIND,KIND) [--password-stdin]
                                                 a collector account publishing for those devices
  devices admin NAME [--password-stdin]          an admin account ($SYS, every device topic, read only)
  devices remove NAME                            remove an account

Without --password-stdin a password is generated and printed once. A running broker picks the
change up at the next CONNECT and closes the sessions opened with the old credentials.
`;

async function readStdin(): Promise<string> {
  let data = '';
  for await (const chunk of process.stdin) data += String(chunk);
  return data.split('\n')[0]?.trim() ?? '';
}

/** Runs `watchfloor devices ...`; returns the exit code. */
export async function runDevicesCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      'password-stdin': { type: 'boolean', default: false },
      devices: { type: 'string' },
      kinds: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, name] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(HELP);
    return values.help ? 0 : 2;
  }
  const loaded = loadConfig(values.config);
  // A data directory of a newer format is refused before its accounts file is read or written.
  checkDataDir(loaded.config.dataDir, packageVersion);
  const accounts = new MqttAccounts(join(loaded.config.dataDir, 'mqtt-accounts.json'));
  const fail = (message: string): number => {
    process.stderr.write(`watchfloor devices: ${message}\n`);
    return 2;
  };
  if (command === 'list') {
    for (const a of accounts.list()) {
      const grants = a.role === 'collector' ? `  devices=${a.devices === '*' ? '*' : (a.devices ?? []).join(',')}${a.kinds ? ` kinds=${a.kinds.join(',')}` : ''}` : '';
      process.stdout.write(`${a.username}\t${a.role}${grants}\n`);
    }
    return 0;
  }
  if (!name) return fail(`"${command}" needs a name`);
  if (/[/+#\s]/.test(name) || name.startsWith('$')) return fail(`"${name}": no "/", "+", "#", spaces or leading "$" in an MQTT username`);
  if (command === 'remove') return accounts.remove(name) ? 0 : fail(`no MQTT account "${name}"`);

  const password = values['password-stdin'] ? await readStdin() : randomSecret();
  if (password.length < 8) return fail('the password needs at least 8 characters');
  if (command === 'passwd') {
    const known = loaded.inventory.devices.some((d) => d.id === name) || new RegisteredDevices(join(loaded.config.dataDir, 'devices.json')).all().some((d) => d.id === name);
    if (!known) return fail(`no device "${name}" in the inventory`);
    await accounts.setDevicePassword(name, password);
  } else if (command === 'collector') {
    const list = (s: string | undefined): string[] | undefined => s?.split(',').map((x) => x.trim()).filter(Boolean);
    if (!values.devices && !values.kinds) return fail('a collector needs --devices ID,ID (or *) or --kinds KIND,KIND');
    await accounts.setCollector(name, password, values.devices === '*' ? '*' : (list(values.devices) ?? []), list(values.kinds));
  } else if (command === 'admin') {
    await accounts.setAdmin(name, password);
  } else {
    return fail(`unknown command "${command}"\n\n${HELP}`);
  }
  process.stdout.write(values['password-stdin'] ? `${name}: credentials set\n` : `${name}: password (shown once): ${password}\n`);
  return 0;
}
