import type { Algorithm, AlgorithmName } from '../algorithm.ts';
import { fixedWindow } from './fixed-window.ts';
import { gcra } from './gcra.ts';
import { slidingWindow } from './sliding-window.ts';
import { tokenBucket } from './token-bucket.ts';

/** Every algorithm, by the name a policy gives. */
export const algorithms: Readonly<Record<AlgorithmName, Algorithm>> = {
  'token-bucket': tokenBucket,
  gcra,
  'fixed-window': fixedWindow,
  'sliding-window': slidingWindow,
};
