// tsc copies no Lua or SQL; the stores read those files at run time from beside their modules.
import { cpSync, statSync } from 'node:fs';

const asset = /\.(lua|sql)$/;
cpSync('src', 'dist', {
  recursive: true,
  filter: (source) => statSync(source).isDirectory() || asset.test(source),
});
