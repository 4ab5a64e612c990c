/*
 * pyedge runtime entry (shared by every world): boots CPython from an in-memory bundle.
 *
 * pyedge (the Rust side) appends the bundle and the boot module's source to this
 * module's linear memory with data segments and fills `pyedge_bundle_desc` (exported as
 * a wasm global holding its address) so this code can find them. `pyedge_init` is the
 * wizer pre-initialization function. Each world's entry file (entry-cli/, entry-http/)
 * calls pyedge_ensure_initialized(), which boots the interpreter itself when the module
 * was not pre-initialized (--no-snapshot).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>
#include <wasi/libc.h>
#include <wasi/libc-environ.h>

#include "pyedge_entry.h"

#define PYEDGE_DESC_MAGIC 0x44455950u /* "PYED" little-endian */

/* Filled in by pyedge with a data segment; all zero in the bare runtime. */
struct pyedge_desc {
    uint32_t magic;
    uint32_t version;
    uint32_t bundle_ptr;
    uint32_t bundle_len;
    uint32_t boot_ptr; /* NUL-terminated Python source */
    uint32_t boot_len;
    uint32_t hash_seed;
    uint32_t flags;
};
__attribute__((used)) volatile struct pyedge_desc pyedge_bundle_desc;

extern void __wasm_call_ctors(void);
/* In wasi-libc but not its headers: forget preopens so they are found again, lazily,
 * from the host that runs the snapshot rather than the build host. */
extern void __wasilibc_reset_preopens(void);
extern char __heap_end; /* end of the heap region malloc owns at start (set by lld) */

enum { STATE_FRESH = 0, STATE_READY = 1 };
static int pyedge_state = STATE_FRESH;
PyObject *pyedge_boot_module; /* the pyedge boot module, kept alive in the snapshot */

static void fatal(const char *msg) {
    fprintf(stderr, "pyedge runtime: %s\n", msg);
    fflush(stderr);
    _Exit(70);
}

const uint8_t *pyedge_bundle_bytes(size_t *len) {
    *len = pyedge_bundle_desc.magic == PYEDGE_DESC_MAGIC ? pyedge_bundle_desc.bundle_len : 0;
    return (const uint8_t *)(uintptr_t)pyedge_bundle_desc.bundle_ptr;
}

/* ---- the _pyedge builtin module: what the boot module needs from C ---- */

static PyObject *pyedge_bundle(PyObject *self, PyObject *unused) {
    return PyMemoryView_FromMemory((char *)(uintptr_t)pyedge_bundle_desc.bundle_ptr,
                                   (Py_ssize_t)pyedge_bundle_desc.bundle_len, PyBUF_READ);
}

/* Read the host's argv or environ straight from WASI, never from a libc cache that the
 * snapshot could have frozen. */
static PyObject *strings_from_wasi(int environ) {
    __wasi_size_t count = 0, size = 0;
    __wasi_errno_t err = environ ? __wasi_environ_sizes_get(&count, &size)
                                 : __wasi_args_sizes_get(&count, &size);
    if (err != 0) {
        return PyErr_Format(PyExc_OSError, "WASI %s_sizes_get failed: %d",
                            environ ? "environ" : "args", (int)err);
    }
    uint8_t **ptrs = calloc(count + 1, sizeof(uint8_t *));
    uint8_t *buf = malloc(size + 1);
    if (ptrs == NULL || buf == NULL) {
        free(ptrs);
        free(buf);
        return PyErr_NoMemory();
    }
    err = environ ? __wasi_environ_get(ptrs, buf) : __wasi_args_get(ptrs, buf);
    PyObject *list = err == 0 ? PyList_New(0) : NULL;
    for (__wasi_size_t i = 0; list != NULL && i < count; i++) {
        PyObject *item = PyBytes_FromString((const char *)ptrs[i]);
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_CLEAR(list);
            break;
        }
        Py_DECREF(item);
    }
    free(ptrs);
    free(buf);
    if (err != 0) {
        return PyErr_Format(PyExc_OSError, "WASI %s_get failed: %d",
                            environ ? "environ" : "args", (int)err);
    }
    return list;
}

static PyObject *pyedge_environ(PyObject *self, PyObject *unused) { return strings_from_wasi(1); }
static PyObject *pyedge_argv(PyObject *self, PyObject *unused) { return strings_from_wasi(0); }

/* ---- settling the heap for the snapshot ---- */

