import { quoteIdent } from "./ident.js";

/** Starts listening on a NOTIFY channel (a channel is an identifier, so it is quoted, not a parameter). */
export const listen = (channel: string): string => `LISTEN ${quoteIdent(channel)}`;

/** Stops listening on a channel. */
export const unlisten = (channel: string): string => `UNLISTEN ${quoteIdent(channel)}`;
