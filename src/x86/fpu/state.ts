/** x87 FPU state (SDM vol. 1 chapter 8). To be implemented. */
export class FpuState {}
