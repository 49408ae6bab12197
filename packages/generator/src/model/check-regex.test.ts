import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatModelError } from './model-error.js';
import { parseModel } from './parse.js';
import { validateModel } from './validate.js';

/** A model whose one route matches header `x-user` with `regex`. */
function withHeaderRegex(regex: string): string {
  return [
    'services:', //                                                    1
    '  - name: reviews', //                                            2
    '    ports: [{ name: http, port: 9080 }]', //                      3
    '    routes:', //                                                  4
    '      - match:', //                                               5
    '          headers:', //                                           6
    `            x-user: { regex: ${JSON.stringify(regex)} }`, //      7
    '        to: [{}]', //                                             8
  ].join('\n');
}

const path = 'services[0].routes[0].match.headers["x-user"].regex';

describe('model regexes are RE2 (rule L3)', () => {
  it('L3: a header regex that RE2 rejects, (?=a)b, is refused with file, line, field path and a message for people', () => {
    const result = parseModel(withHeaderRegex('(?=a)b'), { file: 'mesh.yaml' });
    assert.equal(result.ok, false, 'JavaScript accepts (?=a)b; RE2, and so every client, does not');
    const errors = result.ok ? [] : result.errors;
    assert.equal(errors.length, 1, JSON.stringify(errors));
    const error = errors[0]!;
    assert.equal(error.file, 'mesh.yaml');
    assert.equal(error.line, 7);
    assert.equal(error.path, path);
    assert.match(error.message, /"\(\?=a\)b" is not an RE2 regex/);
    assert.match(error.message, /RE2 has no lookahead or lookbehind/);
    assert.match(error.message, /would reject the whole route configuration/);
    assert.match(
      formatModelError(error),
      /^mesh\.yaml:7:\d+: services\[0\]\.routes\[0\]\.match\.headers\["x-user"\]\.regex: /,
    );
  });

  it('L3: backreferences and possessive quantifiers are refused, each with its reason', () => {
    for (const [regex, reason] of [
      ['(a)\\1', /no backreferences/],
      ['a++', /no possessive quantifiers/],
      ['(?<!a)b', /no lookahead or lookbehind/],
      ['[', /missing closing \]/],
    ] as const) {
      const result = validateModel({
        services: [
          {
            name: 'reviews',
            ports: [{ name: 'http', port: 9080 }],
            routes: [{ match: { headers: { 'x-user': { regex } } }, to: [{}] }],
          },
        ],
      });
      assert.equal(result.ok, false, regex);
      const errors = result.ok ? [] : result.errors;
      assert.deepEqual(
        errors.map((e) => e.path),
        [path],
        regex,
      );
      assert.match(errors[0]!.message, reason, regex);
    }
  });

  it('L3: RE2 syntax that JavaScript lacks is accepted: named groups (?P<…>), \\pL, (?i)', () => {
    for (const regex of ['(?P<version>v[0-9]+)', '\\pL+', '(?i)jason', '^beta-.*$']) {
      const result = parseModel(withHeaderRegex(regex), { file: 'mesh.yaml' });
      assert.ok(result.ok, `${regex}: ${JSON.stringify(result)}`);
    }
  });
});
