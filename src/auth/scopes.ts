/** Every OAuth scope the API knows (DESIGN.md, Auth). */
export const SCOPES = {
  'read:memories': 'Read and search memories',
  'write:memories': 'Create, update and delete memories',
  'read:sessions': 'Read MCP client sessions',
  'write:sessions': 'Open, heartbeat and end MCP client sessions',
  'read:audit_logs': 'Read the tenant audit log',
  'manage:users': "Manage the tenant's users",
  'manage:tenant': 'Manage the tenant, its subscription, export and import',
} as const;

export type Scope = keyof typeof SCOPES;
export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];
