/**
 * The processor's connections to the platform: the I/O port bus (IN/OUT/INS/OUTS) and the
 * source of external interrupts (the local APIC / PIC). The platform (src/vmm) provides them;
 * a bare processor has no ports (reads all-ones, writes ignored) and no interrupt source.
 */
export interface PortBus {
  /** Read `size` (1, 2 or 4) bytes from `port`. */
  portIn(port: number, size: number): number;
  portOut(port: number, size: number, value: number): void;
}

export const NO_PORTS: PortBus = {
  portIn: (_port, size) => (size === 4 ? -1 : size === 2 ? 0xffff : 0xff),
  portOut: () => {},
};

/** Maskable external interrupts (INTR) and NMI, as the processor sees them (SDM vol. 3A §6.3). */
export interface InterruptSource {
  /** The vector the controller would deliver now, or -1 when none is pending. */
  pendingVector(): number;
  /** The processor accepted `vector` (the controller moves it to in-service). */
  acknowledge(vector: number): void;
  /**
   * Optional: CR8 as a view of the local APIC's task-priority register (SDM vol. 3A §10.8.6.1:
   * CR8[3:0] = TPR[7:4]; MOV to CR8 sets TPR[7:4] = CR8[3:0] and TPR[3:0] = 0). Without it
   * the processor keeps CR8 to itself (`c.cr8`).
   */
  readCr8?(): number;
  writeCr8?(value: number): void;
}

/**
 * MSRs the platform implements (the x2APIC's 0x800-0x8FF, for example). RDMSR/WRMSR ask it
 * first; `null`/`false` means "not a platform MSR" and the processor's own table applies.
 */
export interface MsrBus {
  /** Returns the value as [low, high] halves, or null. */
  rdmsr(index: number): [number, number] | null;
  /** Returns true when the platform handled the write. May throw a CpuException (#GP). */
  wrmsr(index: number, lo: number, hi: number): boolean;
}
