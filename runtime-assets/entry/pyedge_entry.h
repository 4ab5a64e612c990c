/* What the shared runtime entry offers each world's entry file. */
#ifndef PYEDGE_ENTRY_H
#define PYEDGE_ENTRY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>

/* The boot module (src/boot.py), alive from initialization on. */
extern PyObject *pyedge_boot_module;

/* Boot the interpreter and prepare the app unless the snapshot already did. */
void pyedge_ensure_initialized(void);

/* Call a boot-module function returning an int status; -1 after printing a Python error. */
int pyedge_call_boot(const char *name);

void pyedge_flush_stdio(void);

/* The bundle zip in linear memory (what pyedge_vfs.c serves as /app and /lib). */
const uint8_t *pyedge_bundle_bytes(size_t *len);

/* Let absolute paths reach the in-memory file system (pyedge_vfs.c). */
void pyedge_vfs_enable(void);

/* Defined by each world's entry: register its builtin modules before the interpreter
 * starts. Returns 0, or -1 on failure. */
int pyedge_register_world_modules(void);

/* Defined (weak, empty) in pyedge_entry.c; a runtime variant's generated file overrides
 * it to register more builtin modules (numpy's). Returns 0, or -1 on failure. */
int pyedge_register_extra_modules(void);

#endif
