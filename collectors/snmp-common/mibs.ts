/*
 * MIB files read with net-snmp's own parser (its ModuleStore, README "Module Store"), so that OIDs,
 * notifications and enumerations read by name: the poller's profiles name what they read
 * (`IF-MIB::ifHCInOctets`), and a trap of a loaded MIB arrives as its NOTIFICATION-TYPE's name.
 *
 * The modules net-snmp bundles are always there (SNMPv2-SMI/-TC/-CONF/-MIB, RFC1155-SMI, RFC-1212,
 * RFC-1215, RFC1213-MIB, and IANAifType-MIB + IF-MIB, which it ships but does not preload); the
 * user's files come from `snmp.mibsDir`. A file that cannot be read is logged with its reason and
 * skipped; the others still load.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { format } from 'node:util';
import snmp, { type MibEntry, type MibModule, type ModuleStore } from 'net-snmp';
import type { Logger } from '../../core/index.ts';

/** What a definition is, as the poller and the trap receiver need to tell. */
export type MibObjectKind = 'scalar' | 'table' | 'entry' | 'column' | 'notification' | 'node';

/** One named OID of a loaded module. */
export interface MibObject {
  readonly module: string;
  readonly name: string;
  readonly oid: string;
  readonly kind: MibObjectKind;
  /** INTEGER { up(1), down(2) }, directly or through a TEXTUAL-CONVENTION (TruthValue, IANAifType...). */
  readonly enumeration?: ReadonlyMap<number, string>;
  /** A notification's OBJECTS (SMIv2) or VARIABLES (SMIv1 TRAP-TYPE). */
  readonly objects?: readonly string[];
}

/** An OID read by name: the longest defined prefix and what follows it (the instance, "3" of ifOperStatus.3). */
export interface MibName {
  readonly object: MibObject;
  /** Empty when the OID is the object itself. */
  readonly instance: string;
  /** `IF-MIB::ifOperStatus.3` */
  readonly text: string;
}

/** A MIB file that did not load (`loaded: false`) or loaded with names left unresolved. */
export interface MibProblem {
  readonly file: string;
  readonly loaded: boolean;
  readonly reason: string;
}

/** A name or OID resolved: the OID, the object it is (or is an instance of), the instance ("" for the object itself). */
export interface MibOid {
  oid: string;
  object?: MibObject;
  instance: string;
}
export type MibResolved = MibOid | { error: string };

const DOTTED = /^\d+(\.\d+)*$/;
const NAME_REF = /^(?:([A-Za-z][A-Za-z0-9-]*)::)?([A-Za-z][A-Za-z0-9-]*)((?:\.\d+)*)$/;
/** Larger than any MIB a vendor ships (CISCO-*: under 1 MB); beyond it the file is refused unread. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
const ENUM_SYNTAX = new Set(['INTEGER', 'Integer32']);

/** The loaded modules' names, by OID and by name; built once, read by the poller's profiles and the trap decoder. */
export class MibLookup {
  private readonly byOid = new Map<string, MibObject>();
  private readonly byQualified = new Map<string, MibObject>();
  private readonly byName = new Map<string, MibObject[]>();

  constructor(
    objects: Iterable<MibObject>,
    /** Every module loaded, net-snmp's own first. */
    readonly modules: readonly string[],
    /** The user's files that loaded: file -> module. */
    readonly files: readonly { file: string; module: string }[],
    readonly problems: readonly MibProblem[],
  ) {
    // In load order: a later module that defines an OID again names it (IF-MIB over RFC1213-MIB, the user's over the bundled).
    for (const o of objects) {
      this.byOid.set(o.oid, o);
      this.byQualified.set(`${o.module}::${o.name}`, o);
      const same = this.byName.get(o.name);
      if (!same) this.byName.set(o.name, [o]);
      else same.push(o);
    }
  }

  get size(): number {
    return this.byQualified.size;
  }

