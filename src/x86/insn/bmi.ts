/** BMI1/BMI2 and ADX: ANDN, BEXTR, BLSI, BLSMSK, BLSR, BZHI, PDEP, PEXT, RORX, SARX, SHLX, SHRX, MULX, ADCX, ADOX (SDM vol. 2). */
import type { TranslatorTable } from '../translator';

export const bmiHandlers: TranslatorTable = {};
