-- Dining philosophers for the rumur side of `npm run bench`: same encoding as machines/philosophers (naive).
-- The bench rewrites the `const N` line to set the size. forks[k] holds the owner's index or -1; each
-- philosopher has exactly one 3-valued state variable, so the reachable state count equals interleave's.

const
  N: 4;

type
  pid: 0..N-1;
  owner: -1..N-1;
  phase: enum { thinking, hasOne, eating };

var
  forks: array [pid] of owner;
  phil: array [pid] of phase;

startstate "init"
begin
  for k: pid do
    forks[k] := -1;
    phil[k] := thinking;
  end;
end;

ruleset i: pid do
  rule "takeFirst" phil[i] = thinking & forks[i] = -1 ==>
  begin
    forks[i] := i;
    phil[i] := hasOne;
  end;

  rule "takeSecond" phil[i] = hasOne & forks[(i + 1) % N] = -1 ==>
  begin
    forks[(i + 1) % N] := i;
    phil[i] := eating;
  end;

  rule "release" phil[i] = eating ==>
  begin
    forks[i] := -1;
    forks[(i + 1) % N] := -1;
    phil[i] := thinking;
  end;
end;