  /** The object an OID is or is under (longest defined prefix): 1.3.6.1.2.1.2.2.1.8.3 is IF-MIB::ifOperStatus.3. */
  nameOf(oid: string): MibName | undefined {
    if (!DOTTED.test(oid)) return undefined;
    let prefix = oid;
    for (;;) {
      const object = this.byOid.get(prefix);
      if (object) {
        const instance = prefix.length === oid.length ? '' : oid.slice(prefix.length + 1);
        return { object, instance, text: `${object.module}::${object.name}${instance ? `.${instance}` : ''}` };
      }
      const dot = prefix.lastIndexOf('.');
      if (dot < 0) return undefined;
      prefix = prefix.slice(0, dot);
    }
  }

  /** The object defined at exactly this OID. */
  objectAt(oid: string): MibObject | undefined {
    return this.byOid.get(oid);
  }

  /**
   * An OID from a dotted OID or a name: `IF-MIB::ifHCInOctets`, `ifHCInOctets`, either with an instance
   * (`sysUpTime.0`). A bare name defined at different OIDs by two modules must be qualified.
   */
  resolve(ref: string): MibResolved {
    const text = ref.trim();
    if (DOTTED.test(text)) return { oid: text, object: this.byOid.get(text), instance: '' };
    const m = NAME_REF.exec(text);
    if (!m) return { error: `"${ref}" is neither a dotted OID nor a MIB name (IF-MIB::ifHCInOctets, ifHCInOctets)` };
    const [, module, name = '', suffix = ''] = m;
    let object: MibObject | undefined;
    if (module !== undefined) {
      object = this.byQualified.get(`${module}::${name}`);
      if (!object) {
        const loaded = this.modules.includes(module);
        return { error: loaded ? `unknown MIB name "${module}::${name}": module ${module} defines no "${name}"` : `unknown MIB name "${module}::${name}": no loaded MIB is module ${module} (its file goes in snmp.mibsDir)` };
      }
    } else {
      const candidates = this.byName.get(name) ?? [];
      const oids = new Set(candidates.map((c) => c.oid));
      if (oids.size === 0) return { error: `unknown MIB name "${name}": no loaded MIB defines it (its file goes in snmp.mibsDir)` };
      if (oids.size > 1) return { error: `ambiguous MIB name "${name}": defined by ${candidates.map((c) => `${c.module}::${c.name} (${c.oid})`).join(', ')}; name it MODULE::${name}` };
      const [first] = candidates as [MibObject];
      object = this.byOid.get(first.oid) ?? first;
    }
    if (!object) return { error: `unknown MIB name "${ref}"` };
    const instance = suffix.slice(1);
    return { oid: instance ? `${object.oid}.${instance}` : object.oid, object, instance };
  }

  /**
   * The notification a trap OID names: exactly, or in the SNMPv1 form RFC 3584 §3 gives a v2
   * notification whose next-to-last arc is not 0 (enterprise + ".0." + specific).
   */
  notification(trapOid: string): MibObject | undefined {
    const exact = this.byOid.get(trapOid);
    if (exact?.kind === 'notification') return exact;
    const m = /^(.*)\.0\.(\d+)$/.exec(trapOid);
    const v2 = m ? this.byOid.get(`${m[1]}.${m[2]}`) : undefined;
    return v2?.kind === 'notification' ? v2 : undefined;
  }

  /** An enumerated value by name (`down` for ifOperStatus 2); undefined when the object enumerates nothing or not this value. */
  label(object: MibObject | undefined, value: number): string | undefined {
    return object?.enumeration?.get(value);
  }

  /** The number an enumeration's name stands for (`battery` -> 5 for upsOutputSource). */
  valueOf(object: MibObject | undefined, label: string): number | undefined {
    for (const [n, l] of object?.enumeration ?? []) if (l === label) return n;
    return undefined;
  }
}

/** The modules net-snmp ships in lib/mibs but does not preload, in the order they import each other. */
const SHIPPED_EXTRA = ['IANAifType-MIB', 'IF-MIB'];

function shippedMibDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('net-snmp')), 'lib', 'mibs');
}

interface Candidate {
  file: string;
  module: string;
  imports: string[];
}

