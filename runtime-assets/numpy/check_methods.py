"""Find method and attribute tables whose C functions take fewer parameters than CPython passes.

    python3 check_methods.py SRC_DIR    (exit 1 and a list when there are any)

Why: CPython calls a method through a function pointer of the type its flags name
(METH_VARARGS|METH_KEYWORDS: self, args, kwargs; METH_FASTCALL: self, args, nargs; ...).
On native targets a function defined with fewer parameters works anyway; in wasm32 the
indirect call checks the exact signature and traps ("indirect call type mismatch"). numpy
2.5.5 has such entries (numpy._core._multiarray_umath._get_castingimpl is one), and a
trap ends the instance: runtime-assets/numpy/build.sh runs this over the patched sources
and stops when one is left, so each gets a patch (patches/*.patch).

The same holds for PyGetSetDef entries (`{"name", getter, setter, ...}`): CPython calls
a getter as get(self, closure) and a setter as set(self, value, closure), and numpy 2.5.5
has getters written as get(self), which trapped in its own test_multiarray.py.

This reads C with regular expressions: a method table entry is `{"name", (cast)func,
FLAGS`, an attribute entry `{"name", (cast)getter, (cast)setter`, a definition is
`func(params) {`. It finds what numpy's
style writes; an entry whose function it cannot find is skipped (the wasm link would
still be right for those: only a short parameter list traps).
"""

import pathlib
import re
import sys

ENTRY = re.compile(
    r'\{\s*"(?P<name>[^"]+)"\s*,\s*(?:\([^()]*(?:\([^()]*\)[^()]*)*\)\s*)*(?P<func>\w+)\s*,\s*'
    r"(?P<flags>METH_[A-Z_]+(?:\s*\|\s*METH_[A-Z_]+)*)"
)
GETSET = re.compile(
    r'\{\s*"(?P<name>[^"]+)"\s*,\s*(?:\(\s*getter\s*\)\s*)?(?P<get>\w+)\s*,\s*'
    r"(?:\(\s*setter\s*\)\s*)?(?P<set>\w+)\s*,"
)


def definition(func):
    """`func(params) {`: the parameters of a definition (not a call or a prototype)."""
    return re.compile(r"\b" + func + r"\s*\(([^;{}]*?)\)\s*\{")


def needed(flags):
    f = {x.strip() for x in flags.split("|")}
    f.discard("METH_CLASS")
    f.discard("METH_STATIC")
    f.discard("METH_COEXIST")
    if "METH_METHOD" in f:
        return 5
    if "METH_FASTCALL" in f:
        return 4 if "METH_KEYWORDS" in f else 3
    if "METH_KEYWORDS" in f:
        return 3
    return 2  # METH_VARARGS, METH_O, METH_NOARGS


def count(params):
    params = params.strip()
    if params in ("", "void"):
        return 0
    depth, n = 0, 1
    for ch in params:
        depth += ch == "("
        depth -= ch == ")"
        n += ch == "," and depth == 0
    return n


def main():
    root = pathlib.Path(sys.argv[1])
    files = [p for p in root.rglob("*") if p.suffix in (".c", ".cpp", ".h", ".src")]
    texts = {p: p.read_text(errors="replace") for p in files}
    entries = [(p, m) for p, text in texts.items() for m in ENTRY.finditer(text)]
    # Not test data generators (tests/data/*.cpp, never built here): their tables of
    # {"sin", sin, sin, ...} look like attribute entries.
    getsets = [(p, m) for p, text in texts.items() if "tests" not in p.parts
               for m in GETSET.finditer(text)]
    arity = {}
    wanted = {m["func"] for _, m in entries}
    wanted |= {m[k] for _, m in getsets for k in ("get", "set") if m[k] != "NULL"}
    for func in wanted:
        pattern = definition(func)
        for text in texts.values():
            d = pattern.search(text) if func in text else None
            if d:
                arity[func] = count(d[1])
                break
    bad = []
    for p, m in entries:
        have = arity.get(m["func"])
        want = needed(m["flags"])
        if have is not None and have < want:
            line = texts[p].count("\n", 0, m.start()) + 1
            flags = " | ".join(f.strip() for f in m["flags"].split("|"))
            bad.append(f"{p.relative_to(root)}:{line}: {m['name']} -> {m['func']} takes "
                       f"{have} parameters, {flags} passes {want}")
    for p, m in getsets:
        # Entries of other tables match too ({"name", T_OBJECT, offsetof(...)}, a method
        # entry's flags): their second and third items are no function defined here.
        line = texts[p].count("\n", 0, m.start()) + 1
        for key, want in (("get", 2), ("set", 3)):
            have = arity.get(m[key])
            if have is not None and have < want:
                bad.append(f"{p.relative_to(root)}:{line}: {m['name']} -> {key}ter {m[key]} takes "
                           f"{have} parameters, CPython passes {want}")
    for b in bad:
        print(b)
    sys.exit(1 if bad else 0)


main()
