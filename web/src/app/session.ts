import { createContext, useContext } from 'react';
import type { Schemas } from '../api/client';

export type Me = Schemas['MeDto'];

export const roleRank: Record<string, number> = { viewer: 0, annotator: 1, reviewer: 2, manager: 3 };

/** The caller's rank in a project; admins act as managers everywhere, as the server's ProjectAccess does. */
export function rankIn(me: Me, slug: string): number {
  if (me.user.isAdmin) return roleRank.manager as number;
  const membership = me.projects.find(p => p.slug === slug);
  return membership ? roleRank[membership.role.toLowerCase()] ?? 0 : -1;
}

export interface Session { me: Me; refresh: () => Promise<void>; signOut: () => Promise<void> }

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}
