/**
 * The zones fail2ban knows by name in a log date or in `logtimezone`: its table of abbreviations
 * (fixed offsets, no DST switching), alone or followed by an offset (`CET+01`), or a bare offset
 * (`+0200`, `-05:30`).
 */

/** fail2ban's zone abbreviations (fixed offsets, in hours; no DST switching). */
const TZ_TABLE = `-12 Y|-11 X NUT SST|-10 W CKT HAST HST TAHT TKT|-9 V AKST GAMT GIT HADT HNY|-8 U AKDT CIST HAY HNP PST PT|-7 T HAP HNR MST PDT|-6 S CST EAST GALT HAR HNC MDT|-5 R CDT COT EASST ECT EST ET HAC HNE PET|-4 Q AST BOT CLT COST EDT FKT GYT HAE HNA PYT|-3 P ADT ART BRT CLST FKST GFT HAA PMST PYST SRT UYT WGT|-2 O BRST FNT PMDT UYST WGST|-1 N AZOT CVT EGT|0 Z EGST GMT UTC WET WT|1 A CET DFT WAT WEDT WEST|2 B CAT CEDT CEST EET SAST WAST|3 C EAT EEDT EEST IDT MSK|4 D AMT AZT GET GST KUYT MSD MUT RET SAMT SCT|5 E AMST AQTT AZST HMT MAWT MVT PKT TFT TJT TMT UZT YEKT|6 F ALMT BIOT BTT IOT KGT NOVT OMST YEKST|7 G CXT DAVT HOVT ICT KRAT NOVST OMSST THA WIB|8 H ACT AWST BDT BNT CAST HKT IRKT KRAST MYT PHT SGT ULAT WITA WST|9 I AWDT IRKST JST KST PWT TLT WDT WIT YAKT|10 K AEST ChST PGT VLAT YAKST YAPT|11 L AEDT LHDT MAGT NCT PONT SBT VLAST VUT|12 M ANAST ANAT FJT GILT MAGST MHT NZST PETST PETT TVT WFT|13 FJST NZDT|11.5 NFT|10.5 ACDT LHST|9.5 ACST|6.5 CCT MMT|5.75 NPT|5.5 SLT|4.5 AFT IRDT|3.5 IRST|-2.5 HAT NDT|-3.5 HNT NST NT|-4.5 HLV VET|-9.5 MART MIT`;
const TZ_ABBR_OFFSET = new Map<string, number>([['', 0]]);
for (const row of TZ_TABLE.split('|')) {
  const [h, ...names] = row.split(' ');
  for (const n of names) TZ_ABBR_OFFSET.set(n, Math.trunc(Number(h) * 60));
}

const ZONE = /^([A-Z](?:[A-Z]{2,4})?)?([+-][01]\d(?::?\d{2})?)?$/;

/**
 * Minutes east of UTC for a zone as fail2ban accepts it (`UTC`, `CET`, `+0200`, `-05:30`,
 * `CET+01`), or undefined for one it does not know.
 */
export function zoneOffset(zone: string): number | undefined {
  const m = ZONE.exec(zone);
  if (!m) return undefined;
  const base = TZ_ABBR_OFFSET.get(m[1] ?? '');
  if (base === undefined) return undefined;
  const o = m[2];
  if (o === undefined) return base;
  const sign = o[0] === '-' ? -1 : 1;
  if (o.length <= 3) return base + sign * Number(o.slice(1)) * 60;
  const mm = o[3] === ':' ? o.slice(4, 6) : o.slice(3, 5);
  return base + sign * (Number(o.slice(1, 3)) * 60 + Number(mm));
}
