/* Dining philosophers for the SPIN side of `npm run bench`: same encoding as machines/philosophers (naive). */
/* Build: spin -DN=<n> -a philosophers.pml; cc -O2 -DSAFETY -DNOREDUCE -o pan pan.c; ./pan -c0 -m<depth>  */
/* forks[k] holds the owner's index or -1. Each philosopher is one process whose only local state is its   */
/* program counter, which takes exactly three values (thinking, hasOne, eating); each step is one d_step,  */
/* so no intermediate state is stored and the reachable state count equals interleave's.                   */
#ifndef N
#define N 4
#endif

short forks[N] = -1;

active [N] proctype phil()
{
  do
  :: d_step { forks[_pid] == -1 -> forks[_pid] = _pid };                 /* thinking -> hasOne */
     d_step { forks[(_pid + 1) % N] == -1 -> forks[(_pid + 1) % N] = _pid }; /* hasOne -> eating */
     d_step { forks[_pid] = -1; forks[(_pid + 1) % N] = -1 }            /* eating -> thinking */
  od
}
