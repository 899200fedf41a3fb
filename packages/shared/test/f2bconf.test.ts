import { join } from 'node:path';
import t from 'tap';
import { ConfigError, parseNameOptions, readConfFiles, readDefinition, substituteTags, TagRecursionError, confFilesOf } from '../src/index.js';
import { errorOf } from '../../../test/fixtures/error-of.js';

t.test('includes, .local overrides, drop-ins and KNOWN values', async (tt) => {
  const dir = tt.testdir({
    'common.conf': '[INCLUDES]\nafter = common.local\n[DEFAULT]\n_daemon = \\S*\n__prefix_line = \\s*<_daemon>:\\s+\n',
    'app.conf': '[INCLUDES]\nbefore = common.conf\nafter = missing-is-fine.conf\n[DEFAULT]\n_daemon = app\n[Definition]\nfailregex = ^%(__prefix_line)sfail from <HOST>$\nignoreregex =\n',
    'app.local': '[Definition]\nfailregex = %(known/failregex)s\n            ^%(__prefix_line)sdenied <HOST>$\n',
    'app.d': { '10-extra.conf': '[Definition]\nignoreregex = ^%(__prefix_line)sfrom 192\\.0\\.2\\.1$\n' },
  });
  const files = confFilesOf(dir, 'app');
  tt.same(files.map((f) => f.slice(dir.length + 1)), ['app.conf', 'app.d/10-extra.conf', 'app.local']);
  const store = readConfFiles(files);
  tt.same(store.files.map((f) => f.slice(dir.length + 1)), ['common.conf', 'app.conf', 'app.d/10-extra.conf', 'app.local'], 'before-includes first, missing ones skipped');
  const { values, entries } = readDefinition(store, { keys: ['failregex', 'ignoreregex', 'prefregex'] });
  tt.equal(values.get('failregex'), '^\\s*<_daemon>:\\s+fail from <HOST>$\n^\\s*<_daemon>:\\s+denied <HOST>$'.replace(/<_daemon>/g, 'app'), '%(known/...)s, then <tags>');
  tt.equal(values.get('ignoreregex'), '^\\s*app:\\s+from 192\\.0\\.2\\.1$', 'a drop-in overrides the .conf');
  tt.equal(values.has('prefregex'), false);
  tt.equal(entries.get('failregex')?.file, join(dir, 'app.local'));
  tt.equal(entries.get('failregex')?.line, 2);
});

t.test('filter options, [Init], modes and <tag> nesting', async (tt) => {
  const dir = tt.testdir({
    'f.conf': `[Init]
extra = x
[Definition]
mode = normal
re-normal = ^normal <HOST>$
re-aggressive = ^aggressive <HOST>$
             ^<extra> <HOST>$
failregex = <re-<mode>>
maxlines = <L_<logging>/maxlines>
logging = one
[L_one]
maxlines = 1
[L_two]
maxlines = %(x)s
x = 2
`,
  });
  const store = readConfFiles([join(dir, 'f.conf')]);
  const read = (options: Record<string, string>) => readDefinition(store, { keys: ['failregex', 'maxlines'], options: new Map(Object.entries(options)) }).values;
  tt.equal(read({}).get('failregex'), '^normal <HOST>$');
  tt.equal(read({ mode: 'aggressive' }).get('failregex'), '^aggressive <HOST>$\n^x <HOST>$', '[Init] values are tags');
  tt.equal(read({ mode: 'aggressive', extra: 'y' }).get('failregex'), '^aggressive <HOST>$\n^y <HOST>$', 'options win over [Init]');
  tt.equal(read({}).get('maxlines'), '1');
  tt.equal(read({ logging: 'two' }).get('maxlines'), '2', 'a <section/key> tag reads another section');
  tt.equal(read({}).get('known/extra'), 'x');
  tt.equal(readDefinition(store, { keys: ['failregex'], jail: new Map([['failregex', 'own <HOST>']]) }).values.has('failregex'), false, "a jail's key is not read from the filter");
});

t.test('tag substitution and its errors', async (tt) => {
  tt.same([...substituteTags(new Map([['a', '<b>-<b>'], ['b', '<c>'], ['c', '3'], ['d', '<HOST> <nope>']]))], [['a', '3-3'], ['b', '3'], ['c', '3'], ['d', '<HOST> <nope>']]);
  tt.throws(() => substituteTags(new Map([['a', 'x<a>']])), /refers to itself/);
  tt.ok(errorOf(() => substituteTags(new Map([['a', 'x<a>']]))) instanceof TagRecursionError);
  tt.throws(() => substituteTags(new Map([['a', '<b>'], ['b', '<a>']])), /refers to itself/);
  const dir = tt.testdir({ 'loop.conf': '[Definition]\nfailregex = <failregex>\n', 'bad.conf': '[Definition]\nfailregex = %(missing)s\n' });
  tt.ok(errorOf(() => readDefinition(readConfFiles([join(dir, 'loop.conf')]), { keys: ['failregex'] })) instanceof ConfigError);
  try {
    readDefinition(readConfFiles([join(dir, 'bad.conf')]), { keys: ['failregex'] });
    tt.fail('expected an error');
  } catch (err) {
    tt.ok(err instanceof ConfigError);
    tt.equal((err as ConfigError).file, join(dir, 'bad.conf'));
    tt.equal((err as ConfigError).key, 'Definition.failregex (line 2)');
  }
});

t.test('name[options] syntax', async (tt) => {
  const p = (s: string) => {
    const r = parseNameOptions(s);
    return [r.name, Object.fromEntries(r.options)];
  };
  tt.same(p('sshd'), ['sshd', {}]);
  tt.same(p('sshd[mode=aggressive]'), ['sshd', { mode: 'aggressive' }]);
  tt.same(p('x[a="1, 2", b=\'y]\', c=z ]'), ['x', { a: '1, 2', b: 'y]', c: 'z' }]);
  tt.same(p('x[a=1 b]'), ['x', { a: '1 b' }]);
  tt.throws(() => parseNameOptions('x[a]'), /expected option/);
});