/** Module name and IMPORTS of a MIB file, read before the parser sees it (the parser has no error for "not a MIB"). */
function scan(file: string): Candidate | { error: string } {
  let text: string;
  try {
    if (statSync(file).size > MAX_FILE_BYTES) return { error: `larger than ${MAX_FILE_BYTES / 1024 / 1024} MB; not read` };
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { error: `cannot be read: ${(err as Error).message}` };
  }
  if (text.includes('\u0000')) return { error: 'not a text file' };
  const code = text.replace(/--.*$/gm, '');
  const heads = [...code.matchAll(/^\s*([A-Za-z][A-Za-z0-9-]*)\s+DEFINITIONS\s*::=\s*BEGIN\b/gm)];
  if (heads.length === 0) return { error: 'no MIB module in it ("NAME DEFINITIONS ::= BEGIN" not found)' };
  if (heads.length > 1) return { error: `it holds ${heads.length} modules (${heads.map((h) => h[1]).join(', ')}); net-snmp's parser reads one module a file: split it` };
  if (!/\bEND\s*$/.test(code.trimEnd())) return { error: 'no END at the end of the module: the file is cut short or malformed' };
  const importsText = /\bIMPORTS\b([\s\S]*?);/.exec(code)?.[1] ?? '';
  const imports = [...importsText.matchAll(/\bFROM\s+([A-Za-z][A-Za-z0-9-]*)/g)].map((x) => x[1] as string);
  return { file, module: heads[0]?.[1] as string, imports };
}

/** Runs fn with the parser's console output (its only way of reporting) captured as lines. */
function capturingConsole<T>(fn: () => T): { result?: T; error?: Error; lines: string[] } {
  const lines: string[] = [];
  const saved = { log: console.log, warn: console.warn, error: console.error };
  const take = (...args: unknown[]): void => {
    lines.push(format(...args).replace(/!{3,}/g, '').replace(/\s+/g, ' ').trim());
  };
  console.log = console.warn = console.error = take;
  try {
    return { result: fn(), lines };
  } catch (err) {
    return { error: err as Error, lines };
  } finally {
    Object.assign(console, saved);
  }
}

/**
 * Drops what the parser keeps of a file once its module is compiled (or failed): net-snmp's
 * Serialize compiles every file it holds on each load, so a broken file would fail every later load,
 * and a folder of N files would cost N² compilations. The compiled module (parser.Modules) stays.
 */
function forgetSources(store: ModuleStore, keep?: (module: string) => boolean): void {
  const { CharBuffer, SymbolBuffer, Modules } = store.parser;
  for (const key of Object.keys(CharBuffer.Table)) {
    const module = CharBuffer.ModuleName[key];
    delete CharBuffer.Table[key];
    delete CharBuffer.ModuleName[key];
    if (module !== undefined) {
      delete SymbolBuffer[module];
      if (keep && !keep(module)) delete Modules[module];
    }
  }
  for (const module of Object.keys(SymbolBuffer)) delete SymbolBuffer[module];
}

/** Loads one file into the store; undefined when it loaded, else why not. Warnings (names left unresolved) go to `warnings`. */
function loadOne(store: ModuleStore, c: Candidate, warnings: string[]): string | undefined {
  const before = new Set(Object.keys(store.parser.Modules));
  const missing = c.imports.filter((m) => !before.has(m));
  const run = capturingConsole(() => store.loadFromFile(c.file));
  const compiled = store.parser.Modules[c.module];
  const noEnd = run.lines.find((l) => /no END statement/.test(l));
  const reason = run.error
    ? missing.length > 0
      ? `it imports ${missing.join(', ')}, which no loaded MIB file defines (net-snmp's parser: ${run.error.message})`
      : `net-snmp's MIB parser failed: ${run.error.message}`
    : noEnd
      ? `malformed: ${noEnd.replace(/^\[[^\]]*\]:\s*/, '')}`
      : !compiled || Object.keys(compiled).filter((k) => k !== 'IMPORTS').length === 0
        ? `net-snmp's MIB parser found no definitions in module ${c.module}`
        : undefined;
  forgetSources(store, (module) => before.has(module) || reason === undefined);
  if (reason !== undefined) return reason;
  if (missing.length > 0) warnings.push(`it imports ${missing.join(', ')}, which no loaded MIB file defines: types and names from there are unknown`);
  const unmounted = run.lines.filter((l) => /Unable to mount node/.test(l));
  if (unmounted.length > 0) warnings.push(`${unmounted.length} definition(s) without an OID: ${unmounted.slice(0, 3).join('; ')}`);
  return undefined;
}