/* In CPython (Objects/object.c) but only in its internal headers: make an object immortal
 * (reference counting skips it; a tracked container leaves the cyclic GC). */
extern void _Py_SetImmortal(PyObject *op);

struct object_stack {
    PyObject **items;
    size_t len, cap;
};

/* Mark an object immortal the first time it is seen and queue it for its referents;
 * immortality is the "seen" mark, and objects already immortal (static types, interned
 * constants) hold nothing that is not. */
static int mark_immortal(PyObject *op, void *arg) {
    struct object_stack *stack = arg;
    if (op == NULL || _Py_IsImmortal(op)) {
        return 0;
    }
    if (stack->len == stack->cap) {
        size_t cap = stack->cap ? stack->cap * 2 : 4096;
        PyObject **items = realloc(stack->items, cap * sizeof(PyObject *));
        if (items == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        stack->items = items;
        stack->cap = cap;
    }
    _Py_SetImmortal(op);
    stack->items[stack->len++] = op;
    return 0;
}

/* Code objects are not GC containers, so tp_traverse does not reach what they hold. */
static int mark_code(PyCodeObject *co, struct object_stack *stack) {
    PyObject *parts[] = {co->co_consts,   co->co_names,          co->co_exceptiontable,
                         co->co_filename, co->co_name,           co->co_qualname,
                         co->co_linetable, co->co_localsplusnames, co->co_localspluskinds};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (mark_immortal(parts[i], stack) < 0) {
            return -1;
        }
    }
    return 0;
}

/* _pyedge.immortalize(objects): make the objects, and everything they reach, immortal.
 *
 * The boot module calls it on the whole heap (gc.get_objects()) as the last step before
 * the snapshot. A request then uses modules, functions and constants without writing their
 * reference counts, so it does not copy-on-write the snapshot pages they live on, which
 * is most of what a fresh instance costs. Immortal objects are never freed, which costs
 * nothing in an instance that is thrown away after use. Returns how many were marked. */
