/*
 * Directory sign-in (LDAP / Active Directory, config `auth.ldap`): people sign in with their directory
 * password, bound as themselves; their groups give their role. The password gate (password-gate.ts)
 * asks here for every name that is not a local account, so local accounts stay the way in when the
 * directory is down (break-glass).
 */
export { Directory, type DirectoryRefusal, type DirectorySignIn, type DirectoryVerdict } from './directory.ts';
export { escapeDnValue, escapeFilterValue, normalizeDn } from './escape.ts';
export { ROLE_PRECEDENCE, roleFromGroups, type RoleMapping } from './roles.ts';