/** The files of the folders, sorted, skipping hidden files and subfolders. */
function filesOf(dirs: readonly string[], problems: MibProblem[]): string[] {
  const files: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      problems.push({ file: dir, loaded: false, reason: `MIB folder cannot be read: ${(err as Error).message}` });
      continue;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const file = join(dir, name);
      try {
        if (statSync(file).isFile()) files.push(file);
      } catch {
        // Vanished between readdir and stat: nothing to load.
      }
    }
  }
  return files;
}

/** Every file's module loaded in an order where what a module imports comes first (a cycle: in file order). */
function loadAll(store: ModuleStore, candidates: Candidate[], problems: MibProblem[], bundled: boolean): { file: string; module: string }[] {
  const loaded: { file: string; module: string }[] = [];
  const pending = [...candidates];
  const note = (file: string, ok: boolean, reason: string): void => {
    problems.push({ file, loaded: ok, reason: bundled ? `bundled MIB: ${reason}` : reason });
  };
  while (pending.length > 0) {
    const offered = new Set(pending.map((c) => c.module));
    let i = pending.findIndex((c) => c.imports.every((m) => !offered.has(m) || m === c.module));
    if (i < 0) i = 0;
    const [c] = pending.splice(i, 1) as [Candidate];
    if (store.parser.Modules[c.module]) {
      const from = loaded.find((l) => l.module === c.module)?.file ?? 'net-snmp (bundled)';
      note(c.file, false, `module ${c.module} is already loaded from ${from}; this file is skipped`);
      continue;
    }
    const warnings: string[] = [];
    const reason = loadOne(store, c, warnings);
    if (reason !== undefined) {
      note(c.file, false, reason);
      continue;
    }
    for (const w of warnings) note(c.file, true, w);
    loaded.push({ file: c.file, module: c.module });
  }
  return loaded;
}

/** The modules `module` imports from (the parser keeps IMPORTS among the definitions). */
function importsOf(modules: Record<string, MibModule>, module: string): string[] {
  const imports = (modules[module] as { IMPORTS?: Record<string, string[]> } | undefined)?.IMPORTS;
  return Object.keys(imports ?? {});
}

/** The OID a name in `module` stands for: its own definition, else one it imports, else any module's. */
function oidIn(modules: Record<string, MibModule>, module: string, name: string): string | undefined {
  const own = modules[module]?.[name];
  if (own?.OID) return own.OID;
  for (const from of importsOf(modules, module)) {
    const e = modules[from]?.[name];
    if (e?.OID) return e.OID;
  }
  for (const m of Object.values(modules)) if (m[name]?.OID) return m[name]?.OID;
  return undefined;
}

/** A definition by name as `module` sees it (for TEXTUAL-CONVENTIONs). */
function definitionIn(modules: Record<string, MibModule>, module: string, name: string): MibEntry | undefined {
  const own = modules[module]?.[name];
  if (own) return own;
  for (const from of importsOf(modules, module)) if (modules[from]?.[name]) return modules[from]?.[name];
  for (const m of Object.values(modules)) if (m[name]?.SYNTAX !== undefined) return m[name];
  return undefined;
}

/** INTEGER { a(1), b(2) } of a SYNTAX, following TEXTUAL-CONVENTIONs (TruthValue, IANAifType) a few levels. */
function enumerationOf(modules: Record<string, MibModule>, module: string, syntax: MibEntry['SYNTAX'], depth = 0): Map<number, string> | undefined {
  if (syntax === undefined || depth > 4) return undefined;
  if (typeof syntax === 'string') {
    const tc = definitionIn(modules, module, syntax);
    return tc && tc.SYNTAX !== syntax ? enumerationOf(modules, tc.ModuleName ?? module, tc.SYNTAX, depth + 1) : undefined;
  }
  const [base, values] = Object.entries(syntax)[0] ?? [];
  if (!base || !ENUM_SYNTAX.has(base) || !values || 'ranges' in values || 'sizes' in values) return undefined;
  const out = new Map<number, string>();
  for (const [k, v] of Object.entries(values)) if (/^-?\d+$/.test(k) && typeof v === 'string') out.set(Number(k), v);
  return out.size > 0 ? out : undefined;
}

