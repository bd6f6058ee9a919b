// JUnit XML for CI (check --junit FILE), valid against schemas/junit.xsd: one suite with its host, start
// time and counts; one test case per spec with its time, the failure or error message in full, and in
// system-out the verdict, the race diagram of a counterexample and the command that replays it.
import { hostname } from 'node:os';
import type { SpecOutcome } from './check.ts';
import { expectedText, verdictText } from './report.ts';
import { renderTrace } from './show.ts';

/** Text safe in XML: markup escaped, characters XML 1.0 cannot hold dropped. */
function xml(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;');
}

/** Element text: as xml() but newlines kept as such. */
function text(s: string): string {
  return xml(s).replace(/&#10;/g, '\n');
}

/** ISO 8601 without a zone (the common JUnit form), in UTC. */
function isoSeconds(d: Date): string {
  return d.toISOString().slice(0, 19);
}

function caseOutput(o: SpecOutcome): string {
  const lines: string[] = [`spec ${o.spec}: verdict ${verdictText(o)}, expected ${expectedText(o)}`];
  const r = o.result;
  if (r) {
    lines.push(`states ${r.stats.states}, transitions ${r.stats.transitions}, depth ${r.stats.depth}, ${r.stats.seconds.toFixed(3)} s`);
    if (r.verdict.message) lines.push(r.verdict.message);
    if (r.trace) {
      const replay = o.counterexample ? `npx interleave replay ${o.counterexample}` : `npx interleave check ${o.spec}   (the trace was not saved: --no-save)`;
      lines.push('', renderTrace(r.trace, { replayCommand: replay, width: 120 }));
    }
  }
  return lines.join('\n');
}

export function junitXml(outcomes: SpecOutcome[], o: { started: Date; host?: string }): string {
  const failures = outcomes.filter((x) => !x.error && !x.matched).length;
  const errors = outcomes.filter((x) => x.error).length;
  const time = outcomes.reduce((a, x) => a + (x.result?.stats.seconds ?? 0), 0);
  const cases = outcomes.map((x) => {
    const t = (x.result?.stats.seconds ?? 0).toFixed(3);
    const out: string[] = [`    <testcase name="${xml(x.name)}" classname="interleave.specs" time="${t}" file="${xml(x.spec)}">`];
    if (x.error) {
      out.push(`      <error type="${x.error.kind}" message="${xml(x.error.message)}">${text(x.error.message)}</error>`);
    } else if (!x.matched) {
      const message = x.mismatch ?? 'the outcome does not match the expectation';
      const body = [message, `verdict ${verdictText(x)}, expected ${expectedText(x)}`, ...(x.result?.verdict.message ? [x.result.verdict.message] : [])].join('\n');
      out.push(`      <failure type="mismatch" message="${xml(message)}">${text(body)}</failure>`);
    }
    out.push(`      <system-out>${text(caseOutput(x))}</system-out>`);
    out.push('    </testcase>');
    return out.join('\n');
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="interleave" tests="${outcomes.length}" failures="${failures}" errors="${errors}" time="${time.toFixed(3)}">`,
    `  <testsuite name="interleave" tests="${outcomes.length}" failures="${failures}" errors="${errors}" skipped="0" time="${time.toFixed(3)}" timestamp="${isoSeconds(o.started)}" hostname="${xml(o.host ?? (hostname() || 'localhost'))}">`,
    '    <properties>',
    `      <property name="interleave.specs" value="${xml(outcomes.map((x) => x.spec).join(' '))}"/>`,
    '    </properties>',
    ...cases,
    '    <system-out></system-out>',
    '    <system-err></system-err>',
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
