/* cubin.c — kernel symbols of an ELF cubin (see cubin.h).
 *
 * Reads only the section headers, the symbol table and its string table, with every offset and
 * size checked against the image: the image came from NVRTC, but a malformed one must give an
 * error, not a crash. */
#include "cubin.h"

#include <elf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define STO_CUDA_ENTRY 0x10

static bool in_image(size_t size, uint64_t off, uint64_t len)
{
    return off <= size && len <= size - off;
}

/* Does symbol s name the kernel `name`: equal, or "_Z" <decimal length of name> name, followed
 * by the parameter encoding (or "I" for template arguments)? */
static bool matches(const char *s, const char *name)
{
    if (!strcmp(s, name))
        return true;
    char prefix[160];
    int n = snprintf(prefix, sizeof prefix, "_Z%zu%s", strlen(name), name);
    return n > 0 && (size_t)n < sizeof prefix && !strncmp(s, prefix, (size_t)n) && s[n] != '\0';
}

int cubin_find_kernel(const void *image, size_t size, const char *name, char *sym, size_t cap, struct err *e)
{
    const unsigned char *b = image;
    if (size < sizeof(Elf64_Ehdr) || memcmp(b, ELFMAG, SELFMAG) || b[EI_CLASS] != ELFCLASS64)
        return err_set(e, ERR_INVALID, "cubin", "the compiled image is not a 64-bit ELF cubin");
    Elf64_Ehdr eh;
    memcpy(&eh, b, sizeof eh);
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || !in_image(size, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr)))
        return err_set(e, ERR_INVALID, "cubin", "the cubin's section table is malformed");
    char found[4][128], seen[512] = "";
    int nfound = 0, nkernels = 0;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh, strh;
        memcpy(&sh, b + eh.e_shoff + i * sizeof sh, sizeof sh);
        if (sh.sh_type != SHT_SYMTAB)
            continue;
        if (sh.sh_link >= eh.e_shnum || sh.sh_entsize != sizeof(Elf64_Sym) || !in_image(size, sh.sh_offset, sh.sh_size))
            return err_set(e, ERR_INVALID, "cubin", "the cubin's symbol table is malformed");
        memcpy(&strh, b + eh.e_shoff + sh.sh_link * sizeof strh, sizeof strh);
        if (!in_image(size, strh.sh_offset, strh.sh_size) || strh.sh_size == 0 || b[strh.sh_offset + strh.sh_size - 1])
            return err_set(e, ERR_INVALID, "cubin", "the cubin's string table is malformed");
        const char *strtab = (const char *)b + strh.sh_offset;
        for (uint64_t k = 0; k < sh.sh_size / sizeof(Elf64_Sym); k++) {
            Elf64_Sym s;
            memcpy(&s, b + sh.sh_offset + k * sizeof s, sizeof s);
            int bind = ELF64_ST_BIND(s.st_info);   /* template instances are weak */
            if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || (bind != STB_GLOBAL && bind != STB_WEAK) ||
                !(s.st_other & STO_CUDA_ENTRY) || s.st_name >= strh.sh_size)
                continue;
            const char *sn = strtab + s.st_name;
            nkernels++;
            if (strlen(seen) + strlen(sn) + 3 < sizeof seen)
                snprintf(seen + strlen(seen), sizeof seen - strlen(seen), "%s%s", seen[0] ? ", " : "", sn);
            if (!strcmp(sn, name)) {   /* an exact name wins over mangled look-alikes */
                nfound = 1;
                snprintf(found[0], sizeof found[0], "%s", sn);
                goto done;
            }
            if (matches(sn, name) && nfound < 4)
                snprintf(found[nfound++], sizeof found[0], "%s", sn);
        }
    }
done:
    if (nfound == 0)
        return err_set(e, ERR_NOTFOUND, "kernel", "no kernel '%s' in the compiled code (kernels: %s)", name,
                       nkernels ? seen : "none");
    if (nfound > 1)
        return err_set(e, ERR_INVALID, "kernel",
                       "kernel name '%s' is ambiguous (%s, %s%s): declare it extern \"C\" or name the symbol", name,
                       found[0], found[1], nfound > 2 ? ", ..." : "");
    if (strlen(found[0]) + 1 > cap)
        return err_set(e, ERR_LIMIT, "kernel", "kernel symbol longer than %zu bytes", cap - 1);
    memcpy(sym, found[0], strlen(found[0]) + 1);
    return 0;
}