/** The objects of the loaded modules, in load order. */
function objectsOf(store: ModuleStore): MibObject[] {
  const modules = store.getModules(true);
  const out: MibObject[] = [];
  for (const [module, defs] of Object.entries(modules)) {
    for (const [key, e] of Object.entries(defs)) {
      if (key === 'IMPORTS' || !e.ObjectName) continue;
      let oid = e.OID;
      // SMIv1 TRAP-TYPE has no OID of its own: RFC 3584 §3 gives it enterprise.0.specific.
      if (e.MACRO === 'TRAP-TYPE' && e.ENTERPRISE && typeof e.VALUE === 'number') {
        const enterprise = oidIn(modules, module, e.ENTERPRISE);
        oid = enterprise ? `${enterprise}.0.${e.VALUE}` : undefined;
      }
      if (!oid || !DOTTED.test(oid)) continue;
      const kind = kindOf(defs, e);
      const objects = e.MACRO === 'NOTIFICATION-TYPE' ? e.OBJECTS : e.MACRO === 'TRAP-TYPE' ? e.VARIABLES : undefined;
      const enumeration = e.MACRO === 'OBJECT-TYPE' ? enumerationOf(modules, module, e.SYNTAX) : undefined;
      out.push({ module, name: e.ObjectName, oid, kind, ...(enumeration ? { enumeration } : {}), ...(objects ? { objects: [...objects] } : {}) });
    }
  }
  return out;
}

function kindOf(defs: MibModule, e: MibEntry): MibObjectKind {
  if (e.MACRO === 'NOTIFICATION-TYPE' || e.MACRO === 'TRAP-TYPE') return 'notification';
  if (e.MACRO !== 'OBJECT-TYPE') return 'node';
  if (typeof e.SYNTAX === 'string' && e.SYNTAX.startsWith('SEQUENCE OF')) return 'table';
  if (e.INDEX || e.AUGMENTS) return 'entry';
  const parent = defs[(e['OBJECT IDENTIFIER'] ?? '').split(' ')[0] ?? ''];
  return parent && (parent.INDEX || parent.AUGMENTS) ? 'column' : 'scalar';
}

export interface LoadMibsOptions {
  /** Folders of MIB files (any extension; hidden files and subfolders are skipped). */
  dirs?: readonly string[];
  /** Each file that did not load, and each that loaded with warnings, is one log line naming it. */
  logger?: Logger;
}

/** net-snmp's bundled modules plus every MIB file of the folders; never throws for a bad file. */
export function loadMibs(o: LoadMibsOptions = {}): MibLookup {
  const store = snmp.createModuleStore();
  forgetSources(store);
  const problems: MibProblem[] = [];
  const shipped = SHIPPED_EXTRA.map((m) => scan(join(shippedMibDir(), `${m}.mib`))).filter((c): c is Candidate => 'module' in c);
  loadAll(store, shipped, problems, true);
  const candidates: Candidate[] = [];
  for (const file of filesOf(o.dirs ?? [], problems)) {
    const c = scan(file);
    if ('error' in c) problems.push({ file, loaded: false, reason: c.error });
    else candidates.push(c);
  }
  const files = loadAll(store, candidates, problems, false);
  const lookup = new MibLookup(objectsOf(store), Object.keys(store.parser.Modules), files, problems);
  for (const p of problems) {
    if (p.loaded) o.logger?.warn({ file: p.file, reason: p.reason }, `MIB file ${basename(p.file)} loaded with names left unresolved: ${p.reason}`);
    else o.logger?.error({ file: p.file, reason: p.reason }, `MIB file ${basename(p.file)} not loaded: ${p.reason}`);
  }
  if ((o.dirs ?? []).length > 0) {
    o.logger?.info({ dirs: o.dirs, files: files.length, modules: files.map((f) => f.module), refused: problems.filter((p) => !p.loaded).length, names: lookup.size }, 'MIB files loaded');
  }
  return lookup;
}

let bundled: MibLookup | undefined;
/** The modules net-snmp bundles and nothing else (loaded once, on first use). */
export function bundledMibs(): MibLookup {
  bundled ??= loadMibs();
  return bundled;
}
