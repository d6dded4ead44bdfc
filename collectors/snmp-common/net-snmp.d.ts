/** The part of the untyped `net-snmp` package (3.x) that Watchfloor uses. */
declare module 'net-snmp' {
  import type { RemoteInfo } from 'node:dgram';

  export interface Varbind {
    oid: string;
    type: number;
    value: unknown;
  }

  export interface SessionOptions {
    port?: number;
    retries?: number;
    timeout?: number;
    backoff?: number;
    transport?: 'udp4' | 'udp6';
    trapPort?: number;
    version?: number;
    idBitsSize?: 16 | 32;
    sourceAddress?: string;
    backwardsGetNexts?: boolean;
    reportOidMismatchErrors?: boolean;
    engineID?: string;
  }

  export interface User {
    name: string;
    level: number;
    authProtocol?: number;
    authKey?: string;
    privProtocol?: number;
    privKey?: string;
  }

  export interface Session {
    get(oids: string[], cb: (error: Error | null, varbinds: Varbind[]) => void): void;
    getNext(oids: string[], cb: (error: Error | null, varbinds: Varbind[]) => void): void;
    getBulk(oids: string[], nonRepeaters: number, maxRepetitions: number, cb: (error: Error | null, varbinds: (Varbind | Varbind[])[]) => void): void;
    trap(typeOrOid: number | string, varbinds: Varbind[], options: { agentAddr?: string; upTime?: number }, cb: (error: Error | null) => void): void;
    inform(typeOrOid: number | string, varbinds: Varbind[], options: Record<string, unknown>, cb: (error: Error | null) => void): void;
    close(): void;
    on(event: 'error', listener: (error: Error) => void): void;
    on(event: 'close', listener: () => void): void;
  }

  export interface Authorizer {
    addCommunity(community: string): void;
    addUser(user: User): void;
  }

  export interface Pdu {
    type: number;
    id: number;
    varbinds: Varbind[];
    nonRepeaters: number;
    maxRepetitions: number;
    enterprise?: string;
    agentAddr?: string;
    generic?: number;
    specific?: number;
    upTime?: number;
    community?: string;
    user?: string;
    getResponsePduForRequest(): Pdu;
  }

  export interface Notification {
    pdu: Pdu;
    rinfo: RemoteInfo;
  }

  export interface Receiver {
    getAuthorizer(): Authorizer;
    close(cb?: () => void): void;
  }

  export interface RequestMessage {
    version: number;
    community?: string;
    pdu: Pdu;
  }

  export interface Agent {
    getAuthorizer(): Authorizer;
    close(cb?: () => void): void;
    sendResponse(socket: unknown, rinfo: RemoteInfo, requestMessage: RequestMessage, responsePdu: Pdu): void;
    getRequest(socket: unknown, requestMessage: RequestMessage, rinfo: RemoteInfo): void;
    getNextRequest(socket: unknown, requestMessage: RequestMessage, rinfo: RemoteInfo): void;
    getBulkRequest(socket: unknown, requestMessage: RequestMessage, rinfo: RemoteInfo): void;
    setRequest(socket: unknown, requestMessage: RequestMessage, rinfo: RemoteInfo): void;
    listener: { sockets: Record<string, import('node:dgram').Socket> };
  }

  export interface ListenerOptions {
    port?: number;
    address?: string | null;
    transport?: 'udp4' | 'udp6';
    disableAuthorization?: boolean;
    includeAuthentication?: boolean;
    engineID?: string;
    accessControlModelType?: number;
  }

  export function createSession(target: string, community: string, options?: SessionOptions): Session;
  export function createV3Session(target: string, user: User, options?: SessionOptions): Session;
  export function createReceiver(options: ListenerOptions, cb: (error: Error | null, notification?: Notification) => void): Receiver;
  export function createAgent(options: ListenerOptions, cb: (error: Error | null, data?: unknown) => void): Agent;
  export function isVarbindError(varbind: Varbind): boolean;
  export function varbindError(varbind: Varbind): string;

