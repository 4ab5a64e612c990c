/* wasi:cli world: `_start`, called by the preview1 command adapter's `run`. */
#include <stdlib.h>

#include "pyedge_entry.h"

int pyedge_register_world_modules(void) { return 0; }

__attribute__((export_name("_start"))) void pyedge_start(void) {
    pyedge_ensure_initialized();
    int code = pyedge_call_boot("run_cli");
    pyedge_flush_stdio();
    if (code != 0) {
        exit(code < 0 ? 1 : code);
    }
}
