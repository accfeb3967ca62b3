/**
 * The vCPU's queue of events to inject (reference §5): `queueEvent(vector, errorCode?)` appends;
 * before each VM entry only the front event is considered. Exceptions and NMI are injected at
 * once; an external interrupt only when RFLAGS.IF = 1 and nothing blocks it (interruptibility
 * state: STI and MOV-SS blocking), otherwise interrupt-window exiting is requested and the
 * injection retried after the window exit. Beyond the crate: an NMI waits for an NMI window when
 * NMIs are blocked (interruptibility bit 3), and an event whose delivery was interrupted by a
 * VM exit (IDT-vectoring information) is re-injected first (SDM vol. 3C §27.2.4, §26.6).
 *
 * Interruption-information layout (SDM vol. 3C §24.8.3): vector 7:0, type 10:8, deliver error
 * code 11, valid 31. Types: 0 external interrupt, 2 NMI, 3 hardware exception, 4 software
 * interrupt, 5 privileged software exception, 6 software exception.
 */

export interface QueuedEvent {
  vector: number;
  errorCode?: number;
}

/** Vectors whose hardware exception pushes an error code (SDM vol. 3A §6.15). */
export function exceptionHasErrorCode(vector: number): boolean {
  return vector === 8 || (vector >= 10 && vector <= 14) || vector === 17 || vector === 21;
}

/** Interruption type the seed uses for a queued vector (reference §5). */
export function interruptionTypeOf(vector: number): number {
  if (vector === 2) return 2;
  if (vector === 1) return 5;
  if (vector === 3 || vector === 4) return 6;
  if (vector < 32) return 3;
  return 0;
}

export interface InjectionDecision {
  /** Write these to VM_ENTRY_INTERRUPTION_INFORMATION / _EXCEPTION_ERROR_CODE / _INSTRUCTION_LENGTH. */
  inject?: { info: number; errorCode: number; length: number };
  /** Request the interrupt window (true) or the NMI window before this event can go in. */
  interruptWindow?: boolean;
  nmiWindow?: boolean;
}

export class EventQueue {
  private readonly queue: QueuedEvent[] = [];

  get length(): number {
    return this.queue.length;
  }

  peek(): QueuedEvent | undefined {
    return this.queue[0];
  }

  /** Append an event. Vectors are 0-255; an error code only where the vector has one. */
  queueEvent(vector: number, errorCode?: number): void {
    if (!Number.isInteger(vector) || vector < 0 || vector > 255) throw new RangeError(`event vector ${vector} is not 0-255`);
    this.queue.push(errorCode === undefined ? { vector } : { vector, errorCode });
  }

  /** Put an event back at the front (re-injection of IDT-vectoring information). */
  requeueFront(e: QueuedEvent): void {
    this.queue.unshift(e);
  }

  clear(): void {
    this.queue.length = 0;
  }

  /**
   * What to do before the next VM entry for the front event, given the guest's RFLAGS.IF and
   * interruptibility state. Removes the event from the queue when it is injected. `softLength`
   * is the instruction length used for software interruption types.
   */
  decide(interruptsEnabled: boolean, interruptibility: number, softLength = 1): InjectionDecision {
    const e = this.queue[0];
    if (e === undefined) return {};
    const type = interruptionTypeOf(e.vector);
    if (type === 2 && (interruptibility & 8) !== 0) return { nmiWindow: true };
    if (type === 0 && (!interruptsEnabled || (interruptibility & 3) !== 0)) return { interruptWindow: true };
    this.queue.shift();
    const withCode = type === 3 && exceptionHasErrorCode(e.vector);
    const info = (0x80000000 | (type << 8) | (withCode ? 0x800 : 0) | e.vector) | 0;
    const length = type >= 4 ? softLength : 0;
    return { inject: { info, errorCode: withCode ? (e.errorCode ?? 0) | 0 : 0, length } };
  }
}
