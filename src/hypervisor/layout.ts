/**
 * Where the hypervisor keeps its own structures in host-physical memory: an area above guest
 * RAM that the EPT does not map, so nothing a guest does can reach its VMCS, bitmaps or EPT
 * tables. Guest RAM is host-physical [0, ramSize) mapped 1:1 by the EPT (guest-physical =
 * host-physical below ramSize), which lets the loaders fill it directly.
 *
 *   area + 0x0000  VMXON region           + 0x1000  VMCS region
 *   area + 0x2000  MSR bitmaps            + 0x3000  I/O bitmap A   + 0x4000  I/O bitmap B
 *   area + 0x5000  host code (HOST_RIP: never executed by the TypeScript host; a HLT)
 *   area + 0x6000  host stack (HOST_RSP at + 0x7000)
 *   area + 0x10000 EPT paging structures (up to AREA_SIZE)
 */
export const AREA_SIZE = 0x200000;
export const AREA_ALIGN = 0x200000;

export interface HypervisorLayout {
  ramSize: number;
  area: number;
  vmxon: number;
  vmcs: number;
  msrBitmap: number;
  ioBitmapA: number;
  ioBitmapB: number;
  hostCode: number;
  hostStack: number;
  eptTables: number;
  eptTablesSize: number;
  /** Host-physical memory size: RAM plus the hypervisor's area. */
  physSize: number;
}

export function hypervisorLayout(ramSize: number): HypervisorLayout {
  const area = Math.ceil(ramSize / AREA_ALIGN) * AREA_ALIGN;
  return {
    ramSize, area,
    vmxon: area, vmcs: area + 0x1000, msrBitmap: area + 0x2000, ioBitmapA: area + 0x3000, ioBitmapB: area + 0x4000,
    hostCode: area + 0x5000, hostStack: area + 0x7000, eptTables: area + 0x10000, eptTablesSize: AREA_SIZE - 0x10000,
    physSize: area + AREA_SIZE,
  };
}
