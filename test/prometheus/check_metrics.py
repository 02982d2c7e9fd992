#!/usr/bin/env python3
"""Strict checker for the Prometheus text exposition format (version 0.0.4),
as produced by medianest_perf.metrics().

    check_metrics.py FILE            exit 0 if FILE is valid, else print the
                                     problems and exit 1
    check_metrics.py --series FILE   also print every sample as
                                     name <TAB> labels as JSON <TAB> value

Checked, beyond what the format itself requires, because metrics() promises
it: every family has exactly one HELP and one TYPE line, before its samples,
and its samples are contiguous; no series (name and label set) appears twice;
counters end in _total and are not negative; histograms have, per label set,
_bucket samples with parseable, increasing le bounds and non-decreasing
counts, a +Inf bucket equal to _count, and a _sum; the text ends with a line
feed and has no blank lines.
"""
import json
import math
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


def parse_value(text):
    if text in ('+Inf', 'Inf'):
        return math.inf
    if text == '-Inf':
        return -math.inf
    if text == 'NaN':
        return math.nan
    if not re.fullmatch(r'[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?', text):
        raise ValueError('bad number %r' % text)
    return float(text)


def parse_labels(s, pos):
    """Parse {a="x",b="y"} starting at s[pos] == '{'; return (dict, pos)."""
    labels = {}
    pos += 1
    while True:
        if s[pos] == '}':
            return labels, pos + 1
        m = LABEL.match(s, pos)
        if not m:
            raise ValueError('bad label name at column %d' % (pos + 1))
        name = m.group(0)
        pos = m.end()
        if s[pos:pos + 2] != '="':
            raise ValueError('expected =" after label %s' % name)
        pos += 2
        value = []
        while True:
            if pos >= len(s):
                raise ValueError('unterminated label value')
            c = s[pos]
            if c == '\\':
                nxt = s[pos + 1:pos + 2]
                if nxt == '\\':
                    value.append('\\')
                elif nxt == '"':
                    value.append('"')
                elif nxt == 'n':
                    value.append('\n')
                else:
                    raise ValueError('bad escape \\%s in label %s' % (nxt, name))
                pos += 2
            elif c == '"':
                pos += 1
                break
            elif c == '\n':
                raise ValueError('raw line feed in label %s' % name)
            else:
                value.append(c)
                pos += 1
        if name in labels:
            raise ValueError('label %s given twice' % name)
        labels[name] = ''.join(value)
        if s[pos] == ',':
            pos += 1
        elif s[pos] != '}':
            raise ValueError('expected , or } after label %s' % name)


def family_of(name, types):
    for suffix in ('_bucket', '_sum', '_count'):
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) in ('histogram', 'summary'):
            return name[:-len(suffix)]
    return name


