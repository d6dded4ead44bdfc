/** `watchfloor users ...` and `watchfloor audit verify`: local users and the audit chain, on the data directory. */
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, locksInFile, MQTT_LOGIN_LOCKS_FILE, randomSecret, systemClock, unlockInFile } from '../core/index.ts';
import { AuditLog, verifyAuditFile } from './audit.ts';
import { LOGIN_LOCKS_FILE } from './password-gate.ts';
import { Role, UserBook, Username } from './users.ts';

const USERS_HELP = `Usage: watchfloor users COMMAND [--config FILE] ...

  users list                                        every user (never a hash), one a line, tab-separated:
                                                    name, role, source (local, or directory for
                                                    LDAP sign-ins), enabled|disabled, last sign-in
                                                    (ISO time; "-" when not recorded: local users)
  users add NAME --role admin|noc|soc|viewer [--password-stdin]
  users passwd NAME [--password-stdin]              set a new password and end the user's sessions
  users disable NAME                                refuse the user's logins and end their sessions
  users enable NAME                                 allow the user again
  users unlock NAME [--source ADDR]                 lift the lockouts of NAME after failed passwords,
                                                    at the HTTP doors and of the MQTT account NAME
                                                    (from every address, or only ADDR, whose own
                                                    address-wide lock goes too)
  users locks                                       the lockouts in force (http or mqtt)

Without --password-stdin a password is generated and printed once. A running server sees the
change at the user's next request. Every change is written to the audit log.

Failed passwords (login form, /query) lock the user from that address only, 1 min after 5
failures, doubling at each further failure up to 15 min; an address failing 20 times against any
users is locked as a whole (5 min, doubling up to 1 h). Locks are kept in login-locks.json.
MQTT accounts are locked the same way at the broker, in mqtt-login-locks.json.
`;

const AUDIT_HELP = `Usage: watchfloor audit verify [--config FILE]

Checks the audit log (audit.jsonl under the data directory): every entry well-formed, in sequence,
chained to the one before by its hash, and hashing to what it says. Exit code 0 when intact, 1 with
the first line that is not. Prints the head hash: keep it elsewhere to detect a truncated tail.
`;

async function readStdin(): Promise<string> {
  let data = '';
  for await (const chunk of process.stdin) data += String(chunk);
  return data.split('\n')[0]?.trim() ?? '';
}

const cliActor = (): string => {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
};

/**
 * What the CLI gives the commands: the data directory's format check (cli/data-dir.ts), which throws
 * for a directory this version cannot read; the CLI owns the format, so ops-server does not import it.
 */
export interface DataDirGuard {
  checkDataDir(dir: string): void;
}

