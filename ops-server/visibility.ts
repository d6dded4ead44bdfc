import type { AlertKind } from '../core/index.ts';
import type { Role } from './users.ts';

/** Security alerts and security events are the SOC's (and admins'); everything else is everyone's. */
export const SECURITY_ROLES: readonly Role[] = ['admin', 'soc'];
export const ALL_ROLES: readonly Role[] = ['admin', 'noc', 'soc', 'viewer'];

/** The roles that may see an alert of this kind, the same over REST and socket.io. */
export const rolesSeeing = (kind: AlertKind): readonly Role[] => (kind === 'security' ? SECURITY_ROLES : ALL_ROLES);

export const maySee = (role: Role, kind: AlertKind): boolean => rolesSeeing(kind).includes(role);
