"""The hello script app written for componentize-py's wasi:cli/run export."""

import sys

from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        names = sys.argv[1:] or ["world"]
        for name in names:
            print(f"Hello, {name}!")
