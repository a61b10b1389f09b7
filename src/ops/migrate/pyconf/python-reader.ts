/**
 * The Python half of the .conf.py reader: run as `python3 -I -c READER` with the file's
 * text on stdin, it parses it with Python's own `ast` (never executing it) and prints one
 * JSON object: `{statements}` or `{error: {line, message}}` for a syntax error. Kept as a
 * string so that it ships inside the compiled package with no extra file to install.
 */
export const READER = String.raw`
import ast, bisect, io, json, math, sys, tokenize

src = sys.stdin.read()
lines = src.split('\n')
OPS = {ast.Add: '+', ast.Sub: '-', ast.Mult: '*', ast.Div: '/', ast.Mod: '%', ast.FloorDiv: '//', ast.Pow: '**',
       ast.BitOr: '|', ast.BitAnd: '&', ast.BitXor: '^', ast.LShift: '<<', ast.RShift: '>>', ast.MatMult: '@'}

class NotLiteral(Exception):
    pass

def done(result):
    sys.stdout.write(json.dumps(result, allow_nan=False))
    sys.exit(0)

try:
    tree = ast.parse(src, '<conf>')
except SyntaxError as e:
    done({'error': {'line': e.lineno or 0, 'message': e.msg}})

tokens = list(tokenize.generate_tokens(io.StringIO(src).readline))
comment_at = {t.start[0]: t.start[1] for t in tokens if t.type == tokenize.COMMENT}
string_starts = [t.start for t in tokens if t.type == tokenize.STRING]

def text(node):
    parts = (lines[i - 1][:comment_at.get(i, len(lines[i - 1]))].strip() for i in range(node.lineno, node.end_lineno + 1))
    t = ' '.join(parts)
    return t[:100] + '\u2026' if len(t) > 100 else t

def dotted(node):
    names = []
    while isinstance(node, ast.Attribute):
        names.insert(0, node.attr)
        node = node.value
    return [node.id] + names if isinstance(node, ast.Name) else None

def chars(line, byte_offset):
    return len(lines[line - 1].encode()[:byte_offset].decode(errors='ignore'))

def joined(node):
    # Python joins adjacent literals into one node; more than one STRING token inside it means it did.
    start = (node.lineno, chars(node.lineno, node.col_offset))
    end = (node.end_lineno, chars(node.end_lineno, node.end_col_offset))
    return bisect.bisect_left(string_starts, end) - bisect.bisect_left(string_starts, start) > 1

def refuse_expression(node):
    inner, how = node, None
    while True:
        if isinstance(inner, ast.BinOp):
            inner, how = inner.left, OPS.get(type(inner.op), '?')
        elif isinstance(inner, (ast.Attribute, ast.Subscript)):
            inner, how = inner.value, '.' if isinstance(inner, ast.Attribute) else '['
        elif isinstance(inner, ast.Call):
            inner, how = inner.func, '('
        else:
            break
    if isinstance(inner, ast.Constant) and isinstance(inner.value, str) and how:
        raise NotLiteral("a string is combined with '%s': only plain literals can be translated" % how)
    if isinstance(inner, ast.Name):
        raise NotLiteral("'%s' is a variable or a function, not a literal value" % inner.id)
    raise NotLiteral("'%s' is not a literal value" % ast.unparse(node)[:40])

def literal(node, found):
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bytes):
            raise NotLiteral('bytes literals (b"...") are not text')
        if isinstance(value, str):
            found['joined'] = found['joined'] or joined(node)
            return value
        if value is None or isinstance(value, (bool, int)) or (isinstance(value, float) and math.isfinite(value)):
            return value
        raise NotLiteral("'%s' is not a literal value" % ast.unparse(node)[:40])
    if isinstance(node, ast.JoinedStr):
        raise NotLiteral('f-strings are computed by Python: write the text out')
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and type(node.operand.value) in (int, float):
        return -node.operand.value
    if isinstance(node, (ast.List, ast.Tuple)):
        if any(isinstance(e, ast.Starred) for e in node.elts):
            raise NotLiteral('* unpacking is computed by Python')
        return [literal(e, found) for e in node.elts]
    if isinstance(node, ast.Dict):
        out = {}
        for key, value in zip(node.keys, node.values):
            if key is None:
                raise NotLiteral('** unpacking is computed by Python')
            name = literal(key, found)
            if not isinstance(name, str):
                raise NotLiteral('dict keys must be strings')
            out[name] = literal(value, found)
        return out
    if isinstance(node, ast.Set):
        raise NotLiteral('sets ({a, b}) are not supported: use a list')
    refuse_expression(node)

statements = []
for st in tree.body:
    base = {'line': st.lineno, 'text': text(st)}
    if isinstance(st, (ast.Import, ast.ImportFrom)):
        statements.append(dict(base, kind='import'))
    elif isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and not st.value.args and not st.value.keywords \
            and dotted(st.value.func):
        statements.append(dict(base, kind='call', callee=dotted(st.value.func)))
    elif isinstance(st, ast.Assign) and len(st.targets) == 1 and dotted(st.targets[0]):
        found = {'joined': False}
        entry = dict(base, kind='assign', target=dotted(st.targets[0]))
        try:
            entry['value'] = literal(st.value, found)
            if found['joined']:
                entry['joinedStrings'] = True
        except NotLiteral as e:
            entry['problem'] = str(e)
        statements.append(entry)
    elif isinstance(st, ast.AugAssign):
        statements.append(dict(base, kind='other', problem="'%s=' changes a value that only Python knows" % OPS.get(type(st.op), '?')))
    else:
        statements.append(dict(base, kind='other'))
done({'statements': statements})
`;
