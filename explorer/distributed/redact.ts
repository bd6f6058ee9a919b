// A NATS URL made safe to print, in a module of its own: the CLI redacts --nats in its option errors without
// loading the NATS client (./connect.ts imports it), which a command that does not use NATS should not pay for.

/** The URL without its credentials (user, password or token replaced by ***), safe to print. */
export function redact(url: string): string {
  return url.replace(/^([a-z]+:\/\/)?[^@/]*@/i, (_m, scheme: string | undefined) => `${scheme ?? ''}***@`);
}
