/**
 * ISO 4217 List One: every active currency code with its minor unit (the exponent: how many
 * decimal places its minor unit has), written here rather than read from ICU, whose
 * `maximumFractionDigits` is a display choice (it gives HUF, IDR and COP 0 and IQD 0, where
 * ISO 4217 says 2, 2, 2 and 3) and may change with a runtime upgrade.
 *
 * Left out: codes whose minor unit ISO lists as "N.A." (XDR, XSU, XUA, precious metals,
 * XTS, XXX) and codes withdrawn from the list (HRK, CUC, SLL, ZWL).
 */
const exponents: Readonly<Record<number, string>> = {
  0: 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF',
  2:
    'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN ' +
    'BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP ' +
    'GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP ' +
    'LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR ' +
    'NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN ' +
    'SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ' +
    'ZMW ZWG',
  3: 'BHD IQD JOD KWD LYD OMR TND',
  4: 'CLF UYW',
};

/** Currency code → ISO 4217 exponent, e.g. `USD` → 2, `JPY` → 0, `BHD` → 3. */
export const ISO_4217_EXPONENTS: ReadonlyMap<string, number> = new Map(
  Object.entries(exponents).flatMap(([exponent, codes]) =>
    codes.split(' ').map((code) => [code, Number(exponent)] as const),
  ),
);
