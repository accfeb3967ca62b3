/** SSE state: XMM0-15 and MXCSR (SDM vol. 1 chapters 10-12). To be implemented. */
export class SseState {}
