// KVM Xen: KVM_XEN_EVTCHN_RESET (kvm_xen_eventfd_reset) called synchronize_srcu(&kvm->srcu) for each event channel
// inside its kvm->lock critical section, while a vCPU handling the guest's EVTCHNOP_send hypercall is inside its
// kvm->srcu read-side section (vcpu_run) and takes kvm->lock (kvm_xen_set_evtchn's slow path): the grace period waits
// for the vCPU, the vCPU waits for kvm->lock. "While KVM_XEN_EVTCHN_RESET is usually called with no vCPUs running,
// if that happened it could cause a deadlock."
//
// Source: commit a79b53aaaab5 "KVM: x86: fix deadlock for KVM_XEN_EVTCHN_RESET" (Paolo Bonzini, v6.2, reported by Michal
// Luczaj): collect the evtchnfd objects and idr_remove() them under kvm->lock, mutex_unlock, THEN one
// synchronize_srcu() and the kfree()s. Its companion 02d9a04da453 "Documentation: kvm: clarify SRCU locking order"
// writes the rule down (Documentation/virt/kvm/locking.rst): "kvm->lock is taken inside kvm->srcu, therefore
// synchronize_srcu(&kvm->srcu) cannot be called inside a kvm->lock critical section".
// Kernel code mirrored (arch/x86/kvm/xen.c, v6.1): kvm_xen_eventfd_reset (mutex_lock(&kvm->lock);
// idr_for_each_entry { idr_remove; synchronize_srcu(&kvm->srcu); kfree(evtchnfd); } mutex_unlock);
// kvm_xen_hcall_evtchn_send (srcu_read_lock/unlock around kvm_mmu_gva_to_gpa_system, nested in vcpu_run's;
// idr_find(&kvm->arch.xen.evtchn_ports) "protected by vcpu->kvm->srcu"; kvm_xen_set_evtchn(&evtchnfd->deliver.port));
// kvm_xen_set_evtchn (kvm_xen_set_evtchn_fast returned -EWOULDBLOCK; mutex_lock(&kvm->lock), deliver through
// evtchnfd's port, mutex_unlock); arch/x86/kvm/x86.c vcpu_run / vcpu_enter_guest (kvm_vcpu_srcu_read_lock after the
// VM-exit, kvm_vcpu_srcu_read_unlock before the next entry). SRCU: machines/kernel/rcu.ts.
// The assertion evtchnfd_alive sits where the vCPU dereferences the evtchnfd it found: it fails if the reset freed
// it meanwhile (what the grace period is for). With `vcpu_running: false` the VMM resets only while no vCPU is in
// KVM_RUN (the reset waits for the vCPU to return to userspace): no interleaving deadlocks, and `--lock-order` still
// reports kvm->lock -> kvm->srcu -> kvm->lock, as lockdep does since srcu_lock_sync() (v6.4).
// Not modelled: more than one event channel (the loop would sync once per port), the eventfd delivery path
// (deliver.eventfd), the fast path succeeding, the later leaf lock kvm->arch.xen.xen_lock ("KVM: x86/xen: Avoid
// deadlock by adding kvm->arch.xen.xen_lock leaf node lock", which took the vCPU's side off kvm->lock).
import { assign, setup } from 'xstate';
import { defineModel, type Context } from '../../explorer/model.ts';
import {
  cond_true, kernelActions, kernelGuards, kernelWaits, mutex, mutex_lock, mutex_unlock, oneEvent, srcu, srcu_read_lock, srcu_read_unlock,
  synchronize_srcu,
} from '../kernel/index.ts';

const LOCK = 'kvm_lock';
const SRCU = 'kvm_srcu';
const LOCK_NAME = 'kvm->lock';
const SRCU_NAME = 'kvm->srcu';

