/*
 * AppImage runtime of Lumina Desktop: the ELF program at the front of the AppImage (type 2:
 * this runtime, then a SquashFS image of the AppDir).
 *
 * Why our own: the official runtime and appimagetool are downloads from GitHub, and the project
 * builds only from package registries (Debian, PyPI).  This one is built by packaging/build.sh
 * from Debian's libsquashfs (squashfs-tools-ng), statically, so it runs on any x86-64 Linux.
 *
 * It never needs FUSE: on first start it extracts the image into a cache folder
 * ($XDG_CACHE_HOME/lumina-appimage/<name>-<image id>, atomically, so concurrent first starts
 * are safe), drops older extractions of the same AppImage, and runs AppRun from there.  Later
 * starts find the folder and start at once.  This is the behaviour of the official runtime's
 * --appimage-extract-and-run, with the extraction kept.
 *
 * Options (the rest go to the application):
 *   --appimage-extract           extract into ./squashfs-root and exit
 *   --appimage-extract-and-run   the default behaviour (accepted for compatibility)
 *   --appimage-offset            print the offset of the SquashFS image and exit
 *   --appimage-version           print this runtime's version and exit
 *   --appimage-help              this text
 *
 * Environment given to AppRun: APPIMAGE (absolute path of the AppImage), APPDIR, ARGV0, OWD.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <dirent.h>

#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir_reader.h>
#include <sqfs/error.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>

#define RUNTIME_VERSION "lumina-appimage-runtime 1"

static void die(const char *what, const char *detail) {
    fprintf(stderr, "AppImage: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(127);
}

/* ---- where the SquashFS starts: the end of this ELF file (section headers come last) ---- */
static uint64_t elf_size(int fd) {
    Elf64_Ehdr eh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
        eh.e_ident[EI_CLASS] != ELFCLASS64)
        die("not a 64-bit ELF file", NULL);
    uint64_t end = eh.e_shoff + (uint64_t)eh.e_shentsize * eh.e_shnum;
    for (int i = 0; i < eh.e_phnum; i++) {        /* segments past the section table, if any */
        Elf64_Phdr ph;
        if (pread(fd, &ph, sizeof ph, eh.e_phoff + (uint64_t)i * eh.e_phentsize) != (ssize_t)sizeof ph)
            die("cannot read the ELF program headers", NULL);
        if (ph.p_offset + ph.p_filesz > end) end = ph.p_offset + ph.p_filesz;
    }
    return end;
}

/* ---- a sqfs_file_t that reads the image at an offset inside the AppImage ---- */
typedef struct {
    sqfs_file_t base;
    int fd;
    uint64_t offset, size;
} offset_file_t;

static int of_read_at(sqfs_file_t *f, sqfs_u64 off, void *buf, size_t size) {
    offset_file_t *o = (offset_file_t *)f;
    if (off + size > o->size) return SQFS_ERROR_OUT_OF_BOUNDS;
    char *p = buf;
    while (size > 0) {
        ssize_t n = pread(o->fd, p, size, (off_t)(o->offset + off));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return SQFS_ERROR_IO;
        p += n; off += (sqfs_u64)n; size -= (size_t)n;
    }
    return 0;
}
static int of_write_at(sqfs_file_t *f, sqfs_u64 off, const void *b, size_t s) {
    (void)f; (void)off; (void)b; (void)s; return SQFS_ERROR_IO;
}
static sqfs_u64 of_get_size(const sqfs_file_t *f) { return ((const offset_file_t *)f)->size; }
static int of_truncate(sqfs_file_t *f, sqfs_u64 s) { (void)f; (void)s; return SQFS_ERROR_IO; }
static void of_destroy(sqfs_object_t *obj) { (void)obj; }

/* ---- extraction ---- */
typedef struct {
    sqfs_data_reader_t *data;
    char *buf;
    size_t buf_size;
} extractor_t;

static void write_file(extractor_t *ex, const sqfs_tree_node_t *n, const char *path) {
    sqfs_u64 size = 0;
    sqfs_inode_get_file_size(n->inode, &size);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) die("cannot create", path);
    for (sqfs_u64 done = 0; done < size;) {
        size_t want = size - done < ex->buf_size ? (size_t)(size - done) : ex->buf_size;
        sqfs_s32 got = sqfs_data_reader_read(ex->data, n->inode, done, ex->buf, (sqfs_u32)want);
        if (got <= 0) die("the image is damaged (cannot read)", path);
        for (sqfs_s32 w = 0; w < got;) {
            ssize_t k = write(fd, ex->buf + w, (size_t)(got - w));
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) die("cannot write (disk full?)", path);
            w += (sqfs_s32)k;
        }
        done += (sqfs_u64)got;
    }
    if (fchmod(fd, n->inode->base.mode & 07777) != 0 || close(fd) != 0) die("cannot finish", path);
}

