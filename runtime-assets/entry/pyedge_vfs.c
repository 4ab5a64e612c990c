/*
 * pyedge's in-memory file system, served at the WASI preview-1 level.
 *
 * wasi-libc turns every file call (open, read, stat, opendir, mkdir...) into a call of a
 * `__wasi_*` function with a directory fd and a relative path, after mapping an absolute
 * path to a preopened directory with `__wasilibc_find_abspath`. The link wraps those
 * functions (`-Wl,--wrap=...`, see build.sh): a virtual fd (VFD_BASE and up) is served
 * here, any other fd goes to the host as before. So C code and Python see the same files:
 *
 *   /app, /lib/...   the bundle (the zip in linear memory), read-only; deflated entries
 *                    are inflated when first read through an open fd, and freed on close
 *   /tmp             a writable in-memory directory of this instance, at most TMP_LIMIT
 *                    bytes of file data (ENOSPC beyond, with a message naming the limit)
 *
 * The virtual root answers every absolute path no host preopen matches better: a host
 * preopen wins over the virtual root and /tmp when its prefix is as long or longer, the
 * bundle's /app and /lib win ties (their paths are the modules' __file__). Nothing here
 * is registered with wasi-libc's preopen table, so `__wasilibc_reset_preopens()` before
 * the snapshot leaves it alone, and the host's preopens are found lazily as before.
 *
 * The tree of the bundle is built on first use (at build time, in the snapshot, when the
 * app touches a file while it is imported), never during the interpreter's own start-up
 * (see pyedge_vfs_enable). Everything is single-threaded.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>
#include <zlib.h>

#include "pyedge_entry.h"

#define VFD_BASE 0x40000000u
#define VFD_MAX 1024u
#define VFD_ROOT VFD_BASE /* the virtual root directory, always open */

/* /tmp: file data of all its files together, and how many files and directories. */
#define TMP_LIMIT ((uint64_t)8 << 20)
#define TMP_LIMIT_TEXT "8 MiB"
#define TMP_MAX_NODES 10000u
#define TMP_MAX_NODES_TEXT "10000"

#define DEV_BUNDLE 0x70796564u /* "pyed" */
#define DEV_TMP 0x70796565u

#define ALL_RIGHTS ((__wasi_rights_t)0x1fffffffu)

struct node {
    struct node *parent;
    struct node *children; /* directories: first child */
    struct node *next;     /* next sibling */
    const char *name;      /* not NUL-terminated */
    uint32_t name_len;
    uint8_t is_dir;
    uint8_t in_tmp;     /* writable: /tmp and what is under it */
    uint32_t nlink;     /* 0 once removed from its directory */
    uint32_t opens;     /* open fds */
    uint64_t ino;
    uint64_t size;
    __wasi_timestamp_t atim, mtim, ctim;
    /* bundle files */
    uint32_t local_header;
    uint32_t csize;
    uint16_t method;
    /* /tmp files */
    uint8_t *data;
    size_t cap;
};

struct vfile {
    struct node *node; /* NULL: slot free */
    const uint8_t *data; /* bundle file contents once loaded */
    uint8_t *owned;      /* inflated contents, freed on close */
    uint64_t pos;
    __wasi_fdflags_t flags;
    __wasi_rights_t rights_base, rights_inheriting;
};

static struct node *root;
static struct node *tmp_dir;
static struct vfile files[VFD_MAX];
static uint64_t tmp_used;     /* bytes of file data under /tmp */
static uint32_t tmp_nodes;    /* files and directories under /tmp */
static uint64_t next_tmp_ino = (uint64_t)1 << 32;
static int enabled;           /* set once the interpreter has started (pyedge_vfs_enable) */
static int tmp_full_reported; /* the last ENOSPC came from /tmp: 1 data, 2 nodes (strerror) */
static int ilseq_reported;    /* the last EILSEQ was a non-UTF-8 path kept from the host */

/* ---- the tree ---- */

static uint16_t u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* A zip entry's MS-DOS date and time as nanoseconds since 1970 (UTC). */
static __wasi_timestamp_t dos_time(uint16_t time, uint16_t date) {
    int64_t y = 1980 + (date >> 9), m = (date >> 5) & 15, d = date & 31;
    if (m < 1 || m > 12 || d < 1) {
        return 0;
    }
    /* Days from civil (proleptic Gregorian). */
    y -= m <= 2;
    int64_t era = y / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    int64_t secs = days * 86400 + (time >> 11) * 3600 + ((time >> 5) & 63) * 60 + (time & 31) * 2;
    return (__wasi_timestamp_t)secs * 1000000000u;
}

static __wasi_timestamp_t now(void) {
    __wasi_timestamp_t t = 0;
    if (__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &t) != 0) {
        t = 0;
    }
    return t;
}

static struct node *find_child(struct node *dir, const char *name, size_t len) {
    for (struct node *c = dir->children; c != NULL; c = c->next) {
        if (c->name_len == len && memcmp(c->name, name, len) == 0) {
            return c;
        }
    }
    return NULL;
}

static struct node *new_node(struct node *parent, const char *name, size_t len, int is_dir) {
    struct node *n = calloc(1, sizeof *n);
    if (n == NULL) {
        return NULL;
    }
    n->parent = parent;
    n->name = name;
    n->name_len = (uint32_t)len;
    n->is_dir = (uint8_t)is_dir;
    n->nlink = 1;
    if (parent != NULL) {
        n->next = parent->children;
        parent->children = n;
    }
    return n;
}

/* Children were prepended while building: put them back in the bundle's order. */
static void reverse_children(struct node *dir) {
    struct node *prev = NULL, *c = dir->children;
    while (c != NULL) {
        struct node *next = c->next;
        c->next = prev;
        prev = c;
        if (c->is_dir) {
            reverse_children(c);
        }
        c = next;
    }
    dir->children = prev;
}

/* The bundle's directory tree from its zip central directory (top-level files, such as
 * pyedge.cfg, are the runtime's own and left out), plus /tmp. Returns 0 or an errno. */
