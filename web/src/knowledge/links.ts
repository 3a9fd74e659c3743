const e = encodeURIComponent;

export const knowledgePage = (slug: string) => `/p/${e(slug)}/knowledge`;
export const kbPage = (slug: string, kb: string) => `/p/${e(slug)}/knowledge/${e(kb)}`;
export const chatPage = (slug: string, kb: string, session?: string) => `/p/${e(slug)}/knowledge/${e(kb)}/chat${session ? `/${e(session)}` : ''}`;
