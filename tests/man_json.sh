#!/bin/sh
# Every JSON example in the manual pages, as mandoc renders it, parses.
# mdoc takes a '"' in a macro line as argument quoting, so .Ql {"in": ...}
# lints clean yet renders {"in": ping, params: ...}: only the rendered text
# shows it.
#
# An example is found where '{' or '[' opens a JSON value, inline or
# displayed, and runs to its closing bracket across line breaks.  Italic
# (underlined) words in it are placeholders and stand for 0; an example
# cannot start with one, since [file] is not JSON.  A hex dump of a
# frame must agree with its own text column, its length header must count
# its body, and the body must parse.  So that no example can slip past, the
# openings counted in the rendering must match those counted in the source.

. "${top_srcdir:-.}/tests/tap.sh"

[ -n "${MANDOC:-}" ] && [ -x "$MANDOC" ] || MANDOC=$(command -v mandoc)
[ -n "$MANDOC" ] || skip_all "mandoc not found"
need_python3

work=$(mktemp -d) || bail_out "mktemp"
trap 'rm -rf "$work"' EXIT

set --
for page in "$top_srcdir"/man/*.[0-9]; do
	name=$(basename "$page")
	"$MANDOC" -T ascii "$page" >"$work/$name" 2>"$work/$name.err"
	ok $? "mandoc -T ascii $name" || diag_file <"$work/$name.err"
	set -- "$@" "$page" "$work/$name"
done

# Each result line is "STATUS DESCRIPTION", or "# diagnostic".
"$PYTHON3" - "$@" >"$work/results" 2>&1 <<'EOF'
import json
import re
import sys

# Where a JSON value starts: not an index such as buf[256] or an option
# list such as [-t seconds].  A '{' straight before a word is taken too, so
# that {in": ...}, a key that lost its quote, is checked and fails.
OPENER = re.compile(r'(?<![\w\]])(?:\{(?=\w)|[{\[]'
    r'(?=\s*(?:["{\[\]}]|\d|true\b|false\b|null\b)))')
HEXDUMP = re.compile(r'^\s*((?:[0-9a-f]{2}\s+)*[0-9a-f]{2})\s+\|(.*)\|\s*$',
    re.M)


# What an italic run, a placeholder, becomes until it is read as JSON.
PLACEHOLDER = '\x01'


def plain(rendered):
    """The rendering without overstrike, placeholders marked."""
    rendered = re.sub(r'(?:_\x08.)+', PLACEHOLDER, rendered)
    return re.sub(r'.\x08', '', rendered)


def unescape(source):
    """The page source's text with the roff escapes JSON examples use."""
    source = re.sub(r'^\.\\".*$', '', source, flags=re.M)
    source = re.sub(r'\\fI.*?\\f[PR]', PLACEHOLDER, source)
    return (source.replace('\\(dq', '"').replace('\\&', '')
        .replace('\\e', '\\'))


def scan(text, start):
    """The JSON value opening at start, lines joined, and where it ends."""
    depth, instr, esc, out, i = 0, False, False, [], start
    while i < len(text):
        c = text[i]
        if c == '\n':
            # A break in filled text stood for a space; a blank line
            # ends the paragraph and any example in it.
            i += 1
            while i < len(text) and text[i] in ' \t':
                i += 1
            if i >= len(text) or text[i] == '\n':
                return None, i
            out.append(' ')
            continue
        out.append(c)
        i += 1
        if instr:
            if esc:
                esc = False
            elif c == '\\':
                esc = True
            elif c == '"':
                instr = False
        elif c == '"':
            instr = True
        elif c in '{[':
            depth += 1
        elif c in '}]':
            depth -= 1
            if depth == 0:
                return ''.join(out), i
    return None, i


def parse(example):
    """Parse an example with each placeholder as 0; None, or the error."""
    try:
        json.loads(example.replace(PLACEHOLDER, '0'))
        return None
    except ValueError as e:
        return e


def check(ok, desc, why=None):
    print('%d %s' % (0 if ok else 1, desc))
    if not ok and why:
        print('# %s' % why)


def check_hexdumps(name, text):
    """Check each run of hex dump lines as one frame; count them."""
    frames, lines = [], []
    for line in text.split('\n') + ['']:
        m = HEXDUMP.match(line)
        if m:
            lines.append(m)
            continue
        if lines:
            frames.append(lines)
            lines = []
    for lines in frames:
        data = bytes.fromhex(''.join(m.group(1) for m in lines))
        column = ''.join(m.group(2) for m in lines)
        shown = ''.join(chr(b) if 32 <= b < 127 else '.' for b in data)
        body = data[4:]
        desc = '%s: the frame of %s' % (name, body.decode(errors='replace'))
        if shown != column:
            check(False, desc, 'text column %r, bytes %r' % (column, shown))
        elif int.from_bytes(data[:4], 'little') != len(body):
            check(False, desc, 'header says %d bytes, body has %d' %
                (int.from_bytes(data[:4], 'little'), len(body)))
        else:
            error = parse(body.decode(errors='replace'))
            check(error is None, desc, error)
    return len(frames)


def check_page(source_path, rendered_path):
    """Check one page's examples; return how many there were."""
    name = source_path.rsplit('/', 1)[-1]
    with open(rendered_path, encoding='utf-8') as f:
        text = plain(f.read())
    with open(source_path, encoding='utf-8') as f:
        source = unescape(f.read())
    count = check_hexdumps(name, text)
    text = HEXDUMP.sub('', text)
    source = HEXDUMP.sub('', source)
    end = 0
    for m in OPENER.finditer(text):
        if m.start() < end:
            continue
        example, end = scan(text, m.start())
        count += 1
        if example is None:
            line = text[m.start():].split('\n', 1)[0]
            check(False, '%s: %s' % (name, line), 'no closing bracket')
            continue
        error = parse(example)
        check(error is None, '%s: %s' % (name,
            example.replace(PLACEHOLDER, '...')), error)
    rendered = len(OPENER.findall(text))
    written = len(OPENER.findall(source))
    check(rendered == written, '%s: the %d JSON openings in the source '
        'are all in the rendering' % (name, written),
        '%d in the rendering' % rendered)
    return count


total = 0
for i in range(1, len(sys.argv), 2):
    total += check_page(sys.argv[i], sys.argv[i + 1])
check(total > 0, 'found %d JSON examples in the pages' % total)
EOF
ok $? "the example checker runs" || diag_file <"$work/results"
while read -r status desc; do
	case $status in
	'#')	diag "$desc" ;;
	[01])	ok "$status" "$desc" ;;
	esac
done <"$work/results"
done_testing
