"""{{name}}: a command-line app.

    pyedge build                        # -> app.wasm
    wasmtime run app.wasm Ada Grace     # main() runs with sys.argv

main()'s return value is the exit status.
"""

import sys


def main():
    names = sys.argv[1:] or ["world"]
    for name in names:
        print(f"Hello, {name}!")
    return 0