def check(text):
    errors = []
    samples = []
    helps, types = {}, {}
    seen_series = set()
    finished = set()
    current = None
    if not text.endswith('\n'):
        errors.append('the text does not end with a line feed')
    for no, line in enumerate(text.split('\n')[:-1], 1):
        where = 'line %d' % no
        if line == '':
            errors.append('%s: blank line' % where)
            continue
        if line.startswith('#'):
            parts = line.split(' ', 3)
            if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                name = parts[2]
                if not NAME.fullmatch(name):
                    errors.append('%s: bad metric name %r' % (where, name))
                table = helps if parts[1] == 'HELP' else types
                if name in table:
                    errors.append('%s: second %s for %s' % (where, parts[1], name))
                if name in finished:
                    errors.append('%s: %s for %s after its samples' % (where, parts[1], name))
                if parts[1] == 'TYPE':
                    if len(parts) != 4 or parts[3] not in TYPES:
                        errors.append('%s: bad TYPE line' % where)
                    else:
                        types[name] = parts[3]
                else:
                    desc = parts[3] if len(parts) == 4 else ''
                    if re.search(r'\\[^\\n]', desc.replace('\\\\', '')):
                        errors.append('%s: bad escape in HELP' % where)
                    helps[name] = desc
                if current is not None and current != name:
                    finished.add(current)
                current = name
            continue
        m = NAME.match(line)
        if not m:
            errors.append('%s: bad metric name' % where)
            continue
        name = m.group(0)
        pos = m.end()
        labels = {}
        try:
            if pos < len(line) and line[pos] == '{':
                labels, pos = parse_labels(line, pos)
            if line[pos:pos + 1] != ' ':
                raise ValueError('expected a space before the value')
            rest = line[pos + 1:].split(' ')
            if len(rest) not in (1, 2):
                raise ValueError('expected a value and an optional timestamp')
            value = parse_value(rest[0])
            if len(rest) == 2 and not re.fullmatch(r'-?\d+', rest[1]):
                raise ValueError('bad timestamp')
        except (ValueError, IndexError) as e:
            errors.append('%s: %s' % (where, e))
            continue
        fam = family_of(name, types)
        if fam not in types or fam not in helps:
            errors.append('%s: sample of %s without HELP and TYPE before it' % (where, fam))
        if fam in finished:
            errors.append('%s: samples of %s are not contiguous' % (where, fam))
        if current is not None and current != fam:
            finished.add(current)
        current = fam
        key = (name, tuple(sorted(labels.items())))
        if key in seen_series:
            errors.append('%s: series %s%s appears twice' % (where, name, labels))
        seen_series.add(key)
        if types.get(fam) == 'counter':
            if not name.endswith('_total'):
                errors.append('%s: counter %s does not end in _total' % (where, name))
            if not value >= 0:
                errors.append('%s: counter %s is negative' % (where, name))
        samples.append((name, labels, value, fam))

    # histograms
    for fam, typ in types.items():
        if typ != 'histogram':
            continue
        groups = {}
        for name, labels, value, f in samples:
            if f != fam:
                continue
            base = tuple(sorted((k, v) for k, v in labels.items() if not (name.endswith('_bucket') and k == 'le')))
            g = groups.setdefault(base, {'buckets': [], 'sum': None, 'count': None})
            if name == fam + '_bucket':
                if 'le' not in labels:
                    errors.append('%s: bucket without le' % fam)
                    continue
                try:
                    g['buckets'].append((parse_value(labels['le']), value))
                except ValueError as e:
                    errors.append('%s: le %s' % (fam, e))
            elif name == fam + '_sum':
                g['sum'] = value
            elif name == fam + '_count':
                g['count'] = value
            else:
                errors.append('%s: unexpected sample %s in a histogram' % (fam, name))
        for base, g in groups.items():
            b = g['buckets']
            les = [le for le, _ in b]
            if les != sorted(les) or len(set(les)) != len(les):
                errors.append('%s%s: le bounds not increasing' % (fam, dict(base)))
            if any(b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
                errors.append('%s%s: bucket counts are not cumulative' % (fam, dict(base)))
            if not b or b[-1][0] != math.inf:
                errors.append('%s%s: no +Inf bucket' % (fam, dict(base)))
            elif g['count'] is None or b[-1][1] != g['count']:
                errors.append('%s%s: +Inf bucket differs from _count' % (fam, dict(base)))
            if g['sum'] is None:
                errors.append('%s%s: no _sum' % (fam, dict(base)))
    for fam in types:
        if not any(f == fam for _, _, _, f in samples):
            errors.append('%s: family without samples' % fam)
    return errors, samples


def main(argv):
    series = '--series' in argv
    files = [a for a in argv if a != '--series']
    if len(files) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    with open(files[0], encoding='utf-8') as f:
        text = f.read()
    errors, samples = check(text)
    if series:
        for name, labels, value, _ in samples:
            print('%s\t%s\t%r' % (name, json.dumps(labels, sort_keys=True), value))
    for e in errors:
        print('error: ' + e, file=sys.stderr)
    if errors:
        return 1
    print('ok: %d families, %d samples' % (len(types_of(samples)), len(samples)), file=sys.stderr)
    return 0


def types_of(samples):
    return {f for _, _, _, f in samples}


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
