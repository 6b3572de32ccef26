import { toIso } from '../lib/time';
import type { Role } from './caller';

export interface UserRow {
  id: string;
  tenant_id: string;
  auth0_id: string;
  email: string;
  name: string | null;
  role: Role;
  kind: 'person' | 'service';
  created_at: number;
  updated_at: number;
  deleted_at?: number | null;
}

export function toUser(row: UserRow) {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    auth0_id: row.auth0_id,
    email: row.email,
    name: row.name,
    role: row.role,
    kind: row.kind,
    created_at: toIso(row.created_at),
    updated_at: toIso(row.updated_at),
    deleted_at: toIso(row.deleted_at ?? null),
  };
}