static int build_tree(void) {
    static const char tmp_name[] = "tmp";
    uint64_t ino = 1;
    root = new_node(NULL, "", 0, 1);
    if (root == NULL) {
        return __WASI_ERRNO_NOMEM;
    }
    root->parent = root;
    root->ino = ino++;
    size_t size = 0;
    const uint8_t *zip = pyedge_bundle_bytes(&size);
    size_t from = size > 65557 ? size - 65557 : 0;
    const uint8_t *eocd = NULL;
    for (size_t i = size >= 22 ? size - 22 + 1 : 0; i-- > from;) {
        if (u32(zip + i) == 0x06054b50u) {
            eocd = zip + i;
            break;
        }
    }
    if (eocd != NULL) {
        uint32_t count = u16(eocd + 10), cd_size = u32(eocd + 12), cd_off = u32(eocd + 16);
        if (cd_off > size || cd_size > size - cd_off) {
            count = 0; /* not a zip this code understands: an empty bundle tree */
        }
        const uint8_t *p = zip + (count ? cd_off : 0), *end = p + (count ? cd_size : 0);
        /* Consecutive entries mostly share their directory: remember the last one. */
        const char *last_dir = NULL;
        size_t last_dir_len = 0;
        struct node *last_parent = root;
        for (uint32_t k = 0; k < count && p + 46 <= end && u32(p) == 0x02014b50u; k++) {
            uint16_t method = u16(p + 10), time = u16(p + 12), date = u16(p + 14);
            uint32_t csize = u32(p + 20), usize = u32(p + 24);
            uint16_t nlen = u16(p + 28), elen = u16(p + 30), clen = u16(p + 32);
            uint32_t local = u32(p + 42);
            const char *name = (const char *)p + 46;
            p += 46 + nlen + elen + clen;
            size_t len = nlen;
            int is_dir_entry = len > 0 && name[len - 1] == '/';
            while (len > 0 && name[len - 1] == '/') {
                len--;
            }
            size_t slash = len;
            while (slash > 0 && name[slash - 1] != '/') {
                slash--;
            }
            if (slash == 0 && !is_dir_entry) {
                continue; /* a top-level file: the runtime's own */
            }
            size_t dir_len = slash > 0 ? slash - 1 : 0;
            struct node *parent;
            if (last_dir != NULL && dir_len == last_dir_len && memcmp(name, last_dir, dir_len) == 0) {
                parent = last_parent;
            } else {
                parent = root;
                size_t at = 0;
                while (at < dir_len) {
                    size_t stop = at;
                    while (stop < dir_len && name[stop] != '/') {
                        stop++;
                    }
                    if (stop > at) {
                        struct node *child = find_child(parent, name + at, stop - at);
                        if (child == NULL) {
                            child = new_node(parent, name + at, stop - at, 1);
                            if (child == NULL) {
                                return __WASI_ERRNO_NOMEM;
                            }
                            child->ino = ino++;
                        } else if (!child->is_dir) {
                            break; /* a file and a directory of one name: keep the file */
                        }
                        parent = child;
                    }
                    at = stop + 1;
                }
                last_dir = name;
                last_dir_len = dir_len;
                last_parent = parent;
            }
            const char *leaf = name + slash;
            size_t leaf_len = len - slash;
            if (leaf_len == 0 || !parent->is_dir) {
                continue;
            }
            struct node *n = find_child(parent, leaf, leaf_len);
            if (n == NULL) {
                n = new_node(parent, leaf, leaf_len, is_dir_entry);
                if (n == NULL) {
                    return __WASI_ERRNO_NOMEM;
                }
                n->ino = ino++;
            }
            n->mtim = n->atim = n->ctim = dos_time(time, date);
            if (!is_dir_entry && !n->is_dir) {
                n->size = usize;
                n->csize = csize;
                n->method = method;
                n->local_header = local;
            }
        }
    }
    reverse_children(root);
    if (find_child(root, tmp_name, 3) == NULL) {
        tmp_dir = new_node(root, tmp_name, 3, 1);
        if (tmp_dir == NULL) {
            return __WASI_ERRNO_NOMEM;
        }
        tmp_dir->in_tmp = 1;
        tmp_dir->ino = next_tmp_ino++;
        tmp_dir->mtim = tmp_dir->atim = tmp_dir->ctim = now();
    }
    files[0].node = root;
    files[0].rights_base = files[0].rights_inheriting = ALL_RIGHTS;
    root->opens = 1;
    return 0;
}

static int ensure_tree(void) { return root != NULL ? 0 : build_tree(); }

/* ---- fds ---- */

static int is_virtual(__wasi_fd_t fd) {
    return (uint32_t)fd >= VFD_BASE && (uint32_t)fd < VFD_BASE + VFD_MAX;
}

/* The open file of a virtual fd, or NULL (EBADF). */
static struct vfile *vfile(__wasi_fd_t fd) {
    if (fd == VFD_ROOT && ensure_tree() != 0) {
        return NULL;
    }
    struct vfile *f = &files[(uint32_t)fd - VFD_BASE];
    return f->node != NULL ? f : NULL;
}

static void free_node(struct node *n) {
    if (n->in_tmp) {
        tmp_used -= n->size;
        tmp_nodes--;
        free(n->data);
        free((void *)n->name);
    }
    free(n);
}

/* Unlink `n` from its directory; it is freed once no fd holds it. */
static void detach(struct node *n) {
    struct node **link = &n->parent->children;
    while (*link != n) {
        link = &(*link)->next;
    }
    *link = n->next;
    n->next = NULL;
    n->nlink = 0;
    n->parent->mtim = n->parent->ctim = now();
    if (n->opens == 0) {
        free_node(n);
    }
}

/* ---- paths ---- */

/* Resolve `path` (relative to `dir`) to its last component: *parent is the directory
 * holding it and *name, *name_len its name ("" for the directory itself, "." and ".." as
 * they are). *trailing is set when the path ended in '/'. Returns 0 or an errno. */
