// Events belong to their thread: one event name handled by two threads would make them step together
// (XState delivers an event to every region), a joint step that hides their interleavings. The compiler
// rejects that unless the machine declares the event joint (root `meta: { joint: ['sync'] }`), and rejects
// a thread handling an event prefixed with another thread's name (`b` handling `a.go`).
import { ModelError } from './errors.ts';

export interface OwnershipInput {
  threads: { name: string; leafPaths: string[]; leafEvents: number[][] }[];
  events: string[];
  eventThreads: number[][];
  /** The root's `meta.joint`, as the model wrote it. */
  joint: unknown;
}

/** Event names declared joint steps; a malformed declaration is an error. */
function jointEvents(joint: unknown): Set<string> {
  if (joint === undefined) return new Set();
  if (!Array.isArray(joint) || joint.some((e) => typeof e !== 'string')) {
    throw new ModelError(`the root's meta.joint must be a list of event names (e.g. meta: { joint: ['sync'] }), got ${JSON.stringify(joint)}`, {
      state: '(root)',
      feature: 'meta.joint',
    });
  }
  return new Set(joint as string[]);
}

/** A state of the thread that handles the event, to point at in the message. */
function stateHandling(t: OwnershipInput['threads'][number], e: number): string {
  const leaf = t.leafEvents.findIndex((evs) => evs.includes(e));
  return `${t.name}.${t.leafPaths[Math.max(0, leaf)]}`;
}

export function checkEventOwnership(sys: OwnershipInput): void {
  const joint = jointEvents(sys.joint);
  const names = new Set(sys.threads.map((t) => t.name));
  sys.events.forEach((event, e) => {
    const handlers = sys.eventThreads[e].map((i) => sys.threads[i]);
    if (joint.has(event)) return;
    if (handlers.length > 1) {
      const [a, b] = handlers;
      throw new ModelError(
        `event '${event}' is handled by thread ${a.name} (state ${stateHandling(a, e)}) and thread ${b.name} (state ${stateHandling(b, e)})` +
          `${handlers.length > 2 ? ` and ${handlers.length - 2} more` : ''}: one event name makes them step together as one joint step, ` +
          `which hides their interleavings. Give each thread its own event (${a.name}.${event}, ${b.name}.${event}); ` +
          `if they really step together, declare it on the machine's root: meta: { joint: ['${event}'] }`,
        { state: stateHandling(a, e), event, feature: 'shared event' },
      );
    }
    const dot = event.indexOf('.');
    const prefix = dot > 0 ? event.slice(0, dot) : '';
    for (const t of handlers) {
      if (prefix && names.has(prefix) && prefix !== t.name) {
        throw new ModelError(
          `thread ${t.name} handles event '${event}' (state ${stateHandling(t, e)}), but its prefix names thread ${prefix}: ` +
            `events belong to the thread they name; rename it ${t.name}.${event.slice(dot + 1)} (or move the transition into thread ${prefix})`,
          { state: stateHandling(t, e), event, feature: 'foreign event' },
        );
      }
    }
  });
}