static void extract_node(extractor_t *ex, const sqfs_tree_node_t *n, const char *path) {
    const sqfs_inode_generic_t *ino = n->inode;
    switch (ino->base.type) {
    case SQFS_INODE_DIR:
    case SQFS_INODE_EXT_DIR: {
        if (mkdir(path, 0700) != 0 && errno != EEXIST) die("cannot create folder", path);
        for (const sqfs_tree_node_t *c = n->children; c; c = c->next) {
            char child[PATH_MAX];
            if (snprintf(child, sizeof child, "%s/%s", path, (const char *)c->name) >= (int)sizeof child)
                die("path too long", path);
            extract_node(ex, c, child);
        }
        chmod(path, ino->base.mode & 07777);
        break;
    }
    case SQFS_INODE_FILE:
    case SQFS_INODE_EXT_FILE:
        write_file(ex, n, path);
        break;
    case SQFS_INODE_SLINK:
    case SQFS_INODE_EXT_SLINK: {
        sqfs_u32 len = ino->base.type == SQFS_INODE_SLINK ? ino->data.slink.target_size
                                                          : ino->data.slink_ext.target_size;
        char target[PATH_MAX];
        if (len >= sizeof target) die("link target too long", path);
        memcpy(target, ino->extra, len);
        target[len] = 0;
        unlink(path);
        if (symlink(target, path) != 0) die("cannot create link", path);
        break;
    }
    default:
        break;                                    /* devices, fifos, sockets: never in an AppDir */
    }
}

static void extract(int fd, uint64_t offset, uint64_t total, const char *dest) {
    offset_file_t file = {0};
    file.base.base.destroy = of_destroy;
    file.base.read_at = of_read_at;
    file.base.write_at = of_write_at;
    file.base.get_size = of_get_size;
    file.base.truncate = of_truncate;
    file.fd = fd;
    file.offset = offset;
    file.size = total - offset;
    sqfs_file_t *f = &file.base;

    sqfs_super_t super;
    if (sqfs_super_read(&super, f) != 0) die("no SquashFS image after the runtime", NULL);
    sqfs_compressor_config_t cfg;
    sqfs_compressor_t *cmp = NULL;
    sqfs_compressor_config_init(&cfg, (SQFS_COMPRESSOR)super.compression_id, super.block_size,
                                SQFS_COMP_FLAG_UNCOMPRESS);
    if (sqfs_compressor_create(&cfg, &cmp) != 0) die("unsupported compression in the image", NULL);
    sqfs_id_table_t *ids = sqfs_id_table_create(0);
    if (!ids || sqfs_id_table_read(ids, f, &super, cmp) != 0) die("cannot read the image's id table", NULL);
    sqfs_dir_reader_t *dr = sqfs_dir_reader_create(&super, cmp, f, 0);
    if (!dr) die("cannot read the image's folders", NULL);
    sqfs_data_reader_t *data = sqfs_data_reader_create(f, super.block_size, cmp, 0);
    if (!data || sqfs_data_reader_load_fragment_table(data, &super) != 0) die("cannot read the image's data", NULL);
    sqfs_tree_node_t *root = NULL;
    if (sqfs_dir_reader_get_full_hierarchy(dr, ids, NULL, 0, &root) != 0) die("cannot list the image", NULL);

    extractor_t ex = {data, NULL, (size_t)super.block_size * 16};
    ex.buf = malloc(ex.buf_size);
    if (!ex.buf) die("out of memory", NULL);
    extract_node(&ex, root, dest);
    free(ex.buf);
    sqfs_dir_tree_destroy(root);
    sqfs_destroy(data);
    sqfs_destroy(dr);
    sqfs_destroy(ids);
    sqfs_destroy(cmp);
}

/* ---- the cache folder ---- */
static void remove_tree(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char child[PATH_MAX];
                snprintf(child, sizeof child, "%s/%s", path, e->d_name);
                remove_tree(child);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int mkdirs(const char *path) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') { *p = 0; mkdir(tmp, 0700); *p = '/'; }
    }
    return mkdir(tmp, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ULL; }
    return h;
}