  /** One definition of a parsed MIB module (net-snmp's lib/mib.js): an OBJECT-TYPE, NOTIFICATION-TYPE, TEXTUAL-CONVENTION... */
  export interface MibEntry {
    ObjectName?: string;
    ModuleName?: string;
    MACRO?: string;
    /** Dotted; starts with "." when the parser could not resolve a parent. */
    OID?: string;
    'OBJECT IDENTIFIER'?: string;
    /** A type name, or { INTEGER: { "1": "up", ... } } (an enumeration), or { INTEGER: { ranges } }. */
    SYNTAX?: string | Record<string, Record<string, unknown>>;
    /** NOTIFICATION-TYPE's OBJECTS, TRAP-TYPE's VARIABLES. */
    OBJECTS?: string[];
    VARIABLES?: string[];
    /** TRAP-TYPE: the enterprise's name and the specific-trap number. */
    ENTERPRISE?: string;
    VALUE?: number;
    INDEX?: string[];
    AUGMENTS?: string[];
  }

  /** A MIB module as parsed: its definitions by name; the key IMPORTS holds { module: names[] } instead. */
  export type MibModule = Record<string, MibEntry>;

  /**
   * The parser inside a ModuleStore (lib/mib.js). Not documented API: Watchfloor reads its buffers to
   * drop a file that failed to parse (else every later load compiles it again and fails the same way).
   */
  export interface MibParser {
    Modules: Record<string, MibModule>;
    SymbolBuffer: Record<string, unknown>;
    CharBuffer: { Table: Record<string, unknown>; ModuleName: Record<string, string> };
  }

  /** net-snmp's MIB module store (README "Module Store"): base modules loaded, more with loadFromFile. */
  export interface ModuleStore {
    loadFromFile(fileName: string): void;
    getModule(moduleName: string): MibModule | undefined;
    getModules(includeBase?: boolean): Record<string, MibModule>;
    getModuleNames(includeBase?: boolean): string[];
    translate(name: string, destinationFormat: 'oid' | 'path' | 'module'): string;
    readonly baseModules: string[];
    readonly parser: MibParser;
  }

  export function createModuleStore(options?: { baseModules?: string[] }): ModuleStore;

  export interface ObjectTypes {
    Boolean: number; Integer: number; OctetString: number; Null: number; OID: number; IpAddress: number;
    Counter: number; Gauge: number; TimeTicks: number; Opaque: number; Counter64: number;
    NoSuchObject: number; NoSuchInstance: number; EndOfMibView: number;
  }
  export interface TrapTypes { ColdStart: number; WarmStart: number; LinkDown: number; LinkUp: number; AuthenticationFailure: number; EgpNeighborLoss: number; EnterpriseSpecific: number }
  export interface PduTypes { Trap: number; TrapV2: number; InformRequest: number; GetRequest: number; GetNextRequest: number; GetBulkRequest: number; GetResponse: number; SetRequest: number; Report: number }
  export const Version1: number;
  export const Version2c: number;
  export const Version3: number;
  export const ObjectType: ObjectTypes;
  export const PduType: PduTypes;
  export const TrapType: TrapTypes;
  export const ErrorStatus: Record<string, number>;
  export const SecurityLevel: { noAuthNoPriv: number; authNoPriv: number; authPriv: number };
  export const AuthProtocols: { none: number; md5: number; sha: number; sha224: number; sha256: number; sha384: number; sha512: number };
  export const PrivProtocols: { none: number; des: number; aes: number; aes256b: number; aes256r: number };

  const snmp: {
    createSession: typeof createSession;
    createV3Session: typeof createV3Session;
    createReceiver: typeof createReceiver;
    createAgent: typeof createAgent;
    createModuleStore: typeof createModuleStore;
    isVarbindError: typeof isVarbindError;
    varbindError: typeof varbindError;
    Version1: number;
    Version2c: number;
    Version3: number;
    ObjectType: ObjectTypes;
    PduType: PduTypes;
    TrapType: TrapTypes;
    ErrorStatus: Record<string, number>;
    SecurityLevel: typeof SecurityLevel;
    AuthProtocols: typeof AuthProtocols;
    PrivProtocols: typeof PrivProtocols;
  };
  export default snmp;
}