static int walk(struct node *dir, const char *path, struct node **parent, const char **name,
                size_t *name_len, int *trailing) {
    if (!dir->is_dir) {
        return __WASI_ERRNO_NOTDIR;
    }
    if (*path == '/') {
        dir = root;
    }
    const char *p = path;
    const char *last = "";
    size_t last_len = 0;
    *trailing = 0;
    for (;;) {
        while (*p == '/') {
            p++;
            if (last_len > 0) {
                *trailing = 1;
            }
        }
        if (*p == 0) {
            break;
        }
        const char *start = p;
        while (*p && *p != '/') {
            p++;
        }
        if (last_len > 0) {
            /* Step into the previous component: it must be a directory. */
            struct node *next;
            if (last_len == 1 && last[0] == '.') {
                next = dir;
            } else if (last_len == 2 && last[0] == '.' && last[1] == '.') {
                next = dir->parent;
            } else {
                next = find_child(dir, last, last_len);
            }
            if (next == NULL) {
                return __WASI_ERRNO_NOENT;
            }
            if (!next->is_dir) {
                return __WASI_ERRNO_NOTDIR;
            }
            dir = next;
        }
        last = start;
        last_len = (size_t)(p - start);
        *trailing = 0;
    }
    *parent = dir;
    *name = last;
    *name_len = last_len;
    return 0;
}

/* The node `name` names in `parent` (see walk), or NULL. */
static struct node *lookup_in(struct node *parent, const char *name, size_t len) {
    if (len == 0 || (len == 1 && name[0] == '.')) {
        return parent;
    }
    if (len == 2 && name[0] == '.' && name[1] == '.') {
        return parent->parent;
    }
    return find_child(parent, name, len);
}

static int resolve(struct node *dir, const char *path, struct node **out) {
    struct node *parent;
    const char *name;
    size_t len;
    int trailing;
    int err = walk(dir, path, &parent, &name, &len, &trailing);
    if (err) {
        return err;
    }
    struct node *n = lookup_in(parent, name, len);
    if (n == NULL) {
        return __WASI_ERRNO_NOENT;
    }
    if (trailing && !n->is_dir) {
        return __WASI_ERRNO_NOTDIR;
    }
    *out = n;
    return 0;
}

static int is_dot_name(const char *name, size_t len) {
    return len == 0 || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

/* A new file or directory `name` in the /tmp directory `parent`. */
static int create(struct node *parent, const char *name, size_t len, int is_dir, struct node **out) {
    if (!parent->in_tmp) {
        return __WASI_ERRNO_ROFS;
    }
    if (parent->nlink == 0) {
        return __WASI_ERRNO_NOENT;
    }
    if (tmp_nodes >= TMP_MAX_NODES) {
        tmp_full_reported = 2;
        return __WASI_ERRNO_NOSPC;
    }
    char *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        return __WASI_ERRNO_NOMEM;
    }
    memcpy(copy, name, len);
    struct node *n = new_node(parent, copy, len, is_dir);
    if (n == NULL) {
        free(copy);
        return __WASI_ERRNO_NOMEM;
    }
    n->in_tmp = 1;
    n->ino = next_tmp_ino++;
    n->mtim = n->atim = n->ctim = parent->mtim = parent->ctim = now();
    tmp_nodes++;
    *out = n;
    return 0;
}

/* Make a /tmp file `size` bytes long (zero-filled when it grows). */
static int resize(struct node *n, uint64_t size) {
    if (size > n->size && size - n->size > TMP_LIMIT - tmp_used) {
        tmp_full_reported = 1;
        return __WASI_ERRNO_NOSPC;
    }
    if (size > n->cap) {
        size_t cap = n->cap ? n->cap : 4096;
        while (cap < size) {
            cap *= 2;
        }
        if (cap > TMP_LIMIT) {
            cap = (size_t)size;
        }
        uint8_t *data = realloc(n->data, cap);
        if (data == NULL) {
            return __WASI_ERRNO_NOMEM;
        }
        n->data = data;
        n->cap = cap;
    }
    if (size > n->size) {
        memset(n->data + n->size, 0, (size_t)(size - n->size));
    }
    tmp_used = tmp_used - n->size + size;
    n->size = size;
    return 0;
}

/* The contents of an open bundle file, inflated on first use. */
static int load(struct vfile *f) {
    struct node *n = f->node;
    if (f->data != NULL || n->in_tmp || n->size == 0) {
        return 0;
    }
    size_t zip_size;
    const uint8_t *zip = pyedge_bundle_bytes(&zip_size);
    if ((uint64_t)n->local_header + 30 > zip_size) {
        return __WASI_ERRNO_IO;
    }
    const uint8_t *local = zip + n->local_header;
    uint64_t start = (uint64_t)n->local_header + 30 + u16(local + 26) + u16(local + 28);
    if (start + n->csize > zip_size) {
        return __WASI_ERRNO_IO;
    }
    if (n->method == 0) {
        f->data = zip + start;
        return 0;
    }
    if (n->method != 8) {
        return __WASI_ERRNO_IO;
    }
    uint8_t *out = malloc((size_t)n->size);
    if (out == NULL) {
        return __WASI_ERRNO_NOMEM;
    }
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -15) != Z_OK) {
        free(out);
        return __WASI_ERRNO_NOMEM;
    }
    zs.next_in = (Bytef *)(zip + start);
    zs.avail_in = n->csize;
    zs.next_out = out;
    zs.avail_out = (uInt)n->size;
    int rc = inflate(&zs, Z_FINISH);
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || zs.total_out != n->size) {
        free(out);
        return __WASI_ERRNO_IO;
    }
    f->data = f->owned = out;
    return 0;
}

static const uint8_t *contents(struct vfile *f) {
    return f->node->in_tmp ? f->node->data : f->data;
}

static void stat_of(const struct node *n, __wasi_filestat_t *st) {
    st->dev = n->in_tmp ? DEV_TMP : DEV_BUNDLE;
    st->ino = n->ino;
    st->filetype = n->is_dir ? __WASI_FILETYPE_DIRECTORY : __WASI_FILETYPE_REGULAR_FILE;
    st->nlink = n->nlink;
    st->size = n->is_dir ? 4096 : n->size;
    st->atim = n->atim;
    st->mtim = n->mtim;
    st->ctim = n->ctim;
}

static int set_times(struct node *n, __wasi_timestamp_t atim, __wasi_timestamp_t mtim,
                     __wasi_fstflags_t flags) {
    if (!n->in_tmp) {
        return __WASI_ERRNO_ROFS;
    }
    __wasi_timestamp_t t = (flags & (__WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW)) ? now() : 0;
    if (flags & __WASI_FSTFLAGS_ATIM) {
        n->atim = atim;
    } else if (flags & __WASI_FSTFLAGS_ATIM_NOW) {
        n->atim = t;
    }
    if (flags & __WASI_FSTFLAGS_MTIM) {
        n->mtim = mtim;
    } else if (flags & __WASI_FSTFLAGS_MTIM_NOW) {
        n->mtim = t;
    }
    return 0;
}

