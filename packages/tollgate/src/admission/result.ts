import type { Verdict } from '../ratelimit/algorithm.ts';
import { type PolicyResult, policyResult, type RateLimitResult } from '../ratelimit/limiter.ts';
import type { Check } from '../ratelimit/store.ts';
import type { Admission, AdmissionRequest } from './store.ts';

/**
 * An admission as a rate-limit result (the headers and problem bodies are made from it). When
 * the key was found, operation checks were only peeked: their `remaining` is what is left now.
 * `retryAfterSeconds` is the first instant every enforcing check admits: the longest wait.
 */
export function admissionResult(request: AdmissionRequest, admission: Admission): RateLimitResult {
  const { requestChecks, operationChecks } = request;
  const peeked = admission.key?.status === 'found';
  const policies: PolicyResult[] = [];
  let retryAfterSeconds = 0;
  const add = (check: Check, verdict: Verdict, consumed: boolean, decides: boolean) => {
    const result = policyResult(check, verdict, consumed);
    if (decides && !result.allowed && !result.shadow) {
      retryAfterSeconds = Math.max(retryAfterSeconds, result.retryAfterSeconds);
    }
    policies.push(result);
  };
  const { verdicts, allowed } = admission;
  for (let i = 0; i < requestChecks.length; i++) add(requestChecks[i]!, verdicts[i]!, allowed, true);
  const at = requestChecks.length;
  for (let i = 0; i < operationChecks.length; i++) {
    // A peeked policy (the key was found) neither refuses nor delays this request.
    add(operationChecks[i]!, verdicts[at + i]!, allowed && !peeked, !peeked);
  }
  if (allowed) retryAfterSeconds = 0;
  return { allowed, reason: allowed ? 'allowed' : 'limited', retryAfterSeconds, policies };
}

/** `result` after `checks` were given back: their policies report the units as left again. */
export function refundedResult(result: RateLimitResult, checks: readonly Check[]): RateLimitResult {
  const given = new Map(checks.map((check) => [check.policy.name, check.cost]));
  const policies = result.policies.map((policy) => {
    const cost = given.get(policy.name);
    return cost === undefined
      ? policy
      : { ...policy, remaining: Math.min(policy.limit, policy.remaining + cost) };
  });
  return { ...result, policies };
}
