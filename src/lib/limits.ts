/** Request limits, in one place; route schemas and middleware read them and the spec documents them. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
export const PAGE_LIMIT_MAX = 100;
export const PAGE_LIMIT_DEFAULT = 20;
