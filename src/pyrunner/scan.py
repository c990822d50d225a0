# Reads Python migrations through Python's own `ast` for `schemagate lint`.
#
# stdin: [{"path": ..., "text": ...}, ...]; stdout: one object per file (see src/lint/py_scan.rs).
# One process for the whole folder: interpreter start-up dominates the cost of parsing.
# The code never imports or runs the migrations.
import ast
import json
import sys

METHODS = ("execute", "executescript", "executemany")


def char_col(line_bytes, byte_col):
    return len(line_bytes[:byte_col].decode("utf-8", errors="replace"))


def literal(node, lines, func, call, method):
    """Where the SQL text of a string literal starts in the file.

    `exact` says that the literal's body is its value verbatim (no escapes, no implicit
    concatenation), so offsets inside the value map to real lines and columns."""
    first = lines[node.lineno - 1] if node.lineno - 1 < len(lines) else b""
    line, col = node.lineno, char_col(first, node.col_offset) + 1
    exact = False
    if node.end_lineno is not None and node.end_col_offset is not None:
        if node.lineno == node.end_lineno:
            seg = first[node.col_offset:node.end_col_offset]
        else:
            parts = [first[node.col_offset:]]
            parts.extend(lines[node.lineno:node.end_lineno - 1])
            parts.append(lines[node.end_lineno - 1][:node.end_col_offset])
            seg = b"\n".join(parts)
        seg = seg.decode("utf-8", errors="replace")
        prefix = 0
        while prefix < len(seg) and seg[prefix] not in "'\"":
            prefix += 1
        for quote in ('"""', "'''", '"', "'"):
            if seg.startswith(quote, prefix) and seg.endswith(quote):
                body = seg[prefix + len(quote):len(seg) - len(quote)]
                if body == node.value and len(seg) >= prefix + 2 * len(quote):
                    exact = True
                    head = seg[:prefix + len(quote)]
                    line += head.count("\n")
                    if "\n" in head:
                        col = len(head) - head.rfind("\n")
                    else:
                        col += len(head)
                break
    return {
        "function": func,
        "method": method,
        "value": node.value,
        "line": line,
        "column": col,
        "exact": exact,
        "call_line": call.lineno,
        "call_end_line": call.end_lineno or call.lineno,
    }


def is_empty(body):
    for stmt in body:
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # docstring or `...`
        return False
    return True


def is_main_guard(test):
    """`__name__ == "__main__"` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    names = [n for n in sides if isinstance(n, ast.Name) and n.id == "__name__"]
    consts = [n for n in sides if isinstance(n, ast.Constant) and n.value == "__main__"]
    return len(names) == 1 and len(consts) == 1


def missing_connection(test, params):
    """Which branch of `if` runs only without a connection from the caller: "body" for
    `conn is None` / `not conn`, "orelse" for `conn is not None` / `conn`, else None."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        if isinstance(test.operand, ast.Name) and test.operand.id in params:
            return "body"
        return None
    if isinstance(test, ast.Name) and test.id in params:
        return "orelse"
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.left, ast.Name)
        and test.left.id in params
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        if isinstance(test.ops[0], ast.Is):
            return "body"
        if isinstance(test.ops[0], ast.IsNot):
            return "orelse"
    return None


def walk(top):
    """Every node under `top`, each with whether it runs only when the file is run by
    itself: under `if __name__ == "__main__":`, or in the branch of `if conn is None:`
    (`conn` a parameter of the enclosing function) that opens its own connection. The
    migration runner imports the module and calls `upgrade(conn)` with a connection, so
    neither runs there. Iterative: deeply nested expressions must not hit the recursion
    limit."""
    stack = [(top, (), False)]
    while stack:
        node, params, standalone = stack.pop()
        yield node, standalone
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            params = tuple(a.arg for a in args.posonlyargs + args.args + args.kwonlyargs)
        if isinstance(node, ast.If):
            branch = "body" if is_main_guard(node.test) else missing_connection(node.test, params)
            children = [(node.test, standalone)]
            children += [(c, standalone or branch == "body") for c in node.body]
            children += [(c, standalone or branch == "orelse") for c in node.orelse]
        else:
            children = [(c, standalone) for c in ast.iter_child_nodes(node)]
        # Reversed onto the stack: source order out, as the findings are reported.
        for child, flag in reversed(children):
            stack.append((child, params, flag))


def analyse(path, text):
    res = {"path": path, "error": None, "functions": [], "sql": []}
    # Python reads source with universal newlines; do the same so literal bodies match.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as e:
        res["error"] = {"message": e.msg, "line": e.lineno, "column": e.offset}
        return res
    except ValueError as e:  # e.g. NUL bytes
        res["error"] = {"message": str(e), "line": None, "column": None}
        return res
    lines = text.encode("utf-8", errors="replace").split(b"\n")
    for top in tree.body:
        func = None
        if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef)):
            func = top.name
            args = top.args
            res["functions"].append(
                {
                    "name": top.name,
                    "line": top.lineno,
                    "column": top.col_offset + 1,
                    "params": len(args.posonlyargs) + len(args.args),
                    "varargs": args.vararg is not None,
                    "is_async": isinstance(top, ast.AsyncFunctionDef),
                    "empty": is_empty(top.body),
                }
            )
        for node, standalone in walk(top):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in METHODS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found = literal(node.args[0], lines, func, node, node.func.attr)
                found["standalone"] = standalone
                res["sql"].append(found)
    return res


def main():
    files = json.load(sys.stdin)
    json.dump([analyse(f["path"], f["text"]) for f in files], sys.stdout)


main()