static void cache_root(char *out, size_t size) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/') snprintf(out, size, "%s/lumina-appimage", xdg);
    else if (home && home[0] == '/') snprintf(out, size, "%s/.cache/lumina-appimage", home);
    else snprintf(out, size, "/tmp/lumina-appimage-%u", (unsigned)getuid());
}

/* the folder the image is extracted in, extracted now if it is not there yet */
static void ensure_extracted(int fd, uint64_t offset, uint64_t total, const char *self, char *appdir, size_t size) {
    unsigned char head[96];                           /* the superblock: sizes, time, tables */
    if (pread(fd, head, sizeof head, (off_t)offset) != (ssize_t)sizeof head) die("cannot read the image", NULL);
    uint64_t h = fnv1a(1469598103934665603ULL, head, sizeof head);
    h = fnv1a(h, &total, sizeof total);
    const char *base = strrchr(self, '/') ? strrchr(self, '/') + 1 : self;
    char name[NAME_MAX], root[PATH_MAX - NAME_MAX - 32];
    snprintf(name, sizeof name, "%.200s-%016llx", base, (unsigned long long)h);
    cache_root(root, sizeof root);
    snprintf(appdir, size, "%s/%s", root, name);
    char stamp[PATH_MAX];
    snprintf(stamp, sizeof stamp, "%s/.extracted", appdir);
    if (access(stamp, F_OK) == 0) return;

    if (mkdirs(root) != 0) die("cannot create the cache folder", root);
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%ld", root, name, (long)getpid());
    remove_tree(tmp);
    extract(fd, offset, total, tmp);
    snprintf(stamp, sizeof stamp, "%s/.extracted", tmp);
    int sfd = open(stamp, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (sfd < 0 || close(sfd) != 0) die("cannot write to the cache folder", tmp);
    if (rename(tmp, appdir) != 0) {                   /* another start won the race: use its copy */
        remove_tree(tmp);
        snprintf(stamp, sizeof stamp, "%s/.extracted", appdir);
        if (access(stamp, F_OK) != 0) die("cannot move the extracted image into place", appdir);
    }
    /* drop older extractions of this AppImage name (other versions or builds) */
    DIR *d = opendir(root);
    if (d) {
        struct dirent *e;
        size_t blen = strlen(base);
        while ((e = readdir(d))) {
            if (strncmp(e->d_name, base, blen) == 0 && e->d_name[blen] == '-' && strcmp(e->d_name, name) != 0 &&
                strlen(e->d_name) == blen + 17) {
                char old[PATH_MAX];
                snprintf(old, sizeof old, "%s/%s", root, e->d_name);
                remove_tree(old);
            }
        }
        closedir(d);
    }
}

int main(int argc, char **argv) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) die("cannot find this AppImage (/proc/self/exe)", NULL);
    self[n] = 0;
    int fd = open(self, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("cannot open", self);
    struct stat st;
    if (fstat(fd, &st) != 0) die("cannot stat", self);
    uint64_t offset = elf_size(fd), total = (uint64_t)st.st_size;
    if (offset >= total) die("this runtime carries no image", NULL);

    const char *opt = argc > 1 ? argv[1] : "";
    if (!strcmp(opt, "--appimage-offset")) { printf("%llu\n", (unsigned long long)offset); return 0; }
    if (!strcmp(opt, "--appimage-version")) { puts(RUNTIME_VERSION); return 0; }
    if (!strcmp(opt, "--appimage-help")) {
        puts("--appimage-extract, --appimage-extract-and-run (default), --appimage-offset, "
             "--appimage-version, --appimage-help");
        return 0;
    }
    if (!strcmp(opt, "--appimage-extract")) {
        remove_tree("squashfs-root");
        extract(fd, offset, total, "squashfs-root");
        puts("squashfs-root");
        return 0;
    }
    int skip = !strcmp(opt, "--appimage-extract-and-run") ? 2 : 1;

    char appdir[PATH_MAX];
    ensure_extracted(fd, offset, total, self, appdir, sizeof appdir);
    close(fd);

    char cwd[PATH_MAX], apprun[PATH_MAX];
    setenv("APPIMAGE", self, 1);
    setenv("APPDIR", appdir, 1);
    setenv("ARGV0", argv[0], 1);
    if (getcwd(cwd, sizeof cwd)) setenv("OWD", cwd, 1);
    snprintf(apprun, sizeof apprun, "%s/AppRun", appdir);
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) die("out of memory", NULL);
    args[0] = apprun;
    for (int i = skip, j = 1; i < argc; i++, j++) args[j] = argv[i];
    execv(apprun, args);
    die("cannot run", apprun);
    return 127;
}