static PyObject *pyedge_immortalize(PyObject *self, PyObject *objects) {
    struct object_stack stack = {NULL, 0, 0};
    size_t marked = 0;
    int err = 0;
    PyObject *iter = PyObject_GetIter(objects);
    if (iter == NULL) {
        return NULL;
    }
    PyObject *item;
    while (!err && (item = PyIter_Next(iter)) != NULL) {
        err = mark_immortal(item, &stack);
        Py_DECREF(item);
    }
    Py_DECREF(iter);
    while (!err && !PyErr_Occurred() && stack.len > 0) {
        PyObject *op = stack.items[--stack.len];
        marked++;
        traverseproc traverse = Py_TYPE(op)->tp_traverse;
        if (PyObject_IS_GC(op) && traverse != NULL) {
            err = traverse(op, mark_immortal, &stack);
        } else if (PyCode_Check(op)) {
            err = mark_code((PyCodeObject *)op, &stack);
        }
        if (!err) {
            err = mark_immortal((PyObject *)Py_TYPE(op), &stack);
        }
    }
    /* Leave no pointer garbage behind in freed memory: it would land in the snapshot. */
    if (stack.items != NULL) {
        memset(stack.items, 0, stack.cap * sizeof(PyObject *));
    }
    free(stack.items);
    if (err || PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromSize_t(marked);
}

/* While set, the heap may not grow: malloc fails instead (see hold_free_heap). Volatile:
 * the compiler assumes malloc reads no program state, and would drop the stores around it. */
static volatile int heap_frozen;
extern void *__real_sbrk(intptr_t increment);
void *__wrap_sbrk(intptr_t increment) {
    if (heap_frozen && increment > 0) {
        errno = ENOMEM;
        return (void *)-1;
    }
    return __real_sbrk(increment);
}

extern char __stack_low; /* lowest address of the stack region (set by lld) */

/* Zero the stack below the current frame: build-time calls went deeper than a request
 * will, and what they left there would land in the snapshot. A margin stays untouched
 * for this function's own callees. */
static void zero_dead_stack(void) {
    char here;
    char *end = &here - 16384;
    if (end > &__stack_low) {
        memset(&__stack_low, 0, (size_t)(end - &__stack_low));
    }
}

/* Take all of the heap's free memory, zeroed, and keep it: the last step before the
 * snapshot. Importing compiles and frees a lot, and what malloc got back still holds those
 * bytes, which the snapshot would carry as data; zeroed, they are left out. Kept, they also
 * steer a request's allocations (CPython on WASI allocates every object with malloc) to
 * fresh memory above the snapshot, instead of into free holes scattered across hundreds of
 * snapshot pages that each cost a copy-on-write fault. Nothing a request could use is lost:
 * the heap grows for it instead (see reserve_request_heap). The heap may not grow
 * meanwhile (see __wrap_sbrk), and blocks are taken largest first, so a big free region
 * costs one block header. */
static void hold_free_heap(void) {
    /* Each block is stored here (volatile) so the compiler cannot treat it as unused. */
    static void *volatile last_held;
    heap_frozen = 1;
    for (size_t size = (size_t)1 << 26; size >= 2 * sizeof(void *);) {
        void *block = malloc(size);
        if (block == NULL) {
            size /= 2;
            continue;
        }
        memset(block, 0, size);
        last_held = block; /* kept, never freed */
    }
    heap_frozen = 0;
    last_held = NULL;
}

/* Heap grown for requests at build time: the top of the heap, free, above everything
 * hold_free_heap kept. A request allocates from it instead of growing the memory, which
 * would cost it a `memory.grow` (a host call that changes page protections, and a host
 * that reuses the memory for the next instance changes them back). Its pages are zero, so
 * the snapshot does not carry them; a request that needs more grows the heap as before. */
#define REQUEST_HEAP_SIZE ((size_t)1 << 20)
static void reserve_request_heap(void) {
    static void *volatile block;
    block = malloc(REQUEST_HEAP_SIZE);
    free(block);
    block = NULL;
}

/* Host reads the build watches for: the clock and randomness, at the WASI call (so C
 * extensions and datetime.now() count too). boot.py imports modules speculatively at
 * build time, into the snapshot, and keeps one only if its import read neither: a value
 * read then would be the build's (the snapshot sees a fixed clock and seeded
 * randomness), not the host's at run time. Counted only while watching, so a request
 * writes nothing here. build.sh links with --wrap for both functions. */
static int watching_host;
static uint64_t clock_reads, random_reads;

__wasi_errno_t __real___wasi_clock_time_get(__wasi_clockid_t id, __wasi_timestamp_t precision,
                                            __wasi_timestamp_t *time);
__wasi_errno_t __wrap___wasi_clock_time_get(__wasi_clockid_t id, __wasi_timestamp_t precision,
                                            __wasi_timestamp_t *time) {
    if (watching_host) {
        clock_reads++;
    }
    return __real___wasi_clock_time_get(id, precision, time);
}

__wasi_errno_t __real___wasi_random_get(uint8_t *buf, __wasi_size_t len);
__wasi_errno_t __wrap___wasi_random_get(uint8_t *buf, __wasi_size_t len) {
    if (watching_host) {
        random_reads++;
    }
    return __real___wasi_random_get(buf, len);
}

/* _pyedge.watch_host(on): start (True) or stop counting; returns the counts so far as
 * (clock reads, random reads). */
static PyObject *pyedge_watch_host(PyObject *self, PyObject *on) {
    (void)self;
    int flag = PyObject_IsTrue(on);
    if (flag < 0) {
        return NULL;
    }
    PyObject *counts = Py_BuildValue("(KK)", (unsigned long long)clock_reads,
                                     (unsigned long long)random_reads);
    watching_host = flag;
    return counts;
}

static PyMethodDef pyedge_methods[] = {
    {"watch_host", pyedge_watch_host, METH_O,
     "Count clock and random reads (True) or stop (False); returns the counts so far."},
    {"immortalize", pyedge_immortalize, METH_O,
     "Make each object of an iterable immortal; returns how many."},
    {"bundle", pyedge_bundle, METH_NOARGS, "The bundle zip as a read-only memoryview."},
    {"environ", pyedge_environ, METH_NOARGS, "The host's environment as KEY=VALUE bytes."},
    {"argv", pyedge_argv, METH_NOARGS, "The host's argv as bytes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef pyedge_module = {
    PyModuleDef_HEAD_INIT, "_pyedge", "pyedge runtime helpers", -1, pyedge_methods,
};

static PyObject *PyInit__pyedge(void) { return PyModule_Create(&pyedge_module); }

/* ---- interpreter boot ---- */

static void check_status(PyStatus status) {
    if (PyStatus_Exception(status)) {
        fprintf(stderr, "pyedge runtime: interpreter start failed: %s: %s\n",
                status.func ? status.func : "?", status.err_msg ? status.err_msg : "?");
        fflush(stderr);
        _Exit(70);
    }
}

/* Compile and run the boot module (it installs the bundle finder). */
static void run_boot_module(void) {
    const char *source = (const char *)(uintptr_t)pyedge_bundle_desc.boot_ptr;
    PyObject *code = Py_CompileString(source, "<pyedge-boot>", Py_file_input);
    if (code == NULL) {
        PyErr_Print();
        fatal("the boot module does not compile");
    }
    pyedge_boot_module = PyImport_AddModuleRef("_pyedge_boot");
    PyObject *globals = pyedge_boot_module ? PyModule_GetDict(pyedge_boot_module) : NULL;
    if (globals == NULL || PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0) {
        fatal("cannot create the boot module");
    }
    PyObject *result = PyEval_EvalCode(code, globals, globals);
    Py_DECREF(code);
    if (result == NULL) {
        PyErr_Print();
        fatal("the boot module failed");
    }
    Py_DECREF(result);
}

/* The crypto core under the `cryptography` facade (runtime-assets/crypto/); an optional
 * module the build leaves out of apps that do not import it (pack.py's PRUNABLE). */
PyMODINIT_FUNC PyInit__pyedge_crypto(void);

/* Built-in modules a runtime variant adds: the numpy variants define this (generated by
 * build.sh from numpy's modules.tsv) to register numpy's extension modules by their dotted
 * names; the plain runtime has none. */
__attribute__((weak)) int pyedge_register_extra_modules(void) {
    return 0;
}

static void boot_interpreter(void) {
    __wasm_call_ctors();
    if (pyedge_bundle_desc.magic != PYEDGE_DESC_MAGIC) {
        fatal("no bundle embedded: build this module with `pyedge build`");
    }
    if ((uintptr_t)pyedge_bundle_desc.bundle_ptr < (uintptr_t)&__heap_end) {
        fatal("the bundle overlaps the heap");
    }
    if (PyImport_AppendInittab("_pyedge", PyInit__pyedge) < 0 ||
        PyImport_AppendInittab("_pyedge_crypto", PyInit__pyedge_crypto) < 0 ||
        pyedge_register_world_modules() < 0 || pyedge_register_extra_modules() < 0) {
        fatal("cannot register pyedge's builtin modules");
    }

    PyPreConfig preconfig;
    PyPreConfig_InitIsolatedConfig(&preconfig);
    preconfig.utf8_mode = 1;
    check_status(Py_PreInitialize(&preconfig));

    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.install_signal_handlers = 0;
    config.site_import = 0;
    config.write_bytecode = 0;
    config.pathconfig_warnings = 0;
    config.module_search_paths_set = 1; /* empty: the bundle finder serves imports */
    config.use_hash_seed = 1;
    config.hash_seed = pyedge_bundle_desc.hash_seed;
    config._init_main = 0; /* core only: install the finder before `encodings` is needed */
    check_status(PyConfig_SetString(&config, &config.program_name, L"python"));
    check_status(PyConfig_SetString(&config, &config.home, L"/"));
    check_status(Py_InitializeFromConfig(&config));
    PyConfig_Clear(&config);

    run_boot_module();
    check_status(_Py_InitializeMain());
    pyedge_vfs_enable();
}

int pyedge_call_boot(const char *name) {
    PyObject *result = PyObject_CallMethod(pyedge_boot_module, name, NULL);
    if (result == NULL) {
        PyErr_Print();
        return -1;
    }
    long value = PyLong_AsLong(result);
    Py_DECREF(result);
    if (value == -1 && PyErr_Occurred()) {
        PyErr_Print();
        return -1;
    }
    return (int)value;
}

static void initialize(void) {
    boot_interpreter();
    if (pyedge_call_boot("pre_initialize") != 0) {
        _Exit(1); /* the traceback is already on stderr */
    }
    pyedge_state = STATE_READY;
}

/* Wizer pre-initialization: boot, import the app, and leave no build-host state. */
__attribute__((export_name("pyedge_init"))) void pyedge_init(void) {
    initialize();
    __wasilibc_deinitialize_environ();
    __wasilibc_reset_preopens();
    hold_free_heap();
    reserve_request_heap();
    zero_dead_stack();
}

void pyedge_ensure_initialized(void) {
    if (pyedge_state != STATE_READY) {
        initialize();
    }
}

void pyedge_flush_stdio(void) {
    fflush(stdout);
    fflush(stderr);
}