export default defineModel({
  name: 'kvm-xen-evtchn-reset',
  description: 'KVM Xen: KVM_XEN_EVTCHN_RESET calls synchronize_srcu(&kvm->srcu) under kvm->lock while a vCPU inside kvm->srcu takes kvm->lock (a79b53aaaab5)',
  source: 'commit a79b53aaaab5 (KVM: x86: fix deadlock for KVM_XEN_EVTCHN_RESET, v6.2); arch/x86/kvm/xen.c, x86.c v6.1',
  params: {
    vcpu_running: { default: true, description: 'the vCPU is in KVM_RUN while the VMM resets the event channels; false: the reset waits until the vCPU has returned to userspace (no interleaving deadlocks)' },
  },
  variants: {
    'sync-under-lock': { description: 'before a79b53aaaab5: synchronize_srcu(&kvm->srcu) for each port inside the kvm->lock critical section' },
    fixed: { description: 'a79b53aaaab5: idr_remove every port under kvm->lock, mutex_unlock, then synchronize_srcu and kfree' },
  },
  defaultVariant: 'sync-under-lock',
  create({ params, variant }) {
    const r = 'reset';
    const lock = (next: string) => oneEvent(r, 'mutex_lock', { ...mutex_lock(LOCK, r, LOCK_NAME), target: next });
    const unlock = (next: string) => oneEvent(r, 'mutex_unlock', { ...mutex_unlock(LOCK, r, LOCK_NAME), target: next });
    // idr_remove(&kvm->arch.xen.evtchn_ports, evtchnfd->send_port)
    const remove = (next: string) => oneEvent(r, 'idr_remove', { actions: [{ type: 'idr_remove' }], target: next });
    // synchronize_srcu(&kvm->srcu)
    const sync = (next: string) => oneEvent(r, 'synchronize_srcu', synchronize_srcu(SRCU, r, next, SRCU_NAME));
    // kfree(evtchnfd)
    const kfree = (next: string) => oneEvent(r, 'kfree', { actions: [{ type: 'kfree' }], target: next });
    const reset = {
      initial: params.vcpu_running ? 'lock' : 'wait_vcpu',
      states: {
        // the VMM issues KVM_XEN_HVM_SET_ATTR once KVM_RUN has returned
        wait_vcpu: oneEvent(r, 'kvm_run_returned', { guard: cond_true('vcpu_returned', { name: 'KVM_RUN returned', by: ['vcpu'] }), target: 'lock' }),
        ...(variant === 'fixed'
          ? {
              // kvm_xen_eventfd_reset(): mutex_lock(&kvm->lock); collect and idr_remove every port; mutex_unlock
              lock: lock('remove'),
              remove: remove('unlock'),
              unlock: unlock('sync'),
              // synchronize_srcu(&kvm->srcu) outside the critical section; then kfree() each collected evtchnfd
              sync: sync('kfree'),
              kfree: kfree('done'),
            }
          : {
              // kvm_xen_eventfd_reset(): mutex_lock(&kvm->lock); idr_for_each_entry {
              lock: lock('remove'),
              remove: remove('sync'),
              //   synchronize_srcu(&kvm->srcu); kfree(evtchnfd); }
              sync: sync('kfree'),
              kfree: kfree('unlock'),
              // mutex_unlock(&kvm->lock)
              unlock: unlock('done'),
            }),
        done: { type: 'final' as const },
      },
    };
    const v = 'vcpu';
    const vcpu = {
      initial: 'exit',
      states: {
        // vcpu_enter_guest(), after the VM-exit: kvm_vcpu_srcu_read_lock(vcpu)
        exit: oneEvent(v, 'srcu_read_lock', { ...srcu_read_lock(SRCU, v, SRCU_NAME), target: 'gva' }),
        // kvm_xen_hcall_evtchn_send(): idx = srcu_read_lock(&vcpu->kvm->srcu); kvm_mmu_gva_to_gpa_system(); (nested)
        gva: oneEvent(v, 'srcu_read_lock', { ...srcu_read_lock(SRCU, v, SRCU_NAME), target: 'gva_done' }),
        //   srcu_read_unlock(&vcpu->kvm->srcu, idx); kvm_vcpu_read_guest(&send)
        gva_done: oneEvent(v, 'srcu_read_unlock', { ...srcu_read_unlock(SRCU, v, SRCU_NAME), target: 'idr_find' }),
        // evtchnfd = idr_find(&vcpu->kvm->arch.xen.evtchn_ports, send.port); if (!evtchnfd) return false;
        idr_find: {
          on: {
            [`${v}.idr_find`]: [
              { guard: 'port_present', actions: [{ type: 'found' }], target: 'set_evtchn' },
              { target: 'enter' },
            ],
          },
        },
        // kvm_xen_set_evtchn(&evtchnfd->deliver.port, kvm): the fast path returned -EWOULDBLOCK; mutex_lock(&kvm->lock)
        set_evtchn: { meta: { assert: 'evtchnfd_alive' }, ...oneEvent(v, 'mutex_lock', { ...mutex_lock(LOCK, v, LOCK_NAME), target: 'deliver' }) },
        // set the port pending through the shared_info page; mutex_unlock(&kvm->lock)
        deliver: { meta: { assert: 'evtchnfd_alive' }, ...oneEvent(v, 'mutex_unlock', { ...mutex_unlock(LOCK, v, LOCK_NAME), target: 'enter' }) },
        // kvm_vcpu_srcu_read_unlock(vcpu) before the next guest entry (and KVM_RUN returns to userspace)
        enter: oneEvent(v, 'srcu_read_unlock', { actions: [...srcu_read_unlock(SRCU, v, SRCU_NAME).actions!, { type: 'kvm_run_returned' }], target: 'done' }),
        done: { type: 'final' as const },
      },
    };
    return setup({
      guards: { ...kernelGuards, port_present: ({ context }: any) => context.evtchn === 'present' } as any,
      actions: {
        ...kernelActions,
        idr_remove: assign({ evtchn: () => 'removed' }),
        kfree: assign({ evtchn: () => 'freed' }),
        found: assign({ vcpu_evtchnfd: () => true }),
        kvm_run_returned: assign({ vcpu_returned: () => true, vcpu_evtchnfd: () => false }),
      } as any,
    }).createMachine({
      id: 'kvm-xen-evtchn-reset',
      type: 'parallel',
      // one event channel port assigned (KVM_XEN_EVTCHN_ASSIGN with deliver.port); evtchn: the evtchnfd's life
      context: {
        [LOCK]: mutex(),
        [SRCU]: srcu(),
        evtchn: 'present',
        vcpu_evtchnfd: false,
        vcpu_returned: false,
      },
      states: { reset, vcpu } as any,
    });
  },
  assertions: {
    // the evtchnfd the vCPU found in evtchn_ports is not freed while it uses it (the SRCU grace period's job)
    evtchnfd_alive: (ctx: Context) => !(ctx.vcpu_evtchnfd && ctx.evtchn === 'freed'),
  },
  footprints: {
    port_present: { reads: ['evtchn'] },
    idr_remove: { writes: ['evtchn'] },
    kfree: { writes: ['evtchn'] },
    found: { writes: ['vcpu_evtchnfd'] },
    kvm_run_returned: { writes: ['vcpu_returned', 'vcpu_evtchnfd'] },
  },
  propertyFootprints: { evtchnfd_alive: { context: ['vcpu_evtchnfd', 'evtchn'] } },
  waits: kernelWaits,
});