/** Runs `watchfloor users ...`; returns the exit code. */
export async function runUsersCommand(args: string[], guard: DataDirGuard): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      role: { type: 'string' },
      source: { type: 'string' },
      'password-stdin': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, name] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USERS_HELP);
    return values.help ? 0 : 2;
  }
  const fail = (message: string, code = 2): number => {
    process.stderr.write(`watchfloor users: ${message}\n`);
    return code;
  };
  const { dataDir } = loadConfig(values.config).config;
  guard.checkDataDir(dataDir);
  const users = new UserBook(join(dataDir, 'users.json'));
  const auditLog = new AuditLog(systemClock, join(dataDir, 'audit.jsonl'));
  const record = (action: string, target: string, detail?: Record<string, unknown>): void => {
    auditLog.append({ action, target, detail, actor: cliActor(), source: 'cli' });
  };
  if (command === 'list') {
    // Fixed columns, so `cut -f` and awk read them; a directory user's role is the one their groups gave at the last sign-in.
    for (const u of users.list()) {
      const lastLogin = u.lastLoginAt !== undefined ? new Date(u.lastLoginAt).toISOString() : '-';
      process.stdout.write(`${u.username}\t${u.role}\t${u.source}\t${u.disabled ? 'disabled' : 'enabled'}\t${lastLogin}\n`);
    }
    return 0;
  }
  // The HTTP doors' locks and the broker's: one model (core/login-guard.ts), two files, so a name
  // shared by a user and an MQTT account keeps two separate tallies.
  const locksFiles = { http: join(dataDir, LOGIN_LOCKS_FILE), mqtt: join(dataDir, MQTT_LOGIN_LOCKS_FILE) };
  if (command === 'locks') {
    for (const [door, file] of Object.entries(locksFiles)) {
      for (const l of locksInFile(file, Date.now())) {
        process.stdout.write(`${door}\t${l.scope === 'pair' ? l.account : '*'}\t${l.source}\tuntil ${new Date(l.lockedUntil).toISOString()}\tlock ${l.strikes}\n`);
      }
    }
    return 0;
  }
  if (!['add', 'passwd', 'disable', 'enable', 'unlock'].includes(command)) return fail(`unknown command "${command}"\n\n${USERS_HELP}`);
  if (name === undefined) return fail(`${command} needs a user name`);
  const username = Username.safeParse(name);
  if (!username.success) return fail(`"${name}": ${username.error.issues[0]?.message ?? 'not a valid user name'}`);

  const password = async (): Promise<{ value: string; generated: boolean } | string> => {
    if (!values['password-stdin']) return { value: randomSecret(12), generated: true };
    const value = await readStdin();
    return value.length >= 10 ? { value, generated: false } : 'the password must have at least 10 characters';
  };

  if (command === 'add') {
    const role = Role.safeParse(values.role);
    if (!role.success) return fail('--role must be one of admin, noc, soc, viewer');
    if (users.get(name)) return fail(`user "${name}" already exists (use passwd to change the password)`, 1);
    const p = await password();
    if (typeof p === 'string') return fail(p);
    await users.add(name, role.data, p.value, Date.now());
    record('user.create', name, { role: role.data });
    process.stdout.write(p.generated ? `user "${name}" (${role.data}) added; password (shown once): ${p.value}\n` : `user "${name}" (${role.data}) added\n`);
    return 0;
  }
  if (command === 'unlock') {
    // Any name: a sprayer's locks name users that do not exist.
    const http = unlockInFile(locksFiles.http, name, values.source);
    const mqtt = unlockInFile(locksFiles.mqtt, name, values.source);
    const cleared = { pairs: http.pairs + mqtt.pairs, sources: http.sources + mqtt.sources };
    record('user.unlock', name, { ...(values.source !== undefined ? { source: values.source } : {}), pairs: cleared.pairs, sources: cleared.sources });
    const n = cleared.pairs + cleared.sources;
    process.stdout.write(n === 0 ? `no lockout of "${name}"${values.source !== undefined ? ` from ${values.source}` : ''}\n` : `lifted ${n} lockout${n === 1 ? '' : 's'} of "${name}"${values.source !== undefined ? ` from ${values.source}` : ''}\n`);
    return 0;
  }
  if (!users.get(name)) return fail(`no user "${name}"`, 1);
  if (command === 'passwd') {
    const p = await password();
    if (typeof p === 'string') return fail(p);
    await users.setPassword(name, p.value);
    // The user's sessions end too: a running server checks each session's credential stamp at every request.
    record('user.passwd', name, { sessionsEnded: true });
    process.stdout.write(p.generated ? `new password for "${name}" (shown once): ${p.value}\n` : `password for "${name}" changed\n`);
    process.stdout.write(`the sessions of "${name}" end at their next request\n`);
    return 0;
  }
  const disabled = command === 'disable';
  users.setDisabled(name, disabled);
  record(disabled ? 'user.disable' : 'user.enable', name);
  process.stdout.write(`user "${name}" ${disabled ? 'disabled' : 'enabled'}\n`);
  return 0;
}

/** Runs `watchfloor audit verify`; returns the exit code. */
export function runAuditCommand(args: string[], guard: DataDirGuard): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help || positionals[0] !== 'verify') {
    process.stdout.write(AUDIT_HELP);
    return values.help ? 0 : 2;
  }
  const { dataDir } = loadConfig(values.config).config;
  guard.checkDataDir(dataDir);
  const file = join(dataDir, 'audit.jsonl');
  const verdict = verifyAuditFile(file);
  if (!verdict.ok) {
    process.stderr.write(`watchfloor audit: ${file} line ${verdict.error?.line}: ${verdict.error?.reason}; the ${verdict.entries} entries before it verify\n`);
    return 1;
  }
  process.stdout.write(`audit log intact: ${verdict.entries} entries, head ${verdict.head || '(empty)'}\n`);
  return 0;
}
