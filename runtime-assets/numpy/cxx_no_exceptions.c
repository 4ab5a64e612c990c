/*
 * What a C++ `throw` does in pyedge's WASI numpy: it ends the instance, saying so.
 *
 * Why these two functions exist: a few of numpy's C++ files are compiled with exceptions
 * on (numpy/_core/src/multiarray/unique.cpp, by numpy's meson.build, and pocketfft's
 * header-only C++ in numpy/fft), so they call the C++ ABI's __cxa_allocate_exception and
 * __cxa_throw. Debian's libc++abi for wasm32-wasi is built without exceptions and has
 * neither, and wasm32-wasi here has no unwinding (the exception-handling proposal is not
 * something every host pyedge targets runs), so their catch blocks can never run anyway.
 * Where numpy throws: pocketfft on an allocation failure or an internal length error
 * (numpy's Python layer checks lengths before calling it), unique.cpp only to catch
 * std::bad_alloc. Both are out-of-memory paths, which end a wasm instance regardless.
 *
 * The message names the exception's type (its mangled name from the std::type_info,
 * whose second word is that name in the Itanium C++ ABI that clang uses for wasm32).
 */
#include <stdio.h>
#include <stdlib.h>

void *__cxa_allocate_exception(size_t size) {
    void *p = malloc(size);
    if (p == NULL) {
        fputs("pyedge numpy: out of memory while raising a C++ exception\n", stderr);
        abort();
    }
    return p;
}

void __cxa_throw(void *thrown, void *type_info, void (*destructor)(void *)) {
    const char *name = type_info ? ((const char *const *)type_info)[1] : NULL;
    (void)thrown;
    (void)destructor;
    fprintf(stderr,
            "pyedge numpy: a C++ exception (%s) was thrown; this WASI build cannot unwind "
            "C++ exceptions, so the instance ends here\n",
            name ? name : "of unknown type");
    abort();
}
