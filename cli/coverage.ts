// The text form of `check --coverage`: per spec, what fired out of what the model declares, and every
// transition never taken and state never reached, per thread. A pass that left transitions untaken gets
// a note: it may have tested less than it seems.
import type { Coverage, CoverageTransition } from '../explorer/coverage.ts';

function transitionText(t: CoverageTransition): string {
  const ev = t.event;
  return `${t.state} --${ev}${t.guard ? ` [${t.guard}]` : ''}--> ${t.target ?? '(stays)'}`;
}

export function renderCoverage(spec: string, c: Coverage, status: 'pass' | 'violation' | 'incomplete'): string {
  const lines: string[] = [];
  const never = c.complete ? 'never taken' : 'not taken in this partial run';
  const unreached = c.complete ? 'never reached' : 'not reached in this partial run';
  lines.push(
    `${spec}: coverage: ${c.transitions.taken} of ${c.transitions.total} transitions taken, ${c.states.reached} of ${c.states.total} states reached` +
      (c.complete ? '' : ' (partial run: the search did not explore the whole state space)'),
  );
  for (const t of c.threads) {
    for (const tr of t.neverTaken) lines.push(`  ${t.thread}: ${never}: ${transitionText(tr)}`);
    for (const s of t.neverReached) lines.push(`  ${t.thread}: ${unreached}: state ${s}`);
  }
  const missed = c.transitions.total - c.transitions.taken;
  if (status === 'pass' && missed > 0) {
    lines.push(`  note: this pass never took ${missed} transition${missed === 1 ? '' : 's'}: the property was not checked along them (a guard that is never true, or a state never entered, may be a model bug)`);
  }
  return lines.join('\n');
}
