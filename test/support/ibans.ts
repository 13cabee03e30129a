// Valid IBANs whose part after the check digits is digits alone (the guard's identifier form once
// split their country code off, so the IBAN detector could not read them), one per country that
// writes them so. Shared by the guard's unit tests and the API's.
export const DIGIT_ONLY_IBANS = [
  'NO9386011117947',
  'DK5000400440116243',
  'FI2112345600000785',
  'PL61109010140000071219812874',
  'PT50000201231234567890154',
  'AT611904300234573201',
  'CH9300762011623852957',
  'ES9121000418450200051332',
  'SE4550000000058398257466',
] as const;