/* ---- the wrapped WASI functions ---- */

#define REAL(name) __real___wasi_##name
#define WRAP(name) __wrap___wasi_##name

/* Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF). A host's wasi:filesystem takes paths as strings: when the adapter passes it a
 * path that is not UTF-8 (Python's surrogateescape gives one for any str holding
 * "\udc80"), Wasmtime refuses to lift it and the whole instance ends ("invalid utf-8
 * sequence"). Such a path never reaches the host: the call fails with EILSEQ (OSError 25),
 * what Wasmtime's preview1 host answers a core module such as CPython's own WASI build.
 * Written out here rather than borrowed: this layer runs beneath the interpreter (no
 * Python objects, so not PyUnicode_DecodeUTF8), and wasi-libc's mbrtowc follows the
 * locale, whose C form is byte-based, not UTF-8. */
static int is_utf8(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t more;
        unsigned min;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            more = 1, min = 0x80, c &= 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            more = 2, min = 0x800, c &= 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            more = 3, min = 0x10000, c &= 0x07;
        } else {
            return 0;
        }
        p++;
        for (size_t i = 0; i < more; i++, p++) {
            if ((*p & 0xc0) != 0x80) {
                return 0;
            }
            c = (c << 6) | (*p & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
            return 0;
        }
    }
    return 1;
}

/* For a call that goes to the host: EILSEQ unless each path is UTF-8. */
#define HOST_PATHS_OK(...)                                       \
    do {                                                         \
        const char *paths_[] = {__VA_ARGS__};                    \
        for (size_t i_ = 0; i_ < sizeof paths_ / sizeof *paths_; i_++) { \
            if (!is_utf8(paths_[i_])) {                          \
                ilseq_reported = 1;                              \
                return __WASI_ERRNO_ILSEQ;                       \
            }                                                    \
        }                                                        \
    } while (0)

__wasi_errno_t REAL(path_open)(__wasi_fd_t, __wasi_lookupflags_t, const char *, __wasi_oflags_t,
                               __wasi_rights_t, __wasi_rights_t, __wasi_fdflags_t, __wasi_fd_t *);
__wasi_errno_t WRAP(path_open)(__wasi_fd_t fd, __wasi_lookupflags_t dirflags, const char *path,
                               __wasi_oflags_t oflags, __wasi_rights_t base,
                               __wasi_rights_t inheriting, __wasi_fdflags_t fdflags,
                               __wasi_fd_t *out) {
    if (!is_virtual(fd)) {
        HOST_PATHS_OK(path);
        return REAL(path_open)(fd, dirflags, path, oflags, base, inheriting, fdflags, out);
    }
    struct vfile *dir = vfile(fd);
    if (dir == NULL) {
        return __WASI_ERRNO_BADF;
    }
    struct node *parent, *n;
    const char *name;
    size_t len;
    int trailing;
    int err = walk(dir->node, path, &parent, &name, &len, &trailing);
    if (err) {
        return err;
    }
    n = lookup_in(parent, name, len);
    int wants_write = (base & __WASI_RIGHTS_FD_WRITE) != 0;
    if (n == NULL) {
        if (!(oflags & __WASI_OFLAGS_CREAT)) {
            return __WASI_ERRNO_NOENT;
        }
        if ((oflags & __WASI_OFLAGS_DIRECTORY) || trailing) {
            return __WASI_ERRNO_ISDIR;
        }
        err = create(parent, name, len, 0, &n);
        if (err) {
            return err;
        }
    } else {
        if ((oflags & __WASI_OFLAGS_CREAT) && (oflags & __WASI_OFLAGS_EXCL)) {
            return __WASI_ERRNO_EXIST;
        }
        if (!n->is_dir && ((oflags & __WASI_OFLAGS_DIRECTORY) || trailing)) {
            return __WASI_ERRNO_NOTDIR;
        }
        if (n->is_dir && (wants_write || (oflags & __WASI_OFLAGS_TRUNC))) {
            return __WASI_ERRNO_ISDIR;
        }
        if (!n->in_tmp && (wants_write || (oflags & __WASI_OFLAGS_TRUNC))) {
            return __WASI_ERRNO_ROFS;
        }
    }
    unsigned slot = 1;
    while (slot < VFD_MAX && files[slot].node != NULL) {
        slot++;
    }
    if (slot == VFD_MAX) {
        return __WASI_ERRNO_NFILE;
    }
    if ((oflags & __WASI_OFLAGS_TRUNC) && n->size > 0) {
        resize(n, 0); /* shrinking cannot fail */
        n->mtim = n->ctim = now();
    }
    struct vfile *f = &files[slot];
    memset(f, 0, sizeof *f);
    f->node = n;
    f->flags = fdflags;
    f->rights_base = base;
    f->rights_inheriting = inheriting;
    n->opens++;
    *out = VFD_BASE + slot;
    return 0;
}

__wasi_errno_t REAL(fd_close)(__wasi_fd_t);
__wasi_errno_t WRAP(fd_close)(__wasi_fd_t fd) {
    if (!is_virtual(fd)) {
        return REAL(fd_close)(fd);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL || fd == VFD_ROOT) {
        return __WASI_ERRNO_BADF;
    }
    struct node *n = f->node;
    free(f->owned);
    memset(f, 0, sizeof *f);
    if (--n->opens == 0 && n->nlink == 0) {
        free_node(n);
    }
    return 0;
}

/* Copy from `src` (size bytes) at `pos` into the iovecs; returns bytes copied. */
static size_t copy_out(const uint8_t *src, uint64_t size, uint64_t pos, const __wasi_iovec_t *iovs,
                       size_t n) {
    size_t done = 0;
    for (size_t i = 0; i < n && pos < size; i++) {
        size_t chunk = iovs[i].buf_len;
        if (chunk > size - pos) {
            chunk = (size_t)(size - pos);
        }
        memcpy(iovs[i].buf, src + pos, chunk);
        pos += chunk;
        done += chunk;
    }
    return done;
}

