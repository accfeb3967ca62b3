/**
 * SSE state: XMM0-15 and MXCSR (SDM vol. 1 §10.2). Each XMM register is four int32 lanes
 * (little-endian: lane 0 holds bits 31:0) at `xmm[4 * n .. 4 * n + 3]`; `f32`/`f64` view the
 * same bytes as floats.
 */
export class SseState {
  readonly xmm = new Int32Array(16 * 4);
  readonly f32 = new Float32Array(this.xmm.buffer);
  readonly f64 = new Float64Array(this.xmm.buffer);
  readonly bytes = new Uint8Array(this.xmm.buffer);
  /** MXCSR (SDM vol. 1 §10.2.3): reset value 0x1f80 (all exceptions masked, round to nearest). */
  mxcsr = 0x1f80;
}
