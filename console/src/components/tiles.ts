/* A tile map of Chongqing: one square per district, county or functional zone (41),
   placed by hand to keep each one's rough position (the main urban districts in the
   west centre, the Three Gorges counties to the north-east, the Wuling mountain counties
   to the south-east). No boundary file is loaded: the npm packages of Chinese city
   boundaries do not hold the three functional zones (两江新区, 重庆高新区, 万盛经开区),
   whose figures are reported apart, and a tile per unit shows each one at equal size. */
export const TILES: Record<string, [number, number]> = {
  chengkou: [9, 0], wuxi: [11, 0],
  kaizhou: [9, 1], yunyang: [10, 1], fengjie: [11, 1], wushan: [12, 1],
  liangping: [8, 2], wanzhou: [9, 2],
  tongnan: [2, 3], hechuan: [3, 3], dianjiang: [7, 3], zhongxian: [8, 3],
  dazu: [1, 4], tongliang: [2, 4], beibei: [3, 4], yubei: [4, 4], liangjiang: [5, 4], changshou: [6, 4], fengdu: [8, 4], shizhu: [9, 4],
  rongchang: [1, 5], bishan: [2, 5], gaoxin: [3, 5], shapingba: [4, 5], jiangbei: [5, 5], fuling: [7, 5],
  yongchuan: [2, 6], jiulongpo: [3, 6], yuzhong: [4, 6], nanan: [5, 6], wulong: [8, 6], pengshui: [9, 6], qianjiang: [10, 6],
  dadukou: [3, 7], banan: [4, 7], nanchuan: [6, 7], youyang: [10, 7],
  jiangjin: [3, 8], qijiang: [4, 8], wansheng: [5, 8], xiushan: [11, 8],
};
export const TILE_COLUMNS = 13;
export const TILE_ROWS = 9;

/** A short name for a tile: 九龙坡区 → 九龙坡, 石柱土家族自治县 → 石柱, 两江新区 stays. */
export function shortName(name: string): string {
  if (name.endsWith("新区") || name.endsWith("高新区") || name.endsWith("经开区")) return name.replace("重庆", "");
  const autonomous = /^(.{2})(土家族|苗族)/.exec(name);
  if (autonomous?.[1]) return autonomous[1];
  return name.length > 2 ? name.replace(/[区县]$/, "") : name;
}