static int readable(struct vfile *f) {
    if (f->node->is_dir) {
        return __WASI_ERRNO_ISDIR;
    }
    if (!(f->rights_base & __WASI_RIGHTS_FD_READ)) {
        return __WASI_ERRNO_BADF;
    }
    return load(f);
}

__wasi_errno_t REAL(fd_read)(__wasi_fd_t, const __wasi_iovec_t *, size_t, __wasi_size_t *);
__wasi_errno_t WRAP(fd_read)(__wasi_fd_t fd, const __wasi_iovec_t *iovs, size_t n, __wasi_size_t *nread) {
    if (!is_virtual(fd)) {
        return REAL(fd_read)(fd, iovs, n, nread);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    int err = readable(f);
    if (err) {
        return err;
    }
    size_t done = copy_out(contents(f), f->node->size, f->pos, iovs, n);
    f->pos += done;
    *nread = (__wasi_size_t)done;
    return 0;
}

__wasi_errno_t REAL(fd_pread)(__wasi_fd_t, const __wasi_iovec_t *, size_t, __wasi_filesize_t, __wasi_size_t *);
__wasi_errno_t WRAP(fd_pread)(__wasi_fd_t fd, const __wasi_iovec_t *iovs, size_t n,
                              __wasi_filesize_t offset, __wasi_size_t *nread) {
    if (!is_virtual(fd)) {
        return REAL(fd_pread)(fd, iovs, n, offset, nread);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    int err = readable(f);
    if (err) {
        return err;
    }
    *nread = (__wasi_size_t)copy_out(contents(f), f->node->size, offset, iovs, n);
    return 0;
}

/* Write the iovecs at `pos` of a /tmp file; *written gets the byte count. */
static int write_at(struct vfile *f, uint64_t pos, const __wasi_ciovec_t *iovs, size_t n,
                    __wasi_size_t *written) {
    struct node *nd = f->node;
    if (nd->is_dir) {
        return __WASI_ERRNO_ISDIR;
    }
    if (!(f->rights_base & __WASI_RIGHTS_FD_WRITE) || !nd->in_tmp) {
        return __WASI_ERRNO_BADF;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += iovs[i].buf_len;
    }
    if (pos + total > nd->size) {
        int err = resize(nd, pos + total);
        if (err) {
            return err;
        }
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(nd->data + pos, iovs[i].buf, iovs[i].buf_len);
        pos += iovs[i].buf_len;
    }
    if (total > 0) {
        nd->mtim = nd->ctim = now();
    }
    *written = (__wasi_size_t)total;
    return 0;
}

__wasi_errno_t REAL(fd_write)(__wasi_fd_t, const __wasi_ciovec_t *, size_t, __wasi_size_t *);
__wasi_errno_t WRAP(fd_write)(__wasi_fd_t fd, const __wasi_ciovec_t *iovs, size_t n, __wasi_size_t *written) {
    if (!is_virtual(fd)) {
        return REAL(fd_write)(fd, iovs, n, written);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    uint64_t pos = (f->flags & __WASI_FDFLAGS_APPEND) ? f->node->size : f->pos;
    int err = write_at(f, pos, iovs, n, written);
    if (!err) {
        f->pos = pos + *written;
    }
    return err;
}

__wasi_errno_t REAL(fd_pwrite)(__wasi_fd_t, const __wasi_ciovec_t *, size_t, __wasi_filesize_t, __wasi_size_t *);
__wasi_errno_t WRAP(fd_pwrite)(__wasi_fd_t fd, const __wasi_ciovec_t *iovs, size_t n,
                               __wasi_filesize_t offset, __wasi_size_t *written) {
    if (!is_virtual(fd)) {
        return REAL(fd_pwrite)(fd, iovs, n, offset, written);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    return write_at(f, offset, iovs, n, written);
}

__wasi_errno_t REAL(fd_seek)(__wasi_fd_t, __wasi_filedelta_t, __wasi_whence_t, __wasi_filesize_t *);
__wasi_errno_t WRAP(fd_seek)(__wasi_fd_t fd, __wasi_filedelta_t offset, __wasi_whence_t whence,
                             __wasi_filesize_t *newpos) {
    if (!is_virtual(fd)) {
        return REAL(fd_seek)(fd, offset, whence, newpos);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    if (f->node->is_dir) {
        return __WASI_ERRNO_ISDIR;
    }
    int64_t from;
    switch (whence) {
    case __WASI_WHENCE_SET: from = 0; break;
    case __WASI_WHENCE_CUR: from = (int64_t)f->pos; break;
    case __WASI_WHENCE_END: from = (int64_t)f->node->size; break;
    default: return __WASI_ERRNO_INVAL;
    }
    if ((offset < 0 && from + offset < 0) || (offset > 0 && from > INT64_MAX - offset)) {
        return __WASI_ERRNO_INVAL;
    }
    f->pos = (uint64_t)(from + offset);
    *newpos = f->pos;
    return 0;
}

__wasi_errno_t REAL(fd_tell)(__wasi_fd_t, __wasi_filesize_t *);
__wasi_errno_t WRAP(fd_tell)(__wasi_fd_t fd, __wasi_filesize_t *pos) {
    if (!is_virtual(fd)) {
        return REAL(fd_tell)(fd, pos);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    *pos = f->pos;
    return 0;
}

__wasi_errno_t REAL(fd_fdstat_get)(__wasi_fd_t, __wasi_fdstat_t *);
__wasi_errno_t WRAP(fd_fdstat_get)(__wasi_fd_t fd, __wasi_fdstat_t *st) {
    if (!is_virtual(fd)) {
        return REAL(fd_fdstat_get)(fd, st);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    st->fs_filetype = f->node->is_dir ? __WASI_FILETYPE_DIRECTORY : __WASI_FILETYPE_REGULAR_FILE;
    st->fs_flags = f->flags;
    st->fs_rights_base = f->rights_base;
    st->fs_rights_inheriting = f->rights_inheriting;
    return 0;
}

__wasi_errno_t REAL(fd_fdstat_set_flags)(__wasi_fd_t, __wasi_fdflags_t);
__wasi_errno_t WRAP(fd_fdstat_set_flags)(__wasi_fd_t fd, __wasi_fdflags_t flags) {
    if (!is_virtual(fd)) {
        return REAL(fd_fdstat_set_flags)(fd, flags);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    f->flags = flags;
    return 0;
}

__wasi_errno_t REAL(fd_fdstat_set_rights)(__wasi_fd_t, __wasi_rights_t, __wasi_rights_t);
__wasi_errno_t WRAP(fd_fdstat_set_rights)(__wasi_fd_t fd, __wasi_rights_t base, __wasi_rights_t inheriting) {
    if (!is_virtual(fd)) {
        return REAL(fd_fdstat_set_rights)(fd, base, inheriting);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    if ((base & ~f->rights_base) || (inheriting & ~f->rights_inheriting)) {
        return __WASI_ERRNO_NOTCAPABLE;
    }
    f->rights_base = base;
    f->rights_inheriting = inheriting;
    return 0;
}

__wasi_errno_t REAL(fd_filestat_get)(__wasi_fd_t, __wasi_filestat_t *);
__wasi_errno_t WRAP(fd_filestat_get)(__wasi_fd_t fd, __wasi_filestat_t *st) {
    if (!is_virtual(fd)) {
        return REAL(fd_filestat_get)(fd, st);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    stat_of(f->node, st);
    return 0;
}

/* A /tmp file open for writing, for the size-changing calls. */
static int writable_file(__wasi_fd_t fd, struct vfile **out) {
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    if (f->node->is_dir) {
        return __WASI_ERRNO_ISDIR;
    }
    if (!f->node->in_tmp || !(f->rights_base & __WASI_RIGHTS_FD_WRITE)) {
        return __WASI_ERRNO_BADF;
    }
    *out = f;
    return 0;
}

__wasi_errno_t REAL(fd_filestat_set_size)(__wasi_fd_t, __wasi_filesize_t);
__wasi_errno_t WRAP(fd_filestat_set_size)(__wasi_fd_t fd, __wasi_filesize_t size) {
    if (!is_virtual(fd)) {
        return REAL(fd_filestat_set_size)(fd, size);
    }
    struct vfile *f;
    int err = writable_file(fd, &f);
    if (err) {
        return err;
    }
    err = resize(f->node, size);
    if (!err) {
        f->node->mtim = f->node->ctim = now();
    }
    return err;
}

__wasi_errno_t REAL(fd_allocate)(__wasi_fd_t, __wasi_filesize_t, __wasi_filesize_t);
__wasi_errno_t WRAP(fd_allocate)(__wasi_fd_t fd, __wasi_filesize_t offset, __wasi_filesize_t len) {
    if (!is_virtual(fd)) {
        return REAL(fd_allocate)(fd, offset, len);
    }
    struct vfile *f;
    int err = writable_file(fd, &f);
    if (err) {
        return err;
    }
    return offset + len > f->node->size ? resize(f->node, offset + len) : 0;
}

__wasi_errno_t REAL(fd_filestat_set_times)(__wasi_fd_t, __wasi_timestamp_t, __wasi_timestamp_t, __wasi_fstflags_t);
__wasi_errno_t WRAP(fd_filestat_set_times)(__wasi_fd_t fd, __wasi_timestamp_t atim,
                                           __wasi_timestamp_t mtim, __wasi_fstflags_t flags) {
    if (!is_virtual(fd)) {
        return REAL(fd_filestat_set_times)(fd, atim, mtim, flags);
    }
    struct vfile *f = vfile(fd);
    return f == NULL ? __WASI_ERRNO_BADF : set_times(f->node, atim, mtim, flags);
}

__wasi_errno_t REAL(fd_advise)(__wasi_fd_t, __wasi_filesize_t, __wasi_filesize_t, __wasi_advice_t);
__wasi_errno_t WRAP(fd_advise)(__wasi_fd_t fd, __wasi_filesize_t offset, __wasi_filesize_t len,
                               __wasi_advice_t advice) {
    if (!is_virtual(fd)) {
        return REAL(fd_advise)(fd, offset, len, advice);
    }
    return vfile(fd) == NULL ? __WASI_ERRNO_BADF : 0;
}

__wasi_errno_t REAL(fd_sync)(__wasi_fd_t);
__wasi_errno_t WRAP(fd_sync)(__wasi_fd_t fd) {
    if (!is_virtual(fd)) {
        return REAL(fd_sync)(fd);
    }
    return vfile(fd) == NULL ? __WASI_ERRNO_BADF : 0;
}

__wasi_errno_t REAL(fd_datasync)(__wasi_fd_t);
__wasi_errno_t WRAP(fd_datasync)(__wasi_fd_t fd) {
    if (!is_virtual(fd)) {
        return REAL(fd_datasync)(fd);
    }
    return vfile(fd) == NULL ? __WASI_ERRNO_BADF : 0;
}

__wasi_errno_t REAL(fd_renumber)(__wasi_fd_t, __wasi_fd_t);
__wasi_errno_t WRAP(fd_renumber)(__wasi_fd_t fd, __wasi_fd_t to) {
    if (!is_virtual(fd) && !is_virtual(to)) {
        return REAL(fd_renumber)(fd, to);
    }
    return __WASI_ERRNO_NOTSUP;
}

__wasi_errno_t REAL(fd_readdir)(__wasi_fd_t, uint8_t *, __wasi_size_t, __wasi_dircookie_t, __wasi_size_t *);
__wasi_errno_t WRAP(fd_readdir)(__wasi_fd_t fd, uint8_t *buf, __wasi_size_t buf_len,
                                __wasi_dircookie_t cookie, __wasi_size_t *used) {
    if (!is_virtual(fd)) {
        return REAL(fd_readdir)(fd, buf, buf_len, cookie, used);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    if (!f->node->is_dir) {
        return __WASI_ERRNO_NOTDIR;
    }
    /* The cookie is the index of the next child. */
    __wasi_size_t at = 0;
    __wasi_dircookie_t index = 0;
    for (struct node *c = f->node->children; c != NULL && at < buf_len; c = c->next, index++) {
        if (index < cookie) {
            continue;
        }
        __wasi_dirent_t d;
        memset(&d, 0, sizeof d);
        d.d_next = index + 1;
        d.d_ino = c->ino;
        d.d_namlen = c->name_len;
        d.d_type = c->is_dir ? __WASI_FILETYPE_DIRECTORY : __WASI_FILETYPE_REGULAR_FILE;
        /* Entries are cut at the end of the buffer; wasi-libc reads again from the cookie. */
        __wasi_size_t n = buf_len - at < sizeof d ? buf_len - at : (__wasi_size_t)sizeof d;
        memcpy(buf + at, &d, n);
        at += n;
        n = buf_len - at < c->name_len ? buf_len - at : c->name_len;
        memcpy(buf + at, c->name, n);
        at += n;
    }
    *used = at;
    return 0;
}

__wasi_errno_t REAL(path_filestat_get)(__wasi_fd_t, __wasi_lookupflags_t, const char *, __wasi_filestat_t *);
__wasi_errno_t WRAP(path_filestat_get)(__wasi_fd_t fd, __wasi_lookupflags_t flags, const char *path,
                                       __wasi_filestat_t *st) {
    if (!is_virtual(fd)) {
        HOST_PATHS_OK(path);
        return REAL(path_filestat_get)(fd, flags, path, st);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    struct node *n;
    int err = resolve(f->node, path, &n);
    if (!err) {
        stat_of(n, st);
    }
    return err;
}

__wasi_errno_t REAL(path_filestat_set_times)(__wasi_fd_t, __wasi_lookupflags_t, const char *,
                                             __wasi_timestamp_t, __wasi_timestamp_t, __wasi_fstflags_t);
__wasi_errno_t WRAP(path_filestat_set_times)(__wasi_fd_t fd, __wasi_lookupflags_t flags, const char *path,
                                             __wasi_timestamp_t atim, __wasi_timestamp_t mtim,
                                             __wasi_fstflags_t fst) {
    if (!is_virtual(fd)) {
        HOST_PATHS_OK(path);
        return REAL(path_filestat_set_times)(fd, flags, path, atim, mtim, fst);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    struct node *n;
    int err = resolve(f->node, path, &n);
    return err ? err : set_times(n, atim, mtim, fst);
}

__wasi_errno_t REAL(path_create_directory)(__wasi_fd_t, const char *);
__wasi_errno_t WRAP(path_create_directory)(__wasi_fd_t fd, const char *path) {
    if (!is_virtual(fd)) {
        HOST_PATHS_OK(path);
        return REAL(path_create_directory)(fd, path);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    struct node *parent, *n;
    const char *name;
    size_t len;
    int trailing;
    int err = walk(f->node, path, &parent, &name, &len, &trailing);
    if (err) {
        return err;
    }
    if (is_dot_name(name, len) || lookup_in(parent, name, len) != NULL) {
        return __WASI_ERRNO_EXIST;
    }
    return create(parent, name, len, 1, &n);
}

/* The node a removal names (not ".", ".." or the directory itself), in *out. */
static int removable(__wasi_fd_t fd, const char *path, struct node **out, int *trailing) {
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    struct node *parent;
    const char *name;
    size_t len;
    int err = walk(f->node, path, &parent, &name, &len, trailing);
    if (err) {
        return err;
    }
    struct node *n = lookup_in(parent, name, len);
    if (n == NULL) {
        return __WASI_ERRNO_NOENT;
    }
    if (is_dot_name(name, len)) {
        return n->is_dir ? __WASI_ERRNO_INVAL : __WASI_ERRNO_NOTDIR;
    }
    if (!parent->in_tmp) {
        return n == tmp_dir ? __WASI_ERRNO_BUSY : __WASI_ERRNO_ROFS;
    }
    *out = n;
    return 0;
}

__wasi_errno_t REAL(path_unlink_file)(__wasi_fd_t, const char *);
__wasi_errno_t WRAP(path_unlink_file)(__wasi_fd_t fd, const char *path) {
    if (!is_virtual(fd)) {
        HOST_PATHS_OK(path);
        return REAL(path_unlink_file)(fd, path);
    }
    struct node *n;
    int trailing;
    int err = removable(fd, path, &n, &trailing);
    if (err) {
        return err;
    }
    if (n->is_dir) {
        return __WASI_ERRNO_ISDIR;
    }
    if (trailing) {
        return __WASI_ERRNO_NOTDIR;
    }
    detach(n);
    return 0;
}

__wasi_errno_t REAL(path_remove_directory)(__wasi_fd_t, const char *);
__wasi_errno_t WRAP(path_remove_directory)(__wasi_fd_t fd, const char *path) {
    if (!is_virtual(fd)) {
        HOST_PATHS_OK(path);
        return REAL(path_remove_directory)(fd, path);
    }
    struct node *n;
    int trailing;
    int err = removable(fd, path, &n, &trailing);
    if (err) {
        return err;
    }
    if (!n->is_dir) {
        return __WASI_ERRNO_NOTDIR;
    }
    if (n->children != NULL) {
        return __WASI_ERRNO_NOTEMPTY;
    }
    detach(n);
    return 0;
}

__wasi_errno_t REAL(path_rename)(__wasi_fd_t, const char *, __wasi_fd_t, const char *);
__wasi_errno_t WRAP(path_rename)(__wasi_fd_t fd, const char *old_path, __wasi_fd_t new_fd,
                                 const char *new_path) {
    if (!is_virtual(fd) && !is_virtual(new_fd)) {
        HOST_PATHS_OK(old_path, new_path);
        return REAL(path_rename)(fd, old_path, new_fd, new_path);
    }
    if (!is_virtual(fd) || !is_virtual(new_fd)) {
        return __WASI_ERRNO_XDEV;
    }
    struct node *n;
    int trailing;
    int err = removable(fd, old_path, &n, &trailing);
    if (err) {
        return err;
    }
    struct vfile *to = vfile(new_fd);
    if (to == NULL) {
        return __WASI_ERRNO_BADF;
    }
    struct node *parent;
    const char *name;
    size_t len;
    int to_trailing;
    err = walk(to->node, new_path, &parent, &name, &len, &to_trailing);
    if (err) {
        return err;
    }
    if (is_dot_name(name, len)) {
        return __WASI_ERRNO_INVAL;
    }
    if (!parent->in_tmp) {
        return __WASI_ERRNO_ROFS;
    }
    if (!n->is_dir && (trailing || to_trailing)) {
        return __WASI_ERRNO_NOTDIR;
    }
    for (struct node *p = parent; n->is_dir; p = p->parent) {
        if (p == n) {
            return __WASI_ERRNO_INVAL; /* into itself */
        }
        if (p == root) {
            break;
        }
    }
    struct node *old = find_child(parent, name, len);
    if (old == n) {
        return 0;
    }
    if (old != NULL) {
        if (n->is_dir && !old->is_dir) {
            return __WASI_ERRNO_NOTDIR;
        }
        if (!n->is_dir && old->is_dir) {
            return __WASI_ERRNO_ISDIR;
        }
        if (old->is_dir && old->children != NULL) {
            return __WASI_ERRNO_NOTEMPTY;
        }
    }
    char *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        return __WASI_ERRNO_NOMEM;
    }
    memcpy(copy, name, len);
    if (old != NULL) {
        detach(old);
    }
    /* Move n: out of its directory, into `parent` under the new name. */
    struct node **link = &n->parent->children;
    while (*link != n) {
        link = &(*link)->next;
    }
    *link = n->next;
    n->parent->mtim = n->parent->ctim = now();
    free((void *)n->name);
    n->name = copy;
    n->name_len = (uint32_t)len;
    n->parent = parent;
    n->next = parent->children;
    parent->children = n;
    parent->mtim = parent->ctim = n->ctim = now();
    return 0;
}

__wasi_errno_t REAL(path_readlink)(__wasi_fd_t, const char *, uint8_t *, __wasi_size_t, __wasi_size_t *);
__wasi_errno_t WRAP(path_readlink)(__wasi_fd_t fd, const char *path, uint8_t *buf, __wasi_size_t len,
                                   __wasi_size_t *used) {
    if (!is_virtual(fd)) {
        HOST_PATHS_OK(path);
        return REAL(path_readlink)(fd, path, buf, len, used);
    }
    struct vfile *f = vfile(fd);
    if (f == NULL) {
        return __WASI_ERRNO_BADF;
    }
    struct node *n;
    int err = resolve(f->node, path, &n);
    return err ? err : __WASI_ERRNO_INVAL; /* there are no symbolic links */
}

__wasi_errno_t REAL(path_symlink)(const char *, __wasi_fd_t, const char *);
__wasi_errno_t WRAP(path_symlink)(const char *old_path, __wasi_fd_t fd, const char *new_path) {
    if (!is_virtual(fd)) {
        HOST_PATHS_OK(old_path, new_path);
        return REAL(path_symlink)(old_path, fd, new_path);
    }
    return __WASI_ERRNO_NOTSUP;
}

__wasi_errno_t REAL(path_link)(__wasi_fd_t, __wasi_lookupflags_t, const char *, __wasi_fd_t, const char *);
__wasi_errno_t WRAP(path_link)(__wasi_fd_t fd, __wasi_lookupflags_t flags, const char *old_path,
                               __wasi_fd_t new_fd, const char *new_path) {
    if (!is_virtual(fd) && !is_virtual(new_fd)) {
        HOST_PATHS_OK(old_path, new_path);
        return REAL(path_link)(fd, flags, old_path, new_fd, new_path);
    }
    return is_virtual(fd) && is_virtual(new_fd) ? __WASI_ERRNO_NOTSUP : __WASI_ERRNO_XDEV;
}

/* ---- absolute paths ---- */

/* From now on absolute paths can reach the virtual file system. Called once the
 * interpreter has started: its own start-up probes (getpath's landmarks, pyvenv.cfg)
 * find nothing, as before, and an app that never touches a file never builds the tree,
 * so its snapshot does not carry it. */
void pyedge_vfs_enable(void) { enabled = 1; }

/* wasi-libc's choice of a preopened directory for an absolute path (see the top). */
int __real___wasilibc_find_abspath(const char *path, const char **abs_prefix, const char **relative);
int __wrap___wasilibc_find_abspath(const char *path, const char **abs_prefix, const char **relative) {
    int saved = errno;
    const char *host_prefix = NULL, *host_relative = NULL;
    int fd = __real___wasilibc_find_abspath(path, &host_prefix, &host_relative);
    if (!enabled) {
        if (fd != -1) {
            *abs_prefix = host_prefix;
            *relative = host_relative;
        }
        return fd;
    }
    const char *p = path;
    while (*p == '/') {
        p++;
    }
    size_t mine = 0;
    int bundle = 0;
    if ((p[0] == 'a' && p[1] == 'p' && p[2] == 'p') || (p[0] == 'l' && p[1] == 'i' && p[2] == 'b') ||
        (p[0] == 't' && p[1] == 'm' && p[2] == 'p')) {
        if (p[3] == '/' || p[3] == 0) {
            mine = 3;
            bundle = p[0] != 't';
        }
    }
    if (fd != -1) {
        size_t theirs = strlen(host_prefix);
        if (theirs > mine || (theirs == mine && !bundle)) {
            *abs_prefix = host_prefix;
            *relative = host_relative;
            return fd;
        }
    }
    if (ensure_tree() != 0) {
        errno = ENOMEM;
        return -1;
    }
    errno = saved;
    *abs_prefix = "";
    *relative = *p ? p : ".";
    return (int)VFD_ROOT;
}

/* ---- error messages ---- */

char *__real_strerror(int err);
char *__wrap_strerror(int err) {
    if (err == ENOSPC && tmp_full_reported) {
        int what = tmp_full_reported;
        tmp_full_reported = 0;
        return what == 1 ? (char *)"No space left on device (pyedge: the in-memory /tmp holds "
                                   "at most " TMP_LIMIT_TEXT " of file data per instance)"
                         : (char *)"No space left on device (pyedge: the in-memory /tmp holds "
                                   "at most " TMP_MAX_NODES_TEXT " files and directories per "
                                   "instance)";
    }
    if (err == EILSEQ && ilseq_reported) {
        ilseq_reported = 0;
        return (char *)"Illegal byte sequence (pyedge: the host's file system takes UTF-8 paths "
                       "only; this path is not UTF-8)";
    }
    return __real_strerror(err);
}
