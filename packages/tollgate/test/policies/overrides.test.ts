import { describe, expect, it } from 'vitest';
import { envNameOf } from '../../src/policies/overrides.ts';
import { configOverrides, loadPolicies, PolicyFileError } from '../../src/policies.ts';

const fixture = new URL('./fixtures/streamer.yaml', import.meta.url).pathname;
const keys = ['limits.votePerMin', 'limits.streamerSubmitPer10m', 'limits.workerBatchPerMin'];

describe('configOverrides()', () => {
  it('names the environment variable of a key', () => {
    expect(envNameOf('limits.votePerMin')).toBe('LIMITS_VOTE_PER_MIN');
    expect(envNameOf('limits.streamerSubmitPer10m')).toBe('LIMITS_STREAMER_SUBMIT_PER10M');
    expect(envNameOf('limits.telegramWebhookPerMin')).toBe('LIMITS_TELEGRAM_WEBHOOK_PER_MIN');
  });

  it('reads a nested configuration object, and the environment over it', () => {
    const config = { limits: { votePerMin: 50, streamerSubmitPer10m: 9 }, port: 8001 };
    expect(configOverrides({ keys, config })).toEqual({
      'limits.votePerMin': 50,
      'limits.streamerSubmitPer10m': 9,
    });
    expect(
      configOverrides({
        keys,
        config,
        env: { LIMITS_VOTE_PER_MIN: '70', LIMITS_WORKER_BATCH_PER_MIN: ' 12 ' },
      }),
    ).toEqual({
      'limits.votePerMin': 70,
      'limits.streamerSubmitPer10m': 9,
      'limits.workerBatchPerMin': 12,
    });
    expect(configOverrides({ keys, env: { LIMITS_VOTE_PER_MIN: '' } })).toEqual({});
    expect(configOverrides({ keys })).toEqual({});
  });

  it('names every key whose value is not a whole number of at least 1', () => {
    let thrown: unknown;
    try {
      configOverrides({
        keys,
        config: { limits: { votePerMin: '50', streamerSubmitPer10m: 0 } },
        env: { LIMITS_WORKER_BATCH_PER_MIN: '1.5' },
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PolicyFileError);
    const { errors, code } = thrown as PolicyFileError;
    expect(code).toBe('ERR_POLICY_FILE');
    expect(errors.map((problem) => [problem.path, problem.message])).toEqual([
      [
        'limits.votePerMin',
        'the configuration value for limits.votePerMin must be a whole number of at least 1, not "50".',
      ],
      [
        'limits.streamerSubmitPer10m',
        'the configuration value for limits.streamerSubmitPer10m must be a whole number of at least 1, not 0.',
      ],
      [
        'LIMITS_WORKER_BATCH_PER_MIN',
        'the environment variable LIMITS_WORKER_BATCH_PER_MIN for limits.workerBatchPerMin must be a whole number of at least 1, not "1.5".',
      ],
    ]);
    for (const value of ['-3', '0', 'abc', '3e2']) {
      expect(() => configOverrides({ keys, env: { LIMITS_VOTE_PER_MIN: value } })).toThrow(
        /LIMITS_VOTE_PER_MIN/,
      );
    }
  });

  it('feeds loadPolicies through the file’s own keys, and its problems join the file’s', () => {
    const document = loadPolicies(
      { path: fixture },
      {
        overrides: (fileKeys) =>
          configOverrides({
            keys: fileKeys,
            env: { LIMITS_INVOICE_PER5M: '4' },
            config: { limits: { votePerMin: 31 } },
          }),
      },
    );
    expect(document.routeOptions('POST', '/api/payments/stars/createInvoice')?.policies?.[0]?.limit).toBe(4);
    expect(document.routeOptions('POST', '/api/votes')?.policies?.[0]?.limit).toBe(31);
    expect(document.routeOptions('POST', '/api/wallet/withdraw')?.policies?.[0]?.limit).toBe(2);

    const text =
      'version: 1\nlimits:\n  - { name: a, scope: global, routes: [/a], limit: 1, window: 1s, configKey: limits.a, mode: loud }';
    let thrown: unknown;
    try {
      loadPolicies(
        { text },
        { overrides: (fileKeys) => configOverrides({ keys: fileKeys, env: { LIMITS_A: 'x' } }) },
      );
    } catch (error) {
      thrown = error;
    }
    // The file's problem stops the row, so its keys are not known yet: one problem.
    expect((thrown as PolicyFileError).errors.map((problem) => problem.path)).toEqual(['limits[0].mode']);
    try {
      loadPolicies(
        { text: text.replace(', mode: loud', '') },
        { overrides: (fileKeys) => configOverrides({ keys: fileKeys, env: { LIMITS_A: 'x' } }) },
      );
    } catch (error) {
      thrown = error;
    }
    expect((thrown as PolicyFileError).errors.map((problem) => problem.path)).toEqual(['LIMITS_A']);
  });
});
