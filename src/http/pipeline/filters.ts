import type { AdmissionFilter } from './admission.js';
import { rateLimitFilter } from './rate-limit.js';

/**
 * The admission filters every request runs through on both engines, in order (see
 * admission.ts). Adding one is a file exporting an AdmissionFilter plus one line here; the
 * bulkhead is not listed — it always runs after the filters, as the only stage that may queue.
 */
export const admissionFilters: AdmissionFilter[] = [
  rateLimitFilter,
];
